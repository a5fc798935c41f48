"""Paths 二 (offline e-agreement), 三 (paper) and 四 (other destinations), and 四选一."""

import io

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django_fsm import can_proceed
from django_tasks_db.models import DBTaskResult
from pypdf import PdfReader

from agreements.models import Registration
from agreements.online import services
from agreements.registrations import services as reg
from agreements.tasks import store_pdf
from students.models import DestinationClaim, RegistryRecord
from tests import factories as f

PDF = f.pdf_bytes()
PNG = f.png_bytes()
OFFLINE = {
    "unit_name": "北京测试科技有限公司", "unit_uscc": "91110000100000000R", "unit_nature": "39",
    "unit_industry": "I", "unit_region": "110108", "unit_address": "中关村大街1号",
    "contact_name": "刘经理", "contact_mobile": "13900001111", "contact_email": "hr@example.com",
    "job_category": "13", "position": "工程师", "work_location": "北京市海淀区",
    "probation_months": "3", "hukou": "employer", "supplement": "",
}  # fmt: skip


def _pdf(name="proof.pdf", content=PDF):
    return SimpleUploadedFile(name, content, content_type="application/pdf")


def _post(client, user, url, data):
    client.force_login(user)
    return client.post(url, data)


def _submit_offline(client, student):
    response = _post(client, student.user, reverse("agreements:registration_new", args=["offline"]),
                     OFFLINE | {"action": "submit"})  # fmt: skip
    assert response.status_code == 302, response.context["form"].errors
    return Registration.objects.get(student=student)


def _review(item, reviewer, decision="approve", comment=""):
    return reg.registration_review(registration=item, reviewer=reviewer, decision=decision,
                                   comment=comment)  # fmt: skip


def test_a_draft_keeps_whatever_was_typed(client, student):
    url = reverse("agreements:registration_new", args=["offline"])
    response = _post(client, student.user, url, {"action": "draft", "unit_name": "只填了名称"})
    assert response.status_code == 302
    item = Registration.objects.get()
    assert (item.status, item.unit_name) == ("draft", "只填了名称")
    assert not DestinationClaim.objects.exists()  # a draft holds no path


def test_submitting_checks_required_fields_and_keeps_input(client, student):
    url = reverse("agreements:registration_new", args=["offline"])
    response = _post(client, student.user, url, {"action": "submit", "unit_name": "单位甲",
                                                 "unit_uscc": "91110000100000000A"})  # fmt: skip
    errors = response.context["form"].errors
    assert {"unit_uscc", "unit_nature", "position", "hukou", "contact_email"} <= set(errors)
    assert "单位甲" in response.content.decode()
    assert not Registration.objects.exists()


def test_offline_agreement_returned_by_the_student(
    client, student, college_reviewer, school_reviewer
):
    item = _submit_offline(client, student)
    assert item.status == "college_review"
    _review(item, college_reviewer)
    item = _review(item, school_reviewer)
    assert item.status == "info_approved" and not item.number

    assert store_pdf(Registration, item.pk)
    item.refresh_from_db()
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(item.pdf.read())).pages)
    assert "本协议需经用人单位盖章" in text and "北京测试科技有限公司" in text

    response = _post(client, student.user, reverse("agreements:registration_scan", args=[item.pk]),
                     {"scan": SimpleUploadedFile("scan.png", PNG)})  # fmt: skip
    assert response.status_code == 302
    item.refresh_from_db()
    assert item.status == "scan_college_review" and item.scan
    _review(item, college_reviewer)
    item = _review(item, school_reviewer)
    assert item.status == "approved" and item.number.startswith(
        str(timezone.localdate(item.signed_at).year)
    )
    record = RegistryRecord.objects.get(pk=student.record_id)
    assert record.destination.code == "10"
    assert DestinationClaim.objects.get(student=student).approved


def test_offline_agreement_returned_by_the_unit_through_a_one_time_link(
    client, student, college_reviewer, school_reviewer, mailoutbox,
    django_capture_on_commit_callbacks,
):  # fmt: skip
    item = _submit_offline(client, student)
    _review(item, college_reviewer)
    _review(item, school_reviewer)
    store_pdf(Registration, item.pk)
    with django_capture_on_commit_callbacks(execute=True):
        _post(client, student.user, reverse("agreements:registration_return_link",
                                            args=[item.pk]), {})  # fmt: skip
    assert mailoutbox[-1].to == ["hr@example.com"]
    link = item.return_links.get()
    assert link.token in mailoutbox[-1].body

    client.logout()  # the unit has no account
    url = reverse("agreements:return", args=[link.token])
    assert client.get(url).status_code == 200
    download = client.get(url + "?download=1")
    assert download["Content-Type"] == "application/pdf"
    assert client.post(url, {"scan": _pdf("stamped.pdf")}).status_code == 200
    item.refresh_from_db()
    assert item.status == "scan_college_review"
    assert client.get(url).status_code == 404  # used once


def test_returned_information_is_edited_and_resubmitted(client, student, college_reviewer):
    item = _submit_offline(client, student)
    with pytest.raises(ValidationError):
        _review(item, college_reviewer, "return")  # a reason is required
    item = _review(item, college_reviewer, "return", "岗位名称不完整")
    assert item.status == "returned"
    client.force_login(student.user)
    page = client.get(reverse("agreements:registration_edit", args=[item.pk])).content.decode()
    assert "岗位名称不完整" in page
    response = client.post(reverse("agreements:registration_edit", args=[item.pk]),
                           OFFLINE | {"action": "submit", "position": "后端工程师"})  # fmt: skip
    assert response.status_code == 302
    item.refresh_from_db()
    assert (item.status, item.position) == ("college_review", "后端工程师")


def test_a_returned_scan_is_uploaded_again(client, student, college_reviewer, school_reviewer):
    item = _submit_offline(client, student)
    _review(item, college_reviewer)
    _review(item, school_reviewer)
    reg.registration_upload_scan(registration=item, scan=_pdf(), user=student.user)
    item = _review(Registration.objects.get(pk=item.pk), college_reviewer, "return", "盖章不清晰")
    assert item.status == "scan_returned"
    reg.registration_upload_scan(registration=item, scan=_pdf(), user=student.user)
    assert Registration.objects.get(pk=item.pk).status == "scan_college_review"


def test_not_approved_voids_the_application_and_frees_the_path(
    client, student, college_reviewer, employer_user
):
    item = _submit_offline(client, student)
    item = _review(item, college_reviewer, "reject", "单位信息虚假")
    assert item.status == "rejected"
    assert not DestinationClaim.objects.exists()
    invitation = f.make_invitation(employer_user.employer, student)
    assert services.invitation_accept(invitation=invitation, user=student.user)


def test_paper_agreement(client, student, college_reviewer, school_reviewer):
    url = reverse("agreements:registration_new", args=["paper"])
    data = {
        key: OFFLINE[key]
        for key in (
            "unit_name",
            "unit_uscc",
            "unit_nature",
            "unit_industry",
            "unit_region",
            "unit_address",
        )
    }
    data |= {"paper_form": "beijing", "paper_number": "BJ2026-000123",
             "paper_signed_on": "2026-05-20", "action": "submit"}  # fmt: skip
    missing_proof = _post(client, student.user, url, data)
    assert "proof" in missing_proof.context["form"].errors
    assert _post(client, student.user, url, data | {"proof": _pdf()}).status_code == 302
    item = Registration.objects.get()
    _review(item, college_reviewer)
    item = _review(item, school_reviewer)
    assert item.status == "approved" and item.number
    assert RegistryRecord.objects.get(pk=student.record_id).destination.code == "10"


@pytest.mark.parametrize(
    ("name", "content"),
    [("setup.pdf", b"MZ\x90\x00 executable"), ("x.png", b"GIF89a not a png"),
     ("big.pdf", b"%PDF-" + b"0" * (10 * 1024 * 1024))],
)  # fmt: skip
def test_bad_proof_files_are_refused_and_the_form_is_kept(client, student, name, content):
    url = reverse("agreements:registration_new", args=["other"])
    data = {"kind": "conscript", "org_name": "某部队", "action": "submit",
            "proof": SimpleUploadedFile(name, content)}  # fmt: skip
    response = _post(client, student.user, url, data)
    assert "proof" in response.context["form"].errors
    assert "某部队" in response.content.decode()
    assert not Registration.objects.exists()


def test_other_destination_then_an_approved_signing_voids_it(
    client, student, college_reviewer, school_reviewer, employer_user
):
    url = reverse("agreements:registration_new", args=["other"])
    data = {"kind": "further_study", "subtype": "研究生", "action": "submit", "proof": _pdf()}
    response = _post(client, student.user, url, data)
    assert {"institution", "program"} <= set(response.context["form"].errors)
    data |= {"institution": "示例大学", "program": "计算机科学与技术", "proof": _pdf()}
    assert _post(client, student.user, url, data).status_code == 302
    item = Registration.objects.get()
    _review(item, college_reviewer)
    item = _review(item, school_reviewer)
    assert item.status == "approved"
    assert RegistryRecord.objects.get(pk=student.record_id).destination.code == "80"

    # A signing may still be made; when approved, the other destination becomes 已作废.
    invitation = f.make_invitation(employer_user.employer, student)
    agreement = services.invitation_accept(invitation=invitation, user=student.user)
    services.agreement_approve(agreement=agreement, reviewer=college_reviewer)
    services.agreement_approve(agreement=agreement, reviewer=school_reviewer)
    assert Registration.objects.get(pk=item.pk).status == "voided"
    assert RegistryRecord.objects.get(pk=student.record_id).destination.code == "10"


def test_one_path_in_progress_at_a_time(client, student, employer_user, college_reviewer):
    _submit_offline(client, student)
    invitation = f.make_invitation(employer_user.employer, student)
    with pytest.raises(ValidationError):
        services.invitation_accept(invitation=invitation, user=student.user)
    paper = reg.registration_save_draft(student=student, path="paper", values={"proof": _pdf()})
    with pytest.raises(ValidationError) as refused:
        reg.registration_submit(registration=paper, user=student.user)
    assert refused.value.code != "evidence"  # 四选一 refused it, not the evidence rule


def test_an_approved_signing_blocks_other_destinations(signed, student):
    other = reg.registration_save_draft(student=student, path="other",
                                        values={"kind": "conscript", "proof": _pdf()})  # fmt: skip
    with pytest.raises(ValidationError) as refused:
        reg.registration_submit(registration=other, user=student.user)
    assert refused.value.code != "evidence"  # 四选一 refused it, not the evidence rule


def test_the_database_refuses_two_paths_in_progress(student):
    DestinationClaim.objects.create(student=student, path="paper", object_id=1)
    with pytest.raises(IntegrityError), transaction.atomic():
        DestinationClaim.objects.create(student=student, path="other", object_id=2)


REGISTRATION_TABLE = {
    # state: {transition: (allowed for offline, allowed for paper/other)}
    "draft": {"_submit": (True, True)},
    "returned": {"_submit": (True, True)},
    "college_review": {"_college_approve": (True, True), "_return": (True, True),
                       "_reject": (True, True)},
    "school_review": {"_approve_information": (True, False), "_school_approve": (False, True),
                      "_return": (True, True), "_reject": (True, True)},
    "info_approved": {"_upload_scan": (True, True)},
    "scan_returned": {"_upload_scan": (True, True)},
    "scan_college_review": {"_scan_college_approve": (True, True), "_return_scan": (True, True),
                            "_reject": (True, True)},
    "scan_school_review": {"_scan_school_approve": (True, True), "_return_scan": (True, True),
                           "_reject": (True, True)},
    "approved": {"_void": (True, True)},
    "rejected": {}, "voided": {},
}  # fmt: skip


@pytest.mark.parametrize("path", ["offline", "paper", "other"])
def test_registration_state_machine(path):
    actions = {a for row in REGISTRATION_TABLE.values() for a in row}
    for state, row in REGISTRATION_TABLE.items():
        item = Registration(status=state, path=path)
        for action in actions:
            allowed = row.get(action, (False, False))[0 if path == "offline" else 1]
            assert can_proceed(getattr(item, action)) is allowed, (path, state, action)


@pytest.mark.parametrize(
    ("who", "expected"),
    [("anonymous", 302), ("student", 200), ("other_student", 404), ("employer_user", 403),
     ("college_reviewer", 200), ("other_college_reviewer", 404), ("school_reviewer", 200),
     ("other_school_reviewer", 404)],
)  # fmt: skip
def test_registration_page_answers_each_role(client, request, student, who, expected):
    item = reg.registration_save_draft(student=student, path="paper", values={})
    Registration.objects.filter(pk=item.pk).update(status="college_review")
    if who != "anonymous":
        user = request.getfixturevalue(who)
        client.force_login(getattr(user, "user", user))
    assert client.get(reverse("agreements:registration", args=[item.pk])).status_code == expected


def test_reviewers_only_decide_their_stage(client, student, school_reviewer,
                                           other_college_reviewer, college_reviewer):  # fmt: skip
    item = _submit_offline(client, student)
    url = reverse("reviews:registration_decide", args=[item.pk])
    assert _post(client, school_reviewer, url, f.decision(item)).status_code == 403
    assert _post(client, other_college_reviewer, url, f.decision(item)).status_code == 404
    with pytest.raises(PermissionDenied):
        _review(item, school_reviewer)
    assert _post(client, college_reviewer, url, f.decision(item)).status_code == 302
    client.force_login(college_reviewer)
    assert client.get(reverse("reviews:queue")).context["rows"] == []


def test_the_printed_e_agreement_verifies_as_not_yet_in_force(
    client, student, college_reviewer, school_reviewer
):
    item = _submit_offline(client, student)
    _review(item, college_reviewer)
    _review(item, school_reviewer)
    store_pdf(Registration, item.pk)
    item.refresh_from_db()
    client.logout()
    page = client.get(reverse("agreements:verify", args=[item.verify_token]))
    assert page.status_code == 200
    assert page.context["state"] == "pending"
    assert "北京测试科技有限公司" in page.content.decode()


def test_reviewers_never_see_a_draft(client, student, college_reviewer):
    item = reg.registration_save_draft(student=student, path="paper", values={})
    client.force_login(college_reviewer)
    assert client.get(reverse("reviews:registration", args=[item.pk])).status_code == 404


def test_a_returned_application_can_be_withdrawn_to_free_the_path(
    client, student, college_reviewer, employer_user
):
    item = _submit_offline(client, student)
    _review(item, college_reviewer, "return", "请补充")
    response = _post(
        client, student.user, reverse("agreements:registration_withdraw", args=[item.pk]), {}
    )
    assert response.status_code == 302
    assert Registration.objects.get(pk=item.pk).status == "withdrawn"
    assert not DestinationClaim.objects.exists()
    invitation = f.make_invitation(employer_user.employer, student)
    assert services.invitation_accept(invitation=invitation, user=student.user)


def test_an_other_destination_draft_needs_its_type(client, student):
    url = reverse("agreements:registration_new", args=["other"])
    response = _post(client, student.user, url, {"action": "draft", "kind": ""})
    assert response.status_code == 200
    assert "kind" in response.context["form"].errors


def test_the_units_link_dies_once_the_student_returns_the_scan(
    client, student, college_reviewer, school_reviewer
):
    item = _submit_offline(client, student)
    _review(item, college_reviewer)
    _review(item, school_reviewer)
    link = reg.return_link_send(registration=item, user=student.user)
    reg.registration_upload_scan(registration=item, scan=_pdf(), user=student.user)
    client.logout()
    assert client.get(reverse("agreements:return", args=[link.token])).status_code == 404


def test_a_missing_e_agreement_pdf_is_queued_again_once_a_minute_at_most(
    client, settings, student, college_reviewer, school_reviewer
):
    item = _submit_offline(client, student)
    _review(item, college_reviewer)
    item = _review(item, school_reviewer)  # info approved: its render is queued on commit
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    url = reverse("agreements:registration_pdf", args=[item.pk])
    client.force_login(student.user)
    assert [client.get(url).status_code for _ in range(3)] == [202, 202, 202]
    queued = DBTaskResult.objects.filter(task_path="agreements.tasks.render_registration")
    assert queued.count() == 1


@pytest.mark.parametrize("path", ["offline", "paper", "other"])
def test_a_graduate_without_a_confirmed_registry_sees_the_form_with_their_name(
    client, reference_data, path
):
    unconfirmed = f.make_student(real_name="未确认学生")
    client.force_login(unconfirmed.user)
    response = client.get(reverse("agreements:registration_new", args=[path]))
    assert response.status_code == 200
    html = response.content.decode()
    assert "未确认学生" in html and 'name="action" value="submit"' in html
