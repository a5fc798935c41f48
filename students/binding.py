"""Proving that an account is the graduate's, and binding it to their 学籍 record.

A graduate confirms with a one-time code sent to the phone or e-mail the school registered,
with an activation code their college issued (records without a contact), or through their
school's single sign-on (students/sso.py); each way ends in ``registry_bind``. A school
reviewer can unbind a wrongly bound account (``registry_unbind``).
"""

from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from destreg.accounts.models import User
from destreg.audit.changes import change_state, record_event
from destreg.audit.models import AuditAction, AuditEvent
from destreg.audit.notify import notify
from destreg.audit.tasks import email_after_commit
from destreg.lib.permissions import require
from students import codes
from students.conflicts import disputed_message, is_disputed
from students.models import (
    BindingMethod,
    DestinationClaim,
    RegistryCode,
    RegistryRecord,
    RegistryRequest,
    Student,
)
from students.permissions import (
    can_issue_activation_code,
    can_unbind_record,
)


def _ambiguous_record() -> str:
    return _(
        "More than one current-year registry record carries your ID number, so none can be "
        "confirmed here; ask your school's employment office to correct the registry."
    )


def find_current_record(student: Student) -> RegistryRecord | None:
    """The current-year registry record with this student's ID number and name.

    Never guesses: a graduate has one current-year record (the database says so since
    ``one_record_per_id_number_and_year``); if more than one carries the ID number anyway,
    ValidationError asks the graduate to go to their school.
    """
    found = list(
        RegistryRecord.objects.current()
        .with_id_number(student.id_number)
        .order_by("pk")
        .for_display()[:2]
    )
    if len(found) > 1:
        raise ValidationError(_ambiguous_record(), code="ambiguous")
    if found and found[0].name == student.real_name:
        return found[0]
    return None


def record_to_confirm(student: Student) -> RegistryRecord | None:
    """The record an unconfirmed account is asked to confirm.

    An account still linked to its record (the school corrected the record's name or ID
    number, students/registry_changes.py) confirms that record, whatever year it is of;
    any other account the current record that matches it (``find_current_record``).
    """
    if student.record_id is not None:
        return RegistryRecord.objects.for_display().get(pk=student.record_id)
    return find_current_record(student)


def record_holder(record: RegistryRecord) -> Student | None:
    """The account bound to ``record``, if any (read afresh). It may be unconfirmed: a
    record whose name or ID number the school corrected stays linked to its graduate."""
    return Student.objects.filter(record=record).select_related("user").first()


def _held_by_another(record: RegistryRecord, student: Student) -> bool:
    return Student.objects.filter(record=record).exclude(pk=student.pk).exists()


def _record_taken() -> str:
    return _(
        "This registry record is already linked to another account. If it is yours, ask your "
        "school's employment office to check it and unlink it."
    )


def _withdraw_requests(student: Student, *, kind: str, reason: str, actor: User | None) -> None:
    """Close the student's open requests of ``kind`` that an (un)binding made moot."""
    for pending in RegistryRequest.objects.select_for_update(of=("self",)).filter(
        student=student, kind=kind, status=RegistryRequest.Status.SUBMITTED
    ):
        change_state(
            pending,
            RegistryRequest._reject,
            by=actor,
            may=None,  # the (un)binding the actor was allowed to make answers the request
            action=AuditAction.REJECT,
            comment=reason,
            values={"reason": reason},
        )


@transaction.atomic
def registry_bind(*, student: Student, record: RegistryRecord, method: str, actor) -> Student:
    """Link ``student`` to ``record``: the one door for every way of confirming a registry.

    Precondition: the caller has established that the account's person is the record's
    graduate (a code sent to the record's contacts, an activation code, the school's SSO).
    ``method`` is a ``BindingMethod`` and is stored as ``confirmed_via``. Refuses a record
    an open cross-school case holds (students/conflicts.py), a record bound to another
    account, an account bound to another record (confirmed or not), and an account whose ID
    number is not the record's. An unconfirmed account still linked to ``record`` (after a
    held registry change was applied) confirms it again. Withdraws the student's open
    信息导入 request and voids the record's other live codes.
    """
    if method not in BindingMethod.values:
        raise ValueError(f"unknown binding method {method!r}")
    student = Student.objects.select_for_update(of=("self",)).get(pk=student.pk)
    record = RegistryRecord.objects.select_for_update(of=("self",)).get(pk=record.pk)
    if student.is_confirmed:
        if student.record_id == record.pk:
            return student
        raise ValidationError(_("Your registry is already confirmed."))
    if student.record_id not in (None, record.pk):
        raise ValidationError(_("Your account is linked to another registry record."))
    if student.id_number_digest != record.id_number_digest:
        raise ValidationError(_("This registry record is not for your ID number."))
    if is_disputed(record):
        raise ValidationError(disputed_message(), code="disputed")
    if _held_by_another(record, student):
        raise ValidationError(_record_taken())
    now = timezone.now()
    student.record = record
    student.confirmed_at = now
    student.confirmed_via = method
    try:
        with transaction.atomic():
            student.save(update_fields=["record", "confirmed_at", "confirmed_via"])
    except IntegrityError:
        # Another account confirmed this ID number (another record) or this record first.
        raise ValidationError(_record_taken()) from None
    _withdraw_requests(
        student,
        kind=RegistryRequest.Kind.IMPORT,
        reason=_("Withdrawn: the registry record was found and confirmed."),
        actor=student.user,
    )
    RegistryCode.objects.filter(record=record).live().update(voided_at=now)
    record_event(
        student,
        by=actor,
        action=AuditAction.CONFIRM_REGISTRY,
        changes={"record": record.pk, "via": method},
    )
    _tell_record_contacts_of_binding(record, student, when=now)
    return student


def _tell_record_contacts_of_binding(record: RegistryRecord, student: Student, *, when) -> None:
    """After commit, tell the phone and e-mail the school registered that an account now
    holds the record: if someone else got in (a leaked activation code, a wrong import),
    the graduate hears of it at once. Neither the code nor the ID number is sent."""
    text = _(
        "Your registry record at %(school)s was linked to the account %(username)s on "
        "%(date)s. If this was not you, contact your school's employment office."
    ) % {
        "school": record.school.name,
        "username": student.user.username,
        "date": timezone.localtime(when).strftime("%Y-%m-%d %H:%M"),
    }
    if record.mobile:
        mobile = record.mobile
        transaction.on_commit(lambda: codes.send_notice_sms(mobile, text))
    if record.email:
        email_after_commit(_("Your registry record was linked to an account"), text, [record.email])


def _lock_record_to_confirm(student: Student) -> tuple[Student, RegistryRecord]:
    """Lock the student and the current record matching them, or say why there is none."""
    student = Student.objects.select_for_update(of=("self",)).get(pk=student.pk)
    if student.is_confirmed:
        raise ValidationError(_("Your registry is already confirmed."))
    found = record_to_confirm(student)
    if found is None:
        raise ValidationError(_("No current-year registry record matches your name and ID number."))
    record = RegistryRecord.objects.select_for_update(of=("self",)).get(pk=found.pk)
    if is_disputed(record):
        raise ValidationError(disputed_message(), code="disputed")
    if _held_by_another(record, student):
        raise ValidationError(_record_taken())
    return student, record


@transaction.atomic
def registry_code_send(*, student: Student, channel: str, client_ip: str) -> RegistryCode:
    """Send a one-time code to the record's phone (``"sms"``) or e-mail (``"email"``).

    Rate-limited per account, per record and per client address (students/codes.py); a new
    code voids the one sent before to this account. The code leaves after commit, never
    stored in clear.
    """
    student, record = _lock_record_to_confirm(student)
    to = {RegistryCode.Channel.SMS: record.mobile, RegistryCode.Channel.EMAIL: record.email}.get(
        channel  # type: ignore[call-overload]
    )
    if not to:
        raise ValidationError(_("Your school has no such contact for you."))
    now = timezone.now()
    sent = RegistryCode.objects.filter(kind=RegistryCode.Kind.SENT)
    last_hour = sent.filter(created_at__gt=now - timedelta(hours=1))
    # Counted per account: another account's sends (someone who knows the graduate's name
    # and ID number) must not use up the graduate's own.
    mine = last_hour.filter(student=student)
    if mine.filter(created_at__gt=now - codes.SEND_INTERVAL).exists():
        raise ValidationError(_("A code was sent less than a minute ago; wait a moment."))
    if mine.count() >= codes.SENDS_PER_ACCOUNT_PER_HOUR:
        raise ValidationError(
            _("You have asked for too many codes in the last hour; try again later.")
        )
    # Across all accounts, only to bound the messages the graduate's phone and inbox get.
    for_record = last_hour.filter(record=record)
    if for_record.count() >= codes.SENDS_PER_RECORD_PER_HOUR:
        raise ValidationError(
            _(
                "Too many codes were sent for this record in the last hour; try again later. "
                "If you did not ask for them, tell your school's employment office."
            )
        )
    if client_ip:
        from_client = last_hour.filter(client_ip=client_ip)
        if (
            from_client.count() >= settings.CODE_SENDS_PER_CLIENT_PER_HOUR
            or from_client.filter(record=record).count()
            >= codes.SENDS_PER_RECORD_PER_CLIENT_PER_HOUR
        ):
            raise ValidationError(_("Too many codes were asked for from your network; try later."))
    sent.filter(record=record, student=student).live().update(voided_at=now)
    code = codes.new_sent_code()
    row = RegistryCode.objects.create(
        record=record,
        kind=RegistryCode.Kind.SENT,
        channel=channel,
        student=student,
        code_hash=codes.code_hash(code),
        expires_at=now + codes.SENT_CODE_LIFETIME,
        client_ip=client_ip or None,
    )
    record_event(
        student,
        by=student.user,
        action=AuditAction.SEND_CODE,
        changes={"record": record.pk, "channel": channel},
    )
    transaction.on_commit(lambda: codes.deliver(channel=channel, to=to, code=code))
    return row


def registry_confirm(*, student: Student, code: str) -> Student:
    """The first-login check: the code sent to the record's contacts, or the college's
    activation code, links the record that matches the student's name and ID number.

    A wrong code uses up one of the code's tries, and that is kept even though the
    confirmation fails (hence the try is counted in its own committed transaction).
    """
    outcome = _confirm_with_code(student=student, code=code)
    if isinstance(outcome, str):
        raise ValidationError(outcome)
    return outcome


@transaction.atomic
def _confirm_with_code(*, student: Student, code: str) -> Student | str:
    student, record = _lock_record_to_confirm(student)
    typed = codes.normalize(code)
    if not typed:
        return _("Enter the code.")
    live = RegistryCode.objects.select_for_update().live().filter(record=record)
    if codes.is_sent_code_shape(typed):
        candidate = live.filter(kind=RegistryCode.Kind.SENT, student=student).first()
        method = BindingMethod.CODE
    else:
        candidate = live.filter(kind=RegistryCode.Kind.ACTIVATION).first()
        method = BindingMethod.ACTIVATION
    if candidate is None:
        return _("This code is not valid or has expired; ask for a new one.")
    if method == BindingMethod.ACTIVATION and (
        candidate.created_by is None
        or not can_issue_activation_code(candidate.created_by, record, holder=None)
    ):
        # A code is only as good as its issuer's right to issue it now: a college's code
        # stops counting once the school registers a contact (can_issue_activation_code).
        return _(
            "Your school registered a phone or e-mail for you: send the code there and "
            "enter it instead."
        )
    if method == BindingMethod.ACTIVATION:
        refused = _wrong_activation_try(student, candidate, typed)
        if refused:
            return refused
    elif not codes.code_matches(typed, candidate.code_hash):
        candidate.attempts += 1
        candidate.save(update_fields=["attempts"])
        return _wrong_code_message(RegistryCode.MAX_ATTEMPTS - candidate.attempts)
    candidate.used_at = timezone.now()
    candidate.save(update_fields=["used_at"])
    return registry_bind(student=student, record=record, method=method, actor=student.user)


def _wrong_code_message(left: int) -> str:
    if left > 0:
        return _("Wrong code; %(left)d tries left.") % {"left": left}
    return _("Wrong code, and no tries are left: ask for a new code.")


def _wrong_activation_try(student: Student, code: RegistryCode, typed: str) -> str:
    """Check an activation code, counting wrong tries per account (each one audited).

    A sent code belongs to one account, so its tries are counted on the code. An activation
    code belongs to the record: counted on the code, anyone who knows the graduate's name and
    ID number could use up its tries and void it. Per account, they use up only their own.
    """
    wrong = AuditEvent.objects.for_object(student).filter(
        action="wrong_activation_code", changes__code=code.pk
    )
    tries = wrong.count()
    if tries >= RegistryCode.MAX_ATTEMPTS:
        return _wrong_code_message(0)
    if codes.code_matches(typed, code.code_hash):
        return ""
    record_event(
        student,
        by=student.user,
        action=AuditAction.WRONG_ACTIVATION_CODE,
        changes={"code": code.pk},
    )
    return _wrong_code_message(RegistryCode.MAX_ATTEMPTS - tries - 1)


@transaction.atomic
def activation_code_issue(*, record: RegistryRecord, reviewer: User) -> str:
    """A reviewer issues an activation code for a record (can_issue_activation_code says
    who); returns it, shown once.

    Valid for seven days, one use, five tries per account; issuing a new one voids the old.
    """
    record = RegistryRecord.objects.select_for_update(of=("self",)).get(pk=record.pk)
    require(can_issue_activation_code(reviewer, record, holder=record_holder(record)))
    now = timezone.now()
    voided = (
        RegistryCode.objects.filter(record=record, kind=RegistryCode.Kind.ACTIVATION)
        .live()
        .update(voided_at=now)
    )
    code = codes.new_activation_code()
    expires_at = now + codes.ACTIVATION_CODE_LIFETIME
    RegistryCode.objects.create(
        record=record,
        kind=RegistryCode.Kind.ACTIVATION,
        code_hash=codes.code_hash(code),
        expires_at=expires_at,
        created_by=reviewer,
    )
    record_event(
        record,
        by=reviewer,
        action=AuditAction.ISSUE_ACTIVATION_CODE,
        changes={"expires_at": expires_at.isoformat(), "voided_previous": voided},
    )
    return code


@transaction.atomic
def registry_unbind(*, record: RegistryRecord, reviewer: User, reason: str) -> Student:
    """The school unlinks the account bound to ``record``, which becomes unconfirmed.

    Refused while the account holds a destination (in progress or approved): it was
    registered for this record's graduate, and ending it goes through that path's own
    procedure, so the registered figures never change without a decision on record. The
    account's open 信息更新 requests are closed; the record's live codes are voided. The
    account and the record's e-mail are told.
    """
    if not reason.strip():
        raise ValidationError(_("Give a reason."))
    holder = record_holder(record)
    student = Student.objects.select_for_update(of=("self",)).get(pk=holder.pk) if holder else None
    record = RegistryRecord.objects.select_for_update(of=("self",)).get(pk=record.pk)
    if student is not None and student.record_id != record.pk:
        student = None  # unbound meanwhile
    require(can_unbind_record(reviewer, record, holder=student))
    assert student is not None  # noqa: S101 (can_unbind_record refuses an unbound record)
    claim = DestinationClaim.objects.filter(student=student).order_by("approved").first()
    if claim is not None:
        raise ValidationError(
            _(
                "This account holds a destination registration (%(path)s, %(state)s). End it "
                "first (reject it, or terminate or void it), then unlink the account."
            )
            % {
                "path": claim.get_path_display(),
                "state": _("approved") if claim.approved else _("in progress"),
            }
        )
    before = {
        "student": student.pk,
        "username": student.user.username,
        "confirmed_at": student.confirmed_at.isoformat() if student.confirmed_at else None,
        "via": student.confirmed_via,
    }
    student.record = None
    student.confirmed_at = None
    student.confirmed_via = ""
    student.save(update_fields=["record", "confirmed_at", "confirmed_via"])
    _withdraw_requests(
        student,
        kind=RegistryRequest.Kind.UPDATE,
        reason=_("Closed: the account was unlinked from the registry record."),
        actor=reviewer,
    )
    RegistryCode.objects.filter(record=record).live().update(voided_at=timezone.now())
    for subject in (record, student):
        record_event(
            subject, by=reviewer, action=AuditAction.UNBIND, comment=reason, changes=before
        )
    message = gettext_lazy(
        "Your school unlinked your account from the registry record %(no)s %(name)s. "
        "Reason: %(reason)s"
    )
    params = {"no": record.student_no, "name": record.name, "reason": reason}
    notify([student.user], message, reverse("students:home"), params)
    account_email = (student.user.email or "").lower()
    if record.email and record.email.lower() != account_email:
        email_after_commit(
            _("Your registry record was unlinked from an account"),
            _(
                "Your school unlinked the account %(username)s from your registry record "
                "%(no)s %(name)s. Reason: %(reason)s\n\nTo link your own account, sign in and "
                "confirm your registry with the code sent to this address or your phone."
            )
            % {
                "username": student.user.username,
                "no": record.student_no,
                "name": record.name,
                "reason": reason,
            },
            [record.email],
        )
    return student
