"""English mode leaves no Chinese behind: each role signs in, switches to English with the
navbar's button and follows every same-site link breadth-first (GET only); every page's
visible text, less the data the test made (names, units, schools, majors, regions) and the
中文 switch back, must hold no Chinese character."""

import re
from collections import deque
from datetime import timedelta
from urllib.parse import urldefrag, urlsplit

import pytest
from django.apps import apps
from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_noop

from agreements.batches.files import HEADINGS as BATCH_HEADINGS
from agreements.models import TermTemplate
from agreements.online import services as online
from agreements.registrations import services as registrations
from destreg.accounts.models import Role
from destreg.audit.models import AuditEvent, Notification
from destreg.audit.notify import notify
from destreg.reference.models import Code
from reviews import verification as sampling
from reviews.models import AnnualReport
from reviews.services import snapshot_take
from students.coercion import coercion_report_file, report_token
from students.importing import ALIASES, COLUMNS
from students.models import RegistryRecord, current_graduation_year
from students.tallies import destination_set
from tests import factories as f
from tests.browser.conftest import login

pytestmark = pytest.mark.browser

CJK = re.compile(r"[\u3000-\u303f\u3400-\u9fff\uf900-\ufaff\uff00-\uffef]+")
# The switch back to Chinese names its language in Chinese; the registry file's column
# headings (and their other names) are what the file must literally say.
ALLOWED = ["中文", *COLUMNS, *ALIASES]
# The values the 学习形式 column takes, as the file must say them.
ALLOWED += ["非全日制", "全日制"]
# A batch invitation file's column headings, as the file must say them.
ALLOWED += BATCH_HEADINGS
# The API's reference names each field by the product's own word, for the HR developer.
ALLOWED += ["就业协议", "下载协议书", "签约邀请", "职位类别", "协议书编号"]
# django-otp's admin words its search hint once, at import, in the default language.
ALLOWED += ["用户名", "电子邮件地址"]
MASKED_NAME = re.compile(r"[\u3400-\u9fff]\*+")  # 李* on the public verification page
MAX_DEPTH = 3
MAX_PAGES = 60  # per role
MAX_PER_PATH = 2  # query-string variants (filters, sorting, pages) of one path
# Links that leave, change state or return files: never followed.
SKIP = re.compile(
    r"/logout/|/login/|/i18n/|/set-language|/download|/pdf/|\.pdf$|/scan/|/export|\.csv|\.xlsx|/api/schema/|/batches/\d+/result/"
    r"|/media/|/static/|/second-factor|/sso/|/admin/.+/(add|delete|history)/|/admin/logout"
    r"|/admin/.+/\d+/change/|/admin/jsi18n|/admin/r/|[?&]download="
)


def _data_values(*, admin: bool = False) -> list[str]:
    """Every text the database holds with Chinese in it: names, units, schools, majors,
    regions, comments typed in Chinese. Code-table names with an English name (shown only
    by the Django admin, next to the English one), and stored notification sentences, are
    not data: the English page must not show them."""
    values: set[str] = set()
    for model in apps.get_models():
        if model._meta.app_label in {"admin", "auth", "contenttypes", "sessions", "axes"}:
            continue
        fields = [
            field.name
            for field in model._meta.concrete_fields
            if isinstance(field, models.CharField | models.TextField | models.JSONField)
        ]
        if model is Notification:
            fields = []
        queryset = model._default_manager.all()
        if model is Code and not admin:
            queryset = queryset.filter(name_en="")
        for row in queryset.values(*fields)[:5000] if fields else []:
            for value in row.values():
                _collect(value, values)
    return sorted(values, key=len, reverse=True)


def _collect(value, into: set[str]) -> None:
    if isinstance(value, dict):
        for item in value.values():
            _collect(item, into)
    elif isinstance(value, list):
        for item in value:
            _collect(item, into)
    elif isinstance(value, str) and CJK.search(value):
        into.add(value.strip())
        into.update(part.strip() for part in value.splitlines() if CJK.search(part))


def _chinese_left(text: str, data: list[str]) -> list[str]:
    """The lines of ``text`` that still hold Chinese once data and allowed words are gone."""
    found = []
    for line in text.splitlines():
        if not CJK.search(line):
            continue
        rest = MASKED_NAME.sub(" ", line)
        for value in [*data, *ALLOWED]:
            if value and value in rest:
                rest = rest.replace(value, " ")
        if CJK.search(rest):
            found.append(line.strip()[:160])
    return found


def _switch_to_english(page, live_server) -> None:
    """Press the navbar's English button (from the account security page if the person landed
    on a page without it: the platform admin lands in the Django admin)."""
    button = page.locator("nav form button[name=language][value=en]")
    if not button.count():
        page.goto(f"{live_server.url}{reverse('account_security')}")
    with page.expect_navigation():
        button.click()
    assert page.locator("html").get_attribute("lang") == "en"


def _crawl(page, live_server, data: list[str], admin_data: list[str]) -> dict[str, list[str]]:
    """Breadth-first over same-site links from the page the person is on."""
    site = urlsplit(live_server.url).netloc
    start = urldefrag(page.url).url
    queue = deque([(start, 0)])
    seen = {start}
    per_path: dict[str, int] = {}
    problems: dict[str, list[str]] = {}
    visited = 0
    while queue and visited < MAX_PAGES:
        url, depth = queue.popleft()
        response = page.goto(url)
        visited += 1
        if response is None or response.status >= 400:
            continue
        if urlsplit(page.url).netloc != site:
            continue
        in_admin = urlsplit(page.url).path.startswith("/admin/")
        text = page.evaluate("document.body.innerText")
        found = _chinese_left(text, admin_data if in_admin else data)
        if found:
            problems[
                urlsplit(url).path + (f"?{urlsplit(url).query}" if urlsplit(url).query else "")
            ] = found
        if depth >= MAX_DEPTH:
            continue
        for href in page.eval_on_selector_all("a[href]", "links => links.map(a => a.href)"):
            link = urldefrag(href).url
            parts = urlsplit(link)
            if parts.scheme not in ("http", "https") or parts.netloc != site:
                continue
            if link in seen or SKIP.search(parts.path + "?" + parts.query):
                continue
            if per_path.get(parts.path, 0) >= MAX_PER_PATH:
                continue
            per_path[parts.path] = per_path.get(parts.path, 0) + 1
            seen.add(link)
            queue.append((link, depth + 1))
    return problems


@pytest.fixture
def cast(
    world,
    student,
    other_student,
    employer_user,
    other_employer_user,
    college_reviewer,
    school_reviewer,
    platform_admin,
    purge_snapshots,
):
    """A student with a registry record, a draft registration, an agreement awaiting
    review and a pending invitation; another student's agreement signed; the staff."""
    registrations.registration_save_draft(student=student, path="paper", values={})
    pending = f.make_invitation(other_employer_user.employer, student, sent_by=other_employer_user)
    first = f.make_invitation(employer_user.employer, student, sent_by=employer_user)
    online.invitation_accept(invitation=first, user=student.user)
    signed = online.invitation_accept(
        invitation=f.make_invitation(employer_user.employer, other_student, sent_by=employer_user),
        user=other_student.user,
    )
    online.agreement_approve(agreement=signed, reviewer=college_reviewer)
    online.agreement_approve(agreement=signed, reviewer=school_reviewer)
    TermTemplate.objects.create(
        employer=employer_user.employer, name="校招模板", job_category=signed.job_category,
        position="工程师", work_location="北京", hukou="employer", updated_by=employer_user,
    )  # fmt: skip
    # 就业核查: the signed graduate drawn and checked twice, the second time "not true".
    sample = sampling.sample_draw(by=school_reviewer, percentage=100, seed=1)
    sampled = sample.items.get()
    # Its verifier: a reviewer of the college who did not approve it.
    verifier = f.make_user(Role.COLLEGE_REVIEWER, school=world.school_a, college=world.a1)
    sampling.items_assign(
        sample=sample, item_ids=[sampled.pk], verifier=verifier, by=school_reviewer
    )
    for outcome, notes in [("not_reachable", ""), ("not_true", "单位称无此人")]:
        sampling.check_record(
            item=sampled, by=verifier, method="call_unit", outcome=outcome, notes=notes
        )
    # The school's annual reports: one drawn up, one still rendering.
    for status, progress in ((AnnualReport.Status.DONE, 100), (AnnualReport.Status.RUNNING, 40)):
        AnnualReport.objects.create(
            school=world.school_a,
            year=2026,
            as_of="2026-12-01 09:00",
            status=status,
            progress=progress,
            requested_by=school_reviewer,
        )
    # Freelance for one of the college's two graduates: the 核查 page shows a flag.
    destination_set(
        RegistryRecord.objects.filter(pk=other_student.record_id),
        f.code("destination", "76"),
        None,
    )
    assert pending.status == "pending" and timezone.now()
    # A reporting snapshot, then a graduate registered after it (the changes report).
    snapshot_take(
        school=world.school_a,
        year=current_graduation_year(),
        cutoff=timezone.localdate() - timedelta(days=1),
    )
    f.make_record(world.major_a1, name="赵六")
    # 这不是我本人的意愿: the other student reports the signing (the reviewers' list shows
    # it); the student holds a link not used yet (the report page's form).
    links = Notification.objects.exclude(report_url="")
    token = links.filter(user=other_student.user).first().report_url.rstrip("/").rsplit("/")[-1]
    coercion_report_file(user=other_student.user, token=token, text="不是我本人签的")
    event = AuditEvent.objects.for_object(first).first()
    notify(
        [student.user],
        gettext_noop("The college approved the agreement; the school reviews it next."),
        reverse("agreements:agreement", args=[first.pk]),
        report_url=reverse("students:not_my_will", args=[report_token(event.pk, student.user.pk)]),
    )
    return {
        "student": student.user,
        "employer": employer_user,
        "college reviewer": college_reviewer,
        "school reviewer": school_reviewer,
        "platform admin": platform_admin,
    }


@pytest.mark.parametrize(
    "role", ["student", "employer", "college reviewer", "school reviewer", "platform admin"]
)
def test_every_page_a_role_reaches_is_english(new_page, live_server, cast, role):
    user = cast[role]
    assert role != "platform admin" or user.role == Role.PLATFORM_ADMIN
    page = new_page()
    login(page, live_server, user.username)
    _switch_to_english(page, live_server)
    problems = _crawl(page, live_server, _data_values(), _data_values(admin=True))
    report = "\n".join(f"{url}: {lines}" for url, lines in sorted(problems.items()))
    assert not problems, f"Chinese left in English mode for the {role}:\n{report}"
