"""First import must not win: a school's claim on a graduate another school holds opens a
case for the platform admin, and the disputed record cannot be confirmed until it is settled."""

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse

from destreg.audit.models import AuditEvent, Notification
from destreg.lib import sms
from students import binding, services
from students.importing import registry_import
from students.models import RegistryConflict, RegistryRecord, Student
from tests import factories as f

ID_NUMBER = "110101200301010012"
GRADUATE_PHONE = "13812345678"
ATTACKER_PHONE = "13900000001"


def _import(school, rows, *, actor=None, valid_only=False):
    return registry_import(
        school=school, handle=f.registry_csv(rows, headings=f.REGISTRY_CONTACT_HEADINGS),
        filename="class.csv", actor=actor, valid_only=valid_only,
    )  # fmt: skip


def _school_a_row(world, no="A1", phone=GRADUATE_PHONE, **overrides):
    return f.registry_row(world, no, "李娜", ID_NUMBER, 手机号=phone, **overrides)


def _school_b_row(world, no="B1", phone=ATTACKER_PHONE):
    row = f.registry_row(world, no, "李娜", ID_NUMBER, 院系=world.b1.name, 手机号=phone)
    return row | {"专业代码": world.major_b1.code}


@pytest.fixture
def squatted(world, other_school_reviewer):
    """School B's staff imported school A's graduate first, with the attacker's phone."""
    report = _import(world.school_b, [_school_b_row(world)], actor=other_school_reviewer)
    assert report.ok and report.imported == 1
    return RegistryRecord.objects.get(school=world.school_b)


def _signed_in(student: Student) -> Client:
    client = Client()
    client.force_login(student.user)
    return client


def test_a_squatted_graduate_cannot_be_taken_over_and_is_freed_by_the_admin(
    world, squatted, school_reviewer, platform_admin, django_capture_on_commit_callbacks
):
    # The genuine school's import is refused, and that opens a case for the platform admin.
    report = _import(world.school_a, [_school_a_row(world)], actor=school_reviewer)
    assert report.imported == 0 and [error.line for error in report.errors] == [2]
    assert "已通知平台管理员" in " ".join(report.errors[0].messages)
    assert world.school_b.name not in " ".join(report.errors[0].messages)
    case = RegistryConflict.objects.get()
    assert case.is_open and case.record == squatted
    assert (case.holding_school, case.claiming_school) == (world.school_b, world.school_a)
    assert case.claimed_by == school_reviewer and case.filename == "class.csv"
    assert not case.bound_when_claimed
    told = Notification.objects.get(user=platform_admin)
    assert reverse("admin:students_registryconflict_change", args=[case.pk]) == told.url

    # An outsider signs up with the name and ID number: no code, no confirmation.
    outsider = f.make_student(real_name="李娜", id_number=ID_NUMBER, confirmed=False)
    client = _signed_in(outsider)
    page = client.get(reverse("students:home")).content.decode()
    assert 'id="record-disputed"' in page and "正在由学校之间核查" in page
    assert reverse("students:send_code") not in page
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("students:send_code"), {"channel": "sms"})
    assert sms.outbox == []
    with pytest.raises(ValidationError, match=r"checked between schools|学校之间"):
        binding.registry_code_send(student=outsider, channel="sms", client_ip="")
    with pytest.raises(ValidationError):
        binding.registry_bind(
            student=outsider, record=squatted, method="code", actor=platform_admin
        )
    assert not Student.objects.filter(record__isnull=False).exists()

    # The admin deletes the squatting record and resolves the case in the Django admin.
    squatted.delete()
    admin = Client()
    admin.force_login(platform_admin)
    change = admin.get(reverse("admin:students_registryconflict_change", args=[case.pk]))
    resolve_url = reverse("admin:students_registryconflict_resolve", args=[case.pk])
    assert resolve_url in change.content.decode()
    assert "先更正或删除错误的记录" in admin.get(resolve_url).content.decode()
    listing = reverse("admin:students_registryconflict_changelist")
    assert squatted.student_no in admin.get(listing + "?status=open").content.decode()
    response = admin.post(resolve_url, {"note": "B1 was imported by mistake; deleted."})
    assert response.status_code == 302
    case.refresh_from_db()
    assert not case.is_open and case.resolved_by == platform_admin
    assert squatted.student_no not in admin.get(listing + "?status=open").content.decode()
    assert squatted.student_no in admin.get(listing + "?status=resolved").content.decode()

    # Now the genuine school imports, and the graduate confirms with the code sent to them.
    report = _import(world.school_a, [_school_a_row(world)], actor=school_reviewer)
    assert report.ok and report.imported == 1
    graduate = f.make_student(real_name="李娜", id_number=ID_NUMBER, confirmed=False)
    client = _signed_in(graduate)
    code = f.send_code(client)
    assert sms.outbox[-1].to == GRADUATE_PHONE
    client.post(reverse("students:confirm"), {"code": code})
    graduate.refresh_from_db()
    assert graduate.record.school == world.school_a


def test_a_file_refused_whole_still_opens_the_case(world, squatted, school_reviewer):
    rows = [_school_a_row(world), f.registry_row(world, "A2", "王五", f.new_id_number())]
    report = _import(world.school_a, rows, actor=school_reviewer)
    assert report.imported == 0
    assert not RegistryRecord.objects.filter(school=world.school_a).exists()
    assert RegistryConflict.objects.open().get().record == squatted


def test_one_open_case_per_record_and_claiming_school(world, squatted, school_reviewer):
    for _ in range(3):
        _import(world.school_a, [_school_a_row(world)], actor=school_reviewer)
    assert RegistryConflict.objects.count() == 1


def test_a_school_s_own_records_open_no_case(world, school_reviewer):
    f.make_record(world.major_a1, name="李娜", id_number=ID_NUMBER, student_no="A1")
    report = _import(world.school_a, [_school_a_row(world, no="A2")], actor=school_reviewer)
    assert report.imported == 0 and report.errors
    assert "平台管理员" not in " ".join(report.errors[0].messages)
    assert not RegistryConflict.objects.exists()


def test_a_case_on_a_bound_record_keeps_the_binding_and_says_so(
    world, squatted, school_reviewer, other_school_reviewer
):
    holder = f.make_student(squatted)
    _import(world.school_a, [_school_a_row(world)], actor=school_reviewer)
    case = RegistryConflict.objects.get()
    assert case.bound_when_claimed
    holder.refresh_from_db()
    assert holder.record == squatted
    page = _signed_in_page(other_school_reviewer, reverse("reviews:record", args=[squatted.pk]))
    assert 'id="registry-conflict"' in page


def _signed_in_page(user, url):
    client = Client()
    client.force_login(user)
    response = client.get(url)
    assert response.status_code == 200
    return response.content.decode()


def test_an_import_request_approval_against_another_school_opens_a_case(
    world, squatted, school_reviewer, platform_admin
):
    student = f.make_student(real_name="李娜", id_number=ID_NUMBER, confirmed=False)
    request = services.registry_request_submit(
        student=student, kind="import", school=world.school_a, data={"student_no": "A7"}
    )
    with pytest.raises(ValidationError, match=r"platform administrator|平台管理员"):
        services.registry_request_approve(request=request, reviewer=school_reviewer)
    request.refresh_from_db()
    assert request.status == "submitted"
    case = RegistryConflict.objects.get()
    assert case.record == squatted and case.claiming_school == world.school_a
    assert case.source == "request" and case.request == request
    assert Notification.objects.filter(user=platform_admin).exists()
    with pytest.raises(ValidationError):
        services.registry_request_approve(request=request, reviewer=school_reviewer)
    assert RegistryConflict.objects.count() == 1


def test_the_record_page_notice_is_for_the_holding_record_only(
    world, squatted, school_reviewer, other_school_reviewer
):
    _import(world.school_a, [_school_a_row(world)], actor=school_reviewer)
    page = _signed_in_page(other_school_reviewer, reverse("reviews:record", args=[squatted.pk]))
    assert 'id="registry-conflict"' in page and "平台管理员正在与两校核实" in page
    assert world.school_a.name not in page  # the claiming school is the admin's to know
    other = f.make_record(world.major_b1, student_no="B2")
    page = _signed_in_page(other_school_reviewer, reverse("reviews:record", args=[other.pk]))
    assert 'id="registry-conflict"' not in page
    client = Client()
    client.force_login(school_reviewer)  # the claiming school does not see the record
    assert client.get(reverse("reviews:record", args=[squatted.pk])).status_code == 404


def test_resolving_is_audited_and_frees_the_record(
    world, squatted, school_reviewer, other_school_reviewer, platform_admin
):
    from students.conflicts import conflict_resolve, is_disputed

    _import(world.school_a, [_school_a_row(world)], actor=school_reviewer)
    case = RegistryConflict.objects.get()
    with pytest.raises(ValidationError):
        conflict_resolve(conflict=case, admin=platform_admin, note="  ")
    conflict_resolve(conflict=case, admin=platform_admin, note="Checked: B's graduate.")
    event = AuditEvent.objects.for_object(case).get(action="resolve_conflict")
    assert event.actor == platform_admin and event.comment == "Checked: B's graduate."
    assert not is_disputed(squatted)
    page = _signed_in_page(other_school_reviewer, reverse("reviews:record", args=[squatted.pk]))
    assert 'id="registry-conflict"' not in page


def test_only_a_platform_admin_resolves(world, squatted, school_reviewer, other_school_reviewer):
    from django.core.exceptions import PermissionDenied

    from students.conflicts import conflict_resolve

    _import(world.school_a, [_school_a_row(world)], actor=school_reviewer)
    with pytest.raises(PermissionDenied):
        conflict_resolve(
            conflict=RegistryConflict.objects.get(), admin=other_school_reviewer, note="mine"
        )
    assert RegistryConflict.objects.open().exists()


def test_a_squatting_record_written_while_the_file_was_checked_still_opens_a_case(
    world, school_reviewer, monkeypatch
):
    from students import importing

    validate = importing.validate_file

    def then_squat(**kwargs):
        report = validate(**kwargs)
        f.make_record(world.major_b1, name="李娜", id_number=ID_NUMBER, student_no="B1")
        return report

    monkeypatch.setattr(importing, "validate_file", then_squat)
    report = _import(world.school_a, [_school_a_row(world)], actor=school_reviewer)
    assert report.imported == 0 and report.errors[0].line == 0
    case = RegistryConflict.objects.get()
    assert case.record.school == world.school_b and case.claiming_school == world.school_a


def test_no_activation_code_is_issued_for_a_disputed_record(world, reference_data):
    from destreg.accounts.models import Role
    from students.models import RegistryConflict
    from students.permissions import can_issue_activation_code

    record = f.make_record(world.major_a1)  # no contact: its college could issue a code
    college = f.make_user(Role.COLLEGE_REVIEWER, school=world.school_a, college=world.a1)
    school = f.make_user(Role.SCHOOL_REVIEWER, school=world.school_a)
    assert can_issue_activation_code(college, record, holder=None)
    RegistryConflict.objects.create(
        graduation_year=record.graduation_year,
        id_number_digest=record.id_number_digest,
        record=record,
        holding_school=record.school,
        holding_student_no=record.student_no,
        claiming_school=world.school_b,
    )
    assert not can_issue_activation_code(college, record, holder=None)
    assert not can_issue_activation_code(school, record, holder=None)
