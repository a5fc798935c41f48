"""The destination tallies (students/tallies.py) equal a recount of the registry records
after any sequence of writes, and the statistics read from them equal those counted from
the rows."""

from collections import Counter

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import transaction
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from agreements.online import services as agreement_services
from destreg.accounts.models import Role
from reviews import stats
from students.importing import registry_import
from students.models import (
    DestinationTally,
    Gender,
    RegistryRecord,
    SchoolTally,
    current_graduation_year,
)
from students.tallies import (
    SCHOOLS,
    destination_set,
    differences,
    key_of,
    record_delete,
    record_save,
    recount,
    tallied,
    tally_apply,
    upkeep_paused,
)
from tests import factories as f

pytestmark = pytest.mark.django_db

# Placed (10, 11, 75, 80), a child of a placed code (801), not placed (70, 76 is placed),
# and no destination.
CODES = ["10", "11", "70", "75", "76", "80", "801", None]

create = st.tuples(
    st.just("create"), st.integers(0, 2), st.sampled_from(Gender.values), st.integers(0, 1)
)
place = st.tuples(st.just("place"), st.integers(0, 99), st.sampled_from(CODES))
move = st.tuples(
    st.just("move"), st.integers(0, 99), st.integers(0, 2), st.sampled_from(Gender.values)
)
delete = st.tuples(st.just("delete"), st.integers(0, 99))
# A file of some existing graduates (by position) and new ones, each in college A1 or A2.
imported = st.tuples(
    st.just("import"),
    st.lists(
        st.tuples(st.integers(-3, 99), st.integers(0, 1), st.sampled_from(Gender.values)),
        min_size=1,
        max_size=6,
    ),
)
operations = st.lists(st.one_of(create, place, move, delete, imported), max_size=25)


def _viewers(world):
    return [
        f.make_user(Role.PLATFORM_ADMIN, is_staff=True),
        f.make_user(Role.SCHOOL_REVIEWER, school=world.school_a),
        f.make_user(Role.SCHOOL_REVIEWER, school=world.school_b),
        f.make_user(Role.COLLEGE_REVIEWER, school=world.school_a, college=world.a1),
        f.make_user(Role.COLLEGE_REVIEWER, school=world.school_a, college=world.a2),
    ]


def _run(world, steps) -> None:
    majors = [world.major_a1, world.major_a2, world.major_b1]
    school_a_majors = [world.major_a1, world.major_a2]
    this_year = current_graduation_year()
    for step in steps:
        records = list(RegistryRecord.objects.order_by("pk"))
        kind = step[0]
        if kind == "create":
            _, major, gender, older = step
            f.make_record(majors[major], gender=gender, graduation_year=this_year - older)
        elif not records and kind != "import":
            continue
        elif kind == "place":
            _, n, code = step
            record = records[n % len(records)]
            destination = f.code("destination", code) if code else None
            destination_set(RegistryRecord.objects.filter(pk=record.pk), destination, None)
        elif kind == "move":
            _, n, major, gender = step
            record = records[n % len(records)]
            taken = RegistryRecord.objects.filter(
                school=majors[major].college.school, student_no=record.student_no
            ).exclude(pk=record.pk)
            if taken.exists():  # a student number is one graduate's within a school
                continue
            record.major = majors[major]
            record.college = record.major.college
            record.school = record.college.school
            record.gender = gender
            record_save(record)
        elif kind == "delete":
            record_delete(RegistryRecord.objects.filter(pk=records[step[1] % len(records)].pk))
        else:
            ours = [r for r in records if r.school_id == world.school_a.pk]
            rows, seen = [], set()
            for n, college, gender in step[1]:
                major = school_a_majors[college]
                if n < 0 or not ours:
                    no, name, id_number = f"N{abs(n)}", f"新生{abs(n)}", None
                else:
                    record = ours[n % len(ours)]
                    no, name, id_number = record.student_no, record.name, record.id_number
                if no in seen:
                    continue
                seen.add(no)
                existing = RegistryRecord.objects.filter(school=world.school_a, student_no=no)
                if id_number is None and existing.exists():
                    id_number = existing.get().id_number
                rows.append(
                    f.registry_row(
                        world,
                        no,
                        name,
                        id_number or f.new_id_number(gender),
                        **{
                            "院系": major.college.name,
                            "专业代码": major.code,
                            "性别": "男" if gender == Gender.MALE else "女",
                        },
                    )
                )
            report = registry_import(
                school=world.school_a,
                handle=f.registry_csv(rows),
                filename="x.csv",
                actor=None,
                valid_only=True,
            )
            assert report.imported or report.errors


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(steps=operations)
# A graduate moved to another school, a namesake number imported there, the first moved
# back: the generator must not ask for two graduates with one number in a school.
@example(
    steps=[
        ("import", [(0, 0, 1)]),
        ("move", 0, 2, 1),
        ("import", [(0, 0, 1)]),
        ("move", 0, 0, 1),
    ]
)
def test_the_tallies_equal_a_recount_after_any_writes(world, steps):
    viewers = _viewers(world)
    with transaction.atomic():
        _run(world, steps)
        assert tallied() == recount()
        assert tallied(SCHOOLS) == recount(level=SCHOOLS)
        assert differences() == {}
        for viewer in viewers:
            assert stats.counts(viewer) == stats.counts_from_rows(viewer), viewer.role
        transaction.set_rollback(True)


def test_an_approval_and_a_termination_through_the_services_move_one_graduate(
    world, signed, student, employer_user, college_reviewer, school_reviewer
):
    record = RegistryRecord.objects.get(pk=student.record_id)
    placed = key_of(record)
    assert placed[-1] is not None  # the school's approval registered the destination
    assert tallied() == Counter({placed: 1})
    assert differences() == {}
    figures = stats.counts(college_reviewer)
    assert (figures["overall"].total, figures["overall"].placed) == (1, 1)

    termination = agreement_services.termination_request(
        agreement=signed, user=student.user, reason="个人原因"
    )
    agreement_services.termination_answer(termination=termination, user=employer_user, agree=True)
    for reviewer in (college_reviewer, school_reviewer):
        agreement_services.termination_approve(termination=termination, reviewer=reviewer)
    assert RegistryRecord.objects.get(pk=record.pk).destination is None
    assert tallied() == Counter({(*placed[:-1], None): 1})
    assert differences() == {}
    figures = stats.counts(college_reviewer)
    assert (figures["overall"].total, figures["overall"].placed) == (1, 0)


def test_the_upkeep_paused_leaves_the_counters_alone(world):
    record = f.make_record(world.major_a1)
    with upkeep_paused():
        destination_set(
            RegistryRecord.objects.filter(pk=record.pk), f.code("destination", "10"), None
        )
    assert set(differences().values()) == {(1, 0), (0, 1)}


def test_a_counter_cannot_go_below_zero(world):
    record = f.make_record(world.major_a1)
    with pytest.raises(Exception, match="tally_count_not_negative"), transaction.atomic():
        tally_apply(Counter({key_of(record): -2}))


def test_the_recount_command_reports_a_planted_difference_and_fixes_it(world, capsys):
    record = f.make_record(world.major_a1)
    f.make_record(world.major_a2, gender=Gender.FEMALE)
    call_command("recount_tallies")
    assert "equal the recount" in capsys.readouterr().out

    DestinationTally.objects.filter(college=world.a1).update(count=5)
    with pytest.raises(CommandError, match="1 destination tallies differ"):
        call_command("recount_tallies")
    out = capsys.readouterr().out
    assert f"college_id={world.a1.pk}" in out and "kept 5, recounted 1" in out
    assert f"major_id={record.major_id}" in out

    call_command("recount_tallies", "--fix")
    assert "1 counters rewritten" in capsys.readouterr().out
    assert differences() == {}
    call_command("recount_tallies")


def test_the_recount_checks_the_school_counters_too(world, capsys):
    f.make_record(world.major_a1)
    f.make_record(world.major_a2)  # another college of the same school: one school counter
    assert len(tallied()) == 2 and list(tallied(SCHOOLS).values()) == [2]
    SchoolTally.objects.update(count=3)
    with pytest.raises(CommandError, match="1 destination tallies differ"):
        call_command("recount_tallies")
    out = capsys.readouterr().out
    assert "SchoolTally" in out and f"school_id={world.school_a.pk}" in out
    assert "kept 3, recounted 2" in out
    call_command("recount_tallies", "--fix")
    assert list(tallied(SCHOOLS).values()) == [2] and differences() == {}


def test_the_data_migration_fills_the_counters_from_existing_rows(world):
    from importlib import import_module

    from django.apps import apps

    f.make_record(world.major_a1)
    f.make_record(world.major_a1, gender=Gender.FEMALE)
    f.make_record(world.major_b1)
    DestinationTally.objects.all().delete()
    migration = import_module("students.migrations.0013_tallies_destination_tally")
    migration.fill_tallies(apps, None)
    assert differences() == {}
    assert sum(tallied().values()) == 3
    SchoolTally.objects.all().delete()
    import_module("students.migrations.0014_school_tally").fill_school_tallies(apps, None)
    assert differences() == {}
    assert sum(tallied(SCHOOLS).values()) == 3
