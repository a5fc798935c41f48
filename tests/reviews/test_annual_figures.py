"""The annual report's figures against a hand-built class of ten graduates."""

import pytest

from reviews.annual import GraduateRow, Pay, Rate, Share, figures, quantile

A, B = "甲学院", "乙学院"
BACHELOR, MASTER = "本科生毕业", "硕士生毕业"
IT, FINANCE = "信息传输、软件和信息技术服务业", "金融业"
PRIVATE, STATE = "其他企业", "国有企业"
NAMES = {"10": "签就业协议形式就业", "11": "签劳动合同形式就业", "70": "待就业"}
NAMES |= {"80": "升学", "85": "出国、出境", "": ""}


def row(college, gender, code, placed, **unit):
    major, level = ("软件工程", BACHELOR) if college == A else ("金融学", MASTER)
    return GraduateRow(
        college, major, level, gender, code, NAMES[code], placed, **unit
    )  # fmt: skip


CLASS = [
    row(A, 1, "10", True, unit_province="北京市", industry=IT, nature=PRIVATE, monthly_pay=10000),
    row(A, 2, "10", True, unit_province="上海市", industry=IT, nature=PRIVATE, monthly_pay=8000),
    row(A, 2, "80", True, institution="清华大学"),
    row(A, 1, "70", False),
    row(B, 2, "11", True, unit_province="北京市", industry=FINANCE, nature=STATE),
    row(B, 1, "85", True, institution="University of Oxford"),
    row(B, 1, "80", True, institution="清华大学"),
    row(B, 2, "", False),
    row(
        B, 1, "10", True, unit_province="北京市", industry=FINANCE, nature=STATE, monthly_pay=12000
    ),
    row(B, 2, "80", True, institution="北京大学"),
]


@pytest.fixture
def report():
    return figures(CLASS)


def test_the_overall_rate_counts_every_graduate(report):
    assert report.overall == Rate("", 10, 8)
    assert report.overall.percent == 80.0


def test_rates_by_college_major_level_and_gender(report):
    assert [(r.label, r.total, r.placed, r.percent) for r in report.by_college] == [
        (B, 6, 5, 83.3),  # 乙 sorts before 甲 in code-point order
        (A, 4, 3, 75.0),
    ]
    assert [(r.group, r.label, r.total, r.placed) for r in report.by_major] == [
        (B, "金融学（硕士生毕业）", 6, 5),
        (A, "软件工程（本科生毕业）", 4, 3),
    ]
    assert [(r.label, r.total, r.placed) for r in report.by_level] == [
        (BACHELOR, 4, 3),
        (MASTER, 6, 5),
    ]
    assert [(r.label, r.total, r.placed) for r in report.by_gender] == [("1", 5, 4), ("2", 5, 4)]


def test_the_destination_structure_lists_codes_in_order_and_the_unregistered_last(report):
    assert report.structure == [
        Share("10 签就业协议形式就业", 3, 10),
        Share("11 签劳动合同形式就业", 1, 10),
        Share("70 待就业", 1, 10),
        Share("80 升学", 3, 10),
        Share("85 出国、出境", 1, 10),
        Share("", 1, 10),
    ]
    assert sum(share.count for share in report.structure) == 10
    assert report.structure[0].percent == 30.0


def test_provinces_industries_and_natures_count_the_known_units(report):
    assert report.provinces == [Share("北京市", 3, 4), Share("上海市", 1, 4)]
    assert report.provinces[0].percent == 75.0
    # Ties: by name.
    assert report.industries == [Share(IT, 2, 4), Share(FINANCE, 2, 4)]
    assert report.natures == [Share(PRIVATE, 2, 4), Share(STATE, 2, 4)]


def test_further_study_and_abroad_list_the_top_institutions(report):
    assert report.further_study_total == 3 and report.abroad_total == 1
    assert report.further_study == [Share("清华大学", 2, 3), Share("北京大学", 1, 3)]
    assert report.further_study[0].percent == 66.7
    assert report.abroad == [Share("University of Oxford", 1, 1)]


def test_the_top_institutions_stop_at_ten_but_count_every_graduate():
    rows = [row(A, 1, "80", True, institution=f"大学{n:02d}") for n in range(12)]
    rows.append(row(A, 1, "80", True))  # did not name the institution
    report = figures(rows)
    assert len(report.further_study) == 10
    assert report.further_study_total == 13
    assert report.further_study[0] == Share("大学00", 1, 13)


def test_pay_quantiles_overall_and_by_level(report):
    assert report.pay == [
        Pay("", 3, 9000, 10000, 11000),
        Pay(BACHELOR, 2, 8500, 9000, 9500),
        Pay(MASTER, 1, 12000, 12000, 12000),
    ]


def test_levels_follow_their_national_codes_when_known():
    rows = [
        GraduateRow("甲", "专业", "专科生毕业", 1, level_code="41"),
        GraduateRow("甲", "专业", "博士生毕业", 1, level_code="01", monthly_pay=20000),
        GraduateRow("甲", "专业", "本科生毕业", 1, level_code="31", monthly_pay=9000),
    ]
    report = figures(rows)
    assert [r.label for r in report.by_level] == ["博士生毕业", "本科生毕业", "专科生毕业"]
    assert [p.label for p in report.pay] == ["", "博士生毕业", "本科生毕业"]


def test_a_class_without_agreed_pay_has_no_pay_figures():
    report = figures([row(A, 1, "70", False), row(B, 2, "80", True, institution="清华大学")])
    assert report.pay == []
    assert report.provinces == [] and report.abroad == []


def test_an_empty_class_has_no_rates():
    report = figures([])
    assert report.overall == Rate("", 0, 0) and report.overall.percent == 0.0
    assert report.by_college == [] and report.structure == [] and report.pay == []


@pytest.mark.parametrize(
    ("values", "p", "expected"),
    [
        ([1, 2, 3, 4], 0.25, 1.75),
        ([1, 2, 3, 4], 0.5, 2.5),
        ([1, 2, 3, 4], 0.75, 3.25),
        ([5000], 0.75, 5000),
        ([3000, 9000], 0.5, 6000),
    ],
)
def test_quantiles_interpolate_between_closest_ranks(values, p, expected):
    assert quantile(values, p) == expected
