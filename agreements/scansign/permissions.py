"""Who may start, see, cancel and answer a 扫码签约 request (state first, then role)."""

from datetime import timedelta

from django.utils import timezone
from django.utils.translation import gettext as _

from agreements.models import Agreement, UnitSigningRequest
from agreements.permissions import is_student_of
from destreg.accounts.models import User
from destreg.lib.permissions import ALLOW, Decision, deny, load_for
from students.destinations import path_openings
from students.models import DestinationPath, Student

REQUESTS_PER_DAY = 5
RESEND_AFTER = timedelta(minutes=1)


def student_may_sign(student: Student) -> Decision:
    """The online path is open to this graduate (四选一) and nothing is signed or under review:
    asked when the request starts and again when the unit answers (things may have moved)."""
    opening = path_openings(student)[DestinationPath.ONLINE]
    if not opening:
        return opening
    if Agreement.objects.active().filter(student=student).exists():
        return deny(_("You already have an agreement under review or signed."))
    return ALLOW


def can_start_unit_signing(user: User) -> Decision:
    if not user.is_authenticated or not user.is_student or getattr(user, "student", None) is None:
        return deny(_("Only graduates start scan-to-sign."))
    student = user.student
    may_sign = student_may_sign(student)
    if not may_sign:
        return may_sign
    requests = UnitSigningRequest.objects.filter(student=student)
    if requests.filter(
        status=UnitSigningRequest.Status.PENDING, expires_at__gt=timezone.now()
    ).exists():
        return deny(_("You already have a scan-to-sign request waiting for a unit."))
    if (
        requests.filter(created_at__gt=timezone.now() - timedelta(days=1)).count()
        >= REQUESTS_PER_DAY
    ):
        return deny(
            _("At most %(count)d scan-to-sign requests a day; try again tomorrow.")
            % {"count": REQUESTS_PER_DAY}
        )
    return ALLOW


def can_view_unit_request(user: User, item: UnitSigningRequest) -> Decision:
    if is_student_of(user, item.student_id):
        return ALLOW
    return deny(_("Not found."), visible=False)


def can_change_unit_request(user: User, item: UnitSigningRequest) -> Decision:
    """取消 or send the link again: the graduate's, while the unit has not answered."""
    seen = can_view_unit_request(user, item)
    if not seen:
        return seen
    if item.status != UnitSigningRequest.Status.PENDING:
        return deny(_("The unit has already answered, or the request ended."))
    return ALLOW


def can_resend_unit_link(user: User, item: UnitSigningRequest) -> Decision:
    decision = can_change_unit_request(user, item)
    if not decision:
        return decision
    if item.last_sent_at > timezone.now() - RESEND_AFTER:
        return deny(_("The link was just sent; wait a minute before sending it again."))
    return ALLOW


def can_unit_answer(user: User | None, item: UnitSigningRequest) -> Decision:
    """The unit's contact, holding a live link (no account: ``user`` is ignored); the
    graduate must still be free to sign."""
    if item.status != UnitSigningRequest.Status.PENDING or item.is_overdue:
        return deny(_("This link is no longer valid."), visible=False)
    may_sign = student_may_sign(item.student)
    if not may_sign:
        return deny(_("The graduate can no longer sign through this link."), visible=False)
    return ALLOW


def get_unit_request_for(user: User, pk: int) -> UnitSigningRequest:
    return load_for(
        user,
        UnitSigningRequest.objects.select_related("invitation"),
        pk,
        can_view_unit_request,
    )
