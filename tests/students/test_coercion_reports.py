"""No coercion: every change to a graduate's destination reaches the graduate (in the app and
by e-mail) with a 这不是我本人的意愿 link; only that graduate can file a report through it, and
only the school's reviewers (a college's for their college) see and handle the reports."""

import pytest
from django.core import signing
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.http import Http404
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from agreements.online import services as online
from agreements.registrations import changes
from destreg.accounts.models import Role
from destreg.audit.models import AuditAction, AuditEvent, Notification
from students.coercion import (
    SALT,
    coercion_report_file,
    coercion_report_handle,
    open_reports,
    report_token,
)
from students.models import CoercionReport
from tests import factories as f
from tests.agreements.test_registration_changes import _review, approved

NOT_MY_WILL_ZH = "这不是我本人的意愿"


def _graduate_notices(student):
    return list(Notification.objects.filter(user=student.user).order_by("id"))


def _report_url(student) -> str:
    """The link of the graduate's latest notification that carries one."""
    notice = Notification.objects.filter(user=student.user).exclude(report_url="").first()
    assert notice is not None, "the graduate was not given a report link"
    return notice.report_url


def _token(url: str) -> str:
    return url.rstrip("/").rsplit("/", 1)[1]


# --- every change reaches the graduate with the link ---------------------------------


def test_each_step_of_an_online_agreement_tells_the_graduate_with_the_link(
    agreement, student, college_reviewer, school_reviewer, employer_user
):
    online.agreement_approve(agreement=agreement, reviewer=college_reviewer)
    online.agreement_approve(agreement=agreement, reviewer=school_reviewer)
    notices = _graduate_notices(student)
    assert [n.message_id for n in notices] == [
        "The college approved the agreement; the school reviews it next.",
        "Signed successfully: agreement %(number)s.",
    ]
    assert all(n.report_url.startswith("/students/not-my-will/") for n in notices)
    assert notices[0].report_url != notices[1].report_url  # one link per change
    # The unit is told the same changes, without a link: it is not its destination.
    assert not Notification.objects.filter(user=employer_user).exclude(report_url="").exists()
    assert Notification.objects.filter(user=employer_user).count() >= 2


def test_a_failed_agreement_tells_the_graduate_with_the_link(agreement, student, college_reviewer):
    online.agreement_fail(agreement=agreement, reviewer=college_reviewer, reason="材料不符")
    latest = _graduate_notices(student)[-1]
    assert latest.message_id == "The agreement was not approved: %(reason)s"
    assert latest.report_url


@pytest.mark.parametrize(
    ("decision", "message"),
    [
        ("return", "Your registration was returned for changes: %(reason)s"),
        ("reject", "Your registration was not approved: %(reason)s"),
    ],
)
def test_a_returned_or_rejected_registration_tells_the_graduate_with_the_link(
    student, college_reviewer, decision, message
):
    from agreements.registrations import services as reg

    item = reg.registration_save_draft(
        student=student,
        path="paper",
        values={
            "unit_name": "纸质协议单位",
            "unit_uscc": "91110000100000000R",
            "proof": SimpleUploadedFile("p.pdf", f.pdf_bytes()),  # the evidence rule's proof
        },
    )
    reg.registration_submit(registration=item, user=student.user)
    _review(item, college_reviewer, decision, "请补充")
    latest = _graduate_notices(student)[-1]
    assert (latest.message_id, bool(latest.report_url)) == (message, True)


def test_void_and_termination_steps_tell_the_graduate_with_the_link(
    student, college_reviewer, school_reviewer
):
    other = approved(student, "other", college_reviewer, school_reviewer)
    termination = changes.void_request(registration=other, user=student.user, reason="升学未成")
    changes.change_approve(termination=termination, reviewer=college_reviewer)
    changes.change_approve(termination=termination, reviewer=school_reviewer)
    with_link = [n.message_id for n in _graduate_notices(student) if n.report_url]
    assert with_link[-4:] == [
        "Approved: your destination is registered.",
        "You asked to void your other destination; the college reviews it next.",
        "The college approved the termination; the school reviews it next.",
        "Your other destination is void; you may register another.",
    ]


def test_a_termination_the_graduate_asks_for_is_told_to_them_too(signed, student):
    online.termination_request(agreement=signed, user=student.user, reason="r")
    latest = _graduate_notices(student)[-1]
    assert latest.message_id == (
        "You asked to terminate agreement %(number)s; the unit answers next."
    )
    assert latest.report_url


def test_an_online_termination_tells_the_graduate_each_step(
    signed, student, employer_user, college_reviewer, school_reviewer
):
    termination = online.termination_request(agreement=signed, user=employer_user, reason="r")
    online.termination_answer(termination=termination, user=student.user, agree=True)
    online.termination_approve(termination=termination, reviewer=college_reviewer)
    online.termination_approve(termination=termination, reviewer=school_reviewer)
    with_link = [n.message_id for n in _graduate_notices(student) if n.report_url]
    assert with_link[-4:] == [
        "A termination of agreement %(number)s was requested; please answer.",
        "You agreed to terminate; the college reviews it next.",
        "The college approved the termination; the school reviews it next.",
        "Agreement %(number)s is terminated.",
    ]


def test_the_email_carries_the_link_to_the_graduate_only(
    agreement, student, employer_user, college_reviewer, mailoutbox,
    django_capture_on_commit_callbacks,
):  # fmt: skip
    with django_capture_on_commit_callbacks(execute=True):
        online.agreement_fail(agreement=agreement, reviewer=college_reviewer, reason="不符")
    url = _report_url(student)
    to_student = [m for m in mailoutbox if m.to == [student.user.email]]
    to_unit = [m for m in mailoutbox if m.to == [employer_user.email]]
    assert len(to_student) == 1 and len(to_unit) == 1
    assert f"{NOT_MY_WILL_ZH}: " in to_student[0].body and url in to_student[0].body
    assert NOT_MY_WILL_ZH not in to_unit[0].body and "not-my-will" not in to_unit[0].body


def test_the_notifications_page_shows_the_link(client, agreement, student, college_reviewer):
    online.agreement_fail(agreement=agreement, reviewer=college_reviewer, reason="不符")
    client.force_login(student.user)
    page = client.get(reverse("audit:notifications")).content.decode()
    assert _report_url(student) in page and NOT_MY_WILL_ZH in page


# --- filing a report ------------------------------------------------------------------


@pytest.fixture
def failed(agreement, student, college_reviewer):
    online.agreement_fail(agreement=agreement, reviewer=college_reviewer, reason="材料不符")
    return agreement


def test_the_graduate_files_a_report_once(client, failed, student, college_reviewer):
    url = _report_url(student)
    client.force_login(student.user)
    page = client.get(url)
    assert page.status_code == 200
    assert "就业协议审核不通过：材料不符" in page.content.decode()
    response = client.post(url, {"text": "是辅导员替我点的"})
    assert response.status_code == 302
    report = CoercionReport.objects.get()
    fail_event = AuditEvent.objects.get(action=AuditAction.FAIL)
    assert (report.student, report.event, report.text) == (student, fail_event, "是辅导员替我点的")
    assert (report.school_id, report.college_id) == (
        student.record.school_id,
        student.record.college_id,
    )
    filed = AuditEvent.objects.for_object(report).get()
    assert (filed.action, filed.actor, filed.comment) == (
        AuditAction.REPORT_NOT_MY_WILL,
        student.user,
        "是辅导员替我点的",
    )
    # A second click shows the report already filed and files nothing more.
    again = client.post(url, {"text": "再次"})
    assert again.status_code == 200 and "是辅导员替我点的" in again.content.decode()
    assert CoercionReport.objects.count() == 1
    assert coercion_report_file(user=student.user, token=_token(url), text="x") == report
    assert CoercionReport.objects.count() == 1


def test_the_text_is_length_limited(client, failed, student):
    url = _report_url(student)
    client.force_login(student.user)
    assert client.post(url, {"text": "字" * 1001}).status_code == 400
    assert not CoercionReport.objects.exists()
    with pytest.raises(ValidationError, match="1000"):
        coercion_report_file(user=student.user, token=_token(url), text="字" * 1001)


def test_nobody_else_can_open_or_use_the_link(
    client, failed, student, other_student, college_reviewer, school_reviewer,
    platform_admin, employer_user,
):  # fmt: skip
    url = _report_url(student)
    anonymous = Client().get(url)
    assert anonymous.status_code == 302 and "login" in anonymous["Location"]
    for user in (other_student.user, college_reviewer, school_reviewer, platform_admin,
                 employer_user):  # fmt: skip
        client.force_login(user)
        assert client.get(url).status_code == 404, user
        assert client.post(url, {"text": "x"}).status_code == 404, user
        with pytest.raises(Http404):
            coercion_report_file(user=user, token=_token(url), text="x")
    assert not CoercionReport.objects.exists()


def test_tokens_cannot_be_guessed_or_made_for_another_change(client, failed, student):
    client.force_login(student.user)
    token = _token(_report_url(student))
    event_id, user_id = signing.loads(token, salt=SALT)
    assert user_id == student.user.pk
    forged = [
        token[:-2] + ("AA" if not token.endswith("AA") else "BB"),  # the signature altered
        signing.dumps([event_id, user_id], salt="another salt"),
        signing.dumps([event_id, user_id], key="guessed-key", salt=SALT),
        "1:2",
    ]
    for bad in forged:
        url = reverse("students:not_my_will", args=[bad])
        assert client.get(url).status_code == 404, bad
    # A correctly signed token for a change the graduate was never told of (another
    # graduate's audit row) is refused too: the link exists only in the graduate's notices.
    other_event = AuditEvent.objects.exclude(pk=event_id).first()
    url = reverse("students:not_my_will", args=[report_token(other_event.pk, student.user.pk)])
    assert client.get(url).status_code == 404
    assert client.post(url, {"text": "x"}).status_code == 404
    assert not CoercionReport.objects.exists()


# --- the reviewers' list ------------------------------------------------------------


@pytest.fixture
def report(failed, student):
    return coercion_report_file(user=student.user, token=_token(_report_url(student)), text="被迫")


LIST = reverse("reviews:reports")


def test_reports_are_seen_by_the_schools_and_the_colleges_reviewers_only(
    client, report, college_reviewer, other_college_reviewer, school_reviewer,
    other_school_reviewer, platform_admin, student, employer_user,
):  # fmt: skip
    for user in (school_reviewer, college_reviewer, platform_admin):
        assert list(open_reports(user)) == [report]
        client.force_login(user)
        page = client.get(LIST)
        assert page.status_code == 200 and "被迫" in page.content.decode()
    for user in (other_college_reviewer, other_school_reviewer):
        assert not open_reports(user).exists()
        client.force_login(user)
        page = client.get(LIST)
        assert page.status_code == 200 and "被迫" not in page.content.decode()
    for user in (student.user, employer_user):
        assert not open_reports(user).exists()
        client.force_login(user)
        assert client.get(LIST).status_code == 403
    assert Client().get(LIST).status_code == 302


def test_the_list_page_costs_the_same_for_one_report_or_many(
    client, report, world, school_reviewer, college_reviewer, django_assert_num_queries
):
    client.force_login(school_reviewer)
    client.get(LIST)  # warm the per-process caches (the signed-in user, references)
    with CaptureQueriesContext(connection) as one:
        assert client.get(LIST).status_code == 200
    for _ in range(5):
        graduate = f.make_student(f.make_record(world.major_a1))
        agreement = online.invitation_accept(
            invitation=f.make_invitation(f.make_employer(verified_at=timezone.now()), graduate),
            user=graduate.user,
        )
        online.agreement_fail(agreement=agreement, reviewer=college_reviewer, reason="x")
        coercion_report_file(user=graduate.user, token=_token(_report_url(graduate)))
    with django_assert_num_queries(len(one.captured_queries)):
        page = client.get(LIST)
    assert page.content.decode().count("reviews/verification/reports/") >= 6
    assert len(one.captured_queries) <= 12


def _handle(client, report, comment="已约谈学生，协议已撤回"):
    from destreg.lib.decisions import decision_state

    return client.post(
        reverse("reviews:report_handle", args=[report.pk]),
        {f"r{report.pk}-comment": comment, f"r{report.pk}-state": decision_state(report)},
    )


def test_a_reviewer_marks_a_report_handled_with_a_comment(client, report, school_reviewer):
    client.force_login(school_reviewer)
    assert _handle(client, report, "").status_code == 302  # refused: a comment is required
    report.refresh_from_db()
    assert report.status == "open"
    assert _handle(client, report).status_code == 302
    report.refresh_from_db()
    assert (report.status, report.handled_by, report.handling_comment) == (
        "handled",
        school_reviewer,
        "已约谈学生，协议已撤回",
    )
    event = AuditEvent.objects.for_object(report).get(action=AuditAction.HANDLE_REPORT)
    assert (event.actor, event.from_state, event.to_state) == (school_reviewer, "open", "handled")
    assert not open_reports(school_reviewer).exists()
    handled = client.get(LIST, {"status": "handled"}).content.decode()
    assert "已约谈学生，协议已撤回" in handled


def test_strangers_cannot_handle_a_report(
    client, report, other_school_reviewer, other_college_reviewer, platform_admin, student
):
    for user in (other_school_reviewer, other_college_reviewer):
        client.force_login(user)
        assert _handle(client, report).status_code == 404
    client.force_login(student.user)
    assert _handle(client, report).status_code == 403
    client.force_login(platform_admin)  # reads every report, handles none
    _handle(client, report)
    report.refresh_from_db()
    assert report.status == "open"
    with pytest.raises(PermissionDenied):
        coercion_report_handle(report=report, reviewer=platform_admin, comment="x")


def test_the_college_reviewer_handles_their_colleges_report(client, report, college_reviewer):
    decided_by = report.event.actor
    colleague = f.make_user(
        Role.COLLEGE_REVIEWER, school=college_reviewer.school, college=college_reviewer.college
    )
    for reviewer in {decided_by, college_reviewer} - {colleague}:
        if reviewer == decided_by:  # the report is about their own decision: not theirs
            client.force_login(reviewer)
            _handle(client, report)
            report.refresh_from_db()
            assert report.status == "open"
    client.force_login(colleague if decided_by == college_reviewer else college_reviewer)
    assert _handle(client, report).status_code == 302
    report.refresh_from_db()
    assert report.status == "handled"


def test_a_report_from_another_college_is_not_shown(
    client, world, college_reviewer, other_college_reviewer
):
    graduate = f.make_student(f.make_record(world.major_a2))
    invitation = f.make_invitation(f.make_employer(verified_at=timezone.now()), graduate)
    agreement = online.invitation_accept(invitation=invitation, user=graduate.user)
    online.agreement_fail(agreement=agreement, reviewer=other_college_reviewer, reason="x")
    filed = coercion_report_file(user=graduate.user, token=_token(_report_url(graduate)))
    assert list(open_reports(other_college_reviewer)) == [filed]
    assert not open_reports(college_reviewer).exists()


def test_the_review_queue_flags_open_reports(
    client, report, school_reviewer, other_school_reviewer
):
    client.force_login(school_reviewer)
    page = client.get(reverse("reviews:queue")).content.decode()
    assert "有 1 名毕业生反映去向变更不是本人的意愿。" in page and LIST in page
    client.force_login(other_school_reviewer)
    page = client.get(reverse("reviews:queue")).content.decode()
    assert "名毕业生反映" not in page and LIST in page  # the list, without a flag
