"""The list pages on a phone (390 px): each table becomes a stack of cards (``table-stack``),
so the page never scrolls sideways and each row's status and action are on screen.
Screenshots of every list at 390 and 1280 px go to var/screenshots/."""

import pytest
from django.utils import timezone

from agreements.online import services as online
from agreements.registrations import services as reg
from tests import factories as f
from tests.browser.conftest import DESKTOP, PHONE, SCREENSHOTS, login

pytestmark = pytest.mark.browser

LONG_NAME = "北京市海淀区中关村科技园区超长名称信息技术股份有限公司"


def _lists(world, student, other_student, employer_user, college_reviewer, platform_admin):
    """Rows on every list, with long names where a long name could push a column out:
    {who: (username, [(list path, row selector)])}."""
    employer = employer_user.employer
    long_unit = f.make_employer(name=LONG_NAME, verified_at=timezone.now())
    long = f.make_invitation(long_unit, student)
    type(long).objects.filter(pk=long.pk).update(position="高级软件开发工程师（后端服务方向）")
    f.make_invitation(employer, student, sent_by=employer_user)
    for _ in range(3):
        graduate = f.make_student(f.make_record(world.major_a1))
        invitation = f.make_invitation(employer, graduate, sent_by=employer_user)
        online.invitation_accept(invitation=invitation, user=graduate.user)
    values = {"unit_name": LONG_NAME, "unit_uscc": long_unit.uscc, "position": "工程师"}
    registration = reg.registration_save_draft(student=other_student, path="offline", values=values)
    reg.registration_submit(registration=registration, user=other_student.user)
    f.make_employer(name="待审核单位")
    rows = "main table.table-stack tbody tr"
    return {
        "student": (student.user.username, [("/agreements/invitations/", rows)]),
        "student with a registration": (
            other_student.user.username,
            [("/agreements/register/", rows)],
        ),
        "employer": (employer_user.username, [("/agreements/sent/", rows)]),
        "college reviewer": (
            college_reviewer.username,
            [("/reviews/", rows), (f"/reviews/records/?q={student.record.name[:1]}", rows)],
        ),
        "platform admin": (platform_admin.username, [("/reviews/employers/", rows)]),
    }


def test_lists_are_cards_on_a_phone(
    browser, live_server, world, student, other_student, employer_user, college_reviewer,
    platform_admin,
):  # fmt: skip
    lists = _lists(world, student, other_student, employer_user, college_reviewer, platform_admin)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    problems: list[str] = []
    for who, (username, pages) in lists.items():
        context = browser.new_context(viewport=DESKTOP, locale="zh-CN")
        try:
            page = context.new_page()
            login(page, live_server, username)
            for path, rows in pages:
                page.goto(f"{live_server.url}{path}")
                name = path.strip("/").split("?")[0].replace("/", "-")
                page.screenshot(path=SCREENSHOTS / f"phone-lists-{name}.png", full_page=True)
                page.set_viewport_size(PHONE)
                page.screenshot(path=SCREENSHOTS / f"phone-lists-{name}-phone.png", full_page=True)
                problems += _phone_problems(page, f"{who} {path}", rows)
                page.set_viewport_size(DESKTOP)
        finally:
            context.close()
    assert not problems, "\n".join(problems)


def _phone_problems(page, where: str, rows: str) -> list[str]:
    """What is wrong with the list at phone width: sideways scrolling, or a row whose status
    badge or action link/button ends past the right edge of the screen."""
    problems = []
    scroll, width = page.evaluate("[document.scrollingElement.scrollWidth, window.innerWidth]")
    if scroll > width:
        problems.append(f"{where}: the page is {scroll} px wide on a {width} px screen")
    count = page.locator(rows).count()
    if count == 0:
        problems.append(f"{where}: no row matches {rows!r}")
    for i in range(count):
        row = page.locator(rows).nth(i)
        for what in (".badge", "a, button"):
            for element in row.locator(what).all():
                box = element.bounding_box()
                if box is None or box["width"] == 0:
                    problems.append(f"{where}: row {i + 1}: {what} is not shown")
                elif box["x"] < 0 or box["x"] + box["width"] > width:
                    problems.append(
                        f"{where}: row {i + 1}: {element.inner_text()!r} spans "
                        f"{box['x']:.0f}-{box['x'] + box['width']:.0f} px of {width}"
                    )
    return problems
