"""The figures of the annual 就业质量年度报告, a pure function of per-graduate rows.

``figures(rows)`` takes a list of ``GraduateRow`` (one per graduate of the class) and returns
every number the report prints, so the report can be drawn from the live data
(``reviews.annual_report.live_rows``) or from a snapshot taken at a cut-off, and tested
against a hand-built data set without a database.

Labels are the names from the code tables (Chinese); a gender is its choice value, labelled
when the report is rendered.
"""

from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from math import floor

from reviews.stats import PLACED_CODES

# The formula the statistics page uses too (reviews/stats.py, PLACED_CODES), named with the
# year of the definition: a report says which one it counted with.
FORMULA_VERSION = "2024"

# 升学: in China (80) and abroad (85).
FURTHER_STUDY = "80"
ABROAD = "85"
TOP_INSTITUTIONS = 10
# Graduates whose destination is not registered yet (no code).
UNREGISTERED = ""


@dataclass(frozen=True)
class GraduateRow:
    """One graduate of the class as the report counts them.

    ``destination_code`` is the top-level 毕业去向 code ("" while none is registered);
    ``placed`` whether it counts in 去向落实率; the unit fields come from the approved
    agreement or registration (blank when there is none or it does not say);
    ``institution`` is the school of 升学 (80) or 出国、出境 (85); ``monthly_pay`` the salary
    after probation of a signed agreement (yuan a month), None otherwise."""

    college: str
    major: str
    level: str
    gender: int
    destination_code: str = UNREGISTERED
    destination_name: str = ""
    placed: bool = False
    unit_province: str = ""
    industry: str = ""
    nature: str = ""
    institution: str = ""
    monthly_pay: int | None = None
    # The level's national code (01 博士 … 41 专科): the order levels are listed in.
    level_code: str = ""


def is_placed(code: str, parent_code: str = "") -> bool:
    """The 2024 definition (FORMULA_VERSION) of a placed graduate."""
    return code in PLACED_CODES or parent_code in PLACED_CODES


@dataclass(frozen=True)
class Rate:
    """去向落实率 of one group: ``placed`` of ``total`` graduates."""

    label: str
    total: int
    placed: int
    # Majors: the college they belong to (two colleges may teach a major of one name).
    group: str = ""

    @property
    def percent(self) -> float:
        return round(100 * self.placed / self.total, 1) if self.total else 0.0


@dataclass(frozen=True)
class Share:
    """``count`` of ``of`` (the section's base) fall into ``label``."""

    label: str
    count: int
    of: int

    @property
    def percent(self) -> float:
        return round(100 * self.count / self.of, 1) if self.of else 0.0


@dataclass(frozen=True)
class Pay:
    """Monthly pay quantiles (yuan) over ``count`` agreements that state one."""

    label: str
    count: int
    p25: float
    median: float
    p75: float


@dataclass(frozen=True)
class Figures:
    overall: Rate
    by_college: list[Rate]
    by_major: list[Rate]
    by_level: list[Rate]
    by_gender: list[Rate]
    structure: list[Share]
    provinces: list[Share]
    industries: list[Share]
    natures: list[Share]
    further_study: list[Share]
    abroad: list[Share]
    pay: list[Pay]
    further_study_total: int
    abroad_total: int


def rates(rows: Iterable[GraduateRow], key: Callable[[GraduateRow], tuple[str, str]]) -> list[Rate]:
    """去向落实率 per (group, label) of ``key``, ordered by it."""
    totals: Counter[tuple[str, str]] = Counter()
    placed: Counter[tuple[str, str]] = Counter()
    for row in rows:
        totals[key(row)] += 1
        placed[key(row)] += row.placed
    return [
        Rate(label, totals[group, label], placed[group, label], group)
        for group, label in sorted(totals)
    ]


def shares(values: Iterable[str], of: int | None = None) -> list[Share]:
    """How many rows have each value, the most frequent first (then by name); blanks are
    left out. ``of`` is the base of the percentages (default: the counted values)."""
    counted = Counter(value for value in values if value)
    base = sum(counted.values()) if of is None else of
    ordered = sorted(counted.items(), key=lambda item: (-item[1], item[0]))
    return [Share(label, n, base) for label, n in ordered]


def quantile(values: list[int], p: float) -> float:
    """The ``p`` quantile of sorted ``values`` by linear interpolation between the closest
    ranks (the "inclusive" method: position p·(n−1) counted from 0)."""
    if not values:
        raise ValueError("no values")
    position = p * (len(values) - 1)
    low = floor(position)
    high = min(low + 1, len(values) - 1)
    return values[low] + (values[high] - values[low]) * (position - low)


def pay(label: str, rows: Iterable[GraduateRow]) -> Pay | None:
    values = sorted(row.monthly_pay for row in rows if row.monthly_pay is not None)
    if not values:
        return None
    return Pay(
        label,
        len(values),
        quantile(values, 0.25),
        quantile(values, 0.5),
        quantile(values, 0.75),
    )


def figures(rows: list[GraduateRow]) -> Figures:
    """Every figure of the report from the class's rows (see the module's docstring)."""
    total = len(rows)
    names = {row.destination_code: row.destination_name for row in rows}
    structure = [
        Share(f"{code} {names[code]}" if code else "", n, total)
        for code, n in sorted(Counter(row.destination_code for row in rows).items())
    ]
    # The unregistered last, after the codes in their national order.
    structure.sort(key=lambda share: share.label == "")
    further = [row for row in rows if row.destination_code == FURTHER_STUDY]
    abroad = [row for row in rows if row.destination_code == ABROAD]
    by_level: dict[str, list[GraduateRow]] = defaultdict(list)
    level_order: dict[str, tuple[str, str]] = {}
    for row in rows:
        by_level[row.level].append(row)
        level_order[row.level] = (row.level_code or "~", row.level)
    levels = sorted(by_level, key=level_order.__getitem__)
    pays = [pay("", rows)] + [pay(level, by_level[level]) for level in levels]
    return Figures(
        overall=Rate("", total, sum(row.placed for row in rows)),
        by_college=rates(rows, lambda row: ("", row.college)),
        by_major=rates(rows, lambda row: (row.college, f"{row.major}（{row.level}）")),
        by_level=sorted(
            rates(rows, lambda row: ("", row.level)), key=lambda r: level_order[r.label]
        ),
        by_gender=rates(rows, lambda row: ("", str(row.gender))),
        structure=structure,
        provinces=shares(row.unit_province for row in rows),
        industries=shares(row.industry for row in rows),
        natures=shares(row.nature for row in rows),
        # Of every graduate of the kind, whether or not they named the institution.
        further_study=shares((row.institution for row in further), len(further))[:TOP_INSTITUTIONS],
        abroad=shares((row.institution for row in abroad), len(abroad))[:TOP_INSTITUTIONS],
        pay=[p for p in pays if p is not None] if pays[0] is not None else [],
        further_study_total=len(further),
        abroad_total=len(abroad),
    )
