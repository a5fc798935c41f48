import csv
import io
import re
from datetime import date, datetime, timedelta

from django.conf import settings
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.html import escape
from openpyxl import load_workbook

from agreements.online import services as agreement_services
from destreg.audit.changes import record_event
from destreg.audit.models import AuditAction
from destreg.lib.cache import FORGOTTEN
from reviews import stats
from reviews.exporting import COLUMNS
from students.models import Gender, RegistryRecord, current_graduation_year
from students.tallies import destination_set
from tests import factories as f

STATISTICS = reverse("reviews:statistics")


def _with_destination(major, code, gender=Gender.MALE, at=None, **fields):
    record = f.make_record(major, gender=gender, **fields)
    if code:
        destination_set(
            RegistryRecord.objects.filter(pk=record.pk), f.code("destination", code), at
        )
    return record


def _page(client, user, language="zh-hans") -> str:
    client.force_login(user)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language  # the language switch
    return client.get(STATISTICS).content.decode()


def _overall(page: str) -> str:
    """The overall card's "placed / total"."""
    return re.search(r'big-number">[^<]*</div>\s*<div class="small">([^<]*)<', page).group(1)


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
    with translation.override("zh-hans"):
        shown = stats.present(figures)
    assert {(r.label, r.placed, r.total) for r in shown["by_gender"]} == {
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


def test_the_platform_admins_page_shows_the_country_by_school(
    client, world, platform_admin, school_reviewer
):
    """The platform admin's scope is the whole country: one row per school (from the school
    counters), not every college and major; a school's reviewer still sees its colleges and
    majors."""
    _with_destination(world.major_a1, "10")
    _with_destination(world.major_a2, None)
    _with_destination(world.major_b1, "75")
    figures = stats.compute(platform_admin)
    rows = {rate.label: (rate.placed, rate.total) for rate in figures["by_school"]}
    assert rows == {world.school_a.name: (1, 2), world.school_b.name: (1, 1)}
    assert figures["by_college"] == figures["by_major"] == []
    page = _page(client, platform_admin)
    assert escape(world.school_b.name) in page and world.major_a1.name not in page
    page = _page(client, school_reviewer)
    assert world.major_a1.name in page and escape(world.school_b.name) not in page


def test_the_page_renders_with_a_constant_number_of_queries(
    client, world, college_reviewer, django_assert_max_num_queries
):
    for _ in range(20):
        _with_destination(world.major_a1, "10")
    client.force_login(college_reviewer)
    with django_assert_max_num_queries(17):  # 16, and the snapshots to pick "as of" from
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

    job = f.make_export(college_reviewer, fmt="csv", status="running", total=100_000, done=42_000)
    client.force_login(college_reviewer)
    page = client.get(reverse("reviews:export", args=[job.pk])).content.decode()
    assert "42000" in page.replace(",", "") and 'http-equiv="refresh"' in page
    client.force_login(other_college_reviewer)
    assert client.get(reverse("reviews:export", args=[job.pk])).status_code == 404


def test_the_export_writes_in_chunks_with_progress(world, school_reviewer, monkeypatch):
    from reviews import exporting
    from reviews.tasks import export_now

    monkeypatch.setattr(exporting, "CHUNK", 3)
    for _ in range(7):
        f.make_record(world.major_a1)

    job = f.make_export(school_reviewer, fmt="csv")
    export_now(job.pk)
    job.refresh_from_db()
    assert (job.status, job.total, job.done) == ("done", 7, 7)
    with job.file.open("rb") as handle:
        assert len(handle.read().decode("utf-8-sig").splitlines()) == 8


# --- cached per scope, as numbers; labelled in the reader's language -------------------------


def test_the_cached_figures_hold_no_words_and_serve_every_language(world, college_reviewer):
    _with_destination(world.major_a1, "10", Gender.FEMALE)
    cache.clear()  # the record's save marked the scope forgotten for a few seconds
    with translation.override("zh-hans"):
        stats.cached(college_reviewer)  # a Chinese reader fills the cache
    kept = cache.get(stats.cache_key(stats.scope_key(college_reviewer)))
    assert [rate.label for rate in kept["by_gender"]] == [str(Gender.FEMALE.value)]
    with translation.override("en"):
        english = stats.present(stats.cached(college_reviewer))
    with translation.override("zh-hans"):
        chinese = stats.present(stats.cached(college_reviewer))
    assert [rate.label for rate in english["by_gender"]] == ["Female"]
    assert [rate.label for rate in chinese["by_gender"]] == ["女"]


def test_the_page_speaks_the_readers_language_after_another_filled_the_cache(
    client, world, college_reviewer, agreement
):
    cache.clear()
    chinese = _page(client, college_reviewer, "zh-hans")
    english = _page(client, college_reviewer, "en")
    assert "男" in chinese and "Male" not in chinese
    assert "Male" in english and "男" not in english
    assert "Online agreement" in english  # the pending work's kind, too
    assert "Class of" in english and "届" in chinese


def test_each_scope_has_its_own_figures(world, college_reviewer, school_reviewer):
    _with_destination(world.major_a1, "10")
    _with_destination(world.major_a2, None)
    cache.clear()
    assert stats.cached(college_reviewer)["overall"].total == 1
    assert stats.cached(school_reviewer)["overall"].total == 2  # not the college's copy
    assert stats.cached(college_reviewer)["overall"].total == 1


# --- forgotten when what they count changes ---------------------------------------------------


def test_an_approved_destination_shows_at_once_in_both_languages(
    client, world, agreement, college_reviewer, school_reviewer
):
    cache.clear()
    for language in ("zh-hans", "en"):
        assert _overall(_page(client, school_reviewer, language)) == "0 / 1"
        assert _overall(_page(client, college_reviewer, language)) == "0 / 1"
    for reviewer in (school_reviewer, college_reviewer):  # both served from the cache
        assert cache.get(stats.cache_key(stats.scope_key(reviewer)))["overall"].total == 1
    agreement_services.agreement_approve(agreement=agreement, reviewer=college_reviewer)
    agreement_services.agreement_approve(agreement=agreement, reviewer=school_reviewer)
    for language in ("zh-hans", "en"):
        assert _overall(_page(client, school_reviewer, language)) == "1 / 1"
        assert _overall(_page(client, college_reviewer, language)) == "1 / 1"


def test_pending_work_moves_with_each_decision(world, agreement, college_reviewer, school_reviewer):
    cache.clear()
    assert stats.cached(college_reviewer)["pending"] == [("college", "online", 1)]
    agreement_services.agreement_approve(agreement=agreement, reviewer=college_reviewer)
    assert stats.cached(college_reviewer)["pending"] == []
    assert stats.cached(school_reviewer)["pending"] == [("school", "online", 1)]


def test_a_termination_forgets_its_agreements_scopes(signed, world):
    from agreements.models import Termination

    termination = Termination(agreement=signed)
    assert set(stats.statistics_keys_of(termination)) == {
        stats.cache_key("all"),
        stats.cache_key(f"school:{world.school_a.pk}"),
        stats.cache_key(f"college:{world.a1.pk}"),
    }


def test_a_record_saved_or_imported_forgets_its_schools_figures(
    world, college_reviewer, other_college_reviewer, school_reviewer, other_school_reviewer
):
    readers = (college_reviewer, other_college_reviewer, school_reviewer, other_school_reviewer)
    record = _with_destination(world.major_a1, None)
    cache.clear()
    for reader in readers:
        stats.cached(reader)

    def forgotten() -> set:
        return {
            reader
            for reader in readers
            if cache.get(stats.cache_key(stats.scope_key(reader))) == FORGOTTEN
        }

    record.mobile = "13900000000"
    record.save(update_fields=["mobile"])  # not counted: the figures stay
    assert forgotten() == set()
    record.gender = Gender.FEMALE
    record.save()
    # every college of the school: the record may have come from another one
    assert forgotten() == {college_reviewer, other_college_reviewer, school_reviewer}
    assert cache.get(stats.cache_key("all")) is None or cache.get(stats.cache_key("all")) == (
        FORGOTTEN
    )

    cache.clear()
    for reader in readers:
        stats.cached(reader)
    record_event(world.school_b, by=None, action=AuditAction.REGISTRY_IMPORT)  # an import
    assert forgotten() == {other_school_reviewer}


def test_a_recompute_does_not_overwrite_a_pending_change(world, college_reviewer):
    key = stats.cache_key(stats.scope_key(college_reviewer))
    cache.set(key, FORGOTTEN, 10)
    stats.cached(college_reviewer, refresh=True)
    stats.cached(college_reviewer)
    assert cache.get(key) == FORGOTTEN


# --- majors that share a name ------------------------------------------------------------------


def test_majors_of_the_same_name_are_told_apart(client, world, school_reviewer):
    postgraduate = f.code("education_level", "11")
    majors = [
        f.make_major(world.a1, name="软件工程", code="080902"),
        f.make_major(world.a1, name="软件工程", code="083500", education_level=postgraduate),
        f.make_major(world.a2, name="软件工程", code="080903"),
    ]
    for major in majors:
        _with_destination(major, "10")
    rows = [r for r in stats.compute(school_reviewer)["by_major"] if r.label == "软件工程"]
    assert sorted(r.code for r in rows) == ["080902", "080903", "083500"]
    page = _page(client, school_reviewer)
    for code in ("080902", "080903", "083500"):
        assert f'软件工程 <span class="text-muted small">{code}</span>' in page
    assert f"甲一学院 · {postgraduate.name}" in page and "甲二学院 · " in page
    assert escape(f"甲一学院 · {postgraduate.name_en}") in _page(client, school_reviewer, "en")


def test_code_tables_are_named_in_the_readers_language(client, world, college_reviewer):
    record = _with_destination(world.major_a1, "10")
    level, destination = record.education_level, f.code("destination", "10")
    assert level.name_en and destination.name_en
    chinese = _page(client, college_reviewer, "zh-hans")
    english = _page(client, college_reviewer, "en")  # from the copy the Chinese page cached
    assert level.name in chinese and destination.name in chinese
    assert escape(level.name_en) in english and escape(destination.name_en) in english
    assert level.name not in english and destination.name not in english


# --- week by week --------------------------------------------------------------------------------


def _at(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 12, tzinfo=timezone.get_current_timezone())


def test_the_weekly_curve_counts_approvals_up_to_each_week(
    world, college_reviewer, django_assert_num_queries
):
    year = 2026
    start, n_weeks = stats.season_weeks(year)
    assert start == date(2025, 9, 1) and start.weekday() == 0 and n_weeks == 53
    before_start, _ = stats.season_weeks(year - 1)
    for day in (start + timedelta(days=2), start + timedelta(days=9), start + timedelta(days=10)):
        _with_destination(world.major_a1, "10", at=_at(day), graduation_year=year)
    _with_destination(world.major_a1, "70", at=_at(start), graduation_year=year)  # not placed
    _with_destination(
        world.major_a1, "80", at=_at(start - timedelta(days=30)), graduation_year=year
    )
    _with_destination(world.major_a2, "10", at=_at(start), graduation_year=year)  # other college
    _with_destination(world.major_a1, "11", at=_at(before_start), graduation_year=year - 1)
    _with_destination(world.major_a1, None, graduation_year=year - 1)

    with django_assert_num_queries(2):
        this, before = stats.weekly_progress(college_reviewer, year, today=start + timedelta(22))
    assert (this.year, this.total, before.year, before.total) == (2026, 5, 2025, 2)
    # before the season: week 1; then one in week 1, two in week 2; up to this week (4)
    assert [(w.placed, w.total) for w in this.weeks] == [(2, 5), (4, 5), (4, 5), (4, 5)]
    assert this.weeks[1].ends == start + timedelta(days=13) and this.weeks[1].percent == 80.0
    assert len(before.weeks) == stats.season_weeks(year - 1)[1]  # the whole season
    assert {w.percent for w in before.weeks} == {50.0}


def test_approvals_after_the_season_count_in_its_last_week(world, college_reviewer):
    year = 2026
    _with_destination(world.major_a1, "10", at=_at(date(year, 11, 1)), graduation_year=year)
    _with_destination(world.major_a1, "10", graduation_year=year)  # no approval time
    this, before = stats.weekly_progress(college_reviewer, year, today=date(year + 1, 1, 1))
    assert [w.placed for w in this.weeks[:1]] == [1] and this.weeks[-1].placed == 2
    assert len(this.weeks) == 53 and before.weeks == []  # no class of 2025 here


def test_the_chart_lays_both_curves_out_on_the_weeks_of_the_season(world, college_reviewer):
    year = current_graduation_year()
    start, n_weeks = stats.season_weeks(year)
    _with_destination(world.major_a1, "10", at=_at(start), graduation_year=year)
    _with_destination(world.major_a1, None, graduation_year=year)
    _with_destination(world.major_a1, "10", at=_at(date(year - 2, 1, 1)), graduation_year=year - 1)
    chart = stats.chart(stats.weekly_progress(college_reviewer, year, today=start + timedelta(8)))
    this, before = chart.series
    assert [p.week.percent for p in this.points] == [50.0, 50.0]
    assert this.points[0].x == chart.left and before.points[-1].x == chart.right
    assert before.points[0].y == chart.top  # 100 %
    assert this.points[0].y == (chart.top + chart.bottom) / 2  # 50 %
    assert chart.grid[0][0] == chart.bottom
    assert [month.month for _, month in chart.ticks][:3] == [10, 11, 12]  # 1 September: x < 0
    assert len(chart.rows) == n_weeks
    assert chart.rows[0][2].percent == 50.0 and chart.rows[2][2] is None


def test_the_page_draws_the_chart_with_numbers_on_hover_and_a_table(
    client, world, college_reviewer
):
    year = current_graduation_year()
    start, _ = stats.season_weeks(year)
    _with_destination(world.major_a1, "10", at=_at(start + timedelta(days=1)))
    _with_destination(world.major_a1, None)
    page = _page(client, college_reviewer, "en")
    svg = page[page.index("<svg viewBox") : page.index("</svg>")]
    assert 'role="img"' in svg and 'aria-labelledby="progress-title progress-desc"' in svg
    first = start + timedelta(days=6)
    assert f"Class of {year}, week ending {first:%Y-%m-%d}: 50.0% (1 of 2)</title>" in svg
    assert "http" not in svg.replace("http://www.w3.org", "")  # nothing loaded from elsewhere
    table = page[page.index("<details") : page.index("</details>")]
    cells = [
        " ".join(re.sub(r"<[^>]+>", "", cell).split())
        for cell in re.findall(r"<td[^>]*>(.*?)</td>", table, re.S)
    ]
    assert cells[:3] == [f"{first:%Y-%m-%d}", "50.0% (1 / 2)", "—"]
    assert f"Class of {year - 1}" in table
    chinese = _page(client, college_reviewer, "zh-hans")
    assert f"{year}届" in chinese
