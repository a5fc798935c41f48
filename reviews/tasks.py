"""Background exports (django-tasks; in-process by default)."""

import tempfile

from django.core.files import File
from django.db.models import QuerySet
from django.utils import timezone
from django_tasks import task

from destreg.lib.replica import reads_from_replica
from reviews import exporting
from reviews.annual_report import annual_report_now
from reviews.models import ExportJob
from reviews.permissions import can_download_export, can_see_snapshot
from reviews.snapshots import snapshot_rows_for
from reviews.stats import graduates_in_scope


def export_now(job_id: int) -> None:
    """Write the job's file, recording progress every chunk; a failure is recorded too.
    The job is read from the primary (it was just created there), the graduates from the
    replica when there is one (destreg/lib/replica.py). A job whose user's scope changed
    before it ran fails unwritten; so does one given up as stale while it waited."""
    job = ExportJob.objects.select_related("user", "snapshot").get(pk=job_id)
    if not can_download_export(job.user, job):  # their scope changed while it waited
        ExportJob.objects.filter(pk=job_id).update(
            status=ExportJob.Status.FAILED, finished_at=timezone.now()
        )
        return
    records: QuerySet = graduates_in_scope(job.user)
    if job.snapshot is not None:  # as of the snapshot, for whom may still see it
        records = snapshot_rows_for(job.user, job.snapshot)
        if not can_see_snapshot(job.user, job.snapshot):
            records = records.none()
    with reads_from_replica():
        total = records.count()
    queued = ExportJob.objects.filter(pk=job_id, status=ExportJob.Status.QUEUED)
    if not queued.update(status=ExportJob.Status.RUNNING, total=total):
        return  # given up as stale meanwhile (services.EXPORT_STALE_AFTER)

    def progress(done: int) -> None:
        ExportJob.objects.filter(pk=job_id).update(done=done)

    writer = exporting.write_csv if job.fmt == "csv" else exporting.write_xlsx
    try:
        with tempfile.TemporaryFile() as handle:
            with reads_from_replica():  # the progress updates still go to the primary
                writer(records, handle, progress)
            handle.seek(0)
            stamp = timezone.localtime().strftime("%Y%m%d-%H%M%S")
            as_of = f"-as-of-{job.snapshot.cutoff:%Y%m%d}" if job.snapshot else ""
            job.file.save(f"graduates{as_of}-{stamp}.{job.fmt}", File(handle), save=False)
    except Exception:
        ExportJob.objects.filter(pk=job_id).update(status=ExportJob.Status.FAILED)
        raise
    job.refresh_from_db(fields=["total"])
    ExportJob.objects.filter(pk=job_id).update(
        file=job.file.name,
        status=ExportJob.Status.DONE,
        done=job.total,
        finished_at=timezone.now(),
    )


@task()
def run_export(job_id: int) -> None:
    export_now(job_id)


@task()
def run_annual_report(report_id: int) -> None:
    annual_report_now(report_id)
