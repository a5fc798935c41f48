"""Who may see and send a batch of invitations: the colleagues of its unit, nobody else."""

from django.utils.translation import gettext as _

from agreements.batches.models import InvitationBatch
from agreements.online.permissions import can_invite
from destreg.accounts.models import User
from destreg.lib.permissions import ALLOW, Decision, deny, load_for


def can_view_batch(user: User, batch: InvitationBatch) -> Decision:
    """Any colleague of the batch's unit; another unit is told nothing exists."""
    if user.is_employer and user.employer_id is not None and user.employer_id == batch.employer_id:
        return ALLOW
    return deny(_("Not found."), visible=False)


def can_send_batch(user: User, batch: InvitationBatch) -> Decision:
    """发送: once, from a draft with rows that can be invited, by a colleague who may invite."""
    seen = can_view_batch(user, batch)
    if not seen:
        return seen
    if batch.status != InvitationBatch.Status.DRAFT:
        return deny(_("This batch has already been sent."))
    if not batch.valid_count:
        return deny(_("No row of this batch can be invited."))
    return can_invite(user)


def get_batch_for(user: User, pk: int) -> InvitationBatch:
    return load_for(user, InvitationBatch.objects.all(), pk, can_view_batch)
