"""Small make_* helpers that build valid objects with sensible defaults."""

import io
import itertools
import math
from datetime import date, timedelta

from stdnum.cn import uscc

from destreg.accounts.models import Role, UnitRole, User
from destreg.demo.data import make_id_number
from destreg.lib.decisions import decision_state
from destreg.reference.models import Code, CodeTable, College, Major, Region, School
from employers.models import Employer
from students.models import Gender, RegistryRecord, Student, current_graduation_year
from students.tallies import record_save

_seq = itertools.count(1)


def code(table: str, value: str) -> Code:
    return Code.objects.get(table=table, code=value)


def make_school(**fields) -> School:
    n = next(_seq)
    # Five digits whatever the run's length: the shared sequence passes 10,000 in a full run,
    # and each test's rows are rolled back, so codes need only differ within a test.
    fields.setdefault("code", f"{90000 + n % 10000:05d}")
    fields.setdefault("name", f"测试大学{n}")
    return School.objects.create(**fields)


def make_college(school: School, **fields) -> College:
    n = next(_seq)
    fields.setdefault("code", f"C{n}")
    fields.setdefault("name", f"第{n}学院")
    return College.objects.create(school=school, **fields)


def make_major(college: College, **fields) -> Major:
    n = next(_seq)
    fields.setdefault("code", f"08{n:04d}")
    fields.setdefault("name", f"专业{n}")
    fields.setdefault("education_level", code(CodeTable.EDUCATION_LEVEL, "31"))
    return Major.objects.create(college=college, **fields)


def new_id_number(gender: int = Gender.MALE) -> str:
    """A valid ID number, unique for the first 200,000 calls (birthdays 2000-2005)."""
    n = next(_seq)
    return make_id_number("110108", date(2000, 1, 1) + timedelta(days=n % 2000), n // 2000, gender)


def make_record(major: Major, **fields) -> RegistryRecord:
    n = next(_seq)
    id_number = fields.pop("id_number", None) or new_id_number()
    year = fields.pop("graduation_year", current_graduation_year())
    record = RegistryRecord(
        school=major.college.school,
        college=major.college,
        major=major,
        education_level=major.education_level,
        student_no=fields.pop("student_no", f"S{n:06d}"),
        name=fields.pop("name", f"学生{n}"),
        gender=fields.pop("gender", Gender.MALE),
        ethnicity=code(CodeTable.ETHNICITY, "01"),
        political_status=code(CodeTable.POLITICAL_STATUS, "03"),
        graduation_date=date(year, 6, 30),
        graduation_year=year,
        origin_region=Region.objects.get(code="110108"),
        **fields,
    )
    record.id_number = id_number
    record_save(record)  # and its destination tally
    return record


def make_user(role: str = Role.STUDENT, **fields) -> User:
    n = next(_seq)
    fields.setdefault("username", f"user{n}")
    fields.setdefault("email", f"user{n}@example.com")
    password = fields.pop("password", "pw-Secret-123")
    if role == Role.EMPLOYER:
        fields.setdefault("unit_role", UnitRole.ADMIN)
    user = User(role=role, **fields)
    user.set_password(password)
    user.save()
    return user


def make_student(
    record: RegistryRecord | None = None, *, confirmed: bool = True, **fields
) -> Student:
    """A student account; with a record it carries the record's name and ID number."""
    name = fields.pop("real_name", record.name if record else f"学生{next(_seq)}")
    id_number = fields.pop("id_number", record.id_number if record else new_id_number())
    user = make_user(Role.STUDENT, display_name=name, email=f"s{next(_seq)}@example.com")
    student = Student(user=user, real_name=name, mobile="13800000000", **fields)
    student.id_number = id_number
    if confirmed and record:
        from django.utils import timezone

        student.record = record
        student.confirmed_at = timezone.now()
    student.save()
    return student


def make_employer(**fields) -> Employer:
    n = next(_seq)
    fields.setdefault("name", f"测试单位{n}")
    body = f"91110000{n:09d}"
    fields.setdefault("uscc", body + uscc.calc_check_digit(body))
    employer = Employer.objects.create(
        nature=code(CodeTable.UNIT_NATURE, "39"),
        industry=code(CodeTable.INDUSTRY, "I"),
        region=Region.objects.get(code="110108"),
        address="测试路1号",
        contact_name="刘经理",
        contact_mobile="13900000000",
        contact_email=f"hr{n}@example.com",
        **fields,
    )
    if employer.verified_at is not None:
        # As the migration treats units verified before scopes: platform-wide.
        employer.verifications.create(school=None, verified_at=employer.verified_at)
    return employer


def make_invitation(employer, student, **fields):
    """A pending invitation (deadline in a week) with plausible terms."""
    from datetime import timedelta

    from django.utils import timezone

    from agreements.models import Hukou, Invitation

    fields.setdefault("deadline", timezone.now() + timedelta(days=7))
    sender = (
        fields.pop("sent_by", None)
        or employer.users.first()
        or make_user(Role.EMPLOYER, employer=employer)
    )
    return Invitation.objects.create(
        employer=employer, student=student, sent_by=sender,
        job_category=code(CodeTable.JOB_CATEGORY, "13"), position="工程师",
        work_location="北京市海淀区", probation_months=3, probation_salary=8000, salary=10000,
        penalty=3000, hukou=Hukou.EMPLOYER, **fields,
    )  # fmt: skip


def pdf_bytes(pages: int = 1, change=None) -> bytes:
    """A tiny real PDF (blank A4 pages) that passes upload validation, unless ``change``
    (called with the pypdf writer) adds something that should not."""
    from io import BytesIO

    from pypdf import PdfWriter

    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(width=595, height=842)
    if change is not None:
        change(writer)
    buffer = BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def png_bytes(size: tuple[int, int] = (8, 8)) -> bytes:
    """A tiny real PNG that passes upload validation."""
    return _image_bytes("PNG", size)


def jpeg_bytes(size: tuple[int, int] = (8, 8)) -> bytes:
    """A tiny real JPEG that passes upload validation."""
    return _image_bytes("JPEG", size)


def _image_bytes(kind: str, size: tuple[int, int]) -> bytes:
    from io import BytesIO

    from PIL import Image

    buffer = BytesIO()
    Image.new("RGB", size, "white").save(buffer, kind)
    return buffer.getvalue()


# A registry import file (students/importing.py), as a school exports it.
REGISTRY_HEADINGS = ["学号", "姓名", "性别", "身份证号", "民族", "政治面貌", "院系", "专业代码",
                     "学历层次", "毕业日期", "生源地代码"]  # fmt: skip


def registry_row(world, no, name, id_number, **overrides) -> dict:
    """One graduate of the ``world`` fixture's first college and major."""
    row = {
        "学号": no, "姓名": name, "性别": "男", "身份证号": id_number, "民族": "汉族",
        "政治面貌": "13", "院系": world.a1.name, "专业代码": world.major_a1.code,
        "学历层次": "31", "毕业日期": "2026-06-30", "生源地代码": "110108",
    }  # fmt: skip
    return row | overrides


REGISTRY_CONTACT_HEADINGS = [*REGISTRY_HEADINGS, "手机号", "电子邮箱"]


def registry_csv(rows, encoding="utf-8-sig", headings=REGISTRY_HEADINGS) -> io.BytesIO:
    lines = [",".join(headings)]
    lines += [",".join(row.get(h, "") for h in headings) for row in rows]
    return io.BytesIO(("\n".join(lines) + "\n").encode(encoding))


def decision(item, decision: str = "approve", comment: str = "") -> dict:
    """What a decide form posts: the decision, and the item's state as the page shows it now."""
    fresh = type(item)._default_manager.get(pk=item.pk)
    return {"decision": decision, "comment": comment, "state": decision_state(fresh)}


def bulk_value(task) -> str:
    """A review-queue checkbox value: "<task id>:<state of its item>" as the queue shows it."""
    item = task.content_type.get_object_for_this_type(pk=task.object_id)
    return f"{task.pk}:{decision_state(item)}"


def last_code(channel: str = "sms") -> str:
    """The one-time code in the latest text message (or e-mail) the first-login check sent."""
    import re

    from django.core import mail

    from destreg.lib import sms

    text = sms.outbox[-1].body if channel == "sms" else mail.outbox[-1].body
    found = re.search(r"\b\d{6}\b", text)
    assert found, text
    return found.group()


def send_code(client, channel: str = "sms") -> str:
    """As the signed-in student, have the first-login check's code sent; return it."""
    from django.test import TestCase
    from django.urls import reverse

    with TestCase.captureOnCommitCallbacks(execute=True):
        response = client.post(reverse("students:send_code"), {"channel": channel})
    assert response.status_code == 302
    return last_code(channel)


def seal_png(size: int = 400) -> bytes:
    """A school seal as schools upload it: a red ring with a star on a transparent background."""
    from io import BytesIO

    from PIL import Image, ImageDraw

    image = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    red, edge = (200, 20, 20, 255), size // 25
    draw.ellipse((edge, edge, size - edge, size - edge), outline=red, width=edge)
    c, r = size / 2, size / 6
    points = [
        (c + r * math.sin(k * math.pi * 4 / 5), c - r * math.cos(k * math.pi * 4 / 5))
        for k in range(5)
    ]
    draw.polygon(points, fill=red)
    buffer = BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def make_export(user: User, **fields):
    """An export job as ``export_start`` records it (the user's scope), not queued to run."""
    from reviews.models import ExportJob
    from reviews.stats import scope_of

    return ExportJob.objects.create(user=user, **scope_of(user), **fields)
