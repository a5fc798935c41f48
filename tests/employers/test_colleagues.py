"""A unit's colleagues: the administrator invites them by a one-time e-mailed link, sets each
as administrator or HR and removes them; what a removed colleague did stays theirs."""

import re

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from agreements.models import Invitation
from destreg.accounts.models import Role, User
from destreg.audit.models import AuditAction, AuditEvent
from employers import services
from employers.models import ColleagueInvitation
from tests import factories as f
from tests.agreements.test_invitations import _form as invitation_form

COLLEAGUES = reverse("employers:colleagues")


def _invite(client, admin, email="li@example.com", role="hr", captured=None):
    client.force_login(admin)
    with captured(execute=True):
        response = client.post(COLLEAGUES, {"email": email, "unit_role": role})
    assert response.status_code == 302
    return re.search(r"/employers/join/[\w-]+/", mail.outbox[-1].body).group(0)


def _join(client, link, username="li-hr", name="李招聘"):
    client.logout()
    return client.post(
        link,
        {"display_name": name, "username": username, "password1": "Colle4gue-2026!",
         "password2": "Colle4gue-2026!"},
    )  # fmt: skip


def test_a_colleague_joins_invites_and_the_invitation_records_who(
    client, employer_user, student, django_capture_on_commit_callbacks
):
    link = _invite(client, employer_user, captured=django_capture_on_commit_callbacks)
    assert mail.outbox[-1].to == ["li@example.com"]
    stored = ColleagueInvitation.objects.get()
    assert link.split("/")[-2] not in stored.token_digest  # only the digest is kept

    response = _join(client, link)
    assert response.status_code == 302
    colleague = User.objects.get(username="li-hr")
    assert (colleague.role, colleague.employer, colleague.unit_role, colleague.email) == (
        Role.EMPLOYER, employer_user.employer, "hr", "li@example.com"
    )  # fmt: skip
    # The link is spent.
    client.logout()
    page = client.get(link)
    assert page.status_code == 404 and "该链接已过期或已被使用" in page.content.decode()

    client.force_login(colleague)
    assert client.post(reverse("agreements:invite"), invitation_form(student)).status_code == 302
    assert Invitation.objects.get().sent_by == colleague
    # HR neither manages colleagues nor changes the unit's documents.
    page = client.get(COLLEAGUES).content.decode()
    assert "邀请同事" not in page and "李招聘" in page
    assert (
        client.post(COLLEAGUES, {"email": "x@example.com", "unit_role": "admin"}).status_code == 400
    )
    assert ColleagueInvitation.objects.count() == 1


def test_roles_change_and_a_removed_colleague_keeps_their_history(
    client, employer_user, student, django_capture_on_commit_callbacks
):
    link = _invite(client, employer_user, captured=django_capture_on_commit_callbacks)
    _join(client, link)
    colleague = User.objects.get(username="li-hr")
    invitation = f.make_invitation(employer_user.employer, student, sent_by=colleague)

    client.force_login(employer_user)
    client.post(reverse("employers:colleague_role", args=[colleague.pk]), {"unit_role": "admin"})
    assert User.objects.get(pk=colleague.pk).unit_role == "admin"
    client.post(reverse("employers:colleague_remove", args=[colleague.pk]))
    colleague.refresh_from_db()
    assert not colleague.is_active
    assert Invitation.objects.get(pk=invitation.pk).sent_by == colleague
    client.logout()
    client.post(reverse("login"), {"username": "li-hr", "password": "Colle4gue-2026!"})
    assert "_auth_user_id" not in client.session  # a removed colleague cannot sign in
    actions = set(
        AuditEvent.objects.for_object(employer_user.employer).values_list("action", flat=True)
    )
    assert {AuditAction.INVITE_COLLEAGUE, AuditAction.JOIN_COLLEAGUE,
            AuditAction.CHANGE_COLLEAGUE_ROLE, AuditAction.REMOVE_COLLEAGUE} <= actions  # fmt: skip


def test_the_unit_keeps_one_administrator(client, employer_user):
    client.force_login(employer_user)
    client.post(reverse("employers:colleague_role", args=[employer_user.pk]), {"unit_role": "hr"})
    client.post(reverse("employers:colleague_remove", args=[employer_user.pk]))
    employer_user.refresh_from_db()
    assert (employer_user.unit_role, employer_user.is_active) == ("admin", True)
    page = client.get(COLLEAGUES).content.decode()
    assert "至少需要一名管理员" in page


def test_another_units_colleagues_are_out_of_reach(client, employer_user, other_employer_user):
    hr = f.make_user(Role.EMPLOYER, employer=employer_user.employer, unit_role="hr")
    client.force_login(other_employer_user)
    for name in ("employers:colleague_role", "employers:colleague_remove"):
        response = client.post(reverse(name, args=[hr.pk]), {"unit_role": "admin"})
        assert response.status_code == 404
    hr.refresh_from_db()
    assert (hr.unit_role, hr.is_active) == ("hr", True)
    assert hr.username not in client.get(COLLEAGUES).content.decode()


def test_an_expired_or_forged_link_creates_nothing(client, employer_user):
    token = services.colleague_invite(by=employer_user, email="a@example.com", unit_role="hr")
    ColleagueInvitation.objects.update(expires_at=timezone.now())
    before = User.objects.count()
    for link in (
        reverse("employers:join", args=[token]),
        reverse("employers:join", args=["x" * 43]),
    ):
        response = _join(client, link)
        assert response.status_code == 404
    assert User.objects.count() == before


def test_hr_cannot_replace_the_verification_documents(client, employer_user):
    hr = f.make_user(Role.EMPLOYER, employer=employer_user.employer, unit_role="hr")
    client.force_login(hr)
    from django.core.files.uploadedfile import SimpleUploadedFile

    response = client.post(
        reverse("employers:upload_evidence"),
        {"business_licence": SimpleUploadedFile("l.pdf", f.pdf_bytes())},
    )
    assert response.status_code == 403
    assert not employer_user.employer.business_licence


@pytest.mark.parametrize("role", ["student", "college_reviewer"])
def test_only_employers_have_colleagues(client, request, role):
    user = request.getfixturevalue(role)
    client.force_login(getattr(user, "user", user))
    assert client.get(COLLEAGUES).status_code == 403


def test_an_invitation_not_used_yet_is_withdrawn(client, employer_user):
    token = services.colleague_invite(by=employer_user, email="typo@exmaple.com", unit_role="hr")
    invitation = ColleagueInvitation.objects.get()
    client.force_login(employer_user)
    page = client.get(COLLEAGUES).content.decode()
    assert "typo@exmaple.com" in page and "撤回" in page
    url = reverse("employers:colleague_invitation_revoke", args=[invitation.pk])
    assert client.post(url).status_code == 302
    assert "typo@exmaple.com" not in client.get(COLLEAGUES).content.decode()
    client.logout()
    assert _join(client, reverse("employers:join", args=[token])).status_code == 404


def test_an_unverified_unit_invites_no_colleague_and_invitations_are_rate_limited(
    client, employer_user, reference_data
):
    unverified = f.make_user(Role.EMPLOYER, employer=f.make_employer())
    client.force_login(unverified)
    response = client.post(COLLEAGUES, {"email": "x@example.com", "unit_role": "hr"})
    assert response.status_code == 400 and not ColleagueInvitation.objects.exists()
    for n in range(services.INVITATIONS_PER_HOUR):
        services.colleague_invite(by=employer_user, email=f"c{n}@example.com", unit_role="hr")
    client.force_login(employer_user)
    response = client.post(COLLEAGUES, {"email": "one-more@example.com", "unit_role": "hr"})
    assert response.status_code == 400
    assert ColleagueInvitation.objects.count() == services.INVITATIONS_PER_HOUR
