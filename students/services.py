"""Writes for students, their registry records and registry requests."""

from datetime import date

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from destreg.accounts.models import Role, User
from destreg.audit.models import AuditEvent, ReviewTask
from destreg.lib.decisions import check_state
from destreg.reference.models import Code, CodeTable, College, Major, Region, School
from students.models import (
    CODE_FIELDS,
    UPDATABLE_FIELDS,
    RegistryRecord,
    RegistryRequest,
    Student,
    current_graduation_year,
)
from students.permissions import can_review_registry_request


@transaction.atomic
def student_register(
    *, username: str, password: str, real_name: str, id_number: str, mobile: str, email: str
) -> Student:
    """Create a student account. Identity providers (a future SSO backend) call this too."""
    user = User.objects.create_user(
        username=username,
        password=password,
        email=email,
        role=Role.STUDENT,
        display_name=real_name,
    )
    student = Student(user=user, real_name=real_name, mobile=mobile)
    student.id_number = id_number
    try:
        with transaction.atomic():
            student.save()
    except IntegrityError:
        raise ValidationError(_("An account already exists for this ID number.")) from None
    AuditEvent.record(student, actor=user, action="register")
    return student


def find_current_record(student: Student) -> RegistryRecord | None:
    """The current-year registry record with this student's ID number and name."""
    return (
        RegistryRecord.objects.current()
        .with_id_number(student.id_number)
        .filter(name=student.real_name)
        .for_display()
        .first()
    )


@transaction.atomic
def registry_confirm(*, student: Student) -> Student:
    """Link the student to their registry record (the first-login check)."""
    student = Student.objects.select_for_update(of=("self",)).get(pk=student.pk)
    if student.is_confirmed:
        return student
    record = find_current_record(student)
    if record is None:
        raise ValidationError(_("No current-year registry record matches your name and ID number."))
    student.record = record
    student.confirmed_at = timezone.now()
    student.save(update_fields=["record", "confirmed_at"])
    # A 信息导入 still waiting is moot now that the registry matched.
    for pending in RegistryRequest.objects.select_for_update(of=("self",)).filter(
        student=student, kind=RegistryRequest.Kind.IMPORT, status=RegistryRequest.Status.SUBMITTED
    ):
        pending._reject()
        pending.reason = _("Withdrawn: the registry record was found and confirmed.")
        pending.save(update_fields=["status", "reason"])
        ReviewTask.sync(pending)
        AuditEvent.record(
            pending,
            actor=student.user,
            action="reject",
            from_state="submitted",
            to_state=pending.status,
            comment=pending.reason,
        )
    AuditEvent.record(
        student, actor=student.user, action="confirm_registry", changes={"record": record.pk}
    )
    return student


@transaction.atomic
def student_update_contact(*, student: Student, mobile: str, email: str) -> Student:
    student = (
        Student.objects.select_for_update(of=("self",)).select_related("user").get(pk=student.pk)
    )
    old = {"mobile": student.mobile, "email": student.user.email}
    student.mobile = mobile
    student.save(update_fields=["mobile"])
    student.user.email = email
    student.user.save(update_fields=["email"])
    AuditEvent.record(
        student,
        actor=student.user,
        action="update_contact",
        changes={"old": old, "new": {"mobile": mobile, "email": email}},
    )
    return student


@transaction.atomic
def registry_request_submit(
    *, student: Student, kind: str, school: School, data: dict, note: str = ""
) -> RegistryRequest:
    """File a 信息导入 or 信息更新 request; one open request of each kind at a time."""
    Student.objects.select_for_update(of=("self",)).get(pk=student.pk)
    if RegistryRequest.objects.filter(student=student, kind=kind).pending().exists():
        raise ValidationError(_("You already have a request of this kind waiting for review."))
    if kind == RegistryRequest.Kind.IMPORT and student.is_confirmed:
        raise ValidationError(_("Your registry is already confirmed."))
    if kind == RegistryRequest.Kind.UPDATE and not student.is_confirmed:
        raise ValidationError(_("Confirm your registry before asking to correct it."))
    request = RegistryRequest.objects.create(
        kind=kind, student=student, school=school, data=data, note=note
    )
    ReviewTask.sync(request)
    AuditEvent.record(
        request,
        actor=student.user,
        action="submit",
        to_state=RegistryRequest.Status.SUBMITTED,
        comment=note,
    )
    return request


def _lock_for_review(
    request: RegistryRequest, reviewer: User, expected_state: str | None
) -> RegistryRequest:
    request = (
        RegistryRequest.objects.select_for_update(of=("self",))
        .select_related("student")
        .get(pk=request.pk)
    )
    check_state(request, expected_state)
    decision = can_review_registry_request(reviewer, request)
    if not decision:
        raise PermissionDenied(decision.reason)
    return request


def _record_decision(
    request: RegistryRequest,
    reviewer: User,
    *,
    action: str,
    before: str,
    comment: str,
    changes: dict | None = None,
) -> None:
    """Save the reviewer's decision (the transition already ran) and audit it."""
    request.reviewed_by = reviewer
    request.reviewed_at = timezone.now()
    request.reason = comment
    ReviewTask.sync(request)
    request.save(update_fields=["status", "reviewed_by", "reviewed_at", "reason", "previous"])
    AuditEvent.record(
        request,
        actor=reviewer,
        action=action,
        from_state=before,
        to_state=request.status,
        comment=comment,
        changes=changes,
    )


@transaction.atomic
def registry_request_approve(
    *,
    request: RegistryRequest,
    reviewer: User,
    comment: str = "",
    expected_state: str | None = None,
) -> RegistryRequest:
    """Approve: an import creates and links the record, an update applies the corrections.
    With ``expected_state`` (views always pass it), only if still as the reviewer saw it."""
    request = _lock_for_review(request, reviewer, expected_state)
    student = Student.objects.select_for_update(of=("self",)).get(pk=request.student_id)
    if request.kind == RegistryRequest.Kind.IMPORT:
        if student.is_confirmed:
            raise ValidationError(
                _("The student has confirmed a registry record since; reject this request.")
            )
        changes = {"record": _create_record_from_request(request, student).pk}
    else:
        changes = _apply_corrections(request, student, reviewer)
        request.previous = changes["old"]
    before = request.status
    request._approve()
    _record_decision(
        request, reviewer, action="approve", before=before, comment=comment, changes=changes
    )
    return request


@transaction.atomic
def registry_request_reject(
    *, request: RegistryRequest, reviewer: User, reason: str, expected_state: str | None = None
) -> RegistryRequest:
    if not reason.strip():
        raise ValidationError(_("Give the student a reason."))
    request = _lock_for_review(request, reviewer, expected_state)
    before = request.status
    request._reject()
    _record_decision(request, reviewer, action="reject", before=before, comment=reason)
    return request


def _code(table: str, value: str | None) -> Code | None:
    return Code.objects.get(table=table, code=value) if value else None


def _create_record_from_request(request: RegistryRequest, student: Student) -> RegistryRecord:
    data = request.data
    if RegistryRecord.objects.filter(school=request.school, student_no=data["student_no"]).exists():
        raise ValidationError(
            _(
                "A registry record with student number %(no)s already exists at this school; "
                "reject the request and tell the student."
            )
            % {"no": data["student_no"]}
        )
    college = College.objects.get(pk=data["college"], school=request.school)
    graduation_date = date.fromisoformat(data["graduation_date"])
    record = RegistryRecord(
        school=request.school,
        student_no=data["student_no"],
        name=student.real_name,
        gender=data["gender"],
        ethnicity=_code(CodeTable.ETHNICITY, data["ethnicity"]),
        political_status=_code(CodeTable.POLITICAL_STATUS, data["political_status"]),
        college=college,
        major=Major.objects.get(pk=data["major"], college=college),
        education_level=_code(CodeTable.EDUCATION_LEVEL, data["education_level"]),
        study_mode=_code(CodeTable.STUDY_MODE, data.get("study_mode")),
        enrolment_date=(
            date.fromisoformat(data["enrolment_date"]) if data.get("enrolment_date") else None
        ),
        graduation_date=graduation_date,
        graduation_year=current_graduation_year(),
        origin_region=Region.objects.get(code=data["origin_region"]),
        urban_rural=_code(CodeTable.URBAN_RURAL, data.get("urban_rural")),
    )
    record.id_number_cipher = student.id_number_cipher
    record.id_number_digest = student.id_number_digest
    record.save()
    student.record = record
    student.confirmed_at = timezone.now()
    student.save(update_fields=["record", "confirmed_at"])
    return record


def _apply_corrections(request: RegistryRequest, student: Student, reviewer: User) -> dict:
    """Apply the corrections; return {"old": …, "new": …} for the audit log."""
    record = RegistryRecord.objects.select_for_update(of=("self",)).get(pk=student.record_id or 0)
    old, new = {}, {}
    for name, value in request.data.items():
        if name not in UPDATABLE_FIELDS:
            continue
        current = getattr(record, name)
        old[name] = current.code if current is not None else None
        new[name] = value
        if name == "origin_region":
            record.origin_region = Region.objects.get(code=value)
        else:
            setattr(record, name, _code(CODE_FIELDS[name], value))
    record.save(update_fields=[*old.keys(), "updated_at"])
    AuditEvent.record(
        record,
        actor=reviewer,
        action="registry_update",
        changes={"old": old, "new": new, "request": request.pk},
    )
    return {"old": old, "new": new}
