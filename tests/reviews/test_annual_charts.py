"""The annual report's bar charts are laid out on the server: lengths, labels, the cut."""

from reviews.annual import Rate, Share
from reviews.annual_report import (
    CHART_WIDTH,
    LABEL_WIDTH,
    MAX_BARS,
    VALUE_WIDTH,
    bars,
    rate_bars,
    share_bars,
)

PLOT = CHART_WIDTH - LABEL_WIDTH - VALUE_WIDTH


def test_a_rate_bar_is_as_long_as_its_rate_of_a_full_bar():
    chart = rate_bars([Rate("甲学院", 4, 3), Rate("乙学院", 4, 4), Rate("丙学院", 0, 0)])
    assert [bar.width for bar in chart.bars] == [round(PLOT * 0.75, 1), PLOT, 0]
    assert [bar.value for bar in chart.bars] == ["75.0%", "100.0%", "0.0%"]
    assert chart.bars[0].value_x == LABEL_WIDTH + chart.bars[0].width + 3


def test_shares_scale_to_the_largest_and_name_the_unregistered():
    chart = share_bars([Share("北京市", 6, 10), Share("上海市", 3, 10), Share("", 1, 10)])
    assert [bar.width for bar in chart.bars] == [PLOT, PLOT / 2, round(PLOT / 6, 1)]
    assert [bar.label for bar in chart.bars] == ["北京市", "上海市", "未登记"]
    assert [bar.value for bar in chart.bars] == ["60.0%", "30.0%", "10.0%"]


def test_a_long_list_is_cut_and_says_how_many_are_left_to_the_table():
    items = [(f"专业{n}", float(n), str(n)) for n in range(MAX_BARS + 4)]
    chart = bars(items)
    assert len(chart.bars) == MAX_BARS and chart.more == 4
    assert chart.height > MAX_BARS * 10  # every bar has its row
    tops = [bar.y for bar in chart.bars]
    assert tops == sorted(tops) and len(set(tops)) == MAX_BARS


def test_long_labels_are_shortened_with_an_ellipsis():
    chart = bars([("信息传输、软件和信息技术服务业", 1.0, "1")])
    assert chart.bars[0].label.endswith("…") and len(chart.bars[0].label) == 10


def test_an_empty_chart_has_no_bars():
    chart = bars([])
    assert chart.bars == [] and chart.more == 0
