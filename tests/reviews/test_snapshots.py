"""Reporting snapshots: what one freezes, that the database keeps it frozen, when the
scheduler's command takes one, and what the statistics, the export and the changes report
show as of it, to whom."""

import csv
import io
from datetime import date, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction
from django.urls import reverse
from django.utils import timezone

from destreg.audit.models import AuditAction, AuditEvent
from reviews import stats
from reviews.models import ExportJob, ReportingDate, Snapshot, SnapshotRow
from reviews.services import export_start, reporting_dates_set, snapshot_take
from reviews.snapshots import changes_since, due
from reviews.tasks import export_now
from students.models import RegistryRecord
from students.tallies import destination_set
from tests import factories as f


def _placed(record, code="10"):
    destination_set(RegistryRecord.objects.filter(pk=record.pk), f.code("destination", code), None)


@pytest.fixture
def cohort(world):
    """Three graduates of school A (two in A1, one in A2) and one of school B."""
    a1_placed = f.make_record(world.major_a1, name="甲")
    _placed(a1_placed, "10")
    a1_open = f.make_record(world.major_a1, name="乙")
    a2_placed = f.make_record(world.major_a2, name="丙")
    _placed(a2_placed, "80")
    other = f.make_record(world.major_b1, name="丁")
    _placed(other, "10")
    return a1_placed, a1_open, a2_placed, other


def _take_this_class(world):
    from students.models import current_graduation_year

    year = current_graduation_year()
    return snapshot_take(
        school=world.school_a, year=year, cutoff=timezone.localdate() - timedelta(days=1)
    )


# --- what a snapshot holds ------------------------------------------------------------------


def test_a_snapshot_freezes_every_graduate_of_the_school_with_the_export_row(world, cohort):
    a1_placed, a1_open, a2_placed, _other = cohort
    snapshot = _take_this_class(world)
    rows = {row.record_id: row for row in SnapshotRow.objects.filter(snapshot=snapshot)}
    assert set(rows) == {a1_placed.pk, a1_open.pk, a2_placed.pk}  # not school B's
    assert rows[a1_placed.pk].placed and rows[a2_placed.pk].placed
    assert not rows[a1_open.pk].placed
    assert rows[a1_placed.pk].destination_code == "10"
    assert rows[a1_placed.pk].export["姓名"] == "甲"
    assert rows[a1_placed.pk].export["毕业去向类别代码"] == "10"
    assert rows[a1_open.pk].export["毕业去向类别代码"] == ""
    assert rows[a2_placed.pk].college_id == world.a2.pk
    event = AuditEvent.objects.for_object(snapshot).get()
    assert event.action == AuditAction.TAKE_SNAPSHOT
    assert event.changes == {"graduates": 3, "placed": 2}


def test_taking_the_same_cutoff_again_takes_nothing(world, cohort):
    assert _take_this_class(world) is not None
    assert _take_this_class(world) is None
    assert Snapshot.objects.count() == 1
    assert SnapshotRow.objects.count() == 3


def test_a_snapshot_cannot_be_taken_before_its_date(world, cohort):
    tomorrow = timezone.localdate() + timedelta(days=1)
    with pytest.raises(ValidationError):
        snapshot_take(school=world.school_a, year=tomorrow.year, cutoff=tomorrow)
    assert not Snapshot.objects.exists()


# --- immutability, in the database ---------------------------------------------------------


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE reviews_snapshotrow SET placed = NOT placed",
        "UPDATE reviews_snapshotrow SET export = '{}'",
        "DELETE FROM reviews_snapshotrow",
        "UPDATE reviews_snapshot SET cutoff = '2000-01-01'",
        "DELETE FROM reviews_snapshot",
    ],
)
def test_raw_sql_cannot_change_or_delete_a_snapshot(world, cohort, statement):
    snapshot = _take_this_class(world)
    refused = pytest.raises(DatabaseError, match="append-only")
    with refused, transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(statement)
    assert SnapshotRow.objects.filter(snapshot=snapshot).count() == 3
    assert set(SnapshotRow.objects.values_list("placed", flat=True)) == {True, False}
    assert Snapshot.objects.get().cutoff == snapshot.cutoff


def test_the_orm_cannot_change_or_delete_a_snapshot_either(world, cohort):
    snapshot = _take_this_class(world)
    with pytest.raises(DatabaseError), transaction.atomic():
        SnapshotRow.objects.filter(snapshot=snapshot).update(destination_code="99")
    with pytest.raises(DatabaseError), transaction.atomic():
        snapshot.rows.first().delete()
    assert not SnapshotRow.objects.filter(destination_code="99").exists()
    assert SnapshotRow.objects.count() == 3


@pytest.mark.skipif(connection.vendor != "postgresql", reason="TRUNCATE is PostgreSQL's")
@pytest.mark.parametrize("table", ["reviews_snapshotrow", "reviews_snapshot"])
def test_truncate_of_a_snapshot_table_is_refused(world, cohort, table):
    _take_this_class(world)
    with connection.cursor() as cursor:  # as if committed: no deferred check left pending
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    refused = pytest.raises(DatabaseError, match="append-only")
    with refused, transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {table} CASCADE")
    assert SnapshotRow.objects.count() == 3


@pytest.mark.skipif(connection.vendor != "postgresql", reason="TRUNCATE is PostgreSQL's")
def test_truncate_of_empty_snapshot_tables_passes_so_a_test_database_can_be_flushed(db):
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("TRUNCATE reviews_snapshotrow, reviews_snapshot CASCADE")


def test_a_graduate_record_removed_later_leaves_the_snapshot_whole(world, cohort):
    _a1_placed, a1_open, _a2, _other = cohort
    snapshot = _take_this_class(world)
    RegistryRecord.objects.filter(pk=a1_open.pk).delete()
    assert snapshot.rows.filter(record_id=a1_open.pk).exists()


# --- the scheduler's command --------------------------------------------------------------


@pytest.fixture
def on_day(monkeypatch):
    def travel(day: date) -> None:
        monkeypatch.setattr(timezone, "localdate", lambda *args, **kwargs: day)

    return travel


def test_the_command_takes_each_due_cutoff_once(world, cohort, settings, on_day):
    settings.GRADUATION_YEAR = 2026
    on_day(date(2026, 6, 30))  # the cut-off day itself is not over yet
    call_command("take_snapshots", stdout=io.StringIO())
    assert not Snapshot.objects.exists()
    on_day(date(2026, 7, 1))
    call_command("take_snapshots", stdout=io.StringIO())
    call_command("take_snapshots", stdout=io.StringIO())  # idempotent
    taken = set(Snapshot.objects.values_list("school__code", "graduation_year", "cutoff"))
    assert taken == {
        (world.school_a.code, 2026, date(2026, 6, 30)),
        (world.school_b.code, 2026, date(2026, 6, 30)),
    }


def test_the_command_follows_the_school_s_own_dates(world, cohort, settings, on_day):
    settings.GRADUATION_YEAR = 2026
    ReportingDate.objects.create(
        school=world.school_a, graduation_year=2026, cutoff=date(2026, 7, 15)
    )
    on_day(date(2026, 7, 16))
    call_command("take_snapshots", "--school", world.school_a.code, stdout=io.StringIO())
    assert list(Snapshot.objects.values_list("cutoff", flat=True)) == [date(2026, 7, 15)]


def test_last_year_s_december_cutoff_is_taken_in_january(world, cohort, on_day):
    on_day(date(2027, 1, 1))
    assert (date(2026, 12, 31).year, date(2026, 12, 31)) in due(world.school_a, date(2027, 1, 1))


def test_a_cutoff_missed_for_months_is_not_taken_by_itself(world, settings):
    settings.GRADUATION_YEAR = 2026
    assert due(world.school_a, date(2026, 11, 1)) == []  # 8.31 is two months gone


def test_the_command_takes_a_chosen_date_on_request(world, cohort, settings):
    settings.GRADUATION_YEAR = 2026
    out = io.StringIO()
    call_command(
        "take_snapshots", "--school", world.school_a.code, "--date", "2026-05-01", stdout=out
    )
    assert "cut-off 2026-05-01: 3 graduates" in out.getvalue()
    snapshot = Snapshot.objects.get()
    assert (snapshot.graduation_year, snapshot.cutoff) == (2026, date(2026, 5, 1))


# --- as of a snapshot: statistics, export, changes ---------------------------------------


def test_statistics_as_of_a_snapshot_do_not_move_with_later_changes(
    client, world, cohort, school_reviewer
):
    _a1_placed, a1_open, _a2, _other = cohort
    snapshot = _take_this_class(world)
    _placed(a1_open, "11")  # placed after the cut-off
    client.force_login(school_reviewer)
    url = reverse("reviews:statistics")
    live = client.get(url).content.decode()
    frozen = client.get(url, {"as_of": snapshot.pk}).content.decode()
    assert "3 / 3" in live
    assert "2 / 3" in frozen
    assert "2 / 3" in client.get(url, {"as_of": snapshot.pk}).content.decode()  # cached too


def test_a_college_reviewer_sees_only_the_college_in_a_snapshot(world, cohort, college_reviewer):
    snapshot = _take_this_class(world)
    figures = stats.compute_as_of(college_reviewer, snapshot)
    assert (figures["overall"].placed, figures["overall"].total) == (1, 2)
    assert [rate.label for rate in figures["by_college"]] == [world.a1.name]


def test_the_export_as_of_a_snapshot_has_the_values_it_froze(world, cohort, school_reviewer):
    _a1_placed, a1_open, _a2, _other = cohort
    snapshot = _take_this_class(world)
    _placed(a1_open, "11")
    job = f.make_export(school_reviewer, fmt="csv", snapshot=snapshot)
    export_now(job.pk)
    job.refresh_from_db()
    assert job.status == ExportJob.Status.DONE and job.total == 3
    rows = list(csv.DictReader(io.StringIO(job.file.open("rb").read().decode("utf-8-sig"))))
    by_name = {row["姓名"]: row for row in rows}
    assert by_name["乙"]["毕业去向类别代码"] == ""  # as it stood, not 11
    assert by_name["甲"]["毕业去向类别代码"] == "10"


def test_a_college_reviewer_s_export_as_of_a_snapshot_holds_the_college_only(
    world, cohort, college_reviewer, django_capture_on_commit_callbacks
):
    snapshot = _take_this_class(world)
    with django_capture_on_commit_callbacks(execute=True):
        job = export_start(user=college_reviewer, fmt="csv", snapshot=snapshot)
    job.refresh_from_db()
    text = job.file.open("rb").read().decode("utf-8-sig")
    assert "甲" in text and "乙" in text and "丙" not in text


def test_another_school_s_reviewer_cannot_export_as_of_the_snapshot(
    client, world, cohort, other_school_reviewer
):
    snapshot = _take_this_class(world)
    client.force_login(other_school_reviewer)
    response = client.post(reverse("reviews:export_start"), {"fmt": "csv", "as_of": snapshot.pk})
    assert response.status_code == 404
    assert not ExportJob.objects.exists()


def test_changes_since_list_who_moved_with_before_and_after(client, world, cohort, school_reviewer):
    _a1_placed, a1_open, a2_placed, _other = cohort
    snapshot = _take_this_class(world)
    _placed(a1_open, "11")
    destination_set(RegistryRecord.objects.filter(pk=a2_placed.pk), None, None)
    newcomer = f.make_record(world.major_a1, name="戊")
    changes = {c.name: c for c in changes_since(school_reviewer, snapshot)}
    assert set(changes) == {"乙", "丙", "戊"}  # 甲 did not move
    assert (changes["乙"].was.code, changes["乙"].now.code) == ("", "11")
    assert (changes["丙"].was.code, changes["丙"].now.code) == ("80", "")
    assert changes["戊"].was is None and newcomer.student_no == changes["戊"].student_no
    client.force_login(school_reviewer)
    page = client.get(reverse("reviews:snapshot_changes", args=[snapshot.pk])).content.decode()
    assert "乙" in page and "丙" in page and "甲" not in page
    download = client.get(reverse("reviews:snapshot_changes_csv", args=[snapshot.pk]))
    assert download["Content-Type"].startswith("text/csv")
    lines = download.content.decode("utf-8-sig").splitlines()
    assert len(lines) == 4 and lines[0].startswith("学号,姓名")


def test_a_college_reviewer_s_changes_are_the_college_s_only(world, cohort, college_reviewer):
    _a1_placed, a1_open, a2_placed, _other = cohort
    snapshot = _take_this_class(world)
    _placed(a1_open, "11")
    destination_set(RegistryRecord.objects.filter(pk=a2_placed.pk), None, None)
    assert [c.name for c in changes_since(college_reviewer, snapshot)] == ["乙"]


@pytest.mark.parametrize("who", ["other_school_reviewer", "platform_admin"])
def test_strangers_do_not_learn_a_snapshot_exists(client, request, world, cohort, who):
    snapshot = _take_this_class(world)
    client.force_login(request.getfixturevalue(who))
    assert client.get(reverse("reviews:statistics"), {"as_of": snapshot.pk}).status_code == 404
    changes = reverse("reviews:snapshot_changes", args=[snapshot.pk])
    assert client.get(changes).status_code in (403, 404)


def test_the_statistics_page_offers_only_the_school_s_snapshots(
    client, world, cohort, school_reviewer, other_school_reviewer
):
    ours = _take_this_class(world)
    theirs = snapshot_take(school=world.school_b, year=ours.graduation_year, cutoff=ours.cutoff)
    client.force_login(school_reviewer)
    page = client.get(reverse("reviews:statistics")).content.decode()
    assert f'value="{ours.pk}"' in page and f'value="{theirs.pk}"' not in page


# --- reporting dates ----------------------------------------------------------------------


def test_school_staff_set_their_reporting_dates(client, world, school_reviewer, settings):
    year = timezone.localdate().year + 1
    settings.GRADUATION_YEAR = year
    client.force_login(school_reviewer)
    url = reverse("reviews:reporting_dates")
    page = client.get(url).content.decode()
    assert f"{year}-06-30" in page and f"{year}-12-31" in page  # the defaults
    response = client.post(url, {"date_0": f"{year}-07-15", "date_1": f"{year}-12-31"})
    assert response.status_code == 302
    assert list(
        ReportingDate.objects.filter(school=world.school_a).values_list("cutoff", flat=True)
    ) == [date(year, 7, 15), date(year, 12, 31)]
    assert AuditEvent.objects.filter(action=AuditAction.SET_REPORTING_DATES).count() == 1
    assert not ReportingDate.objects.filter(school=world.school_b).exists()


def test_a_new_reporting_date_in_the_past_is_refused(client, world, school_reviewer, settings):
    today = timezone.localdate()
    settings.GRADUATION_YEAR = today.year
    client.force_login(school_reviewer)
    yesterday = today - timedelta(days=1)
    if yesterday.year != today.year:
        pytest.skip("on 1 January yesterday is last year")
    response = client.post(reverse("reviews:reporting_dates"), {"date_0": yesterday.isoformat()})
    assert response.status_code == 400
    assert "cannot be in the past" in response.content.decode() or "不能" in (
        response.content.decode()
    )
    assert not ReportingDate.objects.exists()


def test_a_reporting_date_outside_the_year_is_refused(world, school_reviewer):
    year = timezone.localdate().year + 1
    with pytest.raises(ValidationError):
        reporting_dates_set(
            school=world.school_a, year=year, dates=[date(year + 1, 1, 1)], by=school_reviewer
        )


@pytest.mark.parametrize("who", ["college_reviewer", "other_school_reviewer"])
def test_only_the_school_s_reviewers_set_its_dates(request, world, who):
    from django.core.exceptions import PermissionDenied

    year = timezone.localdate().year + 1
    with pytest.raises(PermissionDenied):
        reporting_dates_set(
            school=world.school_a,
            year=year,
            dates=[date(year, 7, 1)],
            by=request.getfixturevalue(who),
        )
    assert not ReportingDate.objects.exists()


def test_college_staff_cannot_open_the_reporting_dates_page(client, college_reviewer):
    client.force_login(college_reviewer)
    assert client.get(reverse("reviews:reporting_dates")).status_code == 403


def test_the_pages_read_a_fixed_number_of_queries(
    client, world, cohort, school_reviewer, django_assert_max_num_queries
):
    snapshot = _take_this_class(world)
    for _ in range(20):
        f.make_record(world.major_a1)
    client.force_login(school_reviewer)
    client.get(reverse("reviews:statistics"), {"as_of": snapshot.pk})  # sign-in caches
    with django_assert_max_num_queries(15):
        client.get(reverse("reviews:reporting_dates"))
    with django_assert_max_num_queries(15):
        client.get(reverse("reviews:snapshot_changes", args=[snapshot.pk]))
    from django.core.cache import cache

    cache.clear()
    with django_assert_max_num_queries(15):
        client.get(reverse("reviews:statistics"), {"as_of": snapshot.pk})
