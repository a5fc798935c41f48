"""The offline paths as the student sees them (issue 16): 签约成功 on every signing path,
我的签约 whatever the path, no 撤回 once approved, no draft left by a submission 四选一
refuses, the unit's thank-you wording, and where e-mailed links point."""

import re
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from agreements import checks
from agreements.models import Registration
from agreements.registrations import services as reg
from agreements.tasks import store_pdf
from destreg.audit.models import Notification
from tests import factories as f

PDF = f.pdf_bytes()
UNIT = {
    "unit_name": "北京测试科技有限公司", "unit_uscc": "91110000100000000R", "unit_nature": "39",
    "unit_industry": "I", "unit_region": "110108", "unit_address": "中关村大街1号",
}  # fmt: skip
OFFLINE = UNIT | {
    "contact_name": "刘经理", "contact_mobile": "13900001111", "contact_email": "hr@example.com",
    "job_category": "13", "position": "工程师", "work_location": "北京市海淀区",
    "probation_months": "3", "hukou": "employer",
}  # fmt: skip
PAPER = UNIT | {
    "paper_form": "beijing", "paper_number": "BJ2026-000123", "paper_signed_on": "2026-05-20",
}  # fmt: skip
SIGNED_BADGE = '<span class="badge text-bg-success">签约成功</span>'
TEMPLATES = Path(django_settings.BASE_DIR) / "templates" / "agreements"


def _pdf():
    return SimpleUploadedFile("proof.pdf", PDF, content_type="application/pdf")


def _submit(client, student, path):
    client.force_login(student.user)
    data = (OFFLINE if path == "offline" else PAPER | {"proof": _pdf()}) | {"action": "submit"}
    response = client.post(reverse("agreements:registration_new", args=[path]), data)
    assert response.status_code == 302, response.context["form"].errors
    return Registration.objects.get(student=student, path=path)


def _approve(item, *reviewers):
    for reviewer in reviewers:
        item = reg.registration_review(registration=item, reviewer=reviewer, decision="approve")
    return Registration.objects.get(pk=item.pk)


def _signed(client, student, path, college_reviewer, school_reviewer):
    item = _approve(_submit(client, student, path), college_reviewer, school_reviewer)
    if path == "offline":
        reg.registration_upload_scan(registration=item, scan=_pdf(), user=student.user)
        item = _approve(item, college_reviewer, school_reviewer)
        store_pdf(Registration, item.pk)
        item.refresh_from_db()
    assert item.status == "approved"
    return item


# --- 签约成功 on every signing path ------------------------------------------


@pytest.mark.parametrize("path", ["offline", "paper"])
def test_an_approved_offline_or_paper_signing_says_signed_successfully(
    client, student, college_reviewer, school_reviewer, path
):
    item = _signed(client, student, path, college_reviewer, school_reviewer)
    client.force_login(student.user)
    for url in (
        reverse("agreements:registration", args=[item.pk]),
        reverse("agreements:register"),
        reverse("agreements:mine"),
    ):
        assert SIGNED_BADGE in client.get(url).content.decode(), url
    notice = Notification.objects.filter(user=student.user).latest("pk")
    assert notice.message == f"签约成功：协议书编号 {item.number}。"


def test_the_online_agreement_shows_the_same_badge(client, student, signed):
    client.force_login(student.user)
    page = client.get(reverse("agreements:agreement", args=[signed.pk])).content.decode()
    assert SIGNED_BADGE in page


def test_an_approved_other_destination_is_not_a_signing(
    client, student, college_reviewer, school_reviewer
):
    client.force_login(student.user)
    data = {"kind": "freelance", "subtype": "自由撰稿人", "proof": _pdf(), "action": "submit",
            "extra_proof": _pdf(), "salary": "6000", "unit_region": "110100"}  # fmt: skip
    client.post(reverse("agreements:registration_new", args=["other"]), data)
    item = _approve(Registration.objects.get(student=student), college_reviewer, school_reviewer)
    page = client.get(reverse("agreements:registration", args=[item.pk])).content.decode()
    assert "签约成功" not in page and "text-bg-success" in page


# --- 我的签约 ------------------------------------------------------------------


def test_my_signing_shows_an_offline_e_agreement_in_effect(
    client, student, college_reviewer, school_reviewer
):
    item = _signed(client, student, "offline", college_reviewer, school_reviewer)
    client.force_login(student.user)
    response = client.get(reverse("agreements:mine"))
    assert response.status_code == 200
    assert response.templates[0].name == "agreements/signing.html"
    page = response.content.decode()
    assert "您还没有就业协议" not in page
    for section in ("协议书预览", "单位信息", "学生信息", "下载协议书", item.number):
        assert section in page, section
    assert reverse("agreements:registration_pdf", args=[item.pk]) in page
    assert reverse("agreements:verify", args=[item.verify_token]) in page
    assert "北京测试科技有限公司" in page and "彭也" in page
    # 申请解约 leads to the registration page's termination section.
    assert "申请解约" in page
    assert reverse("agreements:registration", args=[item.pk]) + "#termination" in page


def test_my_signing_shows_a_paper_agreement_without_a_download(
    client, student, college_reviewer, school_reviewer
):
    item = _signed(client, student, "paper", college_reviewer, school_reviewer)
    client.force_login(student.user)
    page = client.get(reverse("agreements:mine")).content.decode()
    for section in ("协议书预览", "单位信息", "学生信息", "BJ2026-000123", item.number):
        assert section in page, section
    assert "下载协议书" not in page
    assert reverse("agreements:verify", args=[item.verify_token]) not in page


def test_my_signing_shows_an_offline_application_under_review(client, student):
    item = _submit(client, student, "offline")
    page = client.get(reverse("agreements:mine")).content.decode()
    assert "待学院审核" in page and reverse("agreements:registration", args=[item.pk]) in page
    assert "下载协议书" not in page


def test_my_signing_still_opens_an_online_agreement(client, student, signed):
    client.force_login(student.user)
    response = client.get(reverse("agreements:mine"))
    assert response.url == reverse("agreements:agreement", args=[signed.pk])


def test_my_signing_without_any_signing(client, student):
    client.force_login(student.user)
    response = client.get(reverse("agreements:mine"))
    assert response.status_code == 200
    assert response.templates[0].name == "agreements/none.html"


def test_my_signing_offers_termination_of_a_paper_agreement(
    client, student, college_reviewer, school_reviewer
):
    item = _signed(client, student, "paper", college_reviewer, school_reviewer)
    client.force_login(student.user)
    page = client.get(reverse("agreements:mine")).content.decode()
    assert "申请解约" in page
    assert reverse("agreements:registration", args=[item.pk]) + "#termination" in page
    target = client.get(reverse("agreements:registration", args=[item.pk])).content.decode()
    assert 'id="termination"' in target


# --- 撤回 ----------------------------------------------------------------------


@pytest.mark.parametrize("path", ["offline", "paper"])
def test_an_approved_application_cannot_be_withdrawn(
    client, student, college_reviewer, school_reviewer, path
):
    item = _signed(client, student, path, college_reviewer, school_reviewer)
    client.force_login(student.user)
    page = client.get(reverse("agreements:registration", args=[item.pk])).content.decode()
    assert "撤回" not in page
    assert reverse("agreements:registration_withdraw", args=[item.pk]) not in page
    response = client.post(reverse("agreements:registration_withdraw", args=[item.pk]), follow=True)
    assert Registration.objects.get(pk=item.pk).status == "approved"
    messages = [str(m) for m in response.context["messages"]]
    assert messages == ["只有被退回修改或等待盖章回传的申请可以撤回。"]


@pytest.mark.parametrize(
    "name", ["registration.html", "register.html", "registration_form.html", "signing.html"]
)
def test_registration_templates_ask_permissions_not_status_strings(name):
    text = (TEMPLATES / name).read_text()
    assert not re.search(r"status\s*(==|!=|in\b)", text), name


# --- 四选一 refusal ------------------------------------------------------------


def test_a_submission_refused_by_one_destination_leaves_no_draft(client, student, signed):
    client.force_login(student.user)
    data = PAPER | {"proof": _pdf(), "action": "submit"}
    response = client.post(reverse("agreements:registration_new", args=["paper"]), data)
    assert response.status_code == 200
    assert not Registration.objects.exists()
    page = response.content.decode()
    assert "您的毕业去向已登记" in page  # why, plainly
    assert "未保存任何内容，请重新选择文件。" in page  # the file must be chosen again
    assert "BJ2026-000123" in page  # what was typed is kept


def test_a_refused_submission_of_a_saved_draft_keeps_the_draft_as_it_was(client, student, signed):
    item = reg.registration_save_draft(student=student, path="offline", values={"position": "甲"})
    client.force_login(student.user)
    url = reverse("agreements:registration_edit", args=[item.pk])
    response = client.post(url, OFFLINE | {"position": "乙", "action": "submit"})
    assert response.status_code == 200 and "乙" in response.content.decode()
    item.refresh_from_db()
    assert (item.status, item.position) == ("draft", "甲")


# --- 用人单位协助回传 -------------------------------------------------------------


def test_the_units_thank_you_page_says_the_college_reviews_first(
    client, student, college_reviewer, school_reviewer
):
    item = _approve(_submit(client, student, "offline"), college_reviewer, school_reviewer)
    store_pdf(Registration, item.pk)
    link = reg.return_link_send(registration=item, user=student.user)
    client.logout()
    response = client.post(reverse("agreements:return", args=[link.token]), {"scan": _pdf()})
    page = response.content.decode()
    assert "下一步由学院审核，再由学校审核" in page
    assert "下一步由学校审核" not in page


# --- where links point -------------------------------------------------------------


def _send_return_link(client, student, college_reviewer, school_reviewer, **extra):
    item = _approve(_submit(client, student, "offline"), college_reviewer, school_reviewer)
    response = client.post(
        reverse("agreements:registration_return_link", args=[item.pk]), follow=True, **extra
    )
    assert "链接已发送至邮箱 hr@example.com。" in [str(m) for m in response.context["messages"]]


def test_in_development_e_mailed_links_take_the_requests_host(
    client, settings, student, college_reviewer, school_reviewer, mailoutbox,
    django_capture_on_commit_callbacks,
):  # fmt: skip
    settings.DEBUG = True
    settings.ALLOWED_HOSTS = ["testserver", "192.168.1.20"]
    with django_capture_on_commit_callbacks(execute=True):
        _send_return_link(client, student, college_reviewer, school_reviewer,
                          HTTP_HOST="192.168.1.20:8000")  # fmt: skip
    body = mailoutbox[-1].body
    assert "http://192.168.1.20:8000/agreements/return/" in body
    assert "127.0.0.1" not in body


def test_in_production_e_mailed_links_use_site_url(
    client, settings, student, college_reviewer, school_reviewer, mailoutbox,
    django_capture_on_commit_callbacks,
):  # fmt: skip
    settings.DEBUG = False
    settings.SITE_URL, settings.SITE_URL_SET = "https://destreg.example.edu.cn", True
    settings.ALLOWED_HOSTS = ["testserver", "10.0.0.5"]
    with django_capture_on_commit_callbacks(execute=True):
        _send_return_link(client, student, college_reviewer, school_reviewer,
                          HTTP_HOST="10.0.0.5")  # fmt: skip
    body = mailoutbox[-1].body
    assert "https://destreg.example.edu.cn/agreements/return/" in body


@pytest.mark.parametrize(
    ("debug", "site_url", "site_url_set", "errors"),
    [
        (False, "http://127.0.0.1:8000", False, ["agreements.E001"]),
        (False, "", True, ["agreements.E001"]),
        (False, "https://destreg.example.edu.cn", True, []),
        (True, "http://127.0.0.1:8000", False, []),
    ],
)
def test_the_deploy_check_requires_site_url_in_production(
    settings, debug, site_url, site_url_set, errors
):
    settings.DEBUG, settings.SITE_URL, settings.SITE_URL_SET = debug, site_url, site_url_set
    assert [e.id for e in checks.site_url_set(None)] == errors
