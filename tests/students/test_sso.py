"""School single sign-on, against a real OpenID Connect provider (django-oauth-toolkit)
running in its own process (tests/oidc_provider/)."""

import base64
import json
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

import pytest
from axes.models import AccessAttempt
from django.contrib.auth import SESSION_KEY
from django.core.exceptions import SuspiciousOperation
from django.urls import reverse

from destreg.audit.models import AuditEvent
from students.models import SchoolSignOn, Student, current_graduation_year
from students.sso import SchoolOIDCBackend
from tests import factories as f
from tests.oidc_provider import serve
from tests.oidc_provider.fixtures import (
    make_sign_on,
    provider_tokens,
    through_provider,
)

LOGIN = reverse("login")
CALLBACK = reverse("sso:callback")
OUR_REDIRECT_URI = "http://testserver" + CALLBACK


@pytest.fixture
def sign_on(world, oidc_provider):
    return make_sign_on(world.school_a, oidc_provider)


@pytest.fixture
def record(world):
    """The graduate the provider knows as 2021001, in school A's current registry."""
    return f.make_record(
        world.major_a1,
        student_no="2021001",
        name="赵一",
        mobile="13900000001",
        email="zhao@example.edu.cn",
    )


def start(client, school) -> str:
    """Our SSO link: the redirect to the school's provider."""
    response = client.get(reverse("sso:login", args=[school.code]))
    assert response.status_code == 302
    return response["Location"]


def sso_login(client, school, student_no: str):
    """The whole flow: our link, the provider's login and authorize, our callback."""
    callback = through_provider(start(client, school), student_no)
    assert callback.startswith(OUR_REDIRECT_URI + "?")
    return client.get(callback)


def signed_in_user_id(client):
    return client.session.get(SESSION_KEY)


# --- The login page ---------------------------------------------------------


def test_login_page_links_to_the_one_school_with_sso(client, sign_on):
    page = client.get(LOGIN).content.decode()
    assert "统一身份认证登录" in page
    assert reverse("sso:login", args=[sign_on.school.code]) in page
    assert sign_on.school.name in page


def test_login_page_offers_a_school_picker_when_several_have_sso(client, world, oidc_provider):
    make_sign_on(world.school_a, oidc_provider)
    make_sign_on(world.school_b, oidc_provider)
    page = client.get(LOGIN + "?next=/students/").content.decode()
    assert '<details class="sso-picker">' in page
    for school in (world.school_a, world.school_b):
        link = reverse("sso:login", args=[school.code]) + "?next=/students/"
        assert f'href="{link}">{school.name}</a>' in page


def test_login_page_hides_disabled_schools(client, sign_on):
    sign_on.enabled = False
    sign_on.save()
    page = client.get(LOGIN).content.decode()
    assert "统一身份认证登录" not in page
    assert client.get(reverse("sso:login", args=[sign_on.school.code])).status_code == 404


def test_the_switch_turns_sso_off(client, settings, sign_on):
    settings.SSO_ENABLED = False
    assert "统一身份认证登录" not in client.get(LOGIN).content.decode()
    assert client.get(reverse("sso:login", args=[sign_on.school.code])).status_code == 404
    assert client.get(CALLBACK, {"code": "x", "state": "y"}).status_code == 404


def test_the_link_sends_the_graduate_to_the_school_provider_with_state_nonce_and_pkce(
    client, sign_on
):
    location = start(client, sign_on.school)
    assert location.startswith(sign_on.authorization_endpoint + "?")
    query = parse_qs(urlsplit(location).query)
    assert query["client_id"] == [serve.CLIENT_ID]
    assert query["redirect_uri"] == [OUR_REDIRECT_URI]
    assert query["scope"] == ["openid profile"]
    assert query["code_challenge_method"] == ["S256"]
    entry = client.session["oidc_states"][query["state"][0]]
    assert entry["nonce"] == query["nonce"][0]
    assert entry["school"] == sign_on.school.code


# --- Signing in and binding -------------------------------------------------


def test_first_sso_login_creates_an_account_bound_to_the_record(client, sign_on, record):
    response = sso_login(client, sign_on.school, "2021001")
    assert response.status_code == 302
    student = Student.objects.select_related("user").get(record=record)
    assert signed_in_user_id(client) == str(student.user.pk)
    assert student.is_confirmed
    assert student.real_name == "赵一"
    assert student.id_number == record.id_number
    assert student.mobile == "13900000001"
    assert student.user.username == f"{sign_on.school.code}-2021001"
    assert student.user.email == "zhao@example.edu.cn"
    assert not student.user.has_usable_password()
    confirm = AuditEvent.objects.for_object(student).get(action="confirm_registry")
    assert confirm.changes == {"record": record.pk, "via": "sso"}
    assert confirm.actor == student.user
    # The graduate lands on their home page, confirmed, without typing any code.
    home = client.get(response["Location"], follow=True)
    assert home.request["PATH_INFO"] == reverse("students:home")
    assert "赵一" in home.content.decode()


def test_a_second_sso_login_returns_the_same_account(client, sign_on, record):
    sso_login(client, sign_on.school, "2021001")
    first = Student.objects.get(record=record)
    client.logout()
    sso_login(client, sign_on.school, "2021001")
    assert signed_in_user_id(client) == str(first.user_id)
    assert Student.objects.filter(record=record).count() == 1
    assert AuditEvent.objects.filter(action="confirm_registry").count() == 1


def test_an_account_already_bound_to_the_record_is_signed_in(client, sign_on, record):
    existing = f.make_student(record)  # confirmed earlier with a password account
    sso_login(client, sign_on.school, "2021001")
    assert signed_in_user_id(client) == str(existing.user_id)
    assert Student.objects.count() == 1


def test_sso_confirms_again_an_account_whose_identity_the_school_corrected(
    client, world, sign_on, record, school_reviewer
):
    from students.importing import registry_import
    from students.models import HeldRegistryChange
    from students.registry_changes import held_change_apply

    existing = f.make_student(record)
    row = f.registry_row(world, "2021001", "赵二", f.new_id_number())
    registry_import(
        school=world.school_a, handle=f.registry_csv([row]), filename="a.csv", actor=None
    )
    held_change_apply(change=HeldRegistryChange.objects.get(), reviewer=school_reviewer)
    sso_login(client, sign_on.school, "2021001")
    assert signed_in_user_id(client) == str(existing.user_id)
    existing.refresh_from_db()
    assert existing.is_confirmed and existing.confirmed_via == "sso"
    assert existing.record_id == record.pk and existing.real_name == "赵二"
    assert Student.objects.count() == 1


def test_the_student_number_claim_is_configurable(client, world, oidc_provider, record):
    # This provider's sub is its internal user id, not the 学号: bound to nothing.
    sign_on = make_sign_on(world.school_a, oidc_provider, student_no_claim="sub")
    response = sso_login(client, sign_on.school, "2021001")
    assert response.status_code == 403
    assert signed_in_user_id(client) is None
    assert not Student.objects.exists()


def _no_record_case(client, sign_on, student_no):
    response = sso_login(client, sign_on.school, student_no)
    page = response.content.decode()
    assert response.status_code == 403
    assert "统一身份认证登录失败" in page
    assert f"学校学籍库中没有学号 {student_no} 的本届毕业生记录" in page
    assert signed_in_user_id(client) is None
    assert not Student.objects.exists()


def test_unknown_student_number_shows_an_error_and_signs_nobody_in(client, sign_on):
    _no_record_case(client, sign_on, "2099999")
    # Not a password guess: django-axes counts nothing (it would lock a whole campus NAT).
    assert not AccessAttempt.objects.exists()


def test_records_of_another_school_or_year_do_not_bind(client, world, sign_on):
    f.make_record(world.major_b1, student_no="2021002")
    f.make_record(
        world.major_a1, student_no="2021002", graduation_year=current_graduation_year() - 1
    )
    _no_record_case(client, sign_on, "2021002")


def test_an_unconfirmed_account_with_the_same_id_number_is_not_taken_over(client, sign_on, record):
    squatter = f.make_student(record, confirmed=False)  # a sign-up with the graduate's ID
    sso_login(client, sign_on.school, "2021001")
    bound = Student.objects.get(record=record)
    assert bound.pk != squatter.pk
    assert signed_in_user_id(client) == str(bound.user_id)
    squatter.refresh_from_db()
    assert squatter.record is None


# --- Refusals ---------------------------------------------------------------


def test_an_id_number_another_account_confirmed_is_refused_not_a_server_error(
    client, world, sign_on, record
):
    earlier = f.make_record(
        world.major_b1, id_number=record.id_number, graduation_year=record.graduation_year - 1
    )
    holder = f.make_student(earlier)  # confirmed the ID number with last year's record
    response = sso_login(client, sign_on.school, "2021001")
    assert response.status_code == 403
    page = response.content.decode()
    assert "统一身份认证登录失败" in page and "其他账号" in page
    assert signed_in_user_id(client) is None
    assert list(Student.objects.all()) == [holder]  # the account made for it is rolled back


def test_a_tampered_state_is_refused(client, sign_on, record):
    callback = through_provider(start(client, sign_on.school), "2021001")
    parts = urlsplit(callback)
    query = parse_qs(parts.query)
    query["state"] = [query["state"][0][:-1] + ("A" if query["state"][0][-1] != "A" else "B")]
    response = client.get(urlunsplit(parts._replace(query=urlencode(query, doseq=True))))
    assert response.status_code == 400
    assert "无法验证学校统一身份认证的登录结果" in response.content.decode()
    assert signed_in_user_id(client) is None
    assert not Student.objects.exists()


def test_a_replayed_callback_is_refused(client, sign_on, record):
    callback = through_provider(start(client, sign_on.school), "2021001")
    assert client.get(callback).status_code == 302
    client.logout()
    assert client.get(callback).status_code in (400, 403)
    assert signed_in_user_id(client) is None


def test_an_id_token_from_another_issuer_is_refused(client, world, oidc_provider, record):
    # The school's configuration names another issuer than the one that signs the tokens.
    sign_on = make_sign_on(world.school_a, oidc_provider, issuer=oidc_provider.issuer + "/other")
    response = sso_login(client, sign_on.school, "2021001")
    assert response.status_code == 400
    assert signed_in_user_id(client) is None
    assert not Student.objects.exists()


def test_the_provider_cancelling_signs_nobody_in(client, sign_on):
    location = start(client, sign_on.school)
    state = parse_qs(urlsplit(location).query)["state"][0]
    response = client.get(CALLBACK, {"error": "access_denied", "state": state})
    assert response.status_code == 403
    assert "学校统一身份认证登录已取消或被拒绝" in response.content.decode()
    assert signed_in_user_id(client) is None


def _backend(sign_on) -> SchoolOIDCBackend:
    backend = SchoolOIDCBackend()
    backend.configure(sign_on)
    return backend


def _our_id_token(oidc_provider, nonce):
    return provider_tokens(
        oidc_provider,
        "2021001",
        client_id=serve.CLIENT_ID,
        secret=serve.CLIENT_SECRET,
        redirect_uri=OUR_REDIRECT_URI,
        nonce=nonce,
    )["id_token"]


def test_the_backend_accepts_the_providers_id_token_for_us(sign_on, oidc_provider):
    claims = _backend(sign_on).verify_token(_our_id_token(oidc_provider, "n-1"), nonce="n-1")
    assert claims["student_no"] == "2021001"
    assert claims["aud"] == serve.CLIENT_ID


def test_an_id_token_issued_to_another_client_is_refused(sign_on, oidc_provider):
    token = provider_tokens(
        oidc_provider,
        "2021001",
        client_id=serve.OTHER_CLIENT_ID,
        secret=serve.OTHER_CLIENT_SECRET,
        redirect_uri=serve.OTHER_REDIRECT_URI,
        nonce="n-2",
    )["id_token"]
    with pytest.raises(SuspiciousOperation, match=r"(?i)audience"):
        _backend(sign_on).verify_token(token, nonce="n-2")


def test_an_id_token_with_another_nonce_is_refused(sign_on, oidc_provider):
    with pytest.raises(SuspiciousOperation, match="Nonce"):
        _backend(sign_on).verify_token(_our_id_token(oidc_provider, "n-3"), nonce="n-4")


def test_an_id_token_with_altered_claims_is_refused(sign_on, oidc_provider):
    header, payload, signature = _our_id_token(oidc_provider, "n-5").split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["student_no"] = "2021002"
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip("=")
    with pytest.raises(SuspiciousOperation):
        _backend(sign_on).verify_token(f"{header}.{forged}.{signature}", nonce="n-5")


def test_an_unreadable_id_token_is_refused(sign_on):
    with pytest.raises(SuspiciousOperation):
        _backend(sign_on).verify_token("not-a-jwt", nonce="n-6")


def test_a_failing_token_endpoint_shows_an_error_and_signs_nobody_in(
    client, world, oidc_provider, record
):
    sign_on = make_sign_on(
        world.school_a, oidc_provider, token_endpoint=f"{oidc_provider.url}/o/missing/"
    )
    response = sso_login(client, sign_on.school, "2021001")
    assert response.status_code == 502
    assert "暂时无法连接学校统一身份认证服务" in response.content.decode()
    assert signed_in_user_id(client) is None


def test_password_sign_in_still_works_next_to_the_sso_backend(client, student):
    response = client.post(LOGIN, {"username": student.user.username, "password": "pw-Secret-123"})
    assert response.status_code == 302
    assert signed_in_user_id(client) == str(student.user_id)


# --- The admin --------------------------------------------------------------

ADD = reverse("admin:students_schoolsignon_add")


def _admin_form(world, oidc_provider, **overrides):
    discovery = oidc_provider.discovery
    return {
        "school": world.school_a.pk,
        "enabled": "on",
        "issuer": discovery["issuer"],
        "authorization_endpoint": discovery["authorization_endpoint"],
        "token_endpoint": discovery["token_endpoint"],
        "userinfo_endpoint": discovery["userinfo_endpoint"],
        "jwks_endpoint": discovery["jwks_uri"],
        "sign_algo": "RS256",
        "client_id": serve.CLIENT_ID,
        "new_client_secret": "s3cret-value-123",
        "student_no_claim": "student_no",
        "scopes": "openid profile",
        "use_pkce": "on",
        **overrides,
    }


def test_platform_admin_sets_up_a_school_and_the_secret_is_never_shown_back(
    client,
    world,
    oidc_provider,
    platform_admin,
):
    client.force_login(platform_admin)
    assert client.post(ADD, _admin_form(world, oidc_provider)).status_code == 302
    sign_on = SchoolSignOn.objects.get(school=world.school_a)
    assert sign_on.client_secret == "s3cret-value-123"
    assert "s3cret-value-123" not in sign_on.client_secret_cipher  # encrypted at rest
    change = reverse("admin:students_schoolsignon_change", args=[sign_on.pk])
    assert "s3cret-value-123" not in client.get(change).content.decode()
    # Saving without typing the secret again keeps it.
    form = _admin_form(world, oidc_provider, new_client_secret="", client_id="renamed")
    assert client.post(change, form).status_code == 302
    sign_on.refresh_from_db()
    assert (sign_on.client_id, sign_on.client_secret) == ("renamed", "s3cret-value-123")


def test_admin_refuses_a_configuration_without_openid_or_secret(
    client,
    world,
    oidc_provider,
    platform_admin,
):
    client.force_login(platform_admin)
    form = _admin_form(world, oidc_provider, scopes="profile", new_client_secret="")
    response = client.post(ADD, form)
    assert response.status_code == 200
    assert set(response.context["adminform"].form.errors) == {"scopes", "new_client_secret"}
    assert not SchoolSignOn.objects.exists()


def test_admin_refuses_plain_http_endpoints_off_this_machine(
    client, world, oidc_provider, platform_admin
):
    client.force_login(platform_admin)
    form = _admin_form(world, oidc_provider, token_endpoint="http://idp.example.edu.cn/token")
    response = client.post(ADD, form)
    assert response.status_code == 200
    assert set(response.context["adminform"].form.errors) == {"token_endpoint"}


def test_reviewers_cannot_open_the_sso_admin(client, school_reviewer):
    client.force_login(school_reviewer)
    assert client.get(ADD).status_code == 302  # to the admin's login


def test_a_record_disputed_between_schools_is_not_bound_by_sign_on(client, world, sign_on, record):
    from students.models import RegistryConflict

    RegistryConflict.objects.create(
        graduation_year=record.graduation_year,
        id_number_digest=record.id_number_digest,
        record=record,
        holding_school=world.school_a,
        holding_student_no=record.student_no,
        claiming_school=world.school_b,
        source=RegistryConflict.Source.IMPORT,
    )
    sso_login(client, sign_on.school, "2021001")
    assert not Student.objects.filter(record=record).exists()
    assert signed_in_user_id(client) is None
