"""A re-import may not change the identity of a record linked to an account; reviewers
decide, and an applied change keeps the graduate (and their destination) on the record."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from destreg.audit.models import AuditEvent, Notification
from students import binding, services
from students.importing import registry_import
from students.models import HeldRegistryChange, RegistryRecord, RegistryRequest, Student
from students.tallies import recount, tallied
from tests import factories as f


def _row(world, student, **overrides):
    record = student.record
    return f.registry_row(world, record.student_no, record.name, record.id_number, **overrides)


def _import(world, rows, actor=None):
    return registry_import(
        school=world.school_a, handle=f.registry_csv(rows), filename="again.csv", actor=actor
    )


@pytest.fixture
def held(world, student, school_reviewer):
    """A re-import that renames the confirmed student and gives them another ID number."""
    new_id = f.new_id_number()
    report = _import(world, [_row(world, student, 姓名="改名", 身份证号=new_id, 民族="03")])
    assert (report.imported, report.held) == (1, 1)
    return HeldRegistryChange.objects.get(), new_id


def test_a_reimport_keeps_a_confirmed_records_name_and_id_and_holds_them_back(world, student, held):
    change, new_id = held
    record = RegistryRecord.objects.get(pk=student.record_id)
    assert record.name == "彭也" and record.id_number == student.id_number
    assert record.ethnicity.code == "03"  # the row's other fields still apply
    assert (change.record_id, change.name, change.id_number) == (record.pk, "改名", new_id)
    assert change.values["ethnicity"] == "03" and change.status == "pending"
    student.refresh_from_db()
    assert student.is_confirmed and student.record_id == record.pk


def test_a_reimport_changing_only_other_fields_of_a_confirmed_record_applies(world, student):
    report = _import(world, [_row(world, student, 民族="03", 毕业日期="2026-07-01")])
    assert (report.imported, report.held) == (1, 0)
    record = RegistryRecord.objects.get(pk=student.record_id)
    assert record.ethnicity.code == "03" and record.graduation_date.isoformat() == "2026-07-01"
    assert not HeldRegistryChange.objects.exists()


def test_an_unconfirmed_record_takes_the_new_name_and_id(world):
    record = f.make_record(world.major_a1, name="旧名")
    new_id = f.new_id_number()
    row = f.registry_row(world, record.student_no, "新名", new_id)
    assert _import(world, [row]).held == 0
    record.refresh_from_db()
    assert (record.name, record.id_number) == ("新名", new_id)


def test_a_newer_file_replaces_the_change_still_held(world, student, held):
    _import(world, [_row(world, student, 姓名="又改名")])
    assert list(HeldRegistryChange.objects.values_list("name", flat=True)) == ["又改名"]


def test_the_command_reports_how_many_were_held_back(world, student, tmp_path, capsys):
    from django.core.management import call_command

    path = tmp_path / "r.csv"
    path.write_bytes(f.registry_csv([_row(world, student, 姓名="改名")]).getvalue())
    call_command("import_registry", world.school_a.code, str(path))
    assert "1 name/ID changes of confirmed records held back" in capsys.readouterr().out


def test_school_reviewers_see_the_held_changes_of_their_school_only(
    client, world, held, school_reviewer, other_school_reviewer, platform_admin, college_reviewer
):
    url = reverse("reviews:held_changes")
    client.force_login(school_reviewer)
    page = client.get(url).content.decode()
    assert "改名" in page and held[1] not in page  # the new ID number is masked
    assert reverse("reviews:held_changes") in client.get(reverse("reviews:queue")).content.decode()
    client.force_login(platform_admin)
    assert "改名" in client.get(url).content.decode()
    client.force_login(other_school_reviewer)
    assert "改名" not in client.get(url).content.decode()
    post = reverse("reviews:held_change_decide", args=[held[0].pk])
    assert client.post(post, {"decision": "apply"}).status_code == 404
    client.force_login(college_reviewer)
    assert client.get(url).status_code == 403


def _apply(client, change, reviewer):
    client.force_login(reviewer)
    response = client.post(
        reverse("reviews:held_change_decide", args=[change.pk]), {"decision": "apply"}
    )
    assert response.status_code == 302


def test_applying_keeps_the_graduate_linked_who_must_confirm_again(
    client, world, student, held, school_reviewer
):
    change, new_id = held
    _apply(client, change, school_reviewer)
    record = RegistryRecord.objects.get(pk=change.record_id)
    assert (record.name, record.id_number) == ("改名", new_id)
    student = Student.objects.select_related("user").get(pk=student.pk)
    assert student.record_id == record.pk and student.confirmed_at is None
    assert student.confirmed_via == ""
    assert (student.real_name, student.id_number) == ("改名", new_id)
    assert student.user.display_name == "改名"
    assert Notification.objects.filter(user=student.user).exists()
    change.refresh_from_db()
    assert change.status == "applied" and change.decided_by == school_reviewer
    assert AuditEvent.objects.for_object(change).get().action == "held_change_apply"
    event = AuditEvent.objects.for_object(student).get(action="registry_reconfirm")
    assert event.actor == school_reviewer and new_id not in str(event.changes)


def test_a_placed_graduate_confirms_the_corrected_identity_and_keeps_the_destination(
    client, world, signed, student, school_reviewer, sms_outbox
):
    RegistryRecord.objects.filter(pk=student.record_id).update(mobile="13812345678")
    _import(world, [_row(world, student, 姓名="改名", 身份证号=f.new_id_number())])
    _apply(client, HeldRegistryChange.objects.get(), school_reviewer)
    record = RegistryRecord.objects.get(pk=student.record_id)
    student.refresh_from_db()
    assert student.record_id == record.pk and not student.is_confirmed
    assert record.destination is not None and tallied() == recount()

    client.force_login(student.user)
    page = client.get(reverse("students:home")).content.decode()
    assert "改名" in page and 'id="confirm-code"' in page and 'id="record-taken"' not in page
    code = f.send_code(client)
    client.post(reverse("students:confirm"), {"code": code})

    student.refresh_from_db()
    assert student.is_confirmed and student.confirmed_via == "code"
    assert student.record_id == record.pk
    signed.refresh_from_db()
    assert signed.status == signed.Status.SIGNED
    record.refresh_from_db()
    assert record.destination is not None and tallied() == recount()
    page = client.get(reverse("students:home")).content.decode()
    assert 'id="confirm-code"' not in page


def test_the_school_issues_an_activation_code_to_a_graduate_confirming_again(
    client, world, student, held, school_reviewer
):
    change, _new_id = held
    _apply(client, change, school_reviewer)
    url = reverse("reviews:record", args=[change.record_id])
    page = client.get(url).content.decode()
    assert 'id="awaiting-confirmation"' in page and 'id="activation"' in page
    client.post(reverse("reviews:record_activation", args=[change.record_id]))
    code = client.session[f"reviews:activation_code:{change.record_id}"]
    student.refresh_from_db()
    binding.registry_confirm(student=student, code=code)
    student.refresh_from_db()
    assert student.is_confirmed and student.record_id == change.record_id
    assert student.confirmed_via == "activation"
    assert 'id="activation"' not in client.get(url).content.decode()


def test_nobody_else_can_take_the_record_of_a_graduate_confirming_again(
    client, world, student, held, school_reviewer
):
    change, new_id = held
    _apply(client, change, school_reviewer)
    intruder = f.make_student(real_name="改名", id_number=new_id, confirmed=False)
    client.force_login(intruder.user)
    assert 'id="record-taken"' in client.get(reverse("students:home")).content.decode()
    record = RegistryRecord.objects.get(pk=change.record_id)
    with pytest.raises(ValidationError):
        binding.registry_bind(student=intruder, record=record, method="code", actor=None)
    with pytest.raises(ValidationError):
        services.registry_request_submit(
            student=Student.objects.get(pk=student.pk),
            kind=RegistryRequest.Kind.IMPORT,
            school=world.school_a,
            data={},
        )
    assert Student.objects.get(record=record) == student


def test_a_reimport_while_the_graduate_confirms_again_is_held_back_too(
    client, world, student, held, school_reviewer
):
    change, new_id = held
    _apply(client, change, school_reviewer)
    row = f.registry_row(world, change.record.student_no, "又改名", f.new_id_number())
    assert _import(world, [row]).held == 1
    record = RegistryRecord.objects.get(pk=change.record_id)
    assert (record.name, record.id_number) == ("改名", new_id)


def test_dropping_keeps_the_confirmed_identity(client, student, held, school_reviewer):
    change, _new_id = held
    client.force_login(school_reviewer)
    client.post(reverse("reviews:held_change_decide", args=[change.pk]), {"decision": "drop"})
    change.refresh_from_db()
    assert change.status == "dropped"
    assert AuditEvent.objects.for_object(change).get().action == "held_change_drop"
    student.refresh_from_db()
    assert student.is_confirmed and student.real_name == "彭也"
    assert RegistryRecord.objects.get(pk=change.record_id).name == "彭也"
    # decided once: a second decision is refused
    client.post(reverse("reviews:held_change_decide", args=[change.pk]), {"decision": "apply"})
    assert RegistryRecord.objects.get(pk=change.record_id).name == "彭也"


def test_an_id_number_another_confirmed_account_holds_cannot_be_applied(
    world, student, school_reviewer
):
    from django.core.exceptions import ValidationError

    from students.registry_changes import held_change_apply

    # Confirmed with a record of an earlier class (a current one would refuse the row).
    earlier = f.make_record(world.major_a1, graduation_year=student.record.graduation_year - 1)
    other_student = f.make_student(earlier)
    _import(world, [_row(world, student, 身份证号=other_student.id_number)])
    change = HeldRegistryChange.objects.get()
    with pytest.raises(ValidationError):
        held_change_apply(change=change, reviewer=school_reviewer)
    student.refresh_from_db()
    assert student.is_confirmed


def test_the_held_changes_page_costs_the_same_for_many_changes(
    client, world, school_reviewer, django_assert_max_num_queries
):
    for n in range(5):
        student = f.make_student(f.make_record(world.major_a1, name=f"原名{n}"))
        _import(world, [_row(world, student, 姓名=f"新名{n}")], actor=school_reviewer)
    client.force_login(school_reviewer)
    with django_assert_max_num_queries(8):
        page = client.get(reverse("reviews:held_changes")).content.decode()
    assert all(f"新名{n}" in page for n in range(5))


def test_a_job_is_imported_once_even_if_its_task_runs_twice(world, school_reviewer):
    from students.import_jobs import import_job_run
    from students.models import RegistryImportJob

    job = RegistryImportJob.objects.create(
        school=world.school_a, user=school_reviewer, filename="a.csv", status="done"
    )
    import_job_run(job.pk)  # not queued any more: nothing happens
    job.refresh_from_db()
    assert job.status == "done" and job.rows_read == 0


def test_an_id_number_another_record_of_the_year_has_cannot_be_applied(
    world, student, held, school_reviewer
):
    from django.core.exceptions import ValidationError

    from students.registry_changes import held_change_apply

    change, new_id = held
    # Imported after the change was held: now that graduate's own record.
    f.make_record(world.major_a2, id_number=new_id)
    with pytest.raises(ValidationError, match=r"Another registry record|另一条"):
        held_change_apply(change=change, reviewer=school_reviewer)
    record = RegistryRecord.objects.get(pk=student.record_id)
    assert record.id_number == student.id_number
    student.refresh_from_db()
    assert student.is_confirmed
