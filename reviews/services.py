"""Writes of the reviewer area that belong to no other app."""

from django.db import transaction

from destreg.accounts.models import User
from reviews.models import ExportJob
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
