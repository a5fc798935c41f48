"""Writes of the reviewer area that belong to no other app."""

from functools import partial
from typing import NamedTuple

from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from destreg.accounts.models import User
from destreg.audit.changes import record_event
from destreg.audit.models import AuditAction, ReviewTask
from destreg.audit.services import review_task_drop
from destreg.lib.actions import REFUSALS, attempt
from destreg.lib.decisions import STALE_MESSAGE, parse_bulk_value
from destreg.lib.permissions import require
from reviews import flags
from reviews import queue as review_queue
from reviews.decisions import BY_KIND, decide_task
from reviews.forms import DecisionForm
from reviews.models import ExportJob, FlagExplanation
from reviews.tasks import run_export

EXPORT_FORMATS = ("csv", "xlsx")


@transaction.atomic
def export_start(*, user: User, fmt: str) -> ExportJob:
    """Create an export of the graduates ``user`` may see; the file is written in the
    background once the job row is committed (its page shows the progress)."""
    if fmt not in EXPORT_FORMATS:
        raise ValueError(f"unknown export format {fmt!r}")
    job = ExportJob.objects.create(user=user, fmt=fmt)
    transaction.on_commit(lambda: run_export.enqueue(job.pk))
    return job


class BulkResult(NamedTuple):
    label: str
    ok: bool
    message: str


def _done_message(decision: str) -> str:
    return {
        DecisionForm.APPROVE: _("Approved."),
        DecisionForm.RETURN: _("Returned for changes."),
        DecisionForm.REJECT: _("Rejected."),
    }[decision]


def review_bulk(
    *, reviewer: User, values: list[str], decision: str, comment: str = ""
) -> list[BulkResult]:
    """Take one decision (a DecisionForm choice, with one comment) on each queue row in
    ``values`` (checkbox values "<task id>:<state as rendered>"), in order.

    Deliberately not one transaction: each item goes through its own kind's service, the
    same service, permission and stale-state check as a decision on its page, and commits
    or is refused on its own. A row that is not this reviewer's, has moved since the queue
    was shown, or cannot take the decision is reported, never fatal to the others."""
    results = []
    for value in values[: review_queue.PAGE_SIZE]:  # one page at the most
        task_id, expected_state = parse_bulk_value(value)
        task = None
        if task_id is not None:
            task = ReviewTask.objects.visible_to(reviewer).filter(pk=task_id).first()
        if task is None:
            if task_id is not None and expected_state is not None:
                # Decided since the queue was shown (its row is gone), or never ours: the
                # same answer either way, so it tells nothing about other people's items.
                results.append(BulkResult(f"#{task_id}", False, str(STALE_MESSAGE)))
            else:
                results.append(BulkResult(value, False, _("No longer waiting for you.")))
            continue
        label = f"{task.get_kind_display()} · {task.student_name}"
        if expected_state is None:  # a page from before states were rendered
            results.append(BulkResult(label, False, str(STALE_MESSAGE)))
            continue
        if decision == DecisionForm.RETURN and BY_KIND[task.kind].send_back is None:
            results.append(BulkResult(label, False, _("This kind of item cannot be returned.")))
            continue
        done = attempt(
            partial(
                decide_task,
                task,
                reviewer,
                decision=decision,
                comment=comment,
                expected_state=expected_state,
            ),
            catch=(*REFUSALS, ObjectDoesNotExist),
        )
        if isinstance(done.error, ObjectDoesNotExist):
            review_task_drop(task=task)  # the item is gone; so is its place in the queue
            results.append(BulkResult(label, False, _("No longer waiting for you.")))
        elif done:
            results.append(BulkResult(label, True, _done_message(decision)))
        else:
            results.append(BulkResult(label, False, done.message))
    return results


@transaction.atomic
def flag_explain(*, user: User, key: str, comment: str) -> FlagExplanation:
    """Mark a red flag of the user's 核查 page explained (or change the note), audited as
    EXPLAIN_FLAG on the explanation. Refused unless the user may see the page and the flag
    is raised in their scope now."""
    require(flags.can_verify(user))
    comment = comment.strip()
    if not comment:
        raise ValidationError(_("Say why the flag is explained."))
    scope = flags.scope_of(user)
    if key not in {flag.key for flag in flags.cached(scope).flags}:
        raise ValidationError(_("This flag is not raised for you now."))
    explanation = (
        FlagExplanation.objects.select_for_update()
        .filter(school_id=scope.school_id, college=scope.college_id, key=key)
        .first()
    )
    created = explanation is None
    if explanation is None:
        explanation = FlagExplanation(
            school_id=scope.school_id, college_id=scope.college_id, key=key
        )
    explanation.comment = comment
    explanation.explained_by = user
    explanation.explained_at = timezone.now()
    explanation.save()
    record_event(
        explanation,
        by=user,
        action=AuditAction.EXPLAIN_FLAG,
        comment=comment,
        changes={"key": key, "created": created},
    )
    return explanation
