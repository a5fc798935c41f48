"""A graduate has one current-year registry record: another school (or another 学号) cannot
create a second one with contacts of its choosing and confirm the graduate's identity."""

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse

from students import binding, services
from students.importing import registry_import
from students.models import RegistryRecord, RegistryRequest
from tests import factories as f

ID_NUMBER = "110101200301010012"


@pytest.fixture
def victim_record(world):
    return f.make_record(
        world.major_a1, name="李娜", id_number=ID_NUMBER, mobile="13812345678", student_no="A1"
    )


def _school_b_row(world, no, name, id_number, **overrides):
    row = f.registry_row(world, no, name, id_number, 院系=world.b1.name)
    return row | {"专业代码": world.major_b1.code} | overrides


def _import(school, rows, **kwargs):
    headings = f.REGISTRY_CONTACT_HEADINGS
    return registry_import(
        school=school, handle=f.registry_csv(rows, headings=headings), filename="x.csv",
        actor=None, **kwargs,
    )  # fmt: skip


def test_another_school_cannot_import_a_record_with_a_graduate_s_id_number(world, victim_record):
    row = _school_b_row(world, "B1", "李娜", ID_NUMBER, 手机号="13900000001")
    for valid_only in (False, True):
        report = _import(world.school_b, [row], valid_only=valid_only)
        assert report.imported == 0
        assert [error.line for error in report.errors] == [2]
        message = " ".join(report.errors[0].messages)
        assert "ID number" in message or "身份证号" in message
        assert world.school_a.name not in message  # the other school is not named
    assert RegistryRecord.objects.with_id_number(ID_NUMBER).get() == victim_record


def test_the_same_school_cannot_give_the_id_number_to_another_student_number(world, victim_record):
    report = _import(world.school_a, [f.registry_row(world, "A2", "李娜", ID_NUMBER)])
    assert report.imported == 0 and report.errors[0].line == 2
    assert not RegistryRecord.objects.filter(student_no="A2").exists()


def test_the_record_s_own_row_still_updates_it(world, victim_record):
    report = _import(world.school_a, [f.registry_row(world, "A1", "李娜", ID_NUMBER, 民族="03")])
    assert report.ok and report.imported == 1
    victim_record.refresh_from_db()
    assert victim_record.ethnicity.code == "03"


def test_a_file_cannot_give_one_id_number_to_two_rows(world):
    rows = [f.registry_row(world, no, "王五", ID_NUMBER) for no in ("C1", "C2")]
    report = _import(world.school_a, rows, valid_only=True)
    assert report.imported == 1
    assert [error.line for error in report.errors] == [3]
    assert RegistryRecord.objects.get().student_no == "C1"


def test_an_earlier_class_s_record_does_not_block_this_year_s(world):
    f.make_record(world.major_b1, id_number=ID_NUMBER, graduation_year=2025)
    report = _import(world.school_a, [f.registry_row(world, "A9", "李娜", ID_NUMBER)])
    assert report.ok and report.imported == 1


def test_the_import_page_shows_the_row_refused(
    client, world, victim_record, other_school_reviewer, django_capture_on_commit_callbacks
):
    client.force_login(other_school_reviewer)
    upload = f.registry_csv([_school_b_row(world, "B1", "李娜", ID_NUMBER)])
    upload.name = "x.csv"
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("reviews:registry_import"), {"file": upload})
    page = client.get(response.url).content.decode()
    assert "graduate has one record a year" in page or "每位毕业生每届只有一条" in page
    assert not RegistryRecord.objects.filter(school=world.school_b).exists()


def test_the_database_refuses_a_second_record_of_the_year(world, victim_record):
    with pytest.raises(IntegrityError), transaction.atomic():
        f.make_record(world.major_b1, id_number=ID_NUMBER)


def test_an_import_request_for_an_existing_id_number_is_refused(world, victim_record):
    student = f.make_student(real_name="李娜", id_number=ID_NUMBER, confirmed=False)
    school_reviewer = f.make_user("school_reviewer", school=world.school_b)
    request = services.registry_request_submit(
        student=student, kind="import", school=world.school_b, data={"student_no": "B7"}
    )
    with pytest.raises(ValidationError):
        services.registry_request_approve(request=request, reviewer=school_reviewer)
    assert RegistryRequest.objects.get().status == "submitted"
    assert RegistryRecord.objects.with_id_number(ID_NUMBER).count() == 1


def test_the_first_login_check_never_guesses_between_two_records(world, monkeypatch):
    """Records from before the constraint: two years stand in for two records of one."""
    from students.models import RegistryRecordQuerySet

    f.make_record(world.major_a1, name="李娜", id_number=ID_NUMBER, mobile="13812345678")
    f.make_record(
        world.major_b1, name="李娜", id_number=ID_NUMBER, mobile="13900000001", graduation_year=2025
    )
    monkeypatch.setattr(
        RegistryRecordQuerySet, "current", lambda self: self.filter(graduation_year__gte=2025)
    )
    graduate = f.make_student(real_name="李娜", id_number=ID_NUMBER, confirmed=False)
    with pytest.raises(ValidationError, match=r"employment office|就业"):
        binding.find_current_record(graduate)
    with pytest.raises(ValidationError):
        binding.registry_code_send(student=graduate, channel="sms", client_ip="")
    from destreg.lib import sms

    assert sms.outbox == []
    from django.test import Client

    client = Client()
    client.force_login(graduate.user)
    page = client.get(reverse("students:home")).content.decode()
    assert 'id="record-problem"' in page
    assert reverse("students:send_code") not in page


def test_a_record_added_between_checking_and_writing_fails_the_file_cleanly(
    world, victim_record, monkeypatch
):
    """The constraint is the last word: a race the row check missed writes nothing."""
    from students import importing

    monkeypatch.setattr(importing, "_refuse_id_numbers_of_other_records", lambda *a: None)
    rows = [
        _school_b_row(world, "B1", "李娜", ID_NUMBER),
        _school_b_row(world, "B2", "王五", f.new_id_number()),
    ]
    report = _import(world.school_b, rows)
    assert report.imported == 0 and report.errors[0].line == 0
    assert not RegistryRecord.objects.filter(school=world.school_b).exists()
