"""The graduate's home page says what to do next; on a phone the invitation's 接受 / 拒绝 are
in the first screen, and each answer is confirmed on its own page before it is given."""

from datetime import timedelta

import pytest
from django.utils import timezone

from agreements.models import Agreement, Invitation, Registration
from agreements.registrations import services as registrations
from students import services as student_services
from tests import factories as f
from tests.browser.conftest import DESKTOP, PHONE, login

pytestmark = pytest.mark.browser


def _in_first_screen(page, selector: str) -> bool:
    box = page.locator(selector).bounding_box()
    return box is not None and box["y"] >= 0 and box["y"] + box["height"] <= PHONE["height"]


def test_the_home_page_lists_every_open_item_most_urgent_first(
    page, live_server, student, employer_user, other_employer_user, college_reviewer, shoot
):
    soon = f.make_invitation(
        other_employer_user.employer, student, deadline=timezone.now() + timedelta(hours=20)
    )
    later = f.make_invitation(employer_user.employer, student)
    item = registrations.registration_save_draft(
        student=student,
        path="offline",
        values={"unit_name": "北京测试科技有限公司", "position": "工程师"},
    )
    registrations.registration_submit(registration=item, user=student.user)
    registrations.registration_review(
        registration=Registration.objects.get(pk=item.pk),
        reviewer=college_reviewer,
        decision="return",
        comment="岗位名称不完整，请补充部门",
    )
    student_services.registry_request_submit(
        student=student, kind="update", school=student.record.school, data={"ethnicity": "03"}
    )

    login(page, live_server, student.user.username)
    page.goto(f"{live_server.url}/students/")
    links = page.locator("#to-do li a").evaluate_all("(links) => links.map(a => a.pathname)")
    assert links == [
        f"/agreements/invitations/{soon.pk}/",
        f"/agreements/invitations/{later.pk}/",
        f"/agreements/registrations/{item.pk}/edit/",
    ]
    assert "还剩 20 小时" in page.locator("#to-do li").first.inner_text()
    assert "岗位名称不完整" in page.locator("#to-do").inner_text()
    assert page.locator("#waiting li").count() == 1  # the registry correction
    shoot(page, "home-open-items", phone=True)
    page.set_viewport_size(PHONE)
    assert _in_first_screen(page, "#to-do li:first-child a")
    page.set_viewport_size(DESKTOP)


def test_an_invitation_is_answered_from_the_first_screen_of_a_phone_after_confirming(
    new_page, live_server, student, invitation, shoot
):
    page = new_page()
    page.set_viewport_size(PHONE)
    login(page, live_server, student.user.username)
    page.goto(f"{live_server.url}/students/")
    with page.expect_navigation():
        page.locator("#to-do li:first-child a").click()
    assert _in_first_screen(page, "button[name=answer][value=accept]")
    assert _in_first_screen(page, "button[name=answer][value=decline]")
    shoot(page, "invitation", phone=True)

    page.set_viewport_size(PHONE)
    with page.expect_navigation():
        page.locator("button[name=answer][value=accept]").click()
    assert "answer=accept" in page.url
    assert "不能再接受其他签约邀请" in page.locator("main").inner_text()
    assert Invitation.objects.get(pk=invitation.pk).status == "pending"  # nothing yet
    assert _in_first_screen(page, "main form[method=post] button[type=submit]")
    shoot(page, "invitation-confirm-accept", phone=True)

    with page.expect_navigation():
        page.get_by_role("link", name="取消").click()  # back, still pending
    assert page.url.endswith(f"/agreements/invitations/{invitation.pk}/")
    assert not Agreement.objects.exists()

    with page.expect_navigation():
        page.locator("button[name=answer][value=decline]").click()
    shoot(page, "invitation-confirm-decline", phone=True)
    page.go_back()

    with page.expect_navigation():
        page.locator("button[name=answer][value=accept]").click()
    with page.expect_navigation():
        page.locator("main form[method=post] button[type=submit]").click()
    agreement = Agreement.objects.get(student=student)
    assert page.url.endswith(f"/agreements/{agreement.pk}/")

    page.goto(f"{live_server.url}/students/")
    assert page.locator("#to-do").count() == 0
    assert page.locator(f'#waiting a[href="/agreements/{agreement.pk}/"]').count() == 1
