"""学籍 imports uploaded through the site run as background jobs (django-tasks).

The reviewer page and the admin store the upload and queue ``run_registry_import``;
the job's page shows the rows read so far, then the outcome and each row's problems.
The management command imports synchronously (students/importing.py).
"""

from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone

from destreg.reference.models import School
from students.import_files import check_size
from students.importing import MAX_STORED_ERRORS, registry_import
from students.models import RegistryImportJob


@transaction.atomic
def import_job_start(
    *, school: School, user, upload: UploadedFile, valid_only: bool = False
) -> RegistryImportJob:
    """Store the upload and queue its import once this transaction commits.

    Raises ValidationError if the file is over the size limit (nothing is stored).
    """
    from students.tasks import run_registry_import  # the task module imports this one

    check_size(upload.size or 0)
    name = (upload.name or "upload").rsplit("/", 1)[-1][:200]
    job = RegistryImportJob(school=school, user=user, filename=name, valid_only=valid_only)
    job.file.save(name, upload, save=False)
    job.save()
    transaction.on_commit(lambda: run_registry_import.enqueue(job.pk))
    return job


def import_job_run(job_id: int) -> None:
    """Import the job's file, recording rows read as it goes; the file is deleted at the end."""
    jobs = RegistryImportJob.objects.filter(pk=job_id)
    started = jobs.filter(status=RegistryImportJob.Status.QUEUED).update(
        status=RegistryImportJob.Status.RUNNING
    )
    if not started:
        return  # a retried or duplicated task must not import twice
    job = RegistryImportJob.objects.select_related("school", "user").get(pk=job_id)

    def progress(rows: int) -> None:
        jobs.update(rows_read=rows)

    try:
        with job.file.open("rb") as handle:
            report = registry_import(
                school=job.school,
                handle=handle,
                filename=job.filename,
                actor=job.user,
                valid_only=job.valid_only,
                progress=progress,
                job=job,
            )
    except Exception:
        jobs.update(status=RegistryImportJob.Status.FAILED, finished_at=timezone.now())
        _forget_file(job)
        raise
    jobs.update(
        status=RegistryImportJob.Status.DONE,
        rows_read=report.total,
        imported=report.imported,
        held=report.held,
        error_count=len(report.errors),
        errors=[
            {"line": error.line, "messages": error.messages}
            for error in report.errors[:MAX_STORED_ERRORS]
        ],
        finished_at=timezone.now(),
    )
    _forget_file(job)


def _forget_file(job: RegistryImportJob) -> None:
    """The upload holds ID numbers: keep it no longer than the import needs it."""
    if job.file:
        job.file.delete(save=False)
    RegistryImportJob.objects.filter(pk=job.pk).update(file="")
