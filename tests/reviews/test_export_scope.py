"""An export is served only while its graduates are still the user's to see, and each user
has at most one export queued or running."""

from datetime import timedelta

import pytest
from django.db import IntegrityError
from django.urls import reverse
from django.utils import timezone

from destreg.accounts.models import Role
from reviews.models import ExportJob
from reviews.permissions import can_download_export
from reviews.services import EXPORT_STALE_AFTER, export_start
from reviews.tasks import export_now
from tests import factories as f

OUT_OF_SCOPE = "This export was made for graduates you no longer oversee"
STILL_WRITING = "An export of yours is still being written"


@pytest.fixture(autouse=True)
def _english(client):
    """The messages are checked in English (and once in Chinese)."""
    client.cookies["django_language"] = "en"


def _start(client, user, capture, *, run: bool):
    client.force_login(user)
    with capture(execute=run):
        answer = client.post(reverse("reviews:export_start"), {"fmt": "csv"})
    assert answer.status_code == 302
    return answer


def _download(client, job):
    return client.get(reverse("reviews:export", args=[job.pk]), {"download": "1"})


def _body(answer) -> str:
    if hasattr(answer, "streaming_content"):
        return b"".join(answer.streaming_content).decode("utf-8-sig")
    return answer.content.decode()


# --- the scope the job was made for ----------------------------------------------------------


def test_it_serves_the_file_while_the_scope_is_unchanged(
    client, world, college_reviewer, django_capture_on_commit_callbacks
):
    f.make_record(world.major_a1, name="甲一学生")
    _start(client, college_reviewer, django_capture_on_commit_callbacks, run=True)
    job = ExportJob.objects.get()
    assert (job.role, job.college_id, job.school_id) == (Role.COLLEGE_REVIEWER, world.a1.pk, None)
    page = client.get(reverse("reviews:export", args=[job.pk])).content.decode()
    assert "?download=1" in page and OUT_OF_SCOPE not in page
    answer = _download(client, job)
    assert answer.status_code == 200 and "甲一学生" in _body(answer)


def _move_college(user, world):
    user.college = world.a2


def _move_school(user, world):
    user.school = world.school_b


def _make_college_reviewer(user, world):
    user.role, user.college = Role.COLLEGE_REVIEWER, world.a1


@pytest.mark.parametrize(
    ("who", "change"),
    [
        ("college_reviewer", _move_college),
        ("school_reviewer", _move_school),
        ("school_reviewer", _make_college_reviewer),
    ],
)
def test_it_refuses_the_file_after_the_users_scope_changed(
    client, request, world, who, change, django_capture_on_commit_callbacks
):
    f.make_record(world.major_a1, name="甲一学生")
    user = request.getfixturevalue(who)
    _start(client, user, django_capture_on_commit_callbacks, run=True)
    job = ExportJob.objects.get()
    assert job.status == ExportJob.Status.DONE
    change(user, world)
    user.save()

    page = client.get(reverse("reviews:export", args=[job.pk])).content.decode()
    assert OUT_OF_SCOPE in page and "?download=1" not in page
    answer = _download(client, job)
    assert answer.status_code == 403
    body = _body(answer)
    assert OUT_OF_SCOPE in body and "甲一学生" not in body


def test_a_demoted_ministry_official_cannot_download_the_countrys_export(
    client, world, provinces, ministry_staff, django_capture_on_commit_callbacks
):
    f.make_record(world.major_b1, name="上海学生")
    _start(client, ministry_staff, django_capture_on_commit_callbacks, run=True)
    job = ExportJob.objects.get()
    ministry_staff.role, ministry_staff.province = Role.PROVINCE_STAFF, provinces[0]
    ministry_staff.save()
    answer = _download(client, job)
    assert answer.status_code == 403 and "上海学生" not in _body(answer)


def test_the_refusal_is_in_chinese_and_in_english(
    client, world, provinces, province_staff, django_capture_on_commit_callbacks
):
    _start(client, province_staff, django_capture_on_commit_callbacks, run=True)
    job = ExportJob.objects.get()
    province_staff.province = provinces[1]
    province_staff.save()
    del client.cookies["django_language"]  # the default language
    assert "该导出所含毕业生已不在您的管理范围内" in _body(_download(client, job))
    client.cookies["django_language"] = "en"
    assert OUT_OF_SCOPE in _body(_download(client, job))


def test_a_deactivated_account_or_a_job_of_unknown_scope_gets_no_file(world, school_reviewer):
    job = f.make_export(school_reviewer, fmt="csv", status="done")
    assert can_download_export(school_reviewer, job)
    school_reviewer.is_active = False
    assert not can_download_export(school_reviewer, job)
    school_reviewer.is_active = True
    ExportJob.objects.filter(pk=job.pk).update(role="", school=None)  # from before the scope
    job.refresh_from_db()
    assert not can_download_export(school_reviewer, job)


def test_a_job_whose_users_scope_changed_before_it_ran_is_not_written(
    world, college_reviewer, django_capture_on_commit_callbacks
):
    f.make_record(world.major_a1)
    with django_capture_on_commit_callbacks(execute=False):
        job = export_start(user=college_reviewer, fmt="csv")
    college_reviewer.college = world.a2
    college_reviewer.save()
    export_now(job.pk)
    job.refresh_from_db()
    assert job.status == ExportJob.Status.FAILED and not job.file


# --- one export at a time per user -------------------------------------------------------------


def test_a_second_export_while_one_is_queued_points_at_it(
    client, world, school_reviewer, django_capture_on_commit_callbacks
):
    _start(client, school_reviewer, django_capture_on_commit_callbacks, run=False)
    first = ExportJob.objects.get()
    answer = _start(client, school_reviewer, django_capture_on_commit_callbacks, run=False)
    assert answer.url == reverse("reviews:export", args=[first.pk])
    assert ExportJob.objects.count() == 1
    page = client.get(answer.url).content.decode()
    assert STILL_WRITING in page and 'http-equiv="refresh"' in page
    # The statistics page and its export form keep working.
    assert client.get(reverse("reviews:statistics")).status_code == 200


@pytest.mark.parametrize("ended", [ExportJob.Status.DONE, ExportJob.Status.FAILED])
def test_a_new_export_is_allowed_once_the_previous_one_ended(
    client, world, school_reviewer, ended, django_capture_on_commit_callbacks
):
    _start(client, school_reviewer, django_capture_on_commit_callbacks, run=False)
    ExportJob.objects.update(status=ended)
    answer = _start(client, school_reviewer, django_capture_on_commit_callbacks, run=True)
    latest = ExportJob.objects.latest("pk")
    assert ExportJob.objects.count() == 2 and latest.status == ExportJob.Status.DONE
    assert answer.url == reverse("reviews:export", args=[latest.pk])
    assert STILL_WRITING not in client.get(answer.url).content.decode()


def test_other_users_exports_do_not_count(
    world, school_reviewer, college_reviewer, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False):
        export_start(user=school_reviewer, fmt="csv")
        export_start(user=college_reviewer, fmt="xlsx")
    assert ExportJob.objects.filter(status=ExportJob.Status.QUEUED).count() == 2


def test_a_job_stuck_for_long_frees_the_place(
    world, school_reviewer, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False):
        stuck = export_start(user=school_reviewer, fmt="csv")
        ExportJob.objects.filter(pk=stuck.pk).update(
            status=ExportJob.Status.RUNNING,
            created_at=timezone.now() - EXPORT_STALE_AFTER - timedelta(minutes=1),
        )
        fresh = export_start(user=school_reviewer, fmt="csv")
    stuck.refresh_from_db()
    assert stuck.status == ExportJob.Status.FAILED and fresh.status == ExportJob.Status.QUEUED
    export_now(stuck.pk)  # its worker wakes up after all: it does not start again
    stuck.refresh_from_db()
    assert stuck.status == ExportJob.Status.FAILED and not stuck.file


def test_the_database_holds_one_job_in_progress_per_user(world, school_reviewer):
    f.make_export(school_reviewer, fmt="csv", status="running")
    with pytest.raises(IntegrityError):
        f.make_export(school_reviewer, fmt="csv")
