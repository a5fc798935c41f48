# ruff: noqa: F811 - pytest fixtures imported by name
"""Attacks on batch invitations (批量邀请) and 扫码签约 (scan-to-sign).

FINDINGS: the tests in the first section fail until the hole is fixed.
HELD: the second section passes and guards against regressions.
"""

import io

from django.urls import reverse

from agreements.batches import files, services
from agreements.models import Invitation, UnitSigningRequest
from agreements.online import services as online
from agreements.scansign import views as scan_views
from tests import factories as f
from tests.agreements.test_batch_invitations import (
    csv_file,
    template,  # noqa: F401 (a fixture)
    upload,
)
from tests.agreements.test_scan_signing import USCC, _start, _unit_form

# ---------------------------------------------------------------- FINDINGS


def test_batch_salary_with_unicode_digit_is_a_form_error_not_500(client, employer_user, template):
    """'²'.isdigit() is True but int('²') raises ValueError: files.py _row -> 500."""
    client.force_login(employer_user)
    body = csv_file(
        [("王芳", "11010519491231002X", "²")], headings=("姓名", "身份证号", "转正后月薪")
    )
    body.name = "list.csv"
    response = client.post(reverse("agreements:batch_new"), {"template": template.pk, "file": body})
    assert response.status_code in (200, 302, 400)


def test_batch_row_salary_cannot_undercut_the_probation_salary(
    employer_user, template, student, django_capture_on_commit_callbacks
):
    """The single form refuses probation_salary > salary (TermsForm.clean); a batch row's
    转正后月薪 override goes straight to Invitation.objects.create."""
    try:
        batch = upload(
            employer_user, template,
            [(student.real_name, student.id_number, "1")],
            headings=("姓名", "身份证号", "转正后月薪"),
        )  # fmt: skip
    except Exception:
        return  # refused at upload: fine
    with django_capture_on_commit_callbacks(execute=True):
        services.batch_send(user=employer_user, batch=batch)
    services.batch_run(batch.pk)
    for invitation in Invitation.objects.filter(student=student):
        assert (
            invitation.probation_salary is None or invitation.probation_salary <= invitation.salary
        )


def _scan_signed(client, student, contact_email):
    """扫码签约 as the graduate can do it alone: start it for an unregistered unit, confirm
    through the link (the graduate holds it), accept the invitation."""
    client.force_login(student.user)
    response = client.post(
        reverse("agreements:unit_request_new"),
        {"unit_name": "北京未注册科技有限公司", "unit_uscc": USCC,
         "contact_name": "王经理", "contact_email": contact_email},
    )  # fmt: skip
    assert response.status_code == 302
    token = next(iter(client.session[scan_views.SESSION_KEY].values()))
    client.post(reverse("agreements:unit_sign", args=[token]), _unit_form())
    invitation = Invitation.objects.get(student=student)
    return online.invitation_accept(invitation=invitation, user=student.user)


def test_reviewers_are_warned_when_the_graduate_confirmed_their_own_scan_to_sign_request(
    client, student, college_reviewer
):
    """An inherent limit of 扫码签约, not a hole to close: the graduate holds the link (the QR
    code is shown in their session) and chooses the contact e-mail it goes to, and "whoever
    holds the link must know the credit code" proves nothing about the unit. So a graduate can
    confirm the unit's side of an agreement with any unregistered company themselves. The
    mitigation is that the reviewers who approve it see where it came from: the 扫码签约 mark,
    the unit as a placeholder, who confirmed, and a warning when the contact e-mail is the
    graduate's own."""
    agreement = _scan_signed(client, student, student.user.email.upper())
    client.force_login(college_reviewer)
    queue = client.get(reverse("reviews:queue")).content.decode()
    assert "data-scan-sign>扫码签约<" in queue
    assert "确认人为毕业生本人联系方式" in queue
    page = client.get(reverse("reviews:agreement", args=[agreement.pk])).content.decode()
    assert 'id="scan-sign-review"' in page
    assert "未注册单位（占位，未经核验）" in page
    assert f"王经理 · {student.user.email.upper()}" in page
    assert "确认人邮箱与毕业生本人邮箱相同" in page


def test_a_contact_mailbox_named_after_the_graduates_mobile_is_warned_about(
    client, student, college_reviewer
):
    agreement = _scan_signed(client, student, f"{student.mobile}@qq.com")
    client.force_login(college_reviewer)
    page = client.get(reverse("reviews:agreement", args=[agreement.pk])).content.decode()
    assert "确认人邮箱以毕业生本人手机号命名" in page


def test_the_scan_to_sign_mark_warns_only_when_the_contact_is_the_graduates_own(
    client, student, college_reviewer, other_student, employer_user
):
    scan_signed = _scan_signed(client, student, "hr@unit.example.com")
    usual = online.invitation_accept(
        invitation=f.make_invitation(employer_user.employer, other_student),
        user=other_student.user,
    )
    client.force_login(college_reviewer)
    queue = client.get(reverse("reviews:queue")).content.decode()
    assert queue.count("data-scan-sign>") == 1
    assert "data-scan-sign-warning" not in queue
    page = client.get(reverse("reviews:agreement", args=[scan_signed.pk])).content.decode()
    assert 'id="scan-sign-review"' in page and "hr@unit.example.com" in page
    assert 'id="scan-sign-warning"' not in page
    page = client.get(reverse("reviews:agreement", args=[usual.pk])).content.decode()
    assert 'id="scan-sign-review"' not in page
    # The graduate's own page keeps the plain badge only.
    client.force_login(student.user)
    page = client.get(reverse("agreements:agreement", args=[scan_signed.pk])).content.decode()
    assert "scan-sign-mark" in page and 'id="scan-sign-review"' not in page


def test_batch_does_not_send_a_report_date_already_past(
    employer_user, template, student, django_capture_on_commit_callbacks
):
    """The single form refuses a past report date (TermsForm.clean); a batch snapshots the
    template's terms as they are and sends them unchecked (services._terms_snapshot)."""
    from datetime import timedelta

    from django.utils import timezone

    template.report_deadline = timezone.localdate() - timedelta(days=30)
    template.save(update_fields=["report_deadline"])
    try:
        batch = upload(employer_user, template, [(student.real_name, student.id_number)])
        with django_capture_on_commit_callbacks(execute=True):
            services.batch_send(user=employer_user, batch=batch)
        services.batch_run(batch.pk)
    except Exception:
        return
    for invitation in Invitation.objects.filter(student=student):
        assert (
            invitation.report_deadline is None or invitation.report_deadline >= timezone.localdate()
        )


# ---------------------------------------------------------------- HELD


def test_held_result_file_neutralises_formula_names():
    out = files.result_csv([[2, '=HYPERLINK("http://x")', "", "p", "r", "-1+1"]])
    text = out.decode("utf-8-sig")
    assert "'=HYPERLINK" in text and "'-1+1" in text


def test_held_other_unit_cannot_see_batch_or_result(
    client, employer_user, other_employer_user, template
):
    batch = upload(employer_user, template, [("甲", "11010519491231002X")])
    client.force_login(other_employer_user)
    for name in ("agreements:batch", "agreements:batch_result"):
        assert client.get(reverse(name, args=[batch.pk])).status_code == 404
    assert client.post(reverse("agreements:batch_send", args=[batch.pk])).status_code == 404


def test_held_malformed_xlsx_is_a_form_error(client, employer_user, template):
    client.force_login(employer_user)
    body = io.BytesIO(b"PK\x03\x04garbage" * 100)
    body.name = "list.xlsx"
    response = client.post(reverse("agreements:batch_new"), {"template": template.pk, "file": body})
    assert response.status_code == 400


def test_held_huge_csv_field_is_a_form_error(client, employer_user, template):
    client.force_login(employer_user)
    body = csv_file([("甲" * 300_000, "11010519491231002X")])
    body.name = "list.csv"
    response = client.post(reverse("agreements:batch_new"), {"template": template.pk, "file": body})
    assert response.status_code == 400


def test_held_unit_sign_page_is_not_cached_and_bad_tokens_404(client, student):
    _, token = _start(student)
    response = client.get(reverse("agreements:unit_sign", args=[token]))
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"] or "max-age=0" in response["Cache-Control"]
    altered = token[:-1] + ("B" if token.endswith("A") else "A")
    assert client.get(reverse("agreements:unit_sign", args=[altered])).status_code == 404
    assert client.get(reverse("agreements:unit_sign", args=["x" * 200])).status_code == 404


def test_held_a_used_link_cannot_be_reused(client, student):
    _, token = _start(student)
    url = reverse("agreements:unit_sign", args=[token])
    client.post(url, {"answer": "decline"})
    assert UnitSigningRequest.objects.get(student=student).status == "declined"
    assert client.post(url, _unit_form()).status_code == 404
    assert not Invitation.objects.filter(student=student).exists()


def test_held_other_student_cannot_see_the_request(client, student, other_student):
    item, _ = _start(student)
    client.force_login(other_student.user)
    assert client.get(reverse("agreements:unit_request", args=[item.pk])).status_code == 404
    assert client.get(reverse("agreements:unit_request_qr", args=[item.pk])).status_code == 404
