"""The annual report from the live data: the rows, the job end to end, and who may see it."""

import io
from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from agreements.models import Registration
from destreg.audit.models import AuditAction, AuditEvent
from destreg.reference.models import CodeTable, Region
from reviews.annual_report import live_rows, snapshot_rows
from reviews.models import AnnualReport
from reviews.services import annual_report_start
from students.models import Gender, RegistryRecord, current_graduation_year
from students.tallies import destination_set
from tests import factories as f


def _further_study(student, institution="清华大学") -> Registration:
    """An approved 升学 (801 研究生) registration of ``student``, as the door leaves it."""
    record = student.record
    registration = Registration.objects.create(
        student=student,
        school=record.school,
        college=record.college,
        path=Registration.Path.OTHER,
        kind="further_study",
        destination=f.code(CodeTable.DESTINATION, "801"),
        institution=institution,
    )
    Registration.objects.filter(pk=registration.pk).update(status=Registration.Status.APPROVED)
    destination_set(
        RegistryRecord.objects.filter(pk=record.pk), f.code(CodeTable.DESTINATION, "801"), None
    )
    return registration


@pytest.fixture
def school_class(world, signed, other_student):
    """School A's class: ``student`` signed online (北京, pay 10000), ``other_student`` is
    going to 清华大学, one graduate seeks employment (70), one registered nothing; school
    B's graduate does not count."""
    _further_study(other_student)
    f.make_record(
        world.major_a2,
        gender=Gender.FEMALE,
        destination=f.code(CodeTable.DESTINATION, "70"),
    )
    f.make_record(world.major_a2, gender=Gender.FEMALE)
    f.make_record(world.major_b1, destination=f.code(CodeTable.DESTINATION, "10"))
    return world


def test_live_rows_read_the_approved_destinations(school_class):
    rows = live_rows(school_class.school_a, current_graduation_year())
    assert len(rows) == 4
    by_code = {row.destination_code: row for row in rows}
    signed = by_code["10"]
    assert signed.placed and signed.monthly_pay == 10000
    assert signed.unit_province == Region.objects.get(code="110000").name
    assert signed.industry == f.code(CodeTable.INDUSTRY, "I").name
    assert signed.nature == f.code(CodeTable.UNIT_NATURE, "39").name
    assert signed.college == school_class.a1.name
    further = by_code["80"]  # 801 counts under its top-level code
    assert further.placed and further.institution == "清华大学" and further.monthly_pay is None
    assert not by_code["70"].placed and by_code["70"].gender == Gender.FEMALE
    assert not by_code[""].placed and by_code[""].unit_province == ""


def test_live_rows_leave_out_other_years(school_class):
    assert live_rows(school_class.school_a, current_graduation_year() - 1) == []


def _text(report: AnnualReport) -> str:
    with report.file.open("rb") as handle:
        data = handle.read()
    assert data.startswith(b"%PDF")
    return "".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def test_the_job_renders_the_report_and_records_its_progress(
    school_class, school_reviewer, django_capture_on_commit_callbacks
):
    year = current_graduation_year()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        report = annual_report_start(user=school_reviewer, year=year)
    assert report.status == AnnualReport.Status.QUEUED and report.progress == 0
    assert len(callbacks) == 1  # nothing runs before the row is committed
    audit = AuditEvent.objects.for_object(report).get()
    assert audit.action == AuditAction.REQUEST_ANNUAL_REPORT and audit.actor == school_reviewer
    callbacks[0]()
    report.refresh_from_db()
    assert report.status == AnnualReport.Status.DONE and report.progress == 100
    assert report.finished_at is not None and report.as_of[:2] == "20"
    text = "".join(_text(report).split())  # pdf text breaks lines anywhere
    assert school_class.school_a.name in text
    assert f"{year}届毕业生就业质量年度报告" in text
    assert "2024版口径" in text  # the formula's version
    assert "清华大学" in text and "北京市" in text
    assert "50.0%" in text  # 2 of 4 placed
    assert "10000" in text  # the one agreed pay: every quantile
    assert school_class.school_b.name not in text
    sections = "一、总体去向落实率 二、分类去向落实率 三、毕业去向结构 四、就业地区分布"
    sections += " 五、单位行业分布 六、单位性质分布 七、升学 八、出国、出境 九、月薪"
    assert [section for section in sections.split() if section not in text] == []


def test_a_report_without_data_says_so(world, school_reviewer, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        report = annual_report_start(user=school_reviewer, year=current_graduation_year())
    report.refresh_from_db()
    assert report.status == AnnualReport.Status.DONE
    text = "".join(_text(report).split())
    assert "暂无数据" in text and "没有约定月薪的就业协议" in text


def test_a_failed_rendering_is_recorded(
    world, school_reviewer, monkeypatch, django_capture_on_commit_callbacks
):
    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr("reviews.annual_report.render_annual_pdf", broken)
    with django_capture_on_commit_callbacks(execute=True):  # the task backend logs the error
        annual_report_start(user=school_reviewer, year=current_graduation_year())
    report = AnnualReport.objects.get()
    assert report.status == AnnualReport.Status.FAILED and not report.file


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["college_reviewer", "student", "employer_user"])
def test_only_school_reviewers_may_start_one(request, role):
    user = request.getfixturevalue(role)
    with pytest.raises(PermissionDenied):
        annual_report_start(user=getattr(user, "user", user), year=current_graduation_year())
    assert not AnnualReport.objects.exists()


def test_one_report_at_a_time_per_school(
    world, school_reviewer, other_school_reviewer, django_capture_on_commit_callbacks
):
    year = current_graduation_year()
    with django_capture_on_commit_callbacks(execute=False):
        first = annual_report_start(user=school_reviewer, year=year)
        with pytest.raises(ValidationError):
            annual_report_start(user=school_reviewer, year=year - 1)
        # Another school is not held up.
        annual_report_start(user=other_school_reviewer, year=year)
    assert AnnualReport.objects.filter(school=world.school_a).count() == 1
    AnnualReport.objects.filter(pk=first.pk).update(status=AnnualReport.Status.DONE)
    with django_capture_on_commit_callbacks(execute=False):
        annual_report_start(user=school_reviewer, year=year)
    assert AnnualReport.objects.filter(school=world.school_a).count() == 2


def test_a_report_stuck_for_an_hour_no_longer_holds_up_the_school(
    world, school_reviewer, django_capture_on_commit_callbacks
):
    year = current_graduation_year()
    with django_capture_on_commit_callbacks(execute=False):
        stuck = annual_report_start(user=school_reviewer, year=year)
    AnnualReport.objects.filter(pk=stuck.pk).update(
        status=AnnualReport.Status.RUNNING, created_at=timezone.now() - timedelta(minutes=61)
    )
    with django_capture_on_commit_callbacks(execute=False):
        annual_report_start(user=school_reviewer, year=year)
    stuck.refresh_from_db()
    assert stuck.status == AnnualReport.Status.FAILED


def test_the_database_refuses_a_second_report_in_progress(world, school_reviewer):
    AnnualReport.objects.create(school=world.school_a, year=2026)
    with pytest.raises(IntegrityError), transaction.atomic():
        AnnualReport.objects.create(
            school=world.school_a, year=2025, status=AnnualReport.Status.RUNNING
        )
    AnnualReport.objects.create(school=world.school_a, year=2025, status="done")


# --- the pages -------------------------------------------------------------------------------


def test_the_page_starts_a_report_and_shows_its_progress(
    client, school_reviewer, world, django_capture_on_commit_callbacks
):
    client.force_login(school_reviewer)
    url = reverse("reviews:annual_reports")
    assert client.get(url).status_code == 200
    with django_capture_on_commit_callbacks(execute=False):
        response = client.post(url, {"year": current_graduation_year()})
    report = AnnualReport.objects.get()
    assert response.status_code == 302
    assert response.url == reverse("reviews:annual_report", args=[report.pk])
    assert report.school == world.school_a and report.requested_by == school_reviewer
    page = client.get(response.url)
    assert b"data-poll" in page.content  # it updates itself until it is done
    assert b"?download=1" not in page.content
    assert client.get(response.url + "?download=1").status_code == 200  # not yet: the page


def test_the_page_says_a_report_is_already_being_drawn_up(
    client, world, school_reviewer, django_capture_on_commit_callbacks
):
    AnnualReport.objects.create(school=world.school_a, year=2026)
    client.force_login(school_reviewer)
    response = client.post(reverse("reviews:annual_reports"), {"year": current_graduation_year()})
    assert response.status_code == 400
    assert "正在生成" in response.content.decode()
    assert AnnualReport.objects.count() == 1


def test_the_page_refuses_a_year_it_does_not_offer(client, school_reviewer):
    client.force_login(school_reviewer)
    response = client.post(reverse("reviews:annual_reports"), {"year": 1999})
    assert response.status_code == 400
    assert not AnnualReport.objects.exists()


def test_a_finished_report_downloads_as_pdf_for_the_schools_reviewers_only(
    client, world, school_reviewer, other_school_reviewer, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        report = annual_report_start(user=school_reviewer, year=current_graduation_year())
    colleague = f.make_user(school_reviewer.role, school=world.school_a)
    url = reverse("reviews:annual_report", args=[report.pk]) + "?download=1"
    client.force_login(colleague)  # another reviewer of the same school
    response = client.get(url)
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert b"".join(response.streaming_content).startswith(b"%PDF")
    client.force_login(other_school_reviewer)
    assert client.get(url).status_code == 404
    listing = client.get(reverse("reviews:annual_reports"))
    assert listing.status_code == 200 and listing.context["reports"].count() == 0


@pytest.mark.parametrize(
    ("role", "expected"),
    [("college_reviewer", 403), ("student", 403), ("platform_admin", 403), (None, 302)],
)
def test_the_list_page_is_for_school_reviewers(client, request, world, role, expected):
    if role:
        user = request.getfixturevalue(role)
        client.force_login(getattr(user, "user", user))
    url = reverse("reviews:annual_reports")
    assert client.get(url).status_code == expected
    assert client.post(url, {"year": current_graduation_year()}).status_code == expected
    assert not AnnualReport.objects.exists()


def test_the_statistics_page_links_school_reviewers_to_the_report(
    client, school_reviewer, college_reviewer
):
    url = reverse("reviews:annual_reports").encode()
    client.force_login(school_reviewer)
    assert url in client.get(reverse("reviews:statistics")).content
    client.force_login(college_reviewer)
    assert url not in client.get(reverse("reviews:statistics")).content


def test_a_report_whose_file_was_lost_answers_404_not_500(
    client, world, school_reviewer, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        report = annual_report_start(user=school_reviewer, year=current_graduation_year())
    report.refresh_from_db()
    report.file.storage.delete(report.file.name)
    client.force_login(school_reviewer)
    url = reverse("reviews:annual_report", args=[report.pk])
    assert client.get(url + "?download=1").status_code == 404
    assert client.get(url).status_code == 200


# --- as of a reporting snapshot -----------------------------------------------------------------


def _snapshot(world):
    from reviews.services import snapshot_take

    return snapshot_take(
        school=world.school_a,
        year=current_graduation_year(),
        cutoff=timezone.localdate() - timedelta(days=1),
    )


def test_snapshot_rows_are_the_live_rows_frozen_at_the_cut_off(school_class):
    snapshot = _snapshot(school_class)
    live = live_rows(school_class.school_a, current_graduation_year())
    frozen = snapshot_rows(snapshot)

    def key(row):
        return (row.destination_code, row.college, row.major, row.gender)

    assert sorted(frozen, key=key) == sorted(live, key=key)  # every field, pay included

    # A graduate placed after the cut-off moves the live figures, not the snapshot's.
    seeker = RegistryRecord.objects.get(destination__code="70", school=school_class.school_a)
    RegistryRecord.objects.filter(pk=seeker.pk).update(
        destination=f.code(CodeTable.DESTINATION, "10")
    )
    assert sum(r.placed for r in live_rows(school_class.school_a, current_graduation_year())) == 3
    assert sum(r.placed for r in snapshot_rows(snapshot)) == 2


def test_a_report_as_of_a_snapshot(
    client, school_class, school_reviewer, django_capture_on_commit_callbacks
):
    snapshot = _snapshot(school_class)
    RegistryRecord.objects.filter(destination__code="70").update(
        destination=f.code(CodeTable.DESTINATION, "10")
    )  # placed after the cut-off
    client.force_login(school_reviewer)
    page = client.get(reverse("reviews:annual_reports")).content.decode()
    assert f'<option value="{snapshot.pk}">' in page
    data = {"year": current_graduation_year(), "snapshot": snapshot.pk}
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("reviews:annual_reports"), data)
    report = AnnualReport.objects.get()
    assert response.status_code == 302 and report.snapshot == snapshot
    report.refresh_from_db()
    text = "".join(_text(report).split())
    assert f"数据截至{snapshot.cutoff:%Y-%m-%d}（报送截止日快照）" in text
    assert "50.0%" in text  # 2 of 4 at the cut-off (live: 3 of 4)
    assert "10000" in text  # the pay its agreement agreed


def test_a_report_refuses_another_schools_or_another_classs_snapshot(
    client, school_class, school_reviewer, other_school_reviewer
):
    snapshot = _snapshot(school_class)
    with pytest.raises(PermissionDenied):
        annual_report_start(
            user=other_school_reviewer, year=snapshot.graduation_year, snapshot=snapshot
        )
    with pytest.raises(ValidationError):
        annual_report_start(
            user=school_reviewer, year=snapshot.graduation_year - 1, snapshot=snapshot
        )
    client.force_login(other_school_reviewer)
    data = {"year": snapshot.graduation_year, "snapshot": snapshot.pk}
    response = client.post(reverse("reviews:annual_reports"), data)
    assert response.status_code == 400 and "snapshot" in response.context["form"].errors
    assert not AnnualReport.objects.exists()
