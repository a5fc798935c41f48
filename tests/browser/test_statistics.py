"""A school reviewer watches the season: the weekly 去向落实率 chart beside last year's."""

from datetime import datetime, timedelta

import pytest
from django.utils import timezone

from reviews import stats
from students.models import RegistryRecord, current_graduation_year
from students.tallies import destination_set
from tests import factories as f
from tests.browser.conftest import login

pytestmark = pytest.mark.browser


def _class_of(year: int, majors, n: int, placed_by_week: list[int]) -> None:
    """``n`` graduates of ``year``; ``placed_by_week[i]`` of them approved in week i."""
    start, _ = stats.season_weeks(year)
    records = [f.make_record(majors[i % len(majors)], graduation_year=year) for i in range(n)]
    ten = f.code("destination", "10")
    placed = iter(records)
    for week, count in enumerate(placed_by_week):
        for day, record in zip(range(count), placed, strict=False):
            at = datetime(
                *(start + timedelta(days=7 * week + day % 5)).timetuple()[:3],
                10,
                tzinfo=timezone.get_current_timezone(),
            )
            destination_set(RegistryRecord.objects.filter(pk=record.pk), ten, at)


def test_a_school_reviewer_reads_the_weekly_chart(page, live_server, world, school_reviewer, shoot):
    year = current_graduation_year()
    majors = [world.major_a1, world.major_a2]
    # An S-curve: slow in the autumn, steep in spring, flat in the summer.
    this_year = [0] * 6 + [1, 1, 2, 2, 2, 3] + [1] * 10 + [3, 4, 4, 3, 2] + [1] * 8
    last_year = [0] * 8 + [1, 1, 1, 2, 2] + [1] * 10 + [3, 3, 4, 3, 2] + [1] * 6
    _class_of(year, majors, 60, this_year)
    _class_of(year - 1, majors, 55, last_year)

    login(page, live_server, school_reviewer.username)
    page.goto(f"{live_server.url}/reviews/statistics/")
    chart = page.locator("main svg.progress-svg")
    assert chart.get_attribute("role") == "img"
    weeks_so_far = len(stats.weekly_progress(school_reviewer)[0].weeks)
    assert chart.locator("g.series-current circle").count() == weeks_so_far
    assert chart.locator("g.series-previous circle").count() == stats.season_weeks(year - 1)[1]
    # The number on hover: each point's <title>.
    last = chart.locator("g.series-current circle title").last.text_content()
    placed = sum(this_year)
    assert last.endswith(f"{100 * placed / 60:.1f}%（{placed} / 60）"), last
    chart.locator("g.series-current circle").nth(20).hover()
    shoot(page, "chart", phone=True)

    # The same figures as a table, for screen readers and phones.
    page.locator("main details summary").click()
    table = page.locator("main details table")
    assert table.is_visible()
    assert f"{year - 1}届" in table.locator("thead").text_content()
    assert f"({placed} / 60)" in table.locator("tbody tr").last.text_content()
    page.locator("main details").scroll_into_view_if_needed()
    shoot(page, "table", phone=True)
