"""The keyboard path through the queue: from opening the queue to deciding N items takes
N + 2 keys (j, Enter, then "a" = 审核通过并打开下一条 on each item). Keys do nothing while
the reviewer types in a field; the shortcuts are listed on the page."""

import pytest

from agreements.models import Agreement
from agreements.online import services
from tests import factories as f
from tests.browser.conftest import login

pytestmark = pytest.mark.browser


def _agreements(world, employer, count):
    made = []
    for _ in range(count):
        student = f.make_student(f.make_record(world.major_a1))
        invitation = f.make_invitation(employer, student)
        made.append(services.invitation_accept(invitation=invitation, user=student.user))
    return made


def test_three_items_are_decided_from_the_keyboard_in_five_keys(
    page, live_server, world, employer_user, college_reviewer, shoot
):
    made = _agreements(world, employer_user.employer, 3)
    login(page, live_server, college_reviewer.username)
    page.goto(f"{live_server.url}/reviews/")
    help_text = page.locator("[data-shortcuts-help]")
    assert help_text.is_visible() and "j" in help_text.inner_text()

    # Typing in the search field moves nothing.
    page.keyboard.press("/")
    assert page.locator("input[name=q]").evaluate("e => e === document.activeElement")
    page.keyboard.type("jjx")
    assert page.locator("main tbody tr.table-active").count() == 0
    assert page.locator("main tbody input[name=task]:checked").count() == 0
    page.keyboard.press("Escape")
    page.locator("input[name=q]").fill("")

    # The skip link is the first stop of the content and lands on the table.
    page.goto(f"{live_server.url}/reviews/")
    page.locator("a[href='#queue-table']").focus()
    page.keyboard.press("Enter")
    assert page.locator("#queue-table").evaluate("e => e === document.activeElement")

    # The measured path: from the queue as it opens to 3 items decided.
    page.goto(f"{live_server.url}/reviews/")
    keys = []

    def press(key):
        keys.append(key)
        page.keyboard.press(key)

    press("j")
    assert page.locator("main tbody tr").first.get_attribute("class") == "table-active"
    with page.expect_navigation():
        press("Enter")
    assert page.url.endswith(f"/reviews/agreements/{made[0].pk}/")
    assert page.locator("[data-shortcuts-help]").is_visible()
    shoot(page, "item")
    for following in [*made[1:], None]:
        with page.expect_navigation():
            press("a")
        if following is not None:
            assert page.url.endswith(f"/reviews/agreements/{following.pk}/")
    assert page.url.endswith("/reviews/")  # nothing left: back to the queue
    assert set(
        Agreement.objects.filter(pk__in=[a.pk for a in made]).values_list("status", flat=True)
    ) == {"school_review"}
    assert keys == ["j", "Enter", "a", "a", "a"]  # N + 2 for N = 3


def test_keys_are_ignored_while_typing_a_comment(
    page, live_server, world, employer_user, college_reviewer
):
    item = _agreements(world, employer_user.employer, 1)[0]
    login(page, live_server, college_reviewer.username)
    page.goto(f"{live_server.url}/reviews/agreements/{item.pk}/")
    page.keyboard.press("c")
    comment = page.locator("textarea[name=comment]")
    assert comment.evaluate("e => e === document.activeElement")
    page.keyboard.type("a j")
    assert comment.input_value() == "a j"
    assert page.url.endswith(f"/reviews/agreements/{item.pk}/")
    assert Agreement.objects.get(pk=item.pk).status == "college_review"


def test_bulk_from_the_keyboard(page, live_server, world, employer_user, college_reviewer):
    """Select rows with x, ask with a, confirm with Enter: 2 keys a row and 2 more."""
    made = _agreements(world, employer_user.employer, 3)
    login(page, live_server, college_reviewer.username)
    page.goto(f"{live_server.url}/reviews/")
    for key in ["j", "x", "j", "j", "x"]:
        page.keyboard.press(key)
    checked = page.locator("main tbody input[name=task]:checked")
    assert checked.count() == 2
    with page.expect_navigation():
        page.keyboard.press("a")
    assert page.locator("main tbody tr").count() == 2
    with page.expect_navigation():
        page.keyboard.press("Enter")  # 确认 has the focus
    statuses = list(
        Agreement.objects.filter(pk__in=[a.pk for a in made])
        .order_by("pk")
        .values_list("status", flat=True)
    )
    assert statuses == ["school_review", "college_review", "school_review"]
