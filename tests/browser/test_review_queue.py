"""A college reviewer working through the queue: filter, approve and open next, select all,
bulk decisions through their confirm page (取消 changes nothing; 确认 decides each row)."""

import pytest

from agreements.models import Agreement, Registration
from agreements.online import services
from agreements.registrations import services as reg
from tests import factories as f
from tests.browser.conftest import DESKTOP, login

pytestmark = pytest.mark.browser


def test_a_reviewer_works_through_the_queue(
    page, live_server, world, employer_user, college_reviewer, shoot
):
    made = []
    for _ in range(4):
        student = f.make_student(f.make_record(world.major_a1))
        invitation = f.make_invitation(employer_user.employer, student)
        made.append(services.invitation_accept(invitation=invitation, user=student.user))

    login(page, live_server, college_reviewer.username)
    page.goto(f"{live_server.url}/reviews/")
    assert page.locator("#queue-position").inner_text() == "共 4 条，第 1 / 1 页"
    shoot(page, "queue", phone=True)
    assert page.locator("main tbody tr").count() == 4
    with page.expect_navigation():
        page.locator('main a[href^="?kind=online"]').click()  # the kind facet
    assert page.locator("main tbody tr").count() == 4

    # Open the oldest, approve it and land on the next one.
    with page.expect_navigation():
        page.locator("main tbody tr").first.locator("a.btn").click()
    assert page.url.endswith(f"/reviews/agreements/{made[0].pk}/")
    with page.expect_navigation():
        page.locator('button[formaction$="?next=1"]').click()
    assert page.url.endswith(f"/reviews/agreements/{made[1].pk}/")
    shoot(page, "detail", phone=True)

    # Back to the queue: select all (the header box), ask to reject them, cancel.
    page.goto(f"{live_server.url}/reviews/")
    assert page.locator("main tbody tr").count() == 3
    page.locator("[data-select-all]").check()
    assert page.locator("main tbody input[name=task]:checked").count() == 3
    assert page.locator("[data-selected-count]").inner_text() == "已选 3 条"
    with page.expect_navigation():
        page.get_by_role("button", name="批量审核不通过").click()
    assert page.locator("main tbody tr").count() == 3  # the chosen items, listed
    assert page.locator("textarea[name=comment]").evaluate("e => e === document.activeElement")
    shoot(page, "confirm-reject", phone=True)
    with page.expect_navigation():
        page.get_by_role("link", name="取消").click()
    assert page.url.endswith("/reviews/")
    statuses = set(
        Agreement.objects.filter(pk__in=[a.pk for a in made[1:]]).values_list("status", flat=True)
    )
    assert statuses == {"college_review"}

    # One row unticked; the rest approved in one go after 确认.
    page.locator("[data-select-all]").check()
    page.locator("main tbody input[name=task]").first.uncheck()
    assert page.locator("[data-select-all]").evaluate("e => e.indeterminate")
    with page.expect_navigation():
        page.get_by_role("button", name="批量审核通过").click()
    assert page.locator("main tbody tr").count() == 2
    shoot(page, "confirm-approve", phone=True)
    with page.expect_navigation():
        page.get_by_role("button", name="确认").click()
    assert page.locator("main .text-success").count() == 2
    statuses = list(
        Agreement.objects.filter(pk__in=[a.pk for a in made])
        .order_by("pk")
        .values_list("status", flat=True)
    )
    assert statuses == ["school_review", "college_review", "school_review", "school_review"]
    shoot(page, "after-bulk")


def test_bulk_return_works_without_scripts(browser, live_server, world, college_reviewer):
    made = []
    for _ in range(3):
        student = f.make_student(f.make_record(world.major_a1))
        draft = reg.registration_save_draft(
            student=student, path="offline", values={"unit_name": "甲"}
        )
        made.append(reg.registration_submit(registration=draft, user=student.user))
    context = browser.new_context(viewport=DESKTOP, locale="zh-CN", java_script_enabled=False)
    try:
        page = context.new_page()
        login(page, live_server, college_reviewer.username)
        page.goto(f"{live_server.url}/reviews/")
        assert page.locator("[data-select-all]").is_hidden()
        assert page.locator("[data-shortcuts-help]").is_hidden()
        boxes = page.locator("main tbody input[name=task]")
        boxes.nth(0).check()
        boxes.nth(2).check()
        with page.expect_navigation():
            page.get_by_role("button", name="批量退回修改").click()
        with page.expect_navigation():
            page.get_by_role("button", name="确认").click()  # no comment: refused
        assert page.locator(".invalid-feedback, .text-danger").first.is_visible()
        assert {r.status for r in Registration.objects.all()} == {"college_review"}
        page.locator("textarea[name=comment]").fill("单位名称请写全称")
        with page.expect_navigation():
            page.get_by_role("button", name="确认").click()
        assert page.locator("main .text-success").count() == 2
    finally:
        context.close()
    statuses = [Registration.objects.get(pk=r.pk).status for r in made]
    assert statuses == ["returned", "college_review", "returned"]
