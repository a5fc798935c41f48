"""Minimum wage: for 科研助理, 其他录用 and 自由职业 the monthly pay must reach the monthly
minimum wage of the work place's province (a figure an admin entered, with its date and
source); where the province has none, the check is skipped and the pages say so."""

import re
from datetime import date

from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import translation

from agreements.models import Registration
from destreg.reference.models import MinimumWage, Region
from tests import factories as f

PDF = f.pdf_bytes()
NEW = reverse("agreements:registration_new", args=["other"])


def _pdf():
    return SimpleUploadedFile("proof.pdf", PDF, content_type="application/pdf")


def _assistant(salary: str, region: str = "110108") -> dict:
    return {"kind": "research_assistant", "org_name": "示例大学某课题组", "salary": salary,
            "unit_region": region, "proof": _pdf(), "action": "submit"}  # fmt: skip


def _wage(province="110000", amount=2540, since=date(2025, 9, 1)) -> MinimumWage:
    return MinimumWage.objects.create(
        province=Region.objects.get(code=province),
        monthly_amount=amount,
        effective_from=since,
        source="北京市人力资源和社会保障局 (test figure)",
    )


def test_a_pay_below_the_province_figure_is_refused_with_the_figure_and_its_date(client, student):
    _wage()
    client.force_login(student.user)
    response = client.post(NEW, _assistant("2000"))
    assert response.status_code == 200
    (error,) = response.context["form"].errors["salary"]
    assert error == "月薪低于北京市的月最低工资标准：2540元/月（自2025年9月1日起执行）。"
    assert "2540" in response.content.decode()
    assert not Registration.objects.exists()


def test_the_figure_in_force_on_the_day_is_the_one_held(client, student):
    _wage(amount=2420, since=date(2023, 9, 1))
    _wage(amount=2540, since=date(2025, 9, 1))
    _wage(amount=9999, since=date(2099, 1, 1))  # announced, not yet in force
    client.force_login(student.user)
    with translation.override("en"):
        response = client.post(NEW, _assistant("2500"), headers={"accept-language": "en"})
    (error,) = response.context["form"].errors["salary"]
    assert "2540" in error and "2025" in error

    response = client.post(NEW, _assistant("2540"))
    assert response.status_code == 302, response.context["form"].errors


def test_another_provinces_figure_does_not_apply(client, student):
    _wage(province="310000", amount=2690)  # Shanghai's; the work place is in Beijing
    _wage(province="110000", amount=2540)
    client.force_login(student.user)
    response = client.post(NEW, _assistant("2600"))
    assert response.status_code == 302, response.context["form"].errors


def test_without_a_figure_the_check_is_skipped_and_the_pages_say_so(
    client, student, college_reviewer
):
    _wage(province="310000", amount=2690)  # Beijing has none on record
    client.force_login(student.user)
    response = client.post(NEW, _assistant("1000"))
    assert response.status_code == 302, response.context["form"].errors
    item = Registration.objects.get()
    page = client.get(response["Location"]).content.decode()
    note = re.search(r'id="wage-check">(.*?)</dd>', page, re.S)[1]
    assert "该省份暂无最低工资标准数据，未核对" in note

    client.force_login(college_reviewer)  # the reviewer sees it too
    page = client.get(reverse("agreements:registration", args=[item.pk])).content.decode()
    assert "该省份暂无最低工资标准数据，未核对" in page


def test_the_form_shown_again_carries_the_note_when_nothing_was_checked(client, student):
    client.force_login(student.user)
    data = _assistant("1000") | {"org_name": ""}  # refused for the missing employer
    page = client.post(NEW, data).content.decode()
    assert 'id="wage-note"' in page and "未核对" in page


def test_the_reviewer_sees_the_figure_held(client, student, college_reviewer):
    _wage()
    client.force_login(student.user)
    client.post(NEW, _assistant("3000"))
    item = Registration.objects.get()
    client.force_login(college_reviewer)
    page = client.get(reverse("agreements:registration", args=[item.pk])).content.decode()
    held = re.search(r'id="wage-check">(.*?)</dd>', page, re.S)[1]
    assert "北京市" in held and "2540" in held and "2025-09-01" in held
    assert "未核对" not in held


def test_types_without_the_check_are_not_held_to_it(client, student):
    _wage(amount=2540)
    client.force_login(student.user)
    data = {"kind": "labour_contract", "org_name": "某公司", "org_uscc": "91110000100000000R",
            "start_date": "2026-07-01", "proof": _pdf(), "action": "submit"}  # fmt: skip
    response = client.post(NEW, data)
    assert response.status_code == 302, response.context["form"].errors


def test_a_figure_must_be_for_a_province(client, platform_admin, reference_data):
    client.force_login(platform_admin)
    response = client.post(
        reverse("admin:reference_minimumwage_add"),
        {
            "province": "110108",  # a district
            "monthly_amount": "2540",
            "effective_from": "2025-09-01",
            "source": "x",
        },
    )
    assert response.status_code == 200
    assert not MinimumWage.objects.exists()
