"""What reviewers are told about an agreement made through 扫码签约.

The platform cannot prove that whoever confirmed through the one-time link is the unit: the
graduate chose the contact e-mail the link went to (and holds the QR code). So reviewers see
where an agreement came from, what the unit is (an unregistered placeholder, or a registered
and verified account it was handed to), who confirmed, and a warning when the contact e-mail
is the graduate's own e-mail or mobile number, on file now or before (however it is
written: case, spaces, a +tag, Gmail's dots, +86).
"""

import re
from collections.abc import Iterable
from dataclasses import dataclass

from django.contrib.contenttypes.models import ContentType
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from agreements.models import Agreement
from destreg.audit.models import AuditAction, AuditEvent
from students.models import Student


@dataclass(frozen=True)
class ScanSignMark:
    unit: Promise  # placeholder, registered, or registered and verified
    contact_name: str
    contact_email: str
    warning: Promise | None  # the contact e-mail is the graduate's own


def scan_sign_marks(agreement_ids: Iterable[int]) -> dict[int, ScanSignMark]:
    """The mark of each of these agreements that came from 扫码签约, by id (two queries)."""
    agreements = list(
        Agreement.objects.filter(
            pk__in=list(agreement_ids), invitation__sent_by__isnull=True
        ).select_related("employer", "student__user", "student__record", "invitation__unit_request")
    )
    former = _former_contacts({agreement.student_id for agreement in agreements})
    return {agreement.pk: _mark(agreement, former) for agreement in agreements}


def scan_sign_mark(agreement: Agreement) -> ScanSignMark | None:
    return scan_sign_marks([agreement.pk]).get(agreement.pk)


def _former_contacts(student_ids: set[int]) -> dict[int, dict[str, set[str]]]:
    """The e-mails and mobiles each graduate had before changing them (audited by
    students.services.student_update_contact): changing one's own e-mail once the unit's side
    was confirmed with it must not clear the warning."""
    former: dict[int, dict[str, set[str]]] = {}
    if not student_ids:
        return former
    events = AuditEvent.objects.filter(
        content_type=ContentType.objects.get_for_model(Student),
        object_id__in=student_ids,
        action=AuditAction.UPDATE_CONTACT,
    ).values_list("object_id", "changes__old")
    for student_id, old in events:
        contacts = former.setdefault(student_id, {"email": set(), "mobile": set()})
        for kind, values in contacts.items():
            if isinstance(old, dict) and old.get(kind):
                values.add(old[kind])
    return former


def _mark(agreement: Agreement, former: dict[int, dict[str, set[str]]]) -> ScanSignMark:
    employer = agreement.employer
    request = getattr(agreement.invitation, "unit_request", None)
    emails = [request.contact_email] if request else []
    if employer.placeholder:  # the details the confirming person typed in
        emails.append(employer.contact_email)
        unit = _("Unregistered unit (placeholder, not verified)")
    elif employer.is_verified:
        unit = _("Registered unit, verified")
    else:
        unit = _("Registered unit, not verified")
    return ScanSignMark(
        unit=unit,
        contact_name=request.contact_name if request else employer.contact_name,
        contact_email=request.contact_email if request else employer.contact_email,
        warning=_own_contact(emails, agreement, former.get(agreement.student_id, {})),
    )


def _own_contact(
    emails: list[str], agreement: Agreement, former: dict[str, set[str]]
) -> Promise | None:
    student = agreement.student
    record = student.record
    own_emails = {student.user.email, record.email if record else "", *former.get("email", ())}
    own_mobiles = {student.mobile, record.mobile if record else "", *former.get("mobile", ())}
    given = {_mailbox(email) for email in emails if email}
    if given & {_mailbox(email) for email in own_emails if email}:
        return _("The confirming contact's e-mail is the graduate's own e-mail.")
    # e.g. 13912345678@qq.com: a mailbox named after the graduate's mobile number
    own_numbers = {_mobile(mobile) for mobile in own_mobiles} - {""}
    if any(_numbers(email) & own_numbers for email in emails if email):
        return _("The confirming contact's e-mail is named after the graduate's own mobile number.")
    return None


GMAIL = {"gmail.com", "googlemail.com"}


def _mailbox(email: str) -> str:
    """The mailbox an address delivers to, as far as the address tells: case, spaces and a
    +tag (a+x@ is a@) make no difference, nor, at Gmail, dots in the name."""
    name, _at, domain = email.strip().lower().partition("@")
    name = name.split("+", 1)[0] or name
    if domain in GMAIL:
        name, domain = name.replace(".", ""), "gmail.com"
    return f"{name}@{domain}"


def _numbers(email: str) -> set[str]:
    """The mobile numbers an address's name may be: the whole name, or a side of its +."""
    name = email.strip().partition("@")[0]
    return {_mobile(part) for part in [name, *name.split("+")]} - {""}


def _mobile(text: str) -> str:
    """A mobile number's digits, without separators or the country code (+86, 0086)."""
    digits = re.sub(r"\D", "", text)
    for prefix in ("0086", "86"):
        if len(digits) == 11 + len(prefix) and digits.startswith(prefix):
            return digits[len(prefix) :]
    return digits
