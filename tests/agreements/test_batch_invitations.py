"""Batch invitations (批量邀请): a unit uploads a list of graduates with a terms template,
previews each row's answer, sends the valid rows once in the background and downloads each
row's outcome."""

import csv
import io
from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext
from openpyxl import Workbook, load_workbook

from agreements.batches import files, services
from agreements.batches.models import InvitationBatch, InvitationBatchRow
from agreements.models import Invitation, TermTemplate
from destreg.audit.models import AuditAction, AuditEvent
from tests import factories as f

GENERIC = "No current graduate who can sign matches this name and ID number."
Check = InvitationBatchRow.Check


@pytest.fixture(autouse=True)
def _english():
    """Service messages are compared in English; the pages are served in Chinese."""
    with translation.override("en"):
        yield


def zh(text: str) -> str:
    with translation.override("zh-hans"):
        return gettext(text)


@pytest.fixture
def template(employer_user, reference_data):
    return TermTemplate.objects.create(
        employer=employer_user.employer,
        name="2027届校招",
        job_category=f.code("job_category", "13"),
        position="软件工程师",
        work_location="北京市海淀区",
        probation_months=3,
        probation_salary=9000,
        salary=12000,
        hukou="employer",
        validity_days=14,
        updated_by=employer_user,
    )


def csv_file(rows, headings=("姓名", "身份证号"), *, bom=True) -> io.BytesIO:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(headings)
    writer.writerows(rows)
    return io.BytesIO(out.getvalue().encode("utf-8-sig" if bom else "utf-8"))


def xlsx_file(rows, headings=("姓名", "身份证号")) -> io.BytesIO:
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(list(headings))
    for row in rows:
        sheet.append(list(row))
    out = io.BytesIO()
    workbook.save(out)
    out.seek(0)
    return out


def upload(user, template, rows, **kwargs) -> InvitationBatch:
    return services.batch_upload(
        user=user, template=template, handle=csv_file(rows, **kwargs), filename="list.csv"
    )


def previews(batch) -> list[str]:
    return list(batch.rows.order_by("line").values_list("preview", flat=True))


def scoped_unit_user(school):
    """An HR colleague of a unit verified for ``school`` only."""
    unit = f.make_employer()
    unit.verified_at = timezone.now()
    unit.save(update_fields=["verified_at"])
    unit.verifications.create(school=school, verified_at=unit.verified_at)
    return f.make_user("employer", employer=unit, unit_role="hr")


def test_the_preview_answers_strangers_other_schools_and_unconfirmed_alike(world, student):
    user = scoped_unit_user(world.school_a)
    template = TermTemplate.objects.create(
        employer=user.employer, name="t", job_category=f.code("job_category", "13"),
        position="p", work_location="w", hukou="none", updated_by=user,
    )  # fmt: skip
    unconfirmed = f.make_student(f.make_record(world.major_a1), confirmed=False)
    unconfirmed_record = f.make_record(world.major_a1)
    elsewhere = f.make_student(f.make_record(world.major_b1))
    renamed = f.make_student(f.make_record(world.major_a1))
    batch = upload(
        user,
        template,
        [
            (student.real_name, student.id_number),  # valid
            ("无此人", f.new_id_number()),  # nobody
            (unconfirmed_record.name, unconfirmed_record.id_number),  # record, no account
            (unconfirmed.real_name, unconfirmed.id_number),  # account not confirmed
            (elsewhere.real_name, elsewhere.id_number),  # a school the unit is not verified for
            ("别的名字", renamed.id_number),  # the ID number with another name
        ],
    )
    assert previews(batch) == [Check.VALID] + [Check.NO_MATCH] * 5
    assert batch.valid_count == 1 and batch.row_count == 6
    labels = {str(row.get_preview_display()) for row in batch.rows.exclude(preview=Check.VALID)}
    assert labels == {GENERIC}  # the same text invitation_send answers with


def test_format_errors_duplicates_and_live_invitations_are_shown(
    employer_user, template, student, other_student
):
    f.make_invitation(employer_user.employer, other_student, sent_by=employer_user)
    bad = student.id_number[:-1] + ("0" if student.id_number[-1] != "0" else "1")
    batch = upload(
        employer_user,
        template,
        [
            (student.real_name, student.id_number),
            (student.real_name, student.id_number.lower()),  # the same person again
            (other_student.real_name, other_student.id_number),  # already invited by us
            ("张三", bad),  # wrong check digit
            ("", "12345"),
        ],
    )
    assert previews(batch) == [
        Check.VALID, Check.DUPLICATE, Check.LIVE, Check.INVALID, Check.INVALID
    ]  # fmt: skip
    rows = list(batch.rows.order_by("line"))
    assert [row.line for row in rows] == [2, 3, 4, 5, 6]
    assert rows[3].problems == ["This ID number's check digit is wrong; please check every digit."]
    assert rows[4].problems == ["The name is empty.", "An ID number has 18 characters."]
    # Only the row to send keeps its ID number, encrypted; none is kept in clear.
    assert [bool(row.id_number_cipher) for row in rows] == [True, False, False, False, False]
    assert rows[0].id_number_masked == student.id_number[:6] + "********" + student.id_number[-4:]
    assert not any(student.id_number in str(row.__dict__) for row in rows)


def test_send_invites_the_valid_rows_with_the_template_and_row_terms(
    employer_user, template, student, other_student, django_capture_on_commit_callbacks
):
    batch = upload(
        employer_user,
        template,
        [
            (student.real_name, student.id_number, "", ""),
            (other_student.real_name, other_student.id_number, "算法工程师", "15000"),
            ("无此人", f.new_id_number(), "", ""),
        ],
        headings=("姓名", "身份证号", "岗位名称", "转正后月薪"),
    )
    colleague = f.make_user("employer", employer=employer_user.employer, unit_role="hr")
    with django_capture_on_commit_callbacks(execute=True):
        services.batch_send(user=colleague, batch=batch)
    batch.refresh_from_db()
    assert (batch.status, batch.sent_count, batch.refused_count) == ("done", 2, 0)
    first, second = (
        Invitation.objects.get(student=student),
        Invitation.objects.get(student=other_student),
    )
    assert (first.position, first.salary, first.sent_by) == ("软件工程师", 12000, colleague)
    assert (second.position, second.salary) == ("算法工程师", 15000)
    assert first.deadline.date() == timezone.localdate() + timedelta(days=14)
    rows = list(batch.rows.order_by("line"))
    assert [row.result for row in rows] == ["sent", "sent", ""]
    assert rows[0].invitation == first
    assert not any(row.id_number_cipher for row in rows)  # forgotten once sent
    actions = set(AuditEvent.objects.for_object(batch).values_list("action", "actor"))
    assert actions == {
        (AuditAction.UPLOAD_INVITATION_BATCH, employer_user.pk),
        (AuditAction.SEND_INVITATION_BATCH, colleague.pk),
    }


def test_a_second_send_does_nothing(
    employer_user, template, student, django_capture_on_commit_callbacks
):
    batch = upload(employer_user, template, [(student.real_name, student.id_number)])
    with django_capture_on_commit_callbacks(execute=True):
        services.batch_send(user=employer_user, batch=batch)
    with pytest.raises(PermissionDenied, match="already been sent"):
        services.batch_send(user=employer_user, batch=batch)
    services.batch_run(batch.pk)  # a duplicated task finds nothing queued
    assert Invitation.objects.count() == 1


def test_a_row_that_became_uninvitable_gets_the_single_sends_answer(
    employer_user, template, student, django_capture_on_commit_callbacks
):
    batch = upload(employer_user, template, [(student.real_name, student.id_number)])
    f.make_invitation(employer_user.employer, student, sent_by=employer_user)  # meanwhile
    with django_capture_on_commit_callbacks(execute=True):
        services.batch_send(user=employer_user, batch=batch)
    row = batch.rows.get()
    assert (row.result, row.message) == (
        "refused",
        "You already have a live invitation to this graduate.",
    )
    assert InvitationBatch.objects.get(pk=batch.pk).refused_count == 1


def test_another_unit_can_neither_use_the_template_nor_send_the_batch(
    employer_user, other_employer_user, template, student
):
    with pytest.raises(PermissionDenied):
        upload(other_employer_user, template, [(student.real_name, student.id_number)])
    batch = upload(employer_user, template, [(student.real_name, student.id_number)])
    with pytest.raises(PermissionDenied):
        services.batch_send(user=other_employer_user, batch=batch)
    assert InvitationBatch.objects.get(pk=batch.pk).status == "draft"


def test_an_unverified_unit_cannot_upload(template, student, employer_user):
    employer_user.employer.verified_at = None
    employer_user.employer.save(update_fields=["verified_at"])
    with pytest.raises(PermissionDenied):
        upload(employer_user, template, [(student.real_name, student.id_number)])


def test_a_unit_uploads_a_limited_number_of_rows_a_day(settings, employer_user, template):
    settings.INVITATION_BATCH_ROWS_PER_DAY = 3
    upload(employer_user, template, [("甲", f.new_id_number()), ("乙", f.new_id_number())])
    with pytest.raises(ValidationError, match="at most 3 rows in 24 hours"):
        upload(employer_user, template, [("丙", f.new_id_number()), ("丁", f.new_id_number())])


# --- files -------------------------------------------------------------------


@pytest.mark.parametrize("bom", [True, False])
def test_csv_with_or_without_bom(bom):
    number = f.new_id_number()
    rows = files.read_batch_file(csv_file([("王芳", number)], bom=bom), "a.csv")
    assert [(r.line, r.name, r.id_number, r.problems) for r in rows] == [(2, "王芳", number, [])]


def test_gb18030_csv():
    number = f.new_id_number()
    data = f"姓名,身份证号\n王芳,{number}\n".encode("gb18030")
    assert files.read_batch_file(io.BytesIO(data), "a.csv")[0].name == "王芳"


def test_xlsx_with_term_columns_and_blank_rows():
    number = f.new_id_number()
    data = xlsx_file(
        [("王芳", number, "会计", 8000), (None, None, None, None), ("李雷", "1", "", "很多")],
        headings=("姓名", "身份证号", "岗位名称", "转正后月薪"),
    )
    rows = files.read_batch_file(data, "a.xlsx")
    assert (rows[0].overrides, rows[0].problems) == ({"position": "会计", "salary": 8000}, [])
    assert rows[1].line == 4
    assert rows[1].problems == [
        "An ID number has 18 characters.",
        "转正后月薪: Write the salary as a whole number of yuan.",
    ]


def test_bad_headings_name_what_is_wrong():
    with pytest.raises(ValidationError) as caught:
        files.read_batch_file(csv_file([("王芳", "x")], headings=("名字", "身份证号")), "a.csv")
    assert caught.value.messages == [
        "The first row must have the headings 姓名、身份证号; missing: 姓名.",
        "Unknown headings: 名字. Allowed: 姓名、身份证号、岗位名称、工作地点、转正后月薪.",
    ]


def test_size_and_row_limits():
    big = io.BytesIO(b"x" * (files.MAX_BYTES + 1))
    with pytest.raises(ValidationError, match="at most 2 MB"):
        files.read_batch_file(big, "a.csv")
    many = csv_file([("王芳", "1")] * (files.MAX_ROWS + 1))
    with pytest.raises(ValidationError, match="more than 2000 rows"):
        files.read_batch_file(many, "a.csv")


# --- pages -------------------------------------------------------------------


def test_upload_page_keeps_the_template_choice_on_a_bad_file(client, employer_user, template):
    client.force_login(employer_user)
    bad = csv_file([("王芳", "1")], headings=("名字",)).getvalue()
    response = client.post(
        reverse("agreements:batch_new"),
        {"template": template.pk, "file": _upload("a.csv", bad)},
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert zh("The first row must have the headings %(headings)s; missing: %(missing)s.") % {
        "headings": "姓名、身份证号", "missing": "姓名、身份证号"
    } in page  # fmt: skip
    assert f'<option value="{template.pk}" selected>' in page
    assert not InvitationBatch.objects.exists()


def test_the_preview_and_the_result_file_never_show_the_full_id_number(
    client, employer_user, template, student, django_capture_on_commit_callbacks
):
    client.force_login(employer_user)
    data = csv_file([(student.real_name, student.id_number), ("无此人", f.new_id_number())])
    response = client.post(
        reverse("agreements:batch_new"),
        {"template": template.pk, "file": _upload("list.csv", data.getvalue())},
    )
    batch = InvitationBatch.objects.get()
    assert response.url == reverse("agreements:batch", args=[batch.pk])
    page = client.get(response.url).content.decode()
    assert student.id_number not in page and zh(GENERIC) in page
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("agreements:batch_send", args=[batch.pk]))
    result = reverse("agreements:batch_result", args=[batch.pk])
    text = client.get(result, {"format": "csv"}).content.decode("utf-8-sig")
    lines = list(csv.reader(io.StringIO(text)))
    assert lines[1][:5] == [
        "2", student.real_name, student.id_number_masked, zh("Can be invited"),
        zh("Sent"),
    ]  # fmt: skip
    assert lines[2][3:5] == [zh(GENERIC), zh("Not sent")]
    assert student.id_number not in text
    sheet = load_workbook(io.BytesIO(client.get(result, {"format": "xlsx"}).content)).active
    assert sheet.cell(2, 3).value == student.id_number_masked


def _upload(name, data):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, data, content_type="text/csv")


def test_the_progress_page_refreshes_while_sending(client, employer_user, template, student):
    batch = upload(employer_user, template, [(student.real_name, student.id_number)])
    InvitationBatch.objects.filter(pk=batch.pk).update(status="sending", sent_count=0)
    client.force_login(employer_user)
    page = client.get(reverse("agreements:batch", args=[batch.pk])).content.decode()
    assert 'data-poll="2000"' in page and "js/progress-poll.js" in page
    assert 'id="send-batch"' not in page and 'id="result-xlsx"' not in page
    listing = client.get(reverse("agreements:batches")).content.decode()
    assert "list.csv" in listing
