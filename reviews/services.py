"""Writes of the reviewer area that belong to no other app."""

import json
from datetime import date, timedelta
from functools import partial
from itertools import islice
from typing import NamedTuple

from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist, PermissionDenied, ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from destreg.accounts.models import User
from destreg.audit.changes import record_event
from destreg.audit.models import AuditAction, ReviewTask
from destreg.audit.services import review_task_drop
from destreg.lib.actions import REFUSALS, attempt
from destreg.lib.decisions import STALE_MESSAGE, parse_bulk_value
from destreg.lib.permissions import require
from destreg.reference.models import School
from reviews import flags
from reviews import queue as review_queue
from reviews.decisions import BY_KIND, decide_task
from reviews.exporting import record_rows, row_dict
from reviews.forms import DecisionForm
from reviews.models import (
    AnnualReport,
    ExportJob,
    FlagExplanation,
    ReportingDate,
    Snapshot,
    SnapshotRow,
)
from reviews.permissions import (
    can_request_annual_report,
    can_see_snapshot,
    can_set_reporting_dates,
)
from reviews.snapshots import graduates_of, reporting_dates
from reviews.stats import PLACED, scope_of
from reviews.tasks import run_annual_report, run_export

EXPORT_FORMATS = ("csv", "xlsx")


# Far longer than the whole country's export takes (docs/deploy.md: about 100 s a million
# graduates); recover_tasks never restarts an export, so a dead worker's job would otherwise
# hold its user's place for ever.
EXPORT_STALE_AFTER = timedelta(hours=2)


@transaction.atomic
def export_start(*, user: User, fmt: str, snapshot: Snapshot | None = None) -> ExportJob:
    """Create an export of the graduates ``user`` may see, live or as of ``snapshot``,
    recording their scope (reviews.stats.scope_of); the file is written in the background
    once the job row is committed (its page shows the progress). Raises ValidationError
    while another export of the user's is queued or running (one started more than
    EXPORT_STALE_AFTER ago is marked failed first)."""
    if fmt not in EXPORT_FORMATS:
        raise ValueError(f"unknown export format {fmt!r}")
    if snapshot is not None:
        require(can_see_snapshot(user, snapshot))
    ExportJob.objects.filter(
        user=user,
        status__in=[ExportJob.Status.QUEUED, ExportJob.Status.RUNNING],
        created_at__lt=timezone.now() - EXPORT_STALE_AFTER,
    ).update(status=ExportJob.Status.FAILED)
    try:
        with transaction.atomic():
            job = ExportJob.objects.create(user=user, fmt=fmt, snapshot=snapshot, **scope_of(user))
    except IntegrityError:  # one_export_in_progress_per_user
        raise ValidationError(
            _("An export of yours is still being written: wait until it is finished.")
        ) from None
    transaction.on_commit(lambda: run_export.enqueue(job.pk))
    return job


ANNUAL_REPORT_STALE_AFTER = timedelta(hours=1)


@transaction.atomic
def annual_report_start(*, user: User, year: int, snapshot: Snapshot | None = None) -> AnnualReport:
    """Queue a draft 就业质量年度报告 of ``user``'s school for the class of ``year``; it is
    rendered in the background once the row is committed (its page shows the progress).
    Raises PermissionDenied unless ``user`` is one of the school's reviewers, and
    ValidationError while another report of the school is queued or running (one queued
    more than ANNUAL_REPORT_STALE_AFTER ago is marked failed first)."""
    decision = can_request_annual_report(user)
    if not decision or user.school_id is None:
        raise PermissionDenied(decision.reason)
    if snapshot is not None:  # as of one of the school's snapshots of that class
        require(can_see_snapshot(user, snapshot))
        if snapshot.graduation_year != year:
            raise ValidationError(_("This snapshot is of another class."))
    # A job whose worker died long ago (recover_tasks re-queues it meanwhile) frees the place.
    AnnualReport.objects.filter(
        school_id=user.school_id,
        status__in=[AnnualReport.Status.QUEUED, AnnualReport.Status.RUNNING],
        created_at__lt=timezone.now() - ANNUAL_REPORT_STALE_AFTER,
    ).update(status=AnnualReport.Status.FAILED)
    try:
        with transaction.atomic():
            report = AnnualReport.objects.create(
                school_id=user.school_id, year=year, snapshot=snapshot, requested_by=user
            )
    except IntegrityError:  # one_annual_report_in_progress_per_school
        raise ValidationError(
            _("A report of the school is being drawn up: wait until it is finished.")
        ) from None
    record_event(report, by=user, action=AuditAction.REQUEST_ANNUAL_REPORT, created=True)
    transaction.on_commit(lambda: run_annual_report.enqueue(report.pk))
    return report


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


# --- reporting cut-offs -------------------------------------------------------------------

SNAPSHOT_BATCH = 2000
MAX_REPORTING_DATES = 6


@transaction.atomic
def reporting_dates_set(*, school: School, year: int, dates: list[date], by: User) -> list[date]:
    """Replace the school's reporting dates of the class of ``year`` with ``dates``.

    Refused: another school's or a college's reviewer; no date, too many, or a date outside
    the graduating year; a new date already over (a snapshot is taken once a cut-off is
    over, so a cut-off set in the past would be reported as of a day it does not show).
    A snapshot already taken stays whatever the dates become."""
    require(can_set_reporting_dates(by, school.pk))
    school = School.objects.select_for_update().get(pk=school.pk)
    chosen = sorted(set(dates))
    if not chosen:
        raise ValidationError(_("Give at least one reporting date."))
    if len(chosen) > MAX_REPORTING_DATES:
        raise ValidationError(
            _("At most %(n)d reporting dates per year.") % {"n": MAX_REPORTING_DATES}
        )
    if any(cutoff.year != year for cutoff in chosen):
        raise ValidationError(_("Each reporting date must fall in %(year)d.") % {"year": year})
    before = reporting_dates(school.pk, year)
    today = timezone.localdate()
    if any(cutoff < today and cutoff not in before for cutoff in chosen):
        raise ValidationError(_("A new reporting date cannot be in the past."))
    ReportingDate.objects.filter(school=school, graduation_year=year).delete()
    ReportingDate.objects.bulk_create(
        ReportingDate(school=school, graduation_year=year, cutoff=cutoff) for cutoff in chosen
    )
    record_event(
        school,
        by=by,
        action=AuditAction.SET_REPORTING_DATES,
        changes={
            "graduation_year": year,
            "before": [d.isoformat() for d in before],
            "after": [d.isoformat() for d in chosen],
        },
    )
    return chosen


_ROW_COLUMNS = (
    "snapshot_id",
    "record_id",
    "student_no",
    "college_id",
    "major_id",
    "education_level_id",
    "gender",
    "destination_id",
    "destination_code",
    "placed",
    "export",
)


def _insert_rows(rows: list[tuple]) -> None:
    """One batch of snapshot rows (values in _ROW_COLUMNS order), set-based: COPY on
    PostgreSQL (bulk_create's UNNEST spends most of its time escaping the JSON into
    arrays: 8 of 13 s for 5,000 rows), a multi-row INSERT elsewhere."""
    if connection.vendor == "postgresql":
        sql = f"COPY {SnapshotRow._meta.db_table} ({', '.join(_ROW_COLUMNS)}) FROM STDIN"
        with connection.cursor() as cursor, cursor.copy(sql) as copy:
            for row in rows:
                copy.write_row((*row[:-1], json.dumps(row[-1], ensure_ascii=False)))
        return
    SnapshotRow.objects.bulk_create(
        [SnapshotRow(**dict(zip(_ROW_COLUMNS, row, strict=True))) for row in rows]
    )


def snapshot_take(
    *, school: School, year: int, cutoff: date, by: User | None = None
) -> Snapshot | None:
    """Freeze every graduate of the school's class of ``year`` as they stand now, as the
    snapshot of ``cutoff``; None if that snapshot exists already (idempotent: two runs at
    once wait for each other on the school's row and the second finds it taken).

    One transaction: the header and all rows appear together or not at all. The rows are
    the national export's (reviews/exporting.py), written in batches of SNAPSHOT_BATCH."""
    if cutoff > timezone.localdate():
        raise ValidationError(_("A snapshot cannot be taken before its reporting date."))
    try:
        return _snapshot_take(school=school, year=year, cutoff=cutoff, by=by)
    except IntegrityError:
        # Another run took it at the same moment (snapshot_once_per_cutoff): it is taken.
        if Snapshot.objects.filter(school=school, graduation_year=year, cutoff=cutoff).exists():
            return None
        raise


def _snapshot_take(*, school: School, year: int, cutoff: date, by: User | None) -> Snapshot | None:
    outermost = not connection.in_atomic_block  # so no query of the transaction ran yet
    with transaction.atomic():
        if connection.vendor == "postgresql" and outermost:
            # Every query of the snapshot reads the database as of one moment: the
            # records, the placed ones and the approved destinations of each chunk.
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        # Runs for the same school wait for each other. NO KEY: rows that merely
        # reference the school (records, review tasks) are inserted meanwhile.
        School.objects.select_for_update(no_key=True).filter(pk=school.pk).first()
        if Snapshot.objects.filter(school=school, graduation_year=year, cutoff=cutoff).exists():
            return None
        snapshot = Snapshot.objects.create(
            school=school, graduation_year=year, cutoff=cutoff, taken_at=timezone.now()
        )
        records = graduates_of(school.pk, year)
        placed = set(records.filter(PLACED).values_list("pk", flat=True))
        taken = 0
        with translation.override(settings.LANGUAGE_CODE):  # the export's values are Chinese
            pairs = record_rows(records)
            while batch := list(islice(pairs, SNAPSHOT_BATCH)):
                _insert_rows(
                    [
                        (
                            snapshot.pk,
                            record.pk,
                            record.student_no,
                            record.college_id,
                            record.major_id,
                            record.education_level_id,
                            record.gender,
                            record.destination_id,
                            record.destination_code,
                            record.pk in placed,
                            row_dict(row),
                        )
                        for record, row in batch
                    ]
                )
                taken += len(batch)
        record_event(
            snapshot,
            by=by,
            action=AuditAction.TAKE_SNAPSHOT,
            created=True,
            changes={"graduates": taken, "placed": len(placed)},
        )
    return snapshot


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
    if key == f"{flags.Kind.FAST.value}:{user.pk}":  # nobody explains away their own haste
        raise PermissionDenied(_("A flag about your own approvals is explained by someone else."))
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
