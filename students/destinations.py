"""The 四选一 rule: one destination path in progress, one approved, per student.

Callers run inside their own transaction and have locked the student row, and move the
agreement or registration the claim is for through the state-change door in the same
transaction: the door forgets the graduate's cached home page, which shows the registered
destination (destreg/invalidation.py ``AFTER_STATE_CHANGE``).
An approved *other destination* is the one approval a signing may replace: the
caller of ``claim_approve`` voids the registration it gets back.
"""

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from destreg.lib.permissions import ALLOW, Decision, deny
from destreg.reference.models import Code, CodeTable
from students.models import DestinationClaim, DestinationPath, RegistryRecord, Student
from students.permissions import can_register_destination
from students.tallies import destination_set

SIGNING_PATHS = {DestinationPath.ONLINE, DestinationPath.OFFLINE, DestinationPath.PAPER}


def _refusal(
    *, in_progress: DestinationClaim | None, approved: DestinationClaim | None, path: str
) -> str:
    """The 四选一 rule: why a new submission on ``path`` is refused ("" when it may go on).
    ``in_progress`` is a claim on another application than the one being submitted."""
    if in_progress is not None:
        return _(
            "You already have a destination registration in progress (%(path)s); only one "
            "at a time. Withdraw it or wait for its review to end."
        ) % {"path": in_progress.get_path_display()}
    if approved and not (approved.path == DestinationPath.OTHER and path in SIGNING_PATHS):
        return _(
            "Your destination is already registered (%(path)s); it must end before another."
        ) % {"path": approved.get_path_display()}
    return ""


def claim_start(*, student: Student, path: str, object_id: int) -> DestinationClaim:
    """Take the in-progress slot, or explain which path holds the destination."""
    in_progress = DestinationClaim.objects.filter(student=student, approved=False).first()
    if in_progress and (in_progress.path, in_progress.object_id) == (path, object_id):
        return in_progress
    approved = DestinationClaim.objects.filter(student=student, approved=True).first()
    refusal = _refusal(in_progress=in_progress, approved=approved, path=path)
    if refusal:
        raise ValidationError(refusal)
    try:
        with transaction.atomic():
            return DestinationClaim.objects.create(student=student, path=path, object_id=object_id)
    except IntegrityError:
        raise ValidationError(_("Another destination registration is in progress.")) from None


def path_openings(student: Student) -> dict[str, Decision]:
    """Which of the four paths a new application may take now, and why not: the rule
    ``claim_start`` applies at submission, read ahead (without locking) so the chooser
    can say so before a form is filled. One query."""
    registering = can_register_destination(student)
    if not registering:
        return dict.fromkeys(DestinationPath.values, registering)
    claims = list(DestinationClaim.objects.filter(student=student))
    in_progress = next((c for c in claims if not c.approved), None)
    approved = next((c for c in claims if c.approved), None)
    openings = {}
    for path in DestinationPath.values:
        refusal = _refusal(in_progress=in_progress, approved=approved, path=path)
        openings[path] = deny(refusal) if refusal else ALLOW
    return openings


def claim_release(*, student: Student, path: str, object_id: int) -> None:
    """The path ended without approval (rejected, failed, withdrawn, terminated)."""
    DestinationClaim.objects.filter(student=student, path=path, object_id=object_id).delete()
    if not DestinationClaim.objects.filter(student=student, approved=True).exists():
        destination_set(RegistryRecord.objects.filter(student=student), None, None)


def claim_approve(
    *, student: Student, path: str, object_id: int, destination_code: str
) -> DestinationClaim | None:
    """Make this path the approved destination; return the approved claim it replaced."""
    replaced = DestinationClaim.objects.filter(student=student, approved=True).first()
    if replaced is not None:
        replaced.delete()
    DestinationClaim.objects.filter(student=student, path=path, object_id=object_id).update(
        approved=True
    )
    destination_set(
        RegistryRecord.objects.filter(student=student),
        Code.objects.get(table=CodeTable.DESTINATION, code=destination_code),
        timezone.now(),
    )
    return replaced


def claim_reopen(*, student: Student, path: str, object_id: int) -> None:
    """The approved destination by this path was found not true (就业核查) and goes back to
    the student: it is no longer the approved destination but holds the in-progress slot
    again, so the student corrects and submits it; when another application already holds
    that slot, the claim ends (四选一: the student withdraws one of them)."""
    claim = DestinationClaim.objects.filter(
        student=student, path=path, object_id=object_id, approved=True
    ).first()
    if claim is None:
        return
    if DestinationClaim.objects.filter(student=student, approved=False).exists():
        claim.delete()
    else:
        claim.approved = False
        claim.save(update_fields=["approved"])
    destination_set(RegistryRecord.objects.filter(student=student), None, None)
