"""Background work of the students app (django-tasks; in-process by default)."""

from django_tasks import task

from students.import_jobs import import_job_run


@task()
def run_registry_import(job_id: int) -> None:
    import_job_run(job_id)
