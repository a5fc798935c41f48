"""The demo school, its people and its registry, created idempotently.

Reference rows (schools, colleges, majors) and the registry (an import's result) are written
directly; everything with a state (students' accounts and their confirmation, the units and
their verification, the invitation) goes through the services real users go through, so
its audit rows, queue rows and notifications exist as in real use."""

import math
from contextlib import suppress
from dataclasses import dataclass
from datetime import date, timedelta
from io import BytesIO
from typing import cast

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile, UploadedFile
from django.db import transaction
from django.utils import timezone
from PIL import Image, ImageDraw
from stdnum.cn import ric

from agreements.models import Hukou, Invitation
from agreements.online.services import invitation_send
from destreg.accounts.models import Role, User
from destreg.audit.changes import record_event
from destreg.audit.models import AuditAction
from destreg.demo.anomalies import demo_student, seed_anomalies
from destreg.lib.uploads import clean_document
from destreg.reference.models import Code, CodeTable, College, Major, Region, School
from employers.models import Employer
from employers.permissions import can_verify_employer
from employers.services import employer_register, employer_verify
from students.binding import registry_bind, registry_unbind
from students.models import (
    BindingMethod,
    Gender,
    RegistryRecord,
    Student,
    StudyForm,
    current_graduation_year,
)
from students.services import student_register
from students.tallies import record_save

PASSWORD = "demo12345"  # noqa: S105 (the documented demo password)


@dataclass(frozen=True)
class DemoAccount:
    username: str
    who: str


ACCOUNTS = [
    DemoAccount(
        "student1",
        "彭也 · 110101200301010012 · 计算机学院 · first-login check not done "
        "(the code sent to 138****0001 is printed in this console)",
    ),
    DemoAccount("student2", "李娜 · 110108200212150026 · 计算机学院 · confirmed"),
    DemoAccount("student3", "王喆 · 310115200306060030 · 经济管理学院 · confirmed"),
    DemoAccount("employer1", "示例科技有限公司 · 91110000100000000R · verified"),
    DemoAccount(
        "employer2", "上海示例软件有限公司 · 91310115MA1K000003 · verified, has invited student2"
    ),
    DemoAccount("college1", "reviewer of 计算机学院, 示例大学"),
    DemoAccount("college2", "reviewer of 经济管理学院, 示例大学"),
    DemoAccount("school1", "school reviewer of 示例大学 (19999)"),
    DemoAccount("school2", "school reviewer of 另一示例大学 (19998)"),
    DemoAccount("admin", "platform admin (Django admin at /admin/)"),
]

SURNAMES = "赵钱孙李周吴郑王冯陈褚卫蒋沈韩杨朱秦尤许何吕施张孔曹严华金魏陶姜"
GIVEN = [
    "伟",
    "芳",
    "敏",
    "静",
    "磊",
    "洋",
    "艳",
    "勇",
    "军",
    "杰",
    "娟",
    "涛",
    "明",
    "超",
    "霞",
    "平",
    "刚",
    "桂英",
    "玥",
    "堃",
    "昇",
    "子涵",
    "浩然",
    "雨桐",
    "思远",
]


def _code(table: str, code: str) -> Code:
    return Code.objects.get(table=table, code=code)


def make_id_number(region: str, birthday: date, sequence: int, gender: int) -> str:
    """A valid ID number; the sequence's last digit is odd for men, even for women."""
    serial = f"{sequence % 100:02d}{1 if gender == Gender.MALE else 2}"
    body = f"{region}{birthday:%Y%m%d}{serial}"
    return body + ric.calc_check_digit(body + "0")  # stdnum skips the last character


def _school(code: str, name: str, **extra) -> School:
    school, _ = School.objects.update_or_create(code=code, defaults={"name": name, **extra})
    return school


def _college(school: School, code: str, name: str) -> College:
    return College.objects.update_or_create(school=school, code=code, defaults={"name": name})[0]


def _major(college: College, code: str, name: str, level: str) -> Major:
    return Major.objects.update_or_create(
        college=college,
        code=code,
        education_level=_code(CodeTable.EDUCATION_LEVEL, level),
        defaults={"name": name},
    )[0]


def _record(
    school, college, major, student_no, name, id_number, gender, region, *, mobile="", email=""
) -> RegistryRecord:
    year = current_graduation_year()
    record = RegistryRecord.objects.filter(school=school, student_no=student_no).first()
    record = record or RegistryRecord(school=school, student_no=student_no)
    record.name = name
    record.id_number = id_number
    record.gender = gender
    record.ethnicity = _code(CodeTable.ETHNICITY, "01")
    record.political_status = _code(CodeTable.POLITICAL_STATUS, "03")
    record.college = college
    record.major = major
    record.education_level = major.education_level
    record.study_mode = _code(CodeTable.STUDY_MODE, "1")
    record.enrolment_date = date(year - 4, 9, 1)
    record.study_form = StudyForm.FULL_TIME
    record.birth_date = ric.get_birth_date(id_number)
    record.graduation_date = date(year, 6, 30)
    record.graduation_year = year
    record.origin_region = Region.objects.get(code=region)
    record.urban_rural = _code(CodeTable.URBAN_RURAL, "1")
    # The first-login check sends its code here (the console SMS backend prints it).
    digits = "".join(ch for ch in student_no if ch.isdigit())
    record.mobile = mobile or f"139{(school.code[-1] + digits)[-8:]:0>8}"
    record.email = email or f"{student_no.lower()}@student.example.edu.cn"
    record_save(record)
    return record


def _user(username: str, role: str, **fields) -> User:
    """A staff account (reviewers, the admin): made by the platform's staff in real use, with
    no state of its own to audit, so written directly and refreshed on every run."""
    user = User.objects.filter(username=username).first() or User(username=username)
    user.role = role
    for name, value in fields.items():
        setattr(user, name, value)
    user.set_password(PASSWORD)
    user.save()
    return user


def _demo_password(user: User) -> None:
    """An account the services made on an earlier run keeps its state; only the documented
    password is restored (a demo visitor may have changed it)."""
    if not user.check_password(PASSWORD):
        user.set_password(PASSWORD)
        user.save(update_fields=["password"])


def _student(username, record, email, *, confirmed: bool, admin: User) -> Student:
    """A student account as a graduate makes one (sign-up), confirmed through the registry's
    one door when ``confirmed``; an unconfirmed demo account a visitor confirmed is unlinked
    again by the platform admin, as the school would."""
    student = Student.objects.filter(user__username=username).select_related("user").first()
    if student is None:
        student = student_register(
            username=username,
            password=PASSWORD,
            real_name=record.name,
            id_number=record.id_number,
            mobile="13800000000",
            email=email,
        )
    else:
        _demo_password(student.user)
    if confirmed:
        return registry_bind(
            student=student, record=record, method=BindingMethod.CODE, actor=student.user
        )
    if student.record is not None:
        # Refused once it holds a destination: the demo visitor's progress then stays.
        with suppress(ValidationError):
            registry_unbind(
                record=student.record, reviewer=admin, reason="演示数据重置 (seed_demo)"
            )
    return student


def _evidence(name: str) -> UploadedFile:
    """A stand-in scan (a blank page with a red seal), stored as an upload would be."""
    image = Image.new("RGB", (420, 297), "white")
    draw = ImageDraw.Draw(image)
    draw.rectangle((10, 10, 410, 287), outline="black", width=2)
    draw.ellipse((300, 180, 390, 270), outline="red", width=4)
    buffer = BytesIO()
    image.save(buffer, "PNG")
    return clean_document(SimpleUploadedFile(name, buffer.getvalue(), "image/png"))


def _demo_seal(school: School) -> None:
    """示例大学's electronic seal (a red ring and star, transparent around it), unless it has
    one: the online agreements it approves then show the platform-placed seal."""
    if school.seal:
        return
    size, red = 480, (200, 20, 20, 255)
    image = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    draw.ellipse((12, 12, size - 12, size - 12), outline=red, width=18)
    c, r = size / 2, size / 7
    star = [
        (c + r * math.sin(k * math.pi * 4 / 5), c - r * math.cos(k * math.pi * 4 / 5))
        for k in range(5)
    ]
    draw.polygon(star, fill=red)
    buffer = BytesIO()
    image.save(buffer, "PNG")
    school.seal.save("seal.png", SimpleUploadedFile("seal.png", buffer.getvalue()), save=False)
    school.save(update_fields=["seal"])
    # As the admin records an uploaded seal (destreg/reference/admin.py).
    changes = {"seal": school.seal.name}
    record_event(school, by=None, action=AuditAction.CHANGE_SEAL, changes=changes)


def _employer(
    username, uscc, name, nature, industry, region, address, contact, *, admin: User
) -> Employer:
    """A unit registered as units register (with its documents), then verified by the
    platform, so the demo units may invite every demo school's graduates."""
    employer = Employer.objects.filter(uscc=uscc).first()
    if employer is None:
        user = employer_register(
            username=username,
            password=PASSWORD,
            unit={
                "name": name,
                "uscc": uscc,
                "nature": _code(CodeTable.UNIT_NATURE, nature),
                "industry": _code(CodeTable.INDUSTRY, industry),
                "region": Region.objects.get(code=region),
                "address": address,
                "contact_name": contact,
                "contact_phone": "010-12345678",
                "contact_mobile": "13900000000",
                "contact_email": f"{username}@example.com",
                "business_licence": _evidence("licence.png"),
                "authorisation_letter": _evidence("letter.png"),
            },
        )
        employer = cast(Employer, user.employer)
    for user in employer.users.all():
        _demo_password(user)
    if can_verify_employer(admin, employer):
        employer_verify(employer=employer, by=admin, note="demo")
        employer.refresh_from_db()  # the service verified its own locked copy
    return employer


def _demo_invitation(employer: Employer, record: RegistryRecord) -> None:
    """A live invitation from employer2 to student2, unless it already has one or answered."""
    student = Student.objects.get(record=record)
    if Invitation.objects.filter(employer=employer, student=student).exists():
        return
    invitation_send(
        sender=employer.users.get(),
        name=record.name,
        id_number=record.id_number,
        deadline=timezone.now() + timedelta(days=7),
        terms={
            "job_category": _code(CodeTable.JOB_CATEGORY, "13"),
            "position": "后端开发工程师",
            "work_location": "上海市浦东新区",
            "probation_months": 3,
            "probation_salary": 12000,
            "salary": 15000,
            "penalty": 5000,
            "report_place": "上海市浦东新区张江路100号",
            "hukou": Hukou.EMPLOYER,
            "supplement": "提供人才公寓；年终奖按公司制度执行。",
        },
    )


@transaction.atomic
def seed() -> None:
    school = _school(
        "19999",
        "示例大学",
        address="北京市海淀区示例路1号",
        postcode="100080",
        contact_name="张老师",
        contact_phone="010-62750000",
        contact_email="jiuye@example.edu.cn",
        province=Region.objects.get(code="110000"),
    )
    _demo_seal(school)
    cs = _college(school, "01", "计算机学院")
    econ = _college(school, "02", "经济管理学院")
    cs_majors = [
        _major(cs, "080901", "计算机科学与技术", "31"),
        _major(cs, "080902", "软件工程", "31"),
        _major(cs, "081200", "计算机科学与技术", "11"),
    ]
    econ_majors = [
        _major(econ, "020101", "经济学", "31"),
        _major(econ, "120201K", "工商管理", "31"),
    ]

    other = _school(
        "19998",
        "另一示例大学",
        address="上海市浦东新区示例路2号",
        postcode="200120",
        province=Region.objects.get(code="310000"),
    )
    literature = _college(other, "01", "文学院")
    chinese = _major(literature, "050101", "汉语言文学", "31")

    year = current_graduation_year()
    peng = _record(
        school,
        cs,
        cs_majors[0],
        f"{year - 4}0001",
        "彭也",
        "110101200301010012",
        Gender.MALE,
        "110101",
        mobile="13800000001",
        email="pengye@student.example.edu.cn",
    )
    li = _record(
        school,
        cs,
        cs_majors[1],
        f"{year - 4}0002",
        "李娜",
        "110108200212150026",
        Gender.FEMALE,
        "110108",
    )
    wang = _record(
        school,
        econ,
        econ_majors[0],
        f"{year - 4}0003",
        "王喆",
        "310115200306060030",
        Gender.MALE,
        "310115",
    )
    # 47 more graduates, so the school has 50 records, with a few rare characters.
    regions = ["110105", "310104", "320102", "330106", "440305", "510107", "420111"]
    for n in range(4, 51):
        gender = Gender.MALE if n % 2 else Gender.FEMALE
        college, majors = (cs, cs_majors) if n % 3 else (econ, econ_majors)
        region = regions[n % len(regions)]
        name = SURNAMES[n % len(SURNAMES)] + GIVEN[n % len(GIVEN)]
        id_number = make_id_number(region, date(2003, 1 + n % 12, 1 + n % 28), n, gender)
        _record(
            school,
            college,
            majors[n % len(majors)],
            f"{year - 4}{n:04d}",
            name,
            id_number,
            gender,
            region,
        )
    for n in range(1, 11):
        gender = Gender.FEMALE if n % 2 else Gender.MALE
        id_number = make_id_number("310115", date(2003, n, 10), n, gender)
        _record(
            other,
            literature,
            chinese,
            f"B{year - 4}{n:04d}",
            SURNAMES[-n] + GIVEN[n],
            id_number,
            gender,
            "310115",
        )

    _user(
        "college1",
        Role.COLLEGE_REVIEWER,
        display_name="计算机学院 审核员",
        school=school,
        college=cs,
    )
    _user(
        "college2",
        Role.COLLEGE_REVIEWER,
        display_name="经济管理学院 审核员",
        school=school,
        college=econ,
    )
    _user("school1", Role.SCHOOL_REVIEWER, display_name="示例大学 就业指导中心", school=school)
    _user("school2", Role.SCHOOL_REVIEWER, display_name="另一示例大学 就业指导中心", school=other)
    _user(
        "province1",
        Role.PROVINCE_STAFF,
        display_name="北京市高校毕业生就业指导中心",
        province=Region.objects.get(code="110000"),
    )
    _user("ministry1", Role.MINISTRY_STAFF, display_name="教育部学生司")
    admin = _user(
        "admin",
        Role.PLATFORM_ADMIN,
        display_name="平台管理员",
        is_staff=True,
        is_superuser=True,
        email="admin@example.com",
    )
    _student("student1", peng, "student1@example.com", confirmed=False, admin=admin)
    _student("student2", li, "student2@example.com", confirmed=True, admin=admin)
    _student("student3", wang, "student3@example.com", confirmed=True, admin=admin)
    _employer(
        "employer1", "91110000100000000R", "示例科技有限公司", "39", "I", "110108",
        "中关村大街1号", "刘经理", admin=admin,
    )  # fmt: skip
    employer2 = _employer(
        "employer2", "91310115MA1K000003", "上海示例软件有限公司", "39", "I", "310115",
        "张江路100号", "陈经理", admin=admin,
    )  # fmt: skip
    _demo_invitation(employer2, li)
    seed_anomalies(school, make_student=demo_student(_student, admin), evidence=_evidence)
