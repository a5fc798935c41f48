import csv
import io

from django.urls import reverse
from openpyxl import load_workbook

from reviews import stats
from reviews.exporting import COLUMNS
from students.models import Gender, RegistryRecord
from tests import factories as f


def _with_destination(major, code, gender=Gender.MALE):
    record = f.make_record(major, gender=gender)
    if code:
        RegistryRecord.objects.filter(pk=record.pk).update(destination=f.code("destination", code))
    return record


def test_the_rate_arithmetic_on_a_known_set(world, college_reviewer):
    for code, gender in [
        ("10", Gender.MALE),
        ("76", Gender.FEMALE),
        ("70", Gender.MALE),
        (None, Gender.FEMALE),
    ]:
        _with_destination(world.major_a1, code, gender)
    _with_destination(world.major_a2, "80")  # another college: not in this reviewer's figures
    figures = stats.compute(college_reviewer)
    assert (figures["overall"].placed, figures["overall"].total) == (2, 4)
    assert figures["overall"].percent == 50.0
    assert {(r.label, r.placed, r.total) for r in figures["by_gender"]} == {
        ("男", 1, 2),
        ("女", 1, 2),
    }
    assert [row["destination__code"] for row in figures["by_destination"]] == ["10", "70", "76"]


def test_scope_of_the_figures(world, school_reviewer, other_school_reviewer, platform_admin):
    _with_destination(world.major_a1, "10")
    _with_destination(world.major_a2, "11")
    _with_destination(world.major_b1, "75")
    assert stats.compute(school_reviewer)["overall"].total == 2
    assert stats.compute(other_school_reviewer)["overall"].total == 1
    assert stats.compute(platform_admin)["overall"].total >= 3


def test_the_page_renders_with_a_constant_number_of_queries(
    client, world, college_reviewer, django_assert_max_num_queries
):
    for _ in range(20):
        _with_destination(world.major_a1, "10")
    client.force_login(college_reviewer)
    with django_assert_max_num_queries(16):
        page = client.get(reverse("reviews:statistics"))
    assert "100.0%" in page.content.decode()


def _export(client, user, fmt, capture) -> bytes:
    client.force_login(user)
    with capture(execute=True):
        started = client.post(reverse("reviews:export_start"), {"fmt": fmt})
    page = client.get(started.url)
    assert page.context["job"].status == "done"
    return b"".join(client.get(started.url + "?download=1").streaming_content)


def test_csv_export_in_the_national_layout(
    client, signed, college_reviewer, student, django_capture_on_commit_callbacks
):
    data = _export(client, college_reviewer, "csv", django_capture_on_commit_callbacks)
    assert data.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows[0] == COLUMNS
    row = dict(zip(rows[0], rows[1], strict=True))
    assert row["姓名"] == student.real_name
    assert row["毕业去向类别代码"] == "10"
    assert row["协议书编号"] == signed.number
    assert row["单位名称"] == signed.employer.name
    assert row["统一社会信用代码"] == signed.employer.uscc


def test_xlsx_export_opens(client, signed, school_reviewer, django_capture_on_commit_callbacks):
    data = _export(client, school_reviewer, "xlsx", django_capture_on_commit_callbacks)
    sheet = load_workbook(io.BytesIO(data)).active
    header, first = list(sheet.iter_rows(values_only=True))[:2]
    assert list(header) == COLUMNS
    assert signed.number in first


def test_exports_and_statistics_are_for_reviewers(client, student, employer_user):
    for user in (student.user, employer_user):
        client.force_login(user)
        assert client.get(reverse("reviews:statistics")).status_code == 403
        assert client.post(reverse("reviews:export_start"), {"fmt": "csv"}).status_code == 403


def test_an_export_shows_progress_and_belongs_to_its_reviewer(
    client, college_reviewer, other_college_reviewer
):
    from reviews.models import ExportJob

    job = ExportJob.objects.create(
        user=college_reviewer, fmt="csv", status="running", total=100_000, done=42_000
    )
    client.force_login(college_reviewer)
    page = client.get(reverse("reviews:export", args=[job.pk])).content.decode()
    assert "42000" in page.replace(",", "") and 'http-equiv="refresh"' in page
    client.force_login(other_college_reviewer)
    assert client.get(reverse("reviews:export", args=[job.pk])).status_code == 404


def test_the_export_writes_in_chunks_with_progress(world, school_reviewer, monkeypatch):
    from reviews import exporting
    from reviews.models import ExportJob
    from reviews.tasks import export_now

    monkeypatch.setattr(exporting, "CHUNK", 3)
    for _ in range(7):
        f.make_record(world.major_a1)

    job = ExportJob.objects.create(user=school_reviewer, fmt="csv")
    export_now(job.pk)
    job.refresh_from_db()
    assert (job.status, job.total, job.done) == ("done", 7, 7)
    with job.file.open("rb") as handle:
        assert len(handle.read().decode("utf-8-sig").splitlines()) == 8
