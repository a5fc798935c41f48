"""The reviewer page imports in the background; the job's page belongs to its school."""

import pytest
from django.urls import reverse

from students.models import RegistryImportJob, RegistryRecord
from tests import factories as f


@pytest.fixture
def rows(world):
    return [f.registry_row(world, f"J{n}", f"任务{n}", f.new_id_number()) for n in range(3)]


def _upload(rows):
    upload = f.registry_csv(rows)
    upload.name = "registry.csv"
    return upload


def test_the_upload_is_stored_and_imported_by_a_task_after_commit(
    client, world, rows, school_reviewer, django_capture_on_commit_callbacks
):
    client.force_login(school_reviewer)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = client.post(reverse("reviews:registry_import"), {"file": _upload(rows)})
    job = RegistryImportJob.objects.get()
    assert response.url == reverse("reviews:registry_import_job", args=[job.pk])
    # The request only stored the file and queued the task: nothing is imported yet.
    assert job.status == "queued" and job.file and not RegistryRecord.objects.exists()
    page = client.get(response.url).content.decode()
    assert 'http-equiv="refresh"' in page
    for callback in callbacks:
        callback()
    job.refresh_from_db()
    assert (job.status, job.rows_read, job.imported) == ("done", 3, 3)
    assert not job.file  # the stored upload (ID numbers) is deleted once imported
    assert RegistryRecord.objects.filter(school=world.school_a).count() == 3
    page = client.get(response.url).content.decode()
    assert 'http-equiv="refresh"' not in page


def test_a_running_job_shows_the_rows_read(client, world, school_reviewer):
    job = RegistryImportJob.objects.create(
        school=world.school_a, user=school_reviewer, filename="a.csv", status="running",
        rows_read=42_000,
    )  # fmt: skip
    client.force_login(school_reviewer)
    page = client.get(reverse("reviews:registry_import_job", args=[job.pk])).content.decode()
    assert "42000" in page.replace(",", "") and 'http-equiv="refresh"' in page


def test_the_job_page_lists_each_rows_problems_and_nothing_is_imported(
    client, world, rows, school_reviewer, django_capture_on_commit_callbacks
):
    rows.append(f.registry_row(world, "BAD", "坏", "1234", 民族="火星族"))
    client.force_login(school_reviewer)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("reviews:registry_import"), {"file": _upload(rows)})
    page = client.get(response.url)
    job = page.context["job"]
    assert (job.imported, job.error_count) == (0, 1)
    assert job.errors[0]["line"] == 5 and "火星族" in page.content.decode()
    assert not RegistryRecord.objects.exists()


def test_valid_only_still_imports_the_valid_rows(
    client, world, rows, school_reviewer, django_capture_on_commit_callbacks
):
    rows.append(f.registry_row(world, "BAD", "坏", "1234"))
    client.force_login(school_reviewer)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("reviews:registry_import"), {"file": _upload(rows), "valid_only": "on"})
    job = RegistryImportJob.objects.get()
    assert (job.imported, job.error_count) == (3, 1)
    assert RegistryRecord.objects.count() == 3


def test_a_job_belongs_to_its_school(
    client, world, school_reviewer, other_school_reviewer, college_reviewer, platform_admin
):
    job = RegistryImportJob.objects.create(
        school=world.school_a, user=school_reviewer, filename="a.csv"
    )
    url = reverse("reviews:registry_import_job", args=[job.pk])
    expected = {
        school_reviewer: 200,
        platform_admin: 200,
        other_school_reviewer: 404,
        college_reviewer: 403,
    }
    for user, status in expected.items():
        client.force_login(user)
        assert client.get(url).status_code == status
    client.logout()
    assert client.get(url).status_code == 302
