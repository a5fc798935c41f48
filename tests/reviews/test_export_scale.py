"""The national export at any scope: the same rows as the model-by-model export it
replaced, a fixed number of queries per chunk whatever the number of graduates, and the
keys a snapshot stores with each row."""

from datetime import date

import pytest
from django.db.models import Q
from django.utils import timezone, translation

from agreements.models import Agreement, Registration
from agreements.registrations.models import OTHER_KINDS
from destreg.lib.db import any_of
from reviews import exporting
from reviews.exporting import COLUMNS, export_rows, record_rows
from students.models import RegistryRecord
from tests import factories as f
from tests.reviews.test_export_columns import (
    OTHER_VALUES,
    _record,
    _register,
    expected,  # noqa: F401  (a fixture: every destination type once)
)

pytestmark = pytest.mark.django_db


# --- The export as it was built before it read plain values (kept here as the oracle). ---
def _code(code) -> tuple[str, str]:
    return (code.code, code.name) if code is not None else ("", "")


def _unit_row(source) -> list[str]:
    if source is None:
        return [""] * 12
    if isinstance(source, Agreement):
        e = source.employer
        name, uscc = source.unit_name or e.name, source.unit_uscc or e.uscc
        nature, industry, region = e.nature, e.industry, e.region
    else:
        name = source.unit_name or source.org_name or source.institution
        uscc = source.unit_uscc or source.org_uscc
        nature, industry, region = source.unit_nature, source.unit_industry, source.unit_region
    return [
        timezone.localdate(source.signed_at).isoformat() if source.signed_at else "",
        name,
        uscc,
        *_code(nature),
        *_code(industry),
        region.code if region else "",
        region.full_name if region else "",
        *_code(source.job_category),
        source.number or "",
    ]


def _study_row(source) -> list[str]:
    if source is None:
        return [""] * 9
    if isinstance(source, Agreement):
        return [source.employer.address, *[""] * 8]
    further, abroad = source.kind == "further_study", source.kind == "study_abroad"
    country = source.country
    return [
        source.unit_address,
        source.institution if further else "",
        source.program if further else "",
        country.code if abroad and country else "",
        (country.name if country else source.country_legacy) if abroad else "",
        source.institution if abroad else "",
        source.institution_foreign if abroad else "",
        source.program if abroad else "",
        source.program_foreign if abroad else "",
    ]


def _reference_rows(records) -> list[list[str]]:
    out = []
    for r in records.order_by("school_id", "student_no"):
        student = getattr(r, "student", None)
        source = None
        if student is not None:
            source = student.registrations.filter(status=Registration.Status.APPROVED).first()
            source = student.agreements.filter(status=Agreement.Status.SIGNED).first() or source
        out.append(
            [
                r.student_no,
                r.name,
                str(r.get_gender_display()),
                r.origin_region.full_name,
                r.origin_region.code,
                str(r.ethnicity),
                str(r.political_status),
                str(r.urban_rural or ""),
                str(r.education_level),
                r.major.name,
                r.major.code,
                r.graduation_date.isoformat(),
                *_code(r.destination),
                *_unit_row(source),
                r.candidate_no,
                r.birth_date.isoformat() if r.birth_date else "",
                *_code(r.study_mode),
                r.sponsor_unit,
                str(r.get_study_form_display()) if r.study_form else "",
                r.enrolment_date.strftime("%Y-%m") if r.enrolment_date else "",
                *_study_row(source),
            ]
        )
    return out


# --- Tests ---


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_the_rows_are_those_of_the_model_by_model_export(expected, world, language):  # noqa: F811
    """Every destination type, a graduate without one, and another school's graduates."""
    f.make_student(f.make_record(world.major_b1, gender=2, birth_date=date(2004, 1, 2)))
    f.make_record(world.major_b1)
    records = RegistryRecord.objects.all()
    with translation.override(language):  # code names follow the language, like before
        rows = list(export_rows(records))
        assert rows == _reference_rows(records)
    assert len(rows) == len(expected) + 2 and all(len(row) == len(COLUMNS) for row in rows)


def test_any_scope_is_a_queryset_of_records(world):
    """A college, a school, or every school (a province's or the country's dashboard)."""
    for major in (world.major_a1, world.major_a2, world.major_b1, world.major_a1):
        f.make_record(major)
    every = [row[0] for row in export_rows(RegistryRecord.objects.all())]
    school_a = [row[0] for row in export_rows(RegistryRecord.objects.filter(school=world.school_a))]
    school_b = [row[0] for row in export_rows(RegistryRecord.objects.filter(school=world.school_b))]
    college = [row[0] for row in export_rows(RegistryRecord.objects.filter(college=world.a1))]
    assert len(every) == 4 and sorted(school_a + school_b) == sorted(every)
    # Grouped by school, then by 学号.
    first = school_a if world.school_a.pk < world.school_b.pk else school_b
    assert every[: len(first)] == first and school_a == sorted(school_a)
    assert len(college) == 2 and set(college) < set(school_a)


def _graduates(world, employer_user, count: int, start: int = 0) -> None:
    """``count`` graduates: a third signed online, a third with an approved registration
    (each of a kind of its own), a third without a destination."""
    kinds = list(OTHER_KINDS)
    for n in range(start, start + count):
        major = (world.major_a1, world.major_a2, world.major_b1)[n % 3]
        if n % 3 == 0:
            student = f.make_student(f.make_record(major))
            invitation = f.make_invitation(employer_user.employer, student, sent_by=employer_user)
            Agreement.objects.create(
                **{
                    name: getattr(invitation, name)
                    for name in ("position", "work_location", "hukou", "job_category")
                },
                invitation=invitation,
                student=student,
                employer=invitation.employer,
                school=student.record.school,
                college=student.record.college,
                status=Agreement.Status.SIGNED,
                signed_at=timezone.now(),
                number=f"Q{n:08d}",
            )
        elif n % 3 == 1:
            kind = kinds[n % len(kinds)]
            _register(world, f"G{n:04d}", "other", {"kind": kind} | OTHER_VALUES[kind])
        else:
            _record(world, f"H{n:04d}")


def _queries(django_assert_max_num_queries, records) -> int:
    with django_assert_max_num_queries(100) as captured:
        rows = list(export_rows(records))
    assert rows
    return len(captured.captured_queries)


def test_the_queries_do_not_grow_with_the_graduates(
    world, employer_user, django_assert_max_num_queries
):
    _graduates(world, employer_user, 6)
    few = _queries(django_assert_max_num_queries, RegistryRecord.objects.all())
    _graduates(world, employer_user, 30, start=6)
    many = _queries(django_assert_max_num_queries, RegistryRecord.objects.all())
    assert RegistryRecord.objects.count() == 36
    assert many == few <= 6  # codes, regions, the records, majors, registrations, agreements


def test_each_chunk_costs_at_most_three_queries(
    world, employer_user, django_assert_max_num_queries, monkeypatch
):
    _graduates(world, employer_user, 12)
    monkeypatch.setattr(exporting, "CHUNK", 3)
    queries = _queries(django_assert_max_num_queries, RegistryRecord.objects.all())
    assert queries <= 3 + 3 * (12 // 3)  # setup + (majors, registrations, agreements) a chunk


def test_record_rows_give_each_row_its_record_keys(expected, world):  # noqa: F811
    pairs = list(record_rows(RegistryRecord.objects.filter(school=world.school_a)))
    assert [row for _keys, row in pairs] == list(
        export_rows(RegistryRecord.objects.filter(school=world.school_a))
    )
    for keys, row in pairs:
        record = RegistryRecord.objects.select_related("destination").get(pk=keys.pk)
        assert (keys.student_no, keys.name, keys.gender) == (row[0], row[1], record.gender)
        assert (keys.college_id, keys.major_id, keys.education_level_id) == (
            record.college_id,
            record.major_id,
            record.education_level_id,
        )
        assert keys.destination_id == record.destination_id
        assert keys.destination_code == (record.destination.code if record.destination else "")


def test_any_of_finds_what_in_finds(world):
    records = [f.make_record(world.major_a1) for _ in range(4)]
    wanted = [records[0].pk, records[2].pk, 10**9]
    found = RegistryRecord.objects.filter(any_of("pk", wanted))
    assert set(found.values_list("pk", flat=True)) == {records[0].pk, records[2].pk}
    assert not RegistryRecord.objects.filter(any_of("pk", [])).exists()
    assert RegistryRecord.objects.filter(Q(any_of("pk", wanted)) | Q(pk=records[1].pk)).count() == 3
