"""WCAG 2.1 A and AA (axe-core) on every page each role reaches from the navbar, plus the main
detail pages (an invitation, an agreement, a registration, the review of each) and the
anonymous pages, at desktop and phone width.

One browser; one signed-in context per role, reused for all of that role's pages. Every
violation of every page is collected first, so a failure lists them all at once.
"""

import functools
from datetime import timedelta

import pytest
from django.utils import timezone

from agreements.models import TermTemplate
from agreements.online import services as online
from agreements.registrations import services as reg
from destreg.audit.models import Notification
from reviews import verification as sampling
from reviews.models import AnnualReport, VerificationItem
from reviews.services import snapshot_take
from students.coercion import coercion_report_file
from students.models import RegistryRecord, current_graduation_year
from students.tallies import destination_set
from tests import factories as f
from tests.browser.conftest import AXE_CONTEXT, AXE_OPTIONS, DESKTOP, PHONE, TIMEOUT_MS, login

pytestmark = pytest.mark.browser

# Every link of the navbar's menu, the notifications link included.
NAV_LINKS = "#nav a.nav-link[href^='/']"
# The WCAG 2.0/2.1 A and AA rules the other browser tests check, plus axe's best practices
# (empty table headers, landmarks, one <h1>...).
OPTIONS = {
    "runOnly": [*AXE_OPTIONS["runOnly"], "best-practice"],
    "resultTypes": ["violations"],
}


@functools.cache
def _axe_script() -> str:
    from axe_playwright_python.sync_playwright import Axe

    return Axe().axe_script


def _scenario(world, student, other_student, employer_user, other_employer_user,
              college_reviewer, school_reviewer, platform_admin):  # fmt: skip
    """The data behind the pages: ``student`` signed with ``employer_user`` and holds a newer
    invitation from the other unit; ``other_student`` has an unanswered invitation and an
    offline registration at the school's review; a third graduate's agreement waits for the
    college; a unit waits for verification.
    Returns {role: (username, [paths to check besides the navbar's])}."""
    invitation = f.make_invitation(employer_user.employer, student, sent_by=employer_user)
    agreement = online.invitation_accept(invitation=invitation, user=student.user)
    for reviewer in (college_reviewer, school_reviewer):
        agreement = online.agreement_approve(agreement=agreement, reviewer=reviewer)
    pending = f.make_invitation(other_employer_user.employer, student)
    unanswered = f.make_invitation(employer_user.employer, other_student, sent_by=employer_user)

    values = {
        "unit_name": "北京测试科技有限公司", "unit_uscc": "91110000100000000R",
        "unit_address": "测试路1号", "contact_name": "刘经理", "contact_mobile": "13900001111",
        "contact_email": "hr@example.com", "job_category": f.code("job_category", "13"),
        "position": "工程师", "work_location": "北京", "hukou": "employer",
    }  # fmt: skip
    registration = reg.registration_save_draft(student=other_student, path="offline", values=values)
    reg.registration_submit(registration=registration, user=other_student.user)
    reg.registration_review(
        registration=registration, reviewer=college_reviewer, decision="approve"
    )

    third = f.make_student(f.make_record(world.major_a1, name="王五"))
    waiting = online.invitation_accept(
        invitation=f.make_invitation(employer_user.employer, third), user=third.user
    )
    # 这不是我本人的意愿: the link of the college's approval unused (the form), the one of
    # the signing used (the report filed, on the reviewers' list).
    college_link, signing_link = (
        Notification.objects.filter(user=student.user)
        .exclude(report_url="")
        .order_by("id")
        .values_list("report_url", flat=True)
    )
    coercion_report_file(
        user=student.user, token=signing_link.rstrip("/").rsplit("/")[-1], text="不是我本人签的"
    )
    f.make_employer(name="待审核单位")
    f.make_employer(name="已核验单位", verified_at=timezone.now())

    # 就业核查: the signed student drawn, assigned to the college's reviewer.
    sample = sampling.sample_draw(by=school_reviewer, percentage=100, seed=1)
    sampled = sample.items.get()
    # Assigned as the pages' access is checked here (``college_reviewer`` approved the
    # agreement, so the service would not assign them: tests/reviews/test_verification.py).
    VerificationItem.objects.filter(pk=sampled.pk).update(
        verifier=college_reviewer, assigned_at=timezone.now()
    )
    verifying = ["/reviews/verification/tasks/", f"/reviews/verification/items/{sampled.pk}/"]
    done, running = (
        AnnualReport.objects.create(
            school=world.school_a, year=2026, as_of="2026-12-01 09:00", status=status,
            progress=progress, requested_by=school_reviewer,
        )
        for status, progress in (("done", 100), ("running", 40))
    )  # fmt: skip
    snapshot = snapshot_take(
        school=world.school_a,
        year=current_graduation_year(),
        cutoff=timezone.localdate() - timedelta(days=1),
    )
    f.make_record(world.major_a1, name="赵六")  # registered after the snapshot
    # Freelance for one graduate of three in the college: a red flag on the 核查 page.
    destination_set(
        RegistryRecord.objects.filter(pk=third.record_id), f.code("destination", "76"), None
    )
    reviews = [
        f"/reviews/statistics/?as_of={snapshot.pk}",
        f"/reviews/snapshots/{snapshot.pk}/changes/",
        f"/reviews/agreements/{waiting.pk}/",
        f"/reviews/agreements/{agreement.pk}/",
        f"/reviews/registrations/{registration.pk}/",
        f"/reviews/records/{student.record_id}/",
        "/reviews/verification/reports/",
    ]
    flagged = f"/reviews/verification/graduates/?flag=share:{world.a1.pk}:76"
    return {
        "student": (
            student.user.username,
            [
                f"/agreements/invitations/{pending.pk}/",
                f"/agreements/invitations/{invitation.pk}/",
                f"/agreements/{agreement.pk}/",
                "/notifications/",
                college_link,
                signing_link,
            ],
        ),
        "student with a registration": (
            other_student.user.username,
            ["/agreements/register/", f"/agreements/registrations/{registration.pk}/"],
        ),
        "employer": (
            employer_user.username,
            [
                "/agreements/invite/",
                "/agreements/templates/",
                "/agreements/templates/new/",
                "/employers/colleagues/",
                "/employers/details/",
                f"/agreements/invite/?template={_template(employer_user).pk}",
                f"/agreements/invitations/{unanswered.pk}/",
                f"/agreements/{agreement.pk}/",
                f"/agreements/{waiting.pk}/",
            ],
        ),
        "college reviewer": (college_reviewer.username, [*reviews, *verifying, flagged]),
        "school reviewer": (
            school_reviewer.username,
            [
                *reviews,
                flagged,
                "/reviews/verification/samples/",
                f"/reviews/verification/samples/{sample.pk}/",
                f"/reviews/verification/items/{sampled.pk}/",
                f"/reviews/annual-reports/{done.pk}/",
                f"/reviews/annual-reports/{running.pk}/",
            ],
        ),
        "platform admin": (platform_admin.username, reviews[2:5]),
        "anonymous": (
            None,
            [
                "/login/",
                "/students/signup/",
                "/employers/register/",
                "/password/reset/",
                f"/agreements/verify/{agreement.verify_token}/",
            ],
        ),
    }


def _template(employer_user):
    return TermTemplate.objects.create(
        employer=employer_user.employer, name="校招模板", job_category=f.code("job_category", "13"),
        position="工程师", work_location="北京", hukou="employer", updated_by=employer_user,
    )  # fmt: skip


def _violations(page, where: str) -> list[str]:
    """axe-core's findings on the page as shown now, one line per offending element. axe is
    injected once per loaded page and asked for violations only (a full report of every
    passing node is most of the time a run takes)."""
    if not page.evaluate("typeof window.axe === 'object'"):
        page.evaluate(_axe_script())
    result = page.evaluate(
        "([context, options]) => axe.run(context, options)", [AXE_CONTEXT, OPTIONS]
    )
    return [
        f"{where}: {v['id']} ({v['impact']}) at {', '.join(map(str, node['target']))}: "
        f"{node.get('failureSummary', '').splitlines()[-1].strip()}"
        for v in result["violations"]
        for node in v["nodes"]
    ]


def test_every_page_passes_axe_at_both_widths(
    browser, live_server, world, student, other_student, employer_user, other_employer_user,
    college_reviewer, school_reviewer, platform_admin, purge_snapshots,
):  # fmt: skip
    scenario = _scenario(world, student, other_student, employer_user, other_employer_user,
                         college_reviewer, school_reviewer, platform_admin)  # fmt: skip
    found: list[str] = []
    checked: list[str] = []
    for role, (username, extra) in scenario.items():
        context = browser.new_context(viewport=DESKTOP, locale="zh-CN")
        context.set_default_timeout(TIMEOUT_MS)
        try:
            page = context.new_page()
            menu: list[str] = []
            if username is not None:
                login(page, live_server, username)
                page.goto(f"{live_server.url}/notifications/")  # a page with our navbar
                menu = [link.get_attribute("href") or "" for link in page.locator(NAV_LINKS).all()]
                assert menu, f"{role}: no navbar links"
            for path in dict.fromkeys([*menu, *extra]):
                response = page.goto(f"{live_server.url}{path}")
                if response is None or not response.ok:
                    found.append(f"{role} {path}: answered {response and response.status}")
                    continue
                for size in (DESKTOP, PHONE):
                    page.set_viewport_size(size)
                    found += _violations(page, f"{role} {path} @{size['width']}px")
                page.set_viewport_size(DESKTOP)
                checked.append(f"{role} {path}")
        finally:
            context.close()
    assert len(checked) > 50, checked
    assert not found, f"{len(found)} axe violations:\n" + "\n".join(found)
