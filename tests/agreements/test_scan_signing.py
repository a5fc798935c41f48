"""扫码签约: a graduate's unit without an account signs through a one-time link."""

import re
from datetime import timedelta

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from stdnum.cn import uscc as stdnum_uscc

from agreements.models import Invitation, UnitSigningRequest
from agreements.online import services as online
from agreements.pdf import render_agreement_pdf
from agreements.scansign import services
from agreements.scansign.handover import hand_over
from destreg.accounts.models import Role
from destreg.audit.models import AuditEvent, Notification
from destreg.reference.models import Code
from employers import services as employer_services
from employers.models import Employer
from tests import factories as f

NEW = reverse("agreements:unit_request_new")
USCC = "91110000" + "600000001"
USCC += stdnum_uscc.calc_check_digit(USCC)
PDF = b"%PDF-1.7\n%%EOF\n"


def _start(student, **overrides):
    values = {
        "unit_name": "北京未注册科技有限公司",
        "unit_uscc": USCC,
        "contact_name": "王经理",
        "contact_email": "hr@unit.example.com",
    } | overrides
    return services.unit_signing_start(user=student.user, **values)


def _unit_form(**overrides):
    data = {
        "confirm_uscc": USCC, "name": "北京未注册科技有限公司",
        "nature": Code.objects.get(table="unit_nature", code="39").pk,
        "industry": Code.objects.get(table="industry", code="I").pk, "region": "110108",
        "address": "中关村大街1号", "contact_name": "王经理", "contact_phone": "",
        "contact_mobile": "13900001111", "contact_email": "hr@unit.example.com",
        "job_category": "13", "position": "软件工程师", "work_location": "北京市海淀区",
        "probation_months": "3", "probation_salary": "9000", "salary": "12000",
        "penalty": "5000", "report_place": "", "report_deadline": "", "hukou": "employer",
        "supplement": "", "answer": "accept",
    }  # fmt: skip
    return data | overrides


def _sign_url(token: str) -> str:
    return reverse("agreements:unit_sign", args=[token])


# --- starting --------------------------------------------------------------------------------


def test_a_graduate_starts_and_the_contact_gets_a_one_time_link(
    client, student, django_capture_on_commit_callbacks
):
    client.force_login(student.user)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            NEW,
            {
                "unit_name": "北京未注册科技有限公司",
                "unit_uscc": USCC.lower(),
                "contact_name": "王经理",
                "contact_email": "hr@unit.example.com",
            },
        )
    item = UnitSigningRequest.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("agreements:unit_request", args=[item.pk])
    assert (item.unit_uscc, item.status) == (USCC, "pending")
    [message] = mail.outbox
    assert message.to == ["hr@unit.example.com"]
    token = re.search(r"/agreements/unit-sign/([^/]+)/", message.body).group(1)
    # Only the digest is stored; the e-mailed token matches it.
    assert item.token_digest == UnitSigningRequest.digest(token) != token
    page = client.get(response["Location"])
    assert _sign_url(token) in page.content.decode()  # the link and its QR code, this session
    qr = client.get(reverse("agreements:unit_request_qr", args=[item.pk]))
    assert qr["Content-Type"] == "image/svg+xml" and b"<svg" in qr.content
    assert AuditEvent.objects.for_object(item).get().action == "send_unit_signing_link"
    register = client.get(reverse("agreements:register")).content.decode()
    assert reverse("agreements:unit_request", args=[item.pk]) in register  # the way back


def test_a_bad_credit_code_is_refused_and_what_was_typed_stays(client, student):
    client.force_login(student.user)
    response = client.post(
        NEW,
        {
            "unit_name": "某单位",
            "unit_uscc": USCC[:-1] + "0",
            "contact_name": "王",
            "contact_email": "hr@unit.example.com",
        },
    )
    assert response.status_code == 400
    assert "unit_uscc" in response.context["form"].errors
    assert 'value="某单位"' in response.content.decode()
    assert not UnitSigningRequest.objects.exists() and not mail.outbox


def test_a_verified_unit_of_that_code_is_asked_for_an_invitation_instead(client, student):
    f.make_employer(uscc=USCC, name="已注册单位", verified_at=timezone.now())
    client.force_login(student.user)
    response = client.post(NEW, {"unit_name": "x", "unit_uscc": USCC, "contact_name": "王",
                                 "contact_email": "hr@unit.example.com"})  # fmt: skip
    assert response.status_code == 400
    assert "已注册单位" in str(response.context["form"].errors["unit_uscc"])
    assert not UnitSigningRequest.objects.exists()


def test_one_open_request_at_a_time_and_five_a_day(student):
    _start(student)
    with pytest.raises(PermissionDenied):  # one open request at a time
        _start(student)
    for _ in range(4):
        item = UnitSigningRequest.objects.get(status="pending")
        services.unit_signing_cancel(item=item, user=student.user)
        _start(student)
    services.unit_signing_cancel(
        item=UnitSigningRequest.objects.get(status="pending"), user=student.user
    )
    with pytest.raises(PermissionDenied):  # five a day
        _start(student)
    assert UnitSigningRequest.objects.count() == 5


def test_a_graduate_with_an_agreement_under_review_cannot_start(client, agreement, student):
    client.force_login(student.user)
    response = client.get(NEW)
    assert "start-closed" in response.content.decode()
    with pytest.raises(PermissionDenied):
        _start(student)
    assert not UnitSigningRequest.objects.exists()


# --- the unit's page -------------------------------------------------------------------------


def test_the_link_shows_the_graduate_without_the_id_number(client, student):
    _, token = _start(student)
    response = client.get(_sign_url(token))
    page = response.content.decode()
    assert response.status_code == 200
    assert student.real_name in page and student.record.major.name in page
    assert student.id_number not in page


def test_unknown_links_are_404(client, student):
    _start(student)
    assert client.get(_sign_url("x" * 43)).status_code == 404


def test_a_wrong_credit_code_is_refused_and_nothing_is_made(client, student):
    item, token = _start(student)
    other = "91110000600000002"
    other += stdnum_uscc.calc_check_digit(other)
    response = client.post(_sign_url(token), _unit_form(confirm_uscc=other))
    assert response.status_code == 400
    assert response.context["unit_form"].errors["confirm_uscc"]
    assert 'value="软件工程师"' in response.content.decode()  # what was typed stays
    assert not Invitation.objects.exists() and not Employer.objects.exists()
    item.refresh_from_db()
    assert item.status == "pending"


def test_the_unit_confirms_and_the_graduate_gets_an_invitation(client, student):
    item, token = _start(student)
    response = client.post(_sign_url(token), _unit_form())
    assert response.status_code == 200 and "unit-done" in response.content.decode()
    item.refresh_from_db()
    invitation = Invitation.objects.get()
    assert (item.status, item.invitation) == ("confirmed", invitation)
    assert invitation.sent_by is None and invitation.by_unit_link
    assert invitation.employer.placeholder and invitation.employer.uscc == USCC
    assert not invitation.employer.users.exists() and not invitation.employer.is_verified
    assert (invitation.position, invitation.salary) == ("软件工程师", 12000)
    assert Notification.objects.filter(
        user=student.user, url=reverse("agreements:invitation", args=[invitation.pk])
    ).exists()
    # The link is spent.
    assert client.get(_sign_url(token)).status_code == 404


def test_a_unit_verified_meanwhile_is_sent_to_its_account(client, student):
    item, token = _start(student)
    f.make_employer(uscc=USCC, verified_at=timezone.now())
    response = client.post(_sign_url(token), _unit_form())
    assert response.status_code == 400
    assert response.context["unit_form"].non_field_errors()
    assert not Invitation.objects.exists()
    item.refresh_from_db()
    assert item.status == "pending"


def test_the_unit_declines_and_the_link_is_spent(client, student):
    item, token = _start(student)
    response = client.post(_sign_url(token), {"answer": "decline"})
    assert "unit-declined" in response.content.decode()
    item.refresh_from_db()
    assert item.status == "declined" and not Invitation.objects.exists()
    assert Notification.objects.filter(user=student.user, url=item.get_absolute_url()).exists()
    assert client.get(_sign_url(token)).status_code == 404


def test_cancelled_expired_and_renewed_links_are_404(client, student):
    item, token = _start(student)
    UnitSigningRequest.objects.filter(pk=item.pk).update(
        last_sent_at=timezone.now() - timedelta(minutes=5)
    )
    new_token = services.unit_signing_resend(item=item, user=student.user)
    assert client.get(_sign_url(token)).status_code == 404
    assert client.get(_sign_url(new_token)).status_code == 200
    UnitSigningRequest.objects.filter(pk=item.pk).update(expires_at=timezone.now())
    assert client.get(_sign_url(new_token)).status_code == 404
    UnitSigningRequest.objects.filter(pk=item.pk).update(
        expires_at=timezone.now() + timedelta(days=1)
    )
    services.unit_signing_cancel(item=item, user=student.user)
    assert client.get(_sign_url(new_token)).status_code == 404


def test_the_link_ends_once_the_graduate_signed_elsewhere(client, student, agreement):
    item = UnitSigningRequest.objects.create(
        student=student, unit_name="u", unit_uscc=USCC, contact_name="c",
        contact_email="c@example.com", token_digest=UnitSigningRequest.digest("t" * 43),
        expires_at=timezone.now() + timedelta(days=1), last_sent_at=timezone.now(),
    )  # fmt: skip
    assert client.get(_sign_url("t" * 43)).status_code == 404
    assert client.post(_sign_url("t" * 43), _unit_form()).status_code == 404
    item.refresh_from_db()
    assert item.status == "pending"


def test_another_student_cannot_see_cancel_or_resend(client, student, other_student):
    item, _ = _start(student)
    client.force_login(other_student.user)
    for name in ("unit_request", "unit_request_qr"):
        assert client.get(reverse(f"agreements:{name}", args=[item.pk])).status_code == 404
    for name in ("unit_request_cancel", "unit_request_resend"):
        assert client.post(reverse(f"agreements:{name}", args=[item.pk])).status_code == 404
    item.refresh_from_db()
    assert item.status == "pending"


# --- then the online path --------------------------------------------------------------------


@pytest.fixture
def confirmed(student):
    _, token = _start(student)
    form = _unit_form()
    return services.unit_signing_confirm(
        token=token,
        uscc=USCC,
        unit={
            "name": "北京未注册科技有限公司", "nature": Code.objects.get(pk=form["nature"]),
            "industry": Code.objects.get(pk=form["industry"]),
            "region_id": "110108", "address": "中关村大街1号", "contact_name": "王经理",
            "contact_phone": "", "contact_mobile": "13900001111",
            "contact_email": "hr@unit.example.com",
        },
        terms={
            "job_category": Code.objects.get(table="job_category", code="13"),
            "position": "软件工程师", "work_location": "北京市海淀区", "hukou": "employer",
            "salary": 12000,
        },
    )  # fmt: skip


def test_accepted_it_follows_the_online_path_to_a_signed_pdf(
    client, student, confirmed, college_reviewer, school_reviewer
):
    agreement = online.invitation_accept(invitation=confirmed, user=student.user)
    assert (agreement.unit_name, agreement.unit_uscc) == ("北京未注册科技有限公司", USCC)
    assert agreement.status == "college_review"
    client.force_login(college_reviewer)
    page = client.get(reverse("agreements:agreement", args=[agreement.pk])).content.decode()
    assert "scan-sign-mark" in page
    online.agreement_approve(agreement=agreement, reviewer=college_reviewer)
    online.agreement_approve(agreement=agreement, reviewer=school_reviewer)
    agreement.refresh_from_db()
    assert agreement.status == "signed" and agreement.number
    pdf, _ = render_agreement_pdf(agreement)
    assert pdf.startswith(b"%PDF")


def test_registering_alone_does_not_show_the_agreement_verifying_does(
    client, student, confirmed, platform_admin
):
    agreement = online.invitation_accept(invitation=confirmed, user=student.user)
    stranger = employer_services.employer_register(
        username="claimer",
        password="Empl0yer-2026!",
        unit={
            "name": "北京未注册科技有限公司", "uscc": USCC,
            "nature": Code.objects.get(table="unit_nature", code="39"),
            "industry": Code.objects.get(table="industry", code="I"), "region_id": "110108",
            "address": "中关村大街1号", "contact_name": "李", "contact_mobile": "13900001111",
            "contact_email": "claimer@example.com",
            "business_licence": SimpleUploadedFile("l.pdf", PDF),
            "authorisation_letter": SimpleUploadedFile("a.pdf", PDF),
        },
    )  # fmt: skip
    client.force_login(stranger)
    url = reverse("agreements:agreement", args=[agreement.pk])
    assert client.get(url).status_code == 404
    assert student.real_name not in client.get(reverse("agreements:sent")).content.decode()
    # The placeholder is no unit to verify, nor a rival claim.
    assert not Employer.objects.awaiting_verification(None).filter(placeholder=True).exists()
    employer_services.employer_verify(employer=stranger.employer, by=platform_admin)
    agreement.refresh_from_db()
    assert agreement.employer == stranger.employer
    assert agreement.unit_name == "北京未注册科技有限公司"
    assert client.get(url).status_code == 200
    assert student.real_name in client.get(reverse("agreements:sent")).content.decode()
    assert AuditEvent.objects.for_object(agreement).filter(action="hand_over_to_unit").exists()


def test_a_verified_unit_of_another_code_takes_nothing(student, confirmed, employer_user):
    agreement = online.invitation_accept(invitation=confirmed, user=student.user)
    assert hand_over(employer_user.employer) == 0
    agreement.refresh_from_db()
    assert agreement.employer.placeholder


def test_placeholders_cannot_be_verified(confirmed, platform_admin):
    from employers.permissions import can_verify_employer

    assert not can_verify_employer(platform_admin, confirmed.employer)


def test_the_roles_without_a_part_are_refused(client, employer_user, school_reviewer):
    for user in (employer_user, school_reviewer):
        client.force_login(user)
        assert client.get(NEW).status_code == 403
    assert f.make_user(Role.STUDENT)  # a student without a record: refused by the decision
