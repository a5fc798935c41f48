"""Batch invitations: upload and preview (``batch_upload``), 发送 (``batch_send``), and
the background run (``batch_run``) that sends each valid row through the single
invitation's own service, ``invitation_send``: the rules live there only.

The preview answers a row exactly as the single form would: a person who does not exist,
is not a current confirmed graduate, or studies at a school the unit is not verified for
all get the same generic answer. How many rows a unit may upload a day is capped
(``INVITATION_BATCH_ROWS_PER_DAY``) so the file cannot test identities at scale.
"""

from collections.abc import Iterable, Iterator
from datetime import date, datetime, time, timedelta
from typing import IO, Any, cast

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from agreements.batches.files import ParsedRow, read_batch_file
from agreements.batches.models import InvitationBatch, InvitationBatchRow
from agreements.batches.permissions import can_send_batch
from agreements.models import Invitation, Terms, TermTemplate
from agreements.online.permissions import (
    can_invite,
    can_manage_term_templates,
)
from agreements.online.services import InvitableLookup, invitation_send
from destreg.accounts.models import User
from destreg.audit.changes import record_event
from destreg.audit.models import AuditAction
from destreg.lib.permissions import error_text, require
from destreg.lib.pii import decrypt_id_number, encrypt_id_number, id_number_digest, mask_id_number
from employers.models import Employer

Check = InvitationBatchRow.Check
# Rows sent per transaction by the background run: one commit per chunk instead of per
# invitation (each row still runs in its own savepoint through ``invitation_send``).
CHUNK = 50


def _terms_snapshot(template: TermTemplate) -> dict[str, Any]:
    values = {}
    for field in Terms._meta.fields:
        value = getattr(template, field.attname)
        values[field.attname] = value.isoformat() if isinstance(value, date) else value
    return values


def _uploaded_today(employer_id: int) -> int:
    since = timezone.now() - timedelta(days=1)
    total = InvitationBatch.objects.filter(employer_id=employer_id, created_at__gt=since).aggregate(
        rows=Sum("row_count")
    )["rows"]
    return total or 0


def preview_checks(sender: User, rows: list[ParsedRow]) -> list[str]:
    """Each row's answer, as the single form would give it, from a few queries in all
    (``InvitableLookup``: the same reads ``invitation_send`` makes)."""
    lookup = InvitableLookup(sender, [row.id_number for row in rows if row.id_number])
    live = set(
        Invitation.objects.live()
        .filter(
            employer_id=cast(int, sender.employer_id), student__in=list(lookup.students.values())
        )
        .values_list("student_id", flat=True)
    )
    seen: set[str] = set()
    checks: list[str] = []
    for row in rows:
        if row.problems:
            checks.append(Check.INVALID)
            continue
        if row.id_number in seen:
            checks.append(Check.DUPLICATE)
            continue
        seen.add(row.id_number)
        student = lookup.student(row.name, row.id_number)
        # Unknown, unconfirmed, another name, or a school the unit is not verified for:
        # one answer for all, as on the single form.
        if student is None or not lookup.may_invite_graduate_of(
            student.record.school_id  # type: ignore[union-attr]
        ):
            checks.append(Check.NO_MATCH)
        elif student.pk in live:
            checks.append(Check.LIVE)
        else:
            checks.append(Check.VALID)
    return checks


@transaction.atomic
def batch_upload(
    *, user: User, template: TermTemplate, handle: IO[bytes], filename: str
) -> InvitationBatch:
    """Read the file, answer each row, and keep the batch as a draft to preview.

    Raises ValidationError for a file that cannot be used (nothing is kept), PermissionDenied
    for a user who may not invite or a template of another unit.
    """
    require(can_invite(user))
    require(can_manage_term_templates(user, template))
    employer_id = cast(int, user.employer_id)
    rows = read_batch_file(handle, filename)
    limit = settings.INVITATION_BATCH_ROWS_PER_DAY
    # Serialise a unit's uploads so two at once cannot both pass the daily cap.
    Employer.objects.select_for_update().filter(pk=employer_id).first()
    if _uploaded_today(employer_id) + len(rows) > limit:
        raise ValidationError(
            _(
                "Your unit can upload at most %(limit)d rows in 24 hours; this file has "
                "%(rows)d. Try again later or send fewer rows."
            )
            % {"limit": limit, "rows": len(rows)},
            code="daily_limit",
        )
    checks = preview_checks(user, rows)
    batch = InvitationBatch.objects.create(
        employer_id=employer_id,
        created_by=user,
        template=template,
        template_name=template.name,
        terms=_terms_snapshot(template),
        validity_days=template.validity_days,
        filename=filename.rsplit("/", 1)[-1][:200],
        row_count=len(rows),
        valid_count=sum(1 for check in checks if check == Check.VALID),
    )
    InvitationBatchRow.objects.bulk_create(
        InvitationBatchRow(
            batch=batch,
            line=row.line,
            name=row.name,
            id_number_masked=mask_id_number(row.id_number) if row.id_number else "",
            # Only a row that will be sent keeps its ID number (encrypted) until it is.
            id_number_cipher=encrypt_id_number(row.id_number) if check == Check.VALID else "",
            id_number_digest=id_number_digest(row.id_number) if row.id_number else "",
            overrides=row.overrides,
            preview=check,
            problems=row.problems,
        )
        for row, check in zip(rows, checks, strict=True)
    )
    record_event(
        batch,
        created=True,
        by=user,
        action=AuditAction.UPLOAD_INVITATION_BATCH,
        changes={"rows": len(rows), "valid": batch.valid_count, "template": template.name},
    )
    return batch


@transaction.atomic
def batch_send(*, user: User, batch: InvitationBatch) -> InvitationBatch:
    """发送: queue the background run, once (a second 发送, even concurrent, is refused)."""
    from agreements.tasks import send_invitation_batch  # the task module imports this one

    batch = InvitationBatch.objects.select_for_update().get(pk=batch.pk)
    require(can_send_batch(user, batch))
    batch.status = InvitationBatch.Status.QUEUED
    batch.sent_by = user
    batch.queued_at = timezone.now()
    batch.save(update_fields=["status", "sent_by", "queued_at"])
    record_event(batch, by=user, action=AuditAction.SEND_INVITATION_BATCH)
    transaction.on_commit(lambda: send_invitation_batch.enqueue(batch.pk))
    return batch


def _deadline(batch: InvitationBatch) -> datetime | None:
    """As the single form starts from a template: its days to answer, else the school's."""
    if not batch.validity_days:
        return None
    day = timezone.localdate() + timedelta(days=batch.validity_days)
    return timezone.make_aware(datetime.combine(day, time(23, 59, 59)))


def _terms(batch: InvitationBatch) -> dict[str, Any]:
    terms = dict(batch.terms)
    if isinstance(terms.get("report_deadline"), str):
        terms["report_deadline"] = date.fromisoformat(terms["report_deadline"])
    return terms


def _chunks(rows: list[InvitationBatchRow]) -> Iterator[list[InvitationBatchRow]]:
    for start in range(0, len(rows), CHUNK):
        yield rows[start : start + CHUNK]


def batch_run(batch_id: int) -> None:
    """Send each valid row through ``invitation_send`` as the colleague who pressed 发送,
    recording each row's outcome as it goes. Safe to run twice: only a queued batch starts."""
    batches = InvitationBatch.objects.filter(pk=batch_id)
    if not batches.filter(status=InvitationBatch.Status.QUEUED).update(
        status=InvitationBatch.Status.SENDING
    ):
        return
    batch = InvitationBatch.objects.select_related("sent_by").get(pk=batch_id)
    sender = cast(User, batch.sent_by)
    terms, deadline = _terms(batch), _deadline(batch)
    rows = list(batch.rows.filter(preview=Check.VALID, result="").order_by("line"))
    numbers = {row.pk: decrypt_id_number(row.id_number_cipher) for row in rows}
    # The students in one query and the unit's scope once per school, not once per row.
    lookup = InvitableLookup(sender, numbers.values())
    try:
        for chunk in _chunks(rows):
            with transaction.atomic():
                _send_rows(
                    chunk,
                    sender=sender,
                    terms=terms,
                    deadline=deadline,
                    lookup=lookup,
                    numbers=numbers,
                )
                sent = sum(1 for row in chunk if row.result == InvitationBatchRow.Result.SENT)
                batches.update(
                    sent_count=F("sent_count") + sent,
                    refused_count=F("refused_count") + len(chunk) - sent,
                )
    except Exception:
        batches.update(status=InvitationBatch.Status.FAILED, finished_at=timezone.now())
        _forget_id_numbers(batch_id)
        raise
    batches.update(status=InvitationBatch.Status.DONE, finished_at=timezone.now())
    _forget_id_numbers(batch_id)


def _send_rows(
    rows: Iterable[InvitationBatchRow],
    *,
    sender: User,
    terms: dict[str, Any],
    deadline: datetime | None,
    lookup: InvitableLookup,
    numbers: dict[int, str],
) -> None:
    done = []
    for row in rows:
        try:
            row.invitation = invitation_send(
                sender=sender,
                name=row.name,
                id_number=numbers[row.pk],
                terms=terms | row.overrides,
                deadline=deadline,
                lookup=lookup,
            )
            row.result = InvitationBatchRow.Result.SENT
        except (ValidationError, PermissionDenied) as error:
            # The single send's own answer, e.g. the generic one for anyone not invitable.
            row.result = InvitationBatchRow.Result.REFUSED
            row.message = error_text(error)[:300]
        row.id_number_cipher = ""
        done.append(row)
    InvitationBatchRow.objects.bulk_update(
        done, ["invitation", "result", "message", "id_number_cipher"]
    )


def _forget_id_numbers(batch_id: int) -> None:
    """A row's ID number is kept encrypted only until the row is sent or the run ends."""
    InvitationBatchRow.objects.filter(batch_id=batch_id).exclude(id_number_cipher="").update(
        id_number_cipher=""
    )


def result_rows(batch: InvitationBatch) -> Iterator[list[Any]]:
    """The result file's rows: never the full ID number."""
    for row in batch.rows.order_by("line").iterator():
        preview = str(row.get_preview_display())
        if row.problems:
            preview = f"{preview}: {'; '.join(row.problems)}"
        yield [
            row.line,
            row.name,
            row.id_number_masked,
            preview,
            str(row.get_result_display()),
            row.message,
        ]
