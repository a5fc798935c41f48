"""A unit administrator changes the unit's details; a new name or credit code ends the
verifications it was given (kept for the record) and the unit is verified again."""

from django.urls import reverse
from django.utils import timezone
from stdnum.cn import uscc

from agreements.online.permissions import can_invite
from destreg.accounts.models import Role
from destreg.audit.models import AuditAction, AuditEvent
from employers.models import Employer, EmployerVerification
from tests import factories as f

DETAILS = reverse("employers:details")


def _data(employer: Employer, **overrides):
    data = {
        "name": employer.name, "uscc": employer.uscc, "nature": employer.nature_id,
        "industry": employer.industry_id, "region": employer.region_id,
        "address": employer.address, "contact_name": employer.contact_name,
        "contact_phone": "", "contact_mobile": employer.contact_mobile,
        "contact_email": employer.contact_email,
    }  # fmt: skip
    return data | overrides


def test_contact_details_change_without_touching_the_verification(client, employer_user):
    employer = employer_user.employer
    client.force_login(employer_user)
    assert "学校以本单位当前的名称和统一社会信用代码" in client.get(DETAILS).content.decode()
    response = client.post(DETAILS, _data(employer, contact_name="王经理"))
    assert response.status_code == 302
    employer.refresh_from_db()
    assert employer.contact_name == "王经理" and employer.is_verified
    assert can_invite(employer_user)


def test_a_new_name_sends_the_unit_back_to_verification(client, employer_user, school_reviewer):
    employer = employer_user.employer
    client.force_login(employer_user)
    response = client.post(DETAILS, _data(employer, name="北京新名称科技有限公司"))
    assert response.status_code == 302
    employer.refresh_from_db()
    assert employer.name == "北京新名称科技有限公司" and not employer.is_verified
    assert not can_invite(employer_user)
    ended = EmployerVerification.objects.get(employer=employer)
    assert ended.ended_at is not None and "名称或统一社会信用代码" in ended.ended_reason
    event = AuditEvent.objects.for_object(employer).get(action=AuditAction.CHANGE_UNIT_DETAILS)
    assert event.changes["name"]["to"] == "北京新名称科技有限公司"
    page = client.get(reverse("employers:home")).content.decode()
    assert "已结束" in page
    # A school verifies it again (the ended verification stays beside the new one).
    client.force_login(school_reviewer)
    assert "北京新名称科技有限公司" in client.get(reverse("reviews:employers")).content.decode()


def test_a_new_code_is_checked_and_one_held_by_a_verified_unit_is_refused(
    client, employer_user, other_employer_user
):
    employer = employer_user.employer
    client.force_login(employer_user)
    response = client.post(DETAILS, _data(employer, uscc="91110000100000000A", address=""))
    assert response.status_code == 400
    assert set(response.context["form"].errors) == {"uscc", "address"}
    response = client.post(DETAILS, _data(employer, uscc=other_employer_user.employer.uscc))
    assert response.status_code == 400
    body = "91110000" + "7" * 9
    response = client.post(DETAILS, _data(employer, uscc=body + uscc.calc_check_digit(body)))
    assert response.status_code == 302
    assert not Employer.objects.get(pk=employer.pk).is_verified


def test_only_the_units_administrators_change_its_details(client, employer_user, student):
    hr = f.make_user(Role.EMPLOYER, employer=employer_user.employer, unit_role="hr")
    client.force_login(hr)
    assert client.get(DETAILS).status_code == 403
    assert client.post(DETAILS, _data(employer_user.employer, name="x")).status_code == 403
    assert Employer.objects.get(pk=employer_user.employer_id).name != "x"
    client.force_login(student.user)
    assert client.get(DETAILS).status_code == 403
    assert timezone.now()
