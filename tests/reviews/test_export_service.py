import pytest

from reviews.models import ExportJob
from reviews.services import export_start


def test_it_creates_the_job_and_runs_it_after_commit(
    college_reviewer, signed, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        job = export_start(user=college_reviewer, fmt="csv")
    assert job.status == ExportJob.Status.QUEUED and job.user == college_reviewer
    assert len(callbacks) == 1  # nothing is enqueued before the job row is committed
    callbacks[0]()
    job.refresh_from_db()
    assert job.status == ExportJob.Status.DONE and job.file


def test_it_refuses_an_unknown_format(college_reviewer):
    with pytest.raises(ValueError, match="pdf"):
        export_start(user=college_reviewer, fmt="pdf")
    assert not ExportJob.objects.exists()
