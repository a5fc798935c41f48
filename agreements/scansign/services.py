"""Writes for 扫码签约. Lock order: Student, then the UnitSigningRequest (then what it makes).

The unit answers without an account: its one-time link is its authority, so the services
that act for it take the token, not a user.
"""

import hmac
from datetime import datetime, time, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import Http404
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from agreements.models import Invitation, UnitSigningRequest
from agreements.scansign.permissions import (
    can_change_unit_request,
    can_resend_unit_link,
    can_start_unit_signing,
    can_unit_answer,
)
from destreg.accounts.models import User
from destreg.audit.changes import Notice, change_state, record_event
from destreg.audit.models import AuditAction
from destreg.audit.tasks import email_after_commit
from destreg.lib.permissions import require
from destreg.reference.models import School
from employers.models import Employer
from students.models import Student


def _lock_student(student_id: int) -> Student:
    return (
        Student.objects.select_for_update(of=("self",))
        .select_related("record__school", "record__college", "user")
        .get(pk=student_id)
    )


def _email_link(item: UnitSigningRequest, token: str, site_url: str | None) -> None:
    url = (site_url or settings.SITE_URL) + reverse("agreements:unit_sign", args=[token])
    record = item.student.record
    school = record.school.name if record is not None else ""
    email_after_commit(
        _("Employment agreement with %(student)s: please confirm online")
        % {"student": item.student.real_name},
        _(
            "Dear %(contact)s,\n\n"
            "%(student)s, a graduate of %(school)s, asks %(unit)s to sign an employment "
            "agreement online. %(unit)s does not need an account: open this link, confirm the "
            "unit's unified social credit code, fill in the unit's details and the terms, and "
            "confirm (valid for %(days)d days, once):\n%(url)s\n\n"
            "If you do not know this graduate, ignore this e-mail or decline on that page."
        )
        % {
            "contact": item.contact_name,
            "student": item.student.real_name,
            "school": school,
            "unit": item.unit_name,
            "days": UnitSigningRequest.DAYS,
            "url": url,
        },
        [item.contact_email],
    )


def _expire_stale(student: Student) -> None:
    for stale in UnitSigningRequest.objects.filter(
        student=student,
        status=UnitSigningRequest.Status.PENDING,
        expires_at__lte=timezone.now(),
    ):
        change_state(
            stale, UnitSigningRequest._expire, by=None, may=None, action=AuditAction.EXPIRE
        )


def registered_unit_name(uscc: str) -> str | None:
    """The name of the verified account holding this credit code, if any."""
    return (
        Employer.objects.filter(uscc=uscc, verified_at__isnull=False, placeholder=False)
        .values_list("name", flat=True)
        .first()
    )


@transaction.atomic
def unit_signing_start(
    *,
    user: User,
    unit_name: str,
    unit_uscc: str,
    contact_name: str,
    contact_email: str,
    site_url: str | None = None,
) -> tuple[UnitSigningRequest, str]:
    """扫码签约: e-mail the unit's contact a one-time link; returns the request and the link's
    token (shown to the graduate as a QR code, stored only as a digest). A unit verified on
    the platform is asked for an invitation instead. The e-mailed link starts with
    ``site_url`` (the view's ``absolute_base``), by default SITE_URL."""
    require(can_start_unit_signing(user))
    student = _lock_student(user.student.pk)  # type: ignore[union-attr]
    _expire_stale(student)
    require(can_start_unit_signing(user))  # again, under the lock
    registered = registered_unit_name(unit_uscc)
    if registered is not None:
        raise ValidationError(
            {
                "unit_uscc": _(
                    "%(unit)s is registered and verified on the platform: ask it to send you "
                    "a signing invitation (online signing)."
                )
                % {"unit": registered}
            }
        )
    token, digest = UnitSigningRequest.new_token()
    now = timezone.now()
    item = UnitSigningRequest.objects.create(
        student=student,
        unit_name=unit_name,
        unit_uscc=unit_uscc,
        contact_name=contact_name,
        contact_email=contact_email,
        token_digest=digest,
        expires_at=now + timedelta(days=UnitSigningRequest.DAYS),
        last_sent_at=now,
    )
    record_event(
        item,
        created=True,
        by=user,
        action=AuditAction.SEND_UNIT_SIGNING_LINK,
        comment=contact_email,
    )
    _email_link(item, token, site_url)
    return item, token


def _lock_request(item: UnitSigningRequest) -> UnitSigningRequest:
    _lock_student(item.student_id)
    return UnitSigningRequest.objects.select_for_update(of=("self",)).get(pk=item.pk)


@transaction.atomic
def unit_signing_resend(
    *, item: UnitSigningRequest, user: User, site_url: str | None = None
) -> str:
    """Send a new link (the old one stops working) valid for another ``DAYS`` days."""
    item = _lock_request(item)
    require(can_resend_unit_link(user, item))
    token, digest = UnitSigningRequest.new_token()
    now = timezone.now()
    item.token_digest, item.last_sent_at = digest, now
    item.expires_at = now + timedelta(days=UnitSigningRequest.DAYS)
    item.save(update_fields=["token_digest", "last_sent_at", "expires_at"])
    record_event(
        item, by=user, action=AuditAction.SEND_UNIT_SIGNING_LINK, comment=item.contact_email
    )
    _email_link(item, token, site_url)
    return token


@transaction.atomic
def unit_signing_cancel(*, item: UnitSigningRequest, user: User) -> UnitSigningRequest:
    """取消: the link stops working."""
    item = _lock_request(item)
    return change_state(
        item,
        UnitSigningRequest._cancel,
        by=user,
        may=can_change_unit_request,
        action=AuditAction.WITHDRAW,
        values={"answered_at": timezone.now()},
    )


def unit_request_by_token(token: str) -> UnitSigningRequest | None:
    """The request behind a link the unit may still answer, or None (unknown, used,
    cancelled, expired, or the graduate can no longer sign)."""
    if not token or len(token) > 100:
        return None
    item = (
        UnitSigningRequest.objects.select_related(
            "student__record__school", "student__record__college", "student__record__major"
        )
        .filter(token_digest=UnitSigningRequest.digest(token))
        .first()
    )
    if item is None or not can_unit_answer(None, item):
        return None
    return item


def _locked_by_token(token: str) -> UnitSigningRequest:
    found = unit_request_by_token(token)
    if found is None:
        raise Http404
    item = _lock_request(found)
    # The digest again, under the lock: a link renewed meanwhile no longer holds.
    if not hmac.compare_digest(item.token_digest, UnitSigningRequest.digest(token)):
        raise Http404
    return item


def _deadline(school: School) -> datetime:
    day = timezone.localdate() + timedelta(days=school.invitation_validity_days)
    return timezone.make_aware(datetime.combine(day, time(23, 59, 59)))


@transaction.atomic
def unit_signing_confirm(*, token: str, uscc: str, unit: dict, terms: dict) -> Invitation:
    """接受 by the unit: with the credit code the graduate named, the unit's details (the
    Employer fields but the code) and the terms. The link is spent; the graduate gets an
    invitation from the unit (an unregistered placeholder unit with no users) to accept or
    decline like any other, then college and school review it."""
    item = _locked_by_token(token)
    if not hmac.compare_digest(uscc.upper(), item.unit_uscc.upper()):
        raise ValidationError(
            {
                "confirm_uscc": _(
                    "This is not the credit code the graduate gave. If the graduate typed it "
                    "wrong, decline and ask them to start again with the right code."
                )
            }
        )
    registered = registered_unit_name(item.unit_uscc)
    if registered is not None:  # verified since the graduate asked: the usual way applies
        raise ValidationError(
            _(
                "%(unit)s has an account verified on the platform: please sign in and send "
                "the graduate a signing invitation there."
            )
            % {"unit": registered}
        )
    student = item.student
    record = student.record
    if record is None:
        raise Http404
    employer = Employer.objects.create(**unit, uscc=item.unit_uscc, placeholder=True)
    invitation = Invitation.objects.create(
        employer=employer, student=student, sent_by=None, deadline=_deadline(record.school), **terms
    )
    url = reverse("agreements:invitation", args=[invitation.pk])
    record_event(
        invitation,
        created=True,
        by=None,
        action=AuditAction.INVITE,
        comment=_("Scan-to-sign, confirmed by %(contact)s") % {"contact": unit["contact_name"]},
        notify=[
            Notice(
                [student.user],
                gettext_lazy(
                    "%(employer)s confirmed the scan-to-sign request; see the terms and answer."
                ),
                url,
                {"employer": employer.name},
            )
        ],
    )
    change_state(
        item,
        UnitSigningRequest._confirm,
        by=None,
        may=can_unit_answer,
        action=AuditAction.UNIT_CONFIRM,
        values={
            "invitation_id": invitation.pk,
            "answered_at": timezone.now(),
            "contact_name": unit["contact_name"],  # who confirmed, as they gave their name
        },
    )
    return invitation


@transaction.atomic
def unit_signing_decline(*, token: str) -> UnitSigningRequest:
    """拒绝 by the unit: the link is spent; the graduate is told."""
    item = _locked_by_token(token)
    return change_state(
        item,
        UnitSigningRequest._decline,
        by=None,
        may=can_unit_answer,
        action=AuditAction.DECLINE,
        values={"answered_at": timezone.now()},
        notify=[
            Notice(
                [item.student.user],
                gettext_lazy("%(unit)s declined your scan-to-sign request."),
                item.get_absolute_url(),
                {"unit": item.unit_name},
            )
        ],
    )
