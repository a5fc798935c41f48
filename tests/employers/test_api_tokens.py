"""The API keys page (/employers/api-tokens/): administrators make and revoke keys, HR
colleagues see the list, nobody else sees any of it."""

from datetime import timedelta

import pytest
from django.utils import timezone

from destreg.accounts.models import Role, UnitRole
from destreg.audit.models import AuditAction, AuditEvent
from employers.api_tokens import api_token_create
from employers.models import ApiToken
from tests import factories as f

URL = "/employers/api-tokens/"


def form(**changes) -> dict:
    return {
        "name": "HR system",
        "scope": "write",
        "expires_on": (timezone.localdate() + timedelta(days=30)).isoformat(),
    } | changes


def make_key(user, **changes):
    values = {"name": "k", "scope": "read", "expires_on": timezone.localdate() + timedelta(days=9)}
    return api_token_create(by=user, **(values | changes))[0]


@pytest.fixture
def hr(employer_user):
    return f.make_user(Role.EMPLOYER, employer=employer_user.employer, unit_role=UnitRole.HR)


def test_an_administrator_makes_a_key_shown_once_and_audited(client, employer_user):
    client.force_login(employer_user)
    page = client.post(URL, form())
    assert page.status_code == 200
    token = ApiToken.objects.get()
    assert (token.name, token.scope, token.created_by) == ("HR system", "write", employer_user)
    assert token.expires_at.date() == timezone.localdate() + timedelta(days=30)
    assert page.context["new_key"] and ApiToken.digest_of(page.context["new_key"]) == token.digest
    assert "new-key-value" not in client.get(URL).content.decode()
    event = AuditEvent.objects.get(action=AuditAction.CREATE_API_TOKEN)
    assert (event.actor, event.comment) == (employer_user, "HR system")
    assert page.context["new_key"] not in str(event.changes)


@pytest.mark.parametrize(
    ("changes", "field_error"),
    [
        (
            {"expires_on": (timezone.localdate() + timedelta(days=366)).isoformat()},
            "at most a year",
        ),
        ({"expires_on": timezone.localdate().isoformat()}, "until tomorrow"),
        ({"expires_on": ""}, "required"),
        ({"scope": "admin"}, "valid choice"),
        ({"name": "a\nb"}, ""),
    ],
)
def test_bad_input_is_refused_and_kept(client, employer_user, changes, field_error):
    client.force_login(employer_user)
    client.cookies["django_language"] = "en"
    page = client.post(URL, form(**changes))
    assert page.status_code == 400
    assert field_error in page.content.decode()
    assert page.context["form"].data["name"] == form(**changes)["name"]  # kept
    assert not ApiToken.objects.exists()


def test_hr_sees_the_keys_but_cannot_make_or_revoke_them(client, employer_user, hr):
    token = make_key(employer_user)
    client.force_login(hr)
    page = client.get(URL)
    assert page.status_code == 200 and token.prefix in page.content.decode()
    assert (
        "Create a key" not in page.content.decode() and 'name="scope"' not in page.content.decode()
    )
    assert client.post(URL, form()).status_code == 400
    assert ApiToken.objects.count() == 1
    client.post(f"{URL}{token.pk}/revoke/")
    token.refresh_from_db()
    assert token.revoked_at is None


def test_an_administrator_revokes_a_key(client, employer_user):
    token = make_key(employer_user)
    client.force_login(employer_user)
    assert client.post(f"{URL}{token.pk}/revoke/").status_code == 302
    token.refresh_from_db()
    assert (token.revoked_by, token.state) == (employer_user, "revoked")
    assert AuditEvent.objects.filter(action=AuditAction.REVOKE_API_TOKEN).count() == 1
    assert client.get(f"{URL}{token.pk}/revoke/").status_code == 405


def test_another_unit_sees_nothing_and_revokes_nothing(client, employer_user, other_employer_user):
    token = make_key(employer_user, name="甲单位的密钥")
    client.force_login(other_employer_user)
    assert "甲单位的密钥" not in client.get(URL).content.decode()
    assert client.post(f"{URL}{token.pk}/revoke/").status_code == 404
    token.refresh_from_db()
    assert token.revoked_at is None


@pytest.mark.parametrize("role", ["student", "college_reviewer", "school_reviewer"])
def test_only_employers_have_the_page(client, request, role):
    user = request.getfixturevalue(role)
    client.force_login(getattr(user, "user", user))
    assert client.get(URL).status_code == 403
    client.logout()
    assert client.get(URL).status_code == 302


def test_an_unverified_unit_cannot_make_keys(client, reference_data):
    admin = f.make_user(Role.EMPLOYER, employer=f.make_employer())
    client.force_login(admin)
    assert client.post(URL, form()).status_code == 400
    assert not ApiToken.objects.exists()
