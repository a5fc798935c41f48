"""A few anomalies in the demo school, so the 核查 page (reviews:verification) shows red flags
on ``make run``: made through the services graduates and reviewers use, once.

- 经济管理学院: four graduates register 自由职业 with the same proof files (a share far above
  15 %, one proof file for several graduates);
- 计算机学院: five paper agreements with a unit first seen this year, whose contact is a
  public mailbox with no landline; a sixth unit gives the same contact mobile;
- college1, college2 and school1 approve all of these within seconds of each other.

The demo school's thresholds are lowered to fit its 50 graduates (5 at one unit)."""

from django.utils import timezone

from agreements.models import Hukou, PaperForm, Registration
from agreements.registrations.services import registration_review, registration_save_and_submit
from destreg.accounts.models import User
from destreg.reference.models import Code, CodeTable, Region, School
from reviews.models import VerificationSettings
from students.models import RegistryRecord, Student, current_graduation_year

UNIT = {
    "unit_name": "鑫达商贸有限公司",
    "unit_uscc": "91110108MA01XD0001",
    "contact_name": "赵总",
    "contact_phone": "",
    "contact_mobile": "13712345678",
    "contact_email": "xinda_hr@qq.com",
}
# Another unit with the same contact mobile.
TWIN = {
    **UNIT,
    "unit_name": "鑫达信息咨询有限公司",
    "unit_uscc": "91110108MA01XD0002",
    "contact_email": "xinda_info@qq.com",
}


def _code(table: str, code: str) -> Code:
    return Code.objects.get(table=table, code=code)


def _paper(unit: dict, number: int, evidence) -> dict:
    return {
        **unit,
        "proof": evidence(f"paper-{number}.png"),  # the paper agreement's scan
        "unit_nature": _code(CodeTable.UNIT_NATURE, "39"),
        "unit_industry": _code(CodeTable.INDUSTRY, "F"),
        "unit_region": Region.objects.get(code="110108"),
        "unit_address": "北京市海淀区某某路8号",
        "job_category": _code(CodeTable.JOB_CATEGORY, "13"),
        "position": "销售专员",
        "work_location": "北京市海淀区",
        "hukou": Hukou.NONE,
        "paper_form": PaperForm.BEIJING,
        "paper_number": f"BJ{current_graduation_year()}{number:06d}",
        "paper_signed_on": timezone.localdate(),
    }


def _freelance(evidence) -> dict:
    return {
        "kind": "freelance",
        "subtype": "自由撰稿",
        "start_date": timezone.localdate(),
        # Pay and place of work: the evidence rule of 自由职业 (the minimum-wage check).
        "salary": 6000,
        "unit_region": Region.objects.get(code="110108"),
        "proof": evidence("statement.png"),
        "extra_proof": evidence("income.png"),
    }


def seed_anomalies(school: School, *, make_student, evidence) -> None:
    """Idempotent: a graduate who already registered a destination is left as they are."""
    VerificationSettings.objects.get_or_create(school=school, defaults={"unit_graduates": 5})
    reviewers = {
        u.username: u for u in User.objects.filter(username__in=["college1", "college2", "school1"])
    }
    year = current_graduation_year()
    # (student number suffix, college reviewer, path, values)
    plan = [
        *((n, "college2", "other", None) for n in (6, 9, 12, 15)),
        *((n, "college1", "paper", UNIT) for n in (4, 5, 7, 8, 10)),
        (11, "college1", "paper", TWIN),
    ]
    for number, college_reviewer, path, unit in plan:
        record = RegistryRecord.objects.get(school=school, student_no=f"{year - 4}{number:04d}")
        student = make_student(f"grad{number:02d}", record)
        if Registration.objects.filter(student=student).exists():
            continue
        values = _freelance(evidence) if unit is None else _paper(unit, number, evidence)
        registration = registration_save_and_submit(student=student, path=path, values=values)
        for reviewer in (reviewers[college_reviewer], reviewers["school1"]):
            registration_review(registration=registration, reviewer=reviewer, decision="approve")


def demo_student(make_student, admin: User):
    """``make_student(username, record)`` for the anomalies: confirmed demo accounts."""

    def make(username: str, record: RegistryRecord) -> Student:
        return make_student(
            username, record, f"{username}@example.com", confirmed=True, admin=admin
        )

    return make
