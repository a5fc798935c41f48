"""Writes for students, their registry records and registry requests."""

from datetime import date

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from stdnum.cn import ric

from destreg.accounts.models import Role, User
from destreg.audit.changes import change_state, record_event
from destreg.audit.models import AuditAction
from destreg.audit.tasks import email_after_commit
from destreg.lib.db import refused_on_clash
from destreg.reference.models import Code, CodeTable, College, Major, Region, School
from students.conflicts import Claim, conflict_open
from students.models import (
    CODE_FIELDS,
    UPDATABLE_FIELDS,
    BindingMethod,
    RegistryConflict,
    RegistryRecord,
    RegistryRequest,
    Student,
    current_graduation_year,
)
from students.permissions import (
    can_review_registry_request,
)
from students.tallies import record_save

SIGNUP_WINDOW_SECONDS = 60 * 60
# Someone signing up again and again with a graduate's ID number must not flood their inbox.
SIGNUP_WARNING_SECONDS = 24 * 60 * 60


def _signup_allowed(client_ip: str) -> bool:
    """Count one sign-up from ``client_ip``; False past ``settings.SIGNUPS_PER_CLIENT_PER_HOUR`` in
    the window that began with its first one (shared by every process through the cache)."""
    key = f"students:signups:{client_ip}"
    cache.add(key, 0, SIGNUP_WINDOW_SECONDS)
    try:
        count = cache.incr(key)
    except ValueError:  # the window ended between add and incr: this is its first sign-up
        cache.add(key, 1, SIGNUP_WINDOW_SECONDS)
        return True
    return count is None or count <= settings.SIGNUPS_PER_CLIENT_PER_HOUR  # None: the cache is down


@transaction.atomic
def student_register(
    *,
    username: str,
    password: str,
    real_name: str,
    id_number: str,
    mobile: str,
    email: str,
    client_ip: str = "",
) -> Student:
    """Create a student account. Identity providers (a future SSO backend) call this too.

    With ``client_ip`` (the sign-up page passes it), refused with ValidationError past
    ``settings.SIGNUPS_PER_CLIENT_PER_HOUR`` sign-ups from that address. The confirmed owner of the
    ID number, if any, is warned by e-mail at most once a day.
    """
    if client_ip and not _signup_allowed(client_ip):
        raise ValidationError(
            _("Too many accounts were created from your network in the last hour; try later."),
            code="throttled",
        )
    user = User.objects.create_user(
        username=username,
        password=password,
        email=email,
        role=Role.STUDENT,
        display_name=real_name,
    )
    student = Student(user=user, real_name=real_name, mobile=mobile)
    student.id_number = id_number
    # An unconfirmed account reserves nothing, so this never fails on the ID number, and the
    # caller answers the same whether the number is in use or not: its owner is told instead.
    student.save()
    record_event(student, by=user, action=AuditAction.REGISTER)
    owner = (
        Student.objects.filter(
            id_number_digest=student.id_number_digest, confirmed_at__isnull=False
        )
        .select_related("user")
        .first()
    )
    if (
        owner is not None
        and owner.user.email
        and owner.user.is_active
        and cache.add(f"students:signup-warning:{owner.pk}", True, SIGNUP_WARNING_SECONDS)
    ):
        email_after_commit(
            _("Someone tried to sign up with your ID number"),
            _(
                "Someone has just created an account on the graduate destination registration "
                "system with your ID number. It cannot take over your registry record.\n\n"
                "If it was you, sign in with your account (user name: %(username)s), or reset "
                "your password if you have forgotten it. If it was not you, you need do nothing; "
                "tell your school's employment office if it happens again."
            )
            % {"username": owner.user.username},
            [owner.user.email],
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
    record_event(
        student,
        by=student.user,
        action=AuditAction.UPDATE_CONTACT,
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
    if kind == RegistryRequest.Kind.IMPORT and student.record_id is not None:
        # Its identity was corrected (students/registry_changes.py): confirm that record.
        raise ValidationError(
            _("Your account is already linked to a registry record; confirm it on your home page.")
        )
    if kind == RegistryRequest.Kind.UPDATE and not student.is_confirmed:
        raise ValidationError(_("Confirm your registry before asking to correct it."))
    request = RegistryRequest.objects.create(
        kind=kind, student=student, school=school, data=data, note=note
    )
    record_event(request, created=True, by=student.user, action=AuditAction.SUBMIT, comment=note)
    return request


def _decide(
    request: RegistryRequest,
    transition,
    *,
    reviewer: User,
    action: AuditAction,
    comment: str,
    expected_state: str | None,
    values=None,
) -> RegistryRequest:
    """The school's decision through the door; ``values`` (a callable) does the approval's
    work once the decision is allowed."""
    return change_state(
        request,
        transition,
        by=reviewer,
        may=can_review_registry_request,
        expected_state=expected_state,
        action=action,
        comment=comment,
        values=lambda item: {
            **(values(item) if values else {}),
            "reviewed_by": reviewer,
            "reviewed_at": timezone.now(),
            "reason": comment,
        },
    )


class _Conflicting(Exception):
    """A 信息导入 approval refused because another school holds the ID number."""

    def __init__(self, claims: list[Claim]):
        super().__init__()
        self.claims = claims


def registry_request_approve(
    *,
    request: RegistryRequest,
    reviewer: User,
    comment: str = "",
    expected_state: str | None = None,
) -> RegistryRequest:
    """Approve: an import creates and links the record, an update applies the corrections.
    With ``expected_state`` (views always pass it), only if still as the reviewer saw it.

    A 信息导入 whose ID number another school's current record has is refused, and opens a
    case for the platform admin (students/conflicts.py) after the approval rolls back.
    """
    try:
        return _approve(
            request=request, reviewer=reviewer, comment=comment, expected_state=expected_state
        )
    except _Conflicting as conflict:
        conflict_open(
            claims=conflict.claims,
            school=request.school,
            actor=reviewer,
            source=RegistryConflict.Source.REQUEST,
            request=request,
        )
        raise ValidationError(
            _(
                "Another school's current-year registry record has this ID number; reject the "
                "request. The platform administrator has been told and checks it with both "
                "schools."
            )
        ) from None


@transaction.atomic
def _approve(
    *, request: RegistryRequest, reviewer: User, comment: str, expected_state: str | None
) -> RegistryRequest:
    student = Student.objects.select_for_update(of=("self",)).get(pk=request.student_id)

    def apply(request: RegistryRequest) -> dict:
        if request.kind == RegistryRequest.Kind.IMPORT:
            if student.record_id is not None:
                raise ValidationError(
                    _("The student has confirmed a registry record since; reject this request.")
                )
            _create_record_from_request(request, student, reviewer)
            return {}
        return {"previous": _apply_corrections(request, student, reviewer)["old"]}

    return _decide(
        request,
        RegistryRequest._approve,
        reviewer=reviewer,
        action=AuditAction.APPROVE,
        comment=comment,
        expected_state=expected_state,
        values=apply,
    )


@transaction.atomic
def registry_request_reject(
    *, request: RegistryRequest, reviewer: User, reason: str, expected_state: str | None = None
) -> RegistryRequest:
    if not reason.strip():
        raise ValidationError(_("Give the student a reason."))
    return _decide(
        request,
        RegistryRequest._reject,
        reviewer=reviewer,
        action=AuditAction.REJECT,
        comment=reason,
        expected_state=expected_state,
    )


def _code(table: str, value: str | None) -> Code | None:
    return Code.objects.get(table=table, code=value) if value else None


def _create_record_from_request(
    request: RegistryRequest, student: Student, reviewer: User
) -> RegistryRecord:
    data = request.data
    if RegistryRecord.objects.filter(school=request.school, student_no=data["student_no"]).exists():
        raise ValidationError(
            _(
                "A registry record with student number %(no)s already exists at this school; "
                "reject the request and tell the student."
            )
            % {"no": data["student_no"]}
        )
    holders = RegistryRecord.objects.current().filter(id_number_digest=student.id_number_digest)
    if holders.exists():
        claims = [
            Claim(pk, year, student.id_number_digest)
            for pk, year in holders.exclude(school=request.school).values_list(
                "pk", "graduation_year"
            )
        ]
        if claims:
            # Another school holds the graduate: a case for the platform admin, opened
            # once this approval's transaction has rolled back (registry_request_approve).
            raise _Conflicting(claims)
        # Knowing a name and an ID number must not be a way around the code sent to the
        # record's contacts: the graduate of that record confirms it themselves.
        raise ValidationError(
            _(
                "A current-year registry record with this ID number already exists; reject "
                "the request: the graduate confirms that record with a code."
            )
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
    # A record with this 学号 or ID number may have been imported since the checks above.
    imported_since = ValidationError(
        _(
            "A current-year registry record with this ID number or student number was "
            "added meanwhile; reject the request."
        )
    )
    record.id_number_cipher = student.id_number_cipher
    record.id_number_digest = student.id_number_digest
    record.birth_date = ric.get_birth_date(student.id_number)  # the national export's 出生日期
    with refused_on_clash(imported_since):
        record_save(record)
    record_event(
        record,
        by=reviewer,
        action=AuditAction.RECORD_FROM_REQUEST,
        changes={"request": request.pk},
    )
    student.record = record
    student.confirmed_at = timezone.now()
    student.confirmed_via = BindingMethod.IMPORT
    taken = ValidationError(
        _("Another account has confirmed a registry record with this ID number.")
    )
    with refused_on_clash(taken):
        student.save(update_fields=["record", "confirmed_at", "confirmed_via"])
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
    record_event(
        record,
        by=reviewer,
        action=AuditAction.REGISTRY_UPDATE,
        changes={"old": old, "new": new, "request": request.pk},
    )
    return {"old": old, "new": new}
