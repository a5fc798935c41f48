"""The second factor (django-otp): signing in through the real pages, enrolment, recovery
codes, throttling, opting in, the admin's audited reset and the DEBUG-only demo skip.

These tests sign in with the password form (``sign_in``), never with ``force_login``,
which the shared conftest makes complete the second factor."""

import base64
import re
from datetime import timedelta

import pytest
from django.contrib.sessions.backends.db import SessionStore
from django.core.exceptions import PermissionDenied
from django.urls import reverse
from django.utils import timezone
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from destreg.accounts import services
from destreg.accounts.models import Role
from destreg.accounts.permissions import (
    can_change_second_factor,
    can_reset_second_factor,
    can_use_second_factor,
    second_factor_required,
)
from destreg.audit.models import AuditEvent, Notification
from tests import factories as f
from tests.conftest import confirmed_authenticator

LOGIN = reverse("login")
VERIFY = reverse("second_factor")
ENROL = reverse("second_factor_enrol")
CODES = reverse("second_factor_recovery_codes")
SECURITY = reverse("account_security")
QUEUE = reverse("reviews:queue")
PASSWORD = "pw-Secret-123"


def sign_in(client, user, next_url: str = ""):
    """The password step of the real form; returns its response (not followed)."""
    data = {"username": user.username, "password": PASSWORD}
    if next_url:
        data["next"] = next_url
    response = client.post(LOGIN, data)
    assert response.status_code == 302, "the password was refused"
    return response


def code_at(key: bytes, steps_ahead: int = 0) -> str:
    """The code an authenticator app shows now (or ``steps_ahead`` periods later)."""
    totp = TOTP(key)
    totp.time = totp.time + 30 * steps_ahead
    return f"{totp.token():06d}"


def code_for(device: TOTPDevice, steps_ahead: int = 0) -> str:
    return code_at(device.bin_key, steps_ahead)


def secret_on_page(html: str) -> bytes:
    secret = re.search(r'id="secret">([A-Z2-7 ]+)<', html).group(1).replace(" ", "")
    return base64.b32decode(secret + "=" * (-len(secret) % 8))


def enrol_through_the_pages(client, user, url: str = ENROL, then: str = "/") -> list[str]:
    """From a signed-in session: scan, confirm, read the recovery codes and check that
    their page goes on to ``then``."""
    page = client.get(url).content.decode()
    next_url = re.search(r'name="next" value="([^"]*)"', page).group(1)
    response = client.post(url, {"code": code_at(secret_on_page(page)), "next": next_url})
    assert response.status_code == 302 and response.url.startswith(CODES)
    page = client.get(response.url).content.decode()
    assert f'class="btn btn-primary" href="{then}"' in page
    return re.findall(r"<li>([a-z2-7]{8})</li>", page)


# --- who must, who may ----------------------------------------------------------------


def test_policy_required_for_school_reviewers_admins_and_staff_optional_for_others(
    student, college_reviewer, school_reviewer, employer_user, platform_admin
):
    assert second_factor_required(school_reviewer) and second_factor_required(platform_admin)
    assert not second_factor_required(college_reviewer)
    assert not second_factor_required(employer_user)
    assert can_use_second_factor(college_reviewer) and can_use_second_factor(employer_user)
    assert not can_use_second_factor(student.user)
    staff_without_role = f.make_user(Role.STUDENT, is_staff=True)
    assert second_factor_required(staff_without_role)


def test_only_another_platform_admin_may_reset(platform_admin, school_reviewer):
    other_admin = f.make_user(Role.PLATFORM_ADMIN, is_staff=True, is_superuser=True)
    assert can_reset_second_factor(platform_admin, school_reviewer)
    assert can_reset_second_factor(other_admin, platform_admin)
    assert not can_reset_second_factor(platform_admin, platform_admin)
    assert not can_reset_second_factor(school_reviewer, platform_admin)


# --- the password alone is not enough ---------------------------------------------------


@pytest.mark.parametrize("target", [QUEUE, "/admin/", reverse("reviews:statistics")])
def test_school_reviewer_without_a_device_is_sent_to_enrol_after_the_password(
    client, school_reviewer, target
):
    sign_in(client, school_reviewer)
    response = client.get(target)
    assert response.status_code == 302
    assert response.url.startswith(ENROL) and "next=" in response.url


@pytest.mark.parametrize("target", [QUEUE, "/admin/", "/admin/accounts/user/"])
def test_admin_with_a_device_is_asked_for_the_code_before_anything(client, platform_admin, target):
    confirmed_authenticator(platform_admin)
    sign_in(client, platform_admin)
    response = client.get(target)
    assert response.status_code == 302 and response.url.startswith(VERIFY)
    page = client.get(response.url)
    assert "身份验证器" in page.content.decode()  # the code page, in Chinese


def test_half_signed_in_user_sees_no_menu_and_may_sign_out(client, school_reviewer):
    sign_in(client, school_reviewer)
    page = client.get(ENROL).content.decode()
    assert f'href="{QUEUE}"' not in page and reverse("audit:notifications") not in page
    assert client.post(reverse("logout")).status_code == 302
    assert client.get(QUEUE).url.startswith(LOGIN)


def test_code_opens_the_page_asked_for(client, school_reviewer):
    device = confirmed_authenticator(school_reviewer)
    statistics = reverse("reviews:statistics")
    assert sign_in(client, school_reviewer, next_url=statistics).url == statistics
    to_verify = client.get(statistics).url
    response = client.post(to_verify, {"code": code_for(device)})
    assert response.status_code == 302 and response.url == statistics
    assert client.get(statistics).status_code == 200
    assert client.get("/admin/").status_code == 302  # a reviewer is no admin (login page)


# --- enrolment --------------------------------------------------------------------------


def test_enrolment_with_a_real_code_shows_ten_recovery_codes_once(client, school_reviewer):
    sign_in(client, school_reviewer)
    page = client.get(ENROL)
    html = page.content.decode()
    assert 'src="data:image/svg+xml;base64,' in html  # the QR code, no script, no request
    assert "<script>" not in html.split("</main>")[0]

    wrong = "000000" if code_at(secret_on_page(html)) != "000000" else "111111"
    response = client.post(ENROL, {"code": wrong})
    assert "不正确" in response.content.decode()
    assert not TOTPDevice.objects.filter(user=school_reviewer, confirmed=True).exists()

    TOTPDevice.objects.filter(user=school_reviewer).update(throttling_failure_count=0)
    codes = enrol_through_the_pages(client, school_reviewer)
    assert len(codes) == 10 and len(set(codes)) == 10
    assert sorted(codes) == sorted(
        StaticToken.objects.filter(device__user=school_reviewer).values_list("token", flat=True)
    )
    assert client.get(CODES).url == SECURITY  # shown once
    assert client.get(QUEUE).status_code == 200
    assert AuditEvent.objects.filter(object_id=school_reviewer.pk, action="enrol_second_factor")


def test_the_qr_code_keeps_its_secret_until_confirmed(client, school_reviewer):
    sign_in(client, school_reviewer)
    first = secret_on_page(client.get(ENROL).content.decode())
    assert secret_on_page(client.get(ENROL).content.decode()) == first


def test_a_password_alone_cannot_replace_an_enrolled_device(client, school_reviewer):
    confirmed_authenticator(school_reviewer)
    sign_in(client, school_reviewer)
    response = client.get(ENROL)
    assert response.status_code == 302 and response.url.startswith(VERIFY)
    assert TOTPDevice.objects.filter(user=school_reviewer).count() == 1


def test_next_sign_in_asks_for_the_code(client, school_reviewer):
    sign_in(client, school_reviewer)
    enrol_through_the_pages(client, school_reviewer)
    client.post(reverse("logout"))
    sign_in(client, school_reviewer)
    assert client.get(QUEUE).url.startswith(VERIFY)
    device = TOTPDevice.objects.get(user=school_reviewer)
    client.post(VERIFY, {"code": code_for(device, steps_ahead=1)})  # the app's next code
    assert client.get(QUEUE).status_code == 200


def test_each_session_enrolling_gets_its_own_secret_worthless_once_another_confirms(
    client, school_reviewer
):
    """The attacker knows the password, opens the enrolment page in their own session and
    keeps the secret; the owner enrols in theirs. The attacker's secret opens nothing."""
    attacker = client.__class__()
    sign_in(client, school_reviewer)
    sign_in(attacker, school_reviewer)
    owners = secret_on_page(client.get(ENROL).content.decode())
    attackers = secret_on_page(attacker.get(ENROL).content.decode())
    assert owners != attackers
    assert secret_on_page(attacker.get(ENROL).content.decode()) == attackers  # on reload

    enrol_through_the_pages(client, school_reviewer)
    assert TOTPDevice.objects.filter(user=school_reviewer).count() == 1  # theirs, confirmed
    assert client.get(QUEUE).status_code == 200

    # The attacker's enrolling session may no longer confirm its own device...
    response = attacker.post(ENROL, {"code": code_at(attackers)})
    assert response.status_code == 302 and response.url.startswith(VERIFY)
    # ... and a new password session does not pass with a code from the saved secret.
    later = client.__class__()
    sign_in(later, school_reviewer)
    response = later.post(VERIFY, {"code": code_at(attackers)})
    assert response.status_code == 200 and "不正确" in response.content.decode()
    assert later.get(QUEUE).url.startswith(VERIFY)
    assert list(
        TOTPDevice.objects.filter(user=school_reviewer).values_list("confirmed", flat=True)
    ) == [True]


def test_a_device_of_a_session_that_lost_the_race_cannot_be_confirmed(school_reviewer):
    first = services.pending_totp_device(user=school_reviewer)
    second = services.pending_totp_device(user=school_reviewer)
    assert first.pk != second.pk
    assert services.pending_totp_device(user=school_reviewer, pk=first.pk) == first
    services.second_factor_enrol(device=first)
    with pytest.raises(PermissionDenied):
        services.second_factor_enrol(device=second)
    with pytest.raises(PermissionDenied):
        services.second_factor_enrol(device=first)  # confirmed already
    assert list(TOTPDevice.objects.filter(user=school_reviewer)) == [first]


def test_setting_up_a_second_factor_tells_the_user_in_the_app_and_by_email(
    client, school_reviewer, mailoutbox, django_capture_on_commit_callbacks
):
    sign_in(client, school_reviewer)
    with django_capture_on_commit_callbacks(execute=True):
        enrol_through_the_pages(client, school_reviewer)
    notice = Notification.objects.get(user=school_reviewer)
    assert "已于" in notice.message and "设置两步验证" in notice.message
    assert "如果不是您本人操作，请联系平台管理员" in notice.message
    assert [m.to for m in mailoutbox] == [[school_reviewer.email]]
    assert "联系平台管理员" in mailoutbox[0].body
    now = timezone.localtime()
    minutes = {(now - timedelta(minutes=n)).strftime("%Y-%m-%d %H:%M") for n in (0, 1)}
    assert any(minute in notice.message for minute in minutes)  # when, in local time


# --- sessions opened before the second factor was set up -----------------------------------


@pytest.mark.parametrize(
    ("cast", "home"), [("college_reviewer", QUEUE), ("employer_user", reverse("employers:home"))]
)
def test_a_session_opened_before_enrolment_is_held_and_cannot_manage_the_second_factor(
    request, client, cast, home
):
    user = request.getfixturevalue(cast)
    old = client.__class__()
    sign_in(old, user)
    assert old.get(home).status_code == 200  # opted-in roles: the password was enough

    sign_in(client, user)
    link = re.search(rf'href="({ENROL}[^"]*)"', client.get(SECURITY).content.decode()).group(1)
    codes = enrol_through_the_pages(client, user, url=link, then=SECURITY)

    assert old.get(home).url.startswith(VERIFY)
    assert old.get(SECURITY).url.startswith(VERIFY)
    assert old.get(ENROL).url.startswith(VERIFY)
    response = old.post(SECURITY, {"action": "turn_off"})
    assert response.status_code == 302 and response.url.startswith(VERIFY)
    response = old.post(SECURITY, {"action": "renew"})
    assert response.status_code == 302 and response.url.startswith(VERIFY)
    assert TOTPDevice.objects.filter(user=user, confirmed=True).exists()
    tokens = StaticToken.objects.filter(device__user=user).values_list("token", flat=True)
    assert sorted(tokens) == sorted(codes)  # the owner's codes, unchanged

    device = TOTPDevice.objects.get(user=user)  # with the code, the old session goes on
    old.post(VERIFY, {"code": code_for(device, steps_ahead=1)})
    assert old.get(home).status_code == 200


def test_only_a_verified_session_may_renew_codes_or_turn_the_second_factor_off(
    rf, college_reviewer, student
):
    from django_otp.middleware import OTPMiddleware

    assert not can_change_second_factor(college_reviewer)  # no django-otp: trust nobody
    request = rf.get("/")
    request.session = SessionStore()
    OTPMiddleware(lambda r: None)._verify_user_sync(request, college_reviewer)
    assert not can_change_second_factor(college_reviewer)  # the password alone
    college_reviewer.otp_device = confirmed_authenticator(college_reviewer)
    assert can_change_second_factor(college_reviewer)
    assert not can_change_second_factor(student.user)


def test_telling_who_owes_a_code_costs_a_student_no_query_and_others_one(
    rf, student, college_reviewer, django_assert_num_queries
):
    from destreg.accounts.middleware import verification_pending

    for user, queries in [(student.user, 0), (college_reviewer, 1)]:
        request = rf.get("/")
        request.user = user
        user.is_verified = lambda: False
        with django_assert_num_queries(queries):
            assert not verification_pending(request)
    confirmed_authenticator(college_reviewer)
    assert verification_pending(request)


# --- recovery codes and wrong codes -------------------------------------------------------


def test_a_recovery_code_works_once(client, school_reviewer):
    confirmed_authenticator(school_reviewer)
    code = services.recovery_codes_renew(user=school_reviewer)[0]
    sign_in(client, school_reviewer)
    response = client.post(VERIFY, {"code": code.upper()[:4] + "-" + code.upper()[4:]})
    assert response.status_code == 302
    page = client.get(QUEUE, follow=True).content.decode()
    assert "恢复码" in page and "9" in page  # "you used a recovery code; 9 are left"

    client.post(reverse("logout"))
    sign_in(client, school_reviewer)
    response = client.post(VERIFY, {"code": code})
    assert response.status_code == 200 and "不正确" in response.content.decode()
    assert client.get(QUEUE).status_code == 302


def test_new_recovery_codes_keep_a_session_signed_in_with_a_recovery_code(client, school_reviewer):
    confirmed_authenticator(school_reviewer)
    old = services.recovery_codes_renew(user=school_reviewer)
    sign_in(client, school_reviewer)
    assert client.post(VERIFY, {"code": old[0]}).status_code == 302
    response = client.post(SECURITY, {"action": "renew"})
    assert response.status_code == 302 and response.url.startswith(CODES)
    new = re.findall(r"<li>([a-z2-7]{8})</li>", client.get(response.url).content.decode())
    assert len(new) == 10 and not set(old) & set(new)
    assert client.get(QUEUE).status_code == 200  # still verified


def test_wrong_codes_are_refused_and_throttled_even_for_the_right_code(client, school_reviewer):
    device = confirmed_authenticator(school_reviewer)
    sign_in(client, school_reviewer)
    wrong = "123456" if code_for(device) != "123456" else "654321"
    response = client.post(VERIFY, {"code": wrong})
    assert response.status_code == 200 and "不正确" in response.content.decode()
    response = client.post(VERIFY, {"code": code_for(device)})  # at once: must wait
    assert "错误次数过多" in response.content.decode()
    assert client.get(QUEUE).status_code == 302
    device.refresh_from_db()
    assert device.throttling_failure_count == 1

    # The wait is over: the right code is accepted and the count starts again.
    earlier = timezone.now() - timedelta(seconds=5)
    TOTPDevice.objects.filter(pk=device.pk).update(throttling_failure_timestamp=earlier)
    assert client.post(VERIFY, {"code": code_for(device)}).status_code == 302
    device.refresh_from_db()
    assert device.throttling_failure_count == 0
    assert client.get(QUEUE).status_code == 200


def test_throttling_message_in_english(client, school_reviewer):
    device = confirmed_authenticator(school_reviewer)
    client.post(reverse("set_language"), {"language": "en", "next": LOGIN})
    sign_in(client, school_reviewer)
    TOTPDevice.objects.filter(pk=device.pk).update(
        throttling_failure_count=3, throttling_failure_timestamp=timezone.now()
    )
    page = client.post(VERIFY, {"code": code_for(device)}).content.decode()
    # 3 failures: 4 seconds from the last one (3 if this machine took a second to get here)
    assert re.search(r"Too many wrong codes\. Wait [34] seconds, then try again\.", page)


# --- opting in ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cast", "home"), [("college_reviewer", QUEUE), ("employer_user", reverse("employers:home"))]
)
def test_college_reviewer_and_employer_can_opt_in_and_are_then_asked(request, client, cast, home):
    user = request.getfixturevalue(cast)
    sign_in(client, user)
    assert client.get(home).status_code == 200  # not required: the password is enough
    page = client.get(SECURITY).content.decode()
    link = re.search(rf'href="({ENROL}[^"]*)"', page).group(1)
    enrol_through_the_pages(client, user, url=link, then=SECURITY)  # and back

    client.post(reverse("logout"))
    sign_in(client, user)
    assert client.get(home).url.startswith(VERIFY)
    device = TOTPDevice.objects.get(user=user)
    client.post(VERIFY, {"code": code_for(device, steps_ahead=1)})
    assert client.get(home).status_code == 200


def test_who_opted_in_may_turn_it_off_but_a_school_reviewer_may_not(
    client, college_reviewer, school_reviewer
):
    device = services.pending_totp_device(user=college_reviewer)
    services.second_factor_enrol(device=device)
    client.force_login(college_reviewer)  # verified with the device
    client.post(SECURITY, {"action": "turn_off"})
    assert not TOTPDevice.objects.filter(user=college_reviewer).exists()

    client.force_login(school_reviewer)
    assert "turn_off" not in client.get(SECURITY).content.decode()
    assert client.post(SECURITY, {"action": "turn_off"}).status_code == 403
    assert TOTPDevice.objects.filter(user=school_reviewer, confirmed=True).exists()


def test_students_do_not_get_a_second_factor(client, student):
    sign_in(client, student.user)
    assert client.get(reverse("students:home")).status_code == 200
    assert client.get(SECURITY).status_code == 403
    assert client.get(ENROL).status_code == 403


def test_new_recovery_codes_replace_the_old(client, school_reviewer):
    client.force_login(school_reviewer)
    old = services.recovery_codes_renew(user=school_reviewer)
    response = client.post(SECURITY, {"action": "renew"})
    new = re.findall(r"<li>([a-z2-7]{8})</li>", client.get(response.url).content.decode())
    assert len(new) == 10 and not set(old) & set(new)
    assert StaticDevice.objects.filter(user=school_reviewer).count() == 1


# --- reset by an admin --------------------------------------------------------------------


def test_admin_reset_is_audited_emailed_and_the_next_sign_in_enrols_again(
    client, platform_admin, school_reviewer, mailoutbox, django_capture_on_commit_callbacks
):
    reviewer_session = client.__class__()
    reviewer_session.force_login(school_reviewer)
    assert reviewer_session.get(QUEUE).status_code == 200
    services.recovery_codes_renew(user=school_reviewer)

    client.force_login(platform_admin)
    change = reverse("admin:accounts_user_change", args=[school_reviewer.pk])
    reset = reverse("admin:accounts_user_reset_second_factor", args=[school_reviewer.pk])
    assert reset in client.get(change).content.decode()
    confirm = client.get(reset).content.decode()
    assert "确定重置" in confirm and "authenticator" in confirm  # the button, the devices
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reset, {"comment": "丢失手机"})
    assert response.status_code == 302 and response.url == change

    assert not TOTPDevice.objects.filter(user=school_reviewer).exists()
    assert not StaticDevice.objects.filter(user=school_reviewer).exists()
    event = AuditEvent.objects.get(object_id=school_reviewer.pk, action="reset_second_factor")
    assert event.actor == platform_admin and event.comment == "丢失手机"
    assert [m.to for m in mailoutbox] == [[school_reviewer.email]]
    assert "重置" in mailoutbox[0].subject

    assert reviewer_session.get(QUEUE).url.startswith(ENROL)  # the old session lost it
    fresh = client.__class__()
    sign_in(fresh, school_reviewer)
    assert fresh.get(QUEUE).url.startswith(ENROL)


def test_admin_changelist_action_resets_too(client, platform_admin, employer_user):
    confirmed_authenticator(employer_user)
    client.force_login(platform_admin)
    client.post(
        reverse("admin:accounts_user_changelist"),
        {"action": "reset_second_factor", "_selected_action": [employer_user.pk]},
    )
    assert not TOTPDevice.objects.filter(user=employer_user).exists()
    assert AuditEvent.objects.filter(object_id=employer_user.pk, action="reset_second_factor")


def test_a_reviewer_cannot_reset_anybody(client, school_reviewer, college_reviewer):
    confirmed_authenticator(college_reviewer)
    client.force_login(school_reviewer)
    reset = reverse("admin:accounts_user_reset_second_factor", args=[college_reviewer.pk])
    client.post(reset)
    assert TOTPDevice.objects.filter(user=college_reviewer).exists()


# --- the demo accounts --------------------------------------------------------------------


@pytest.mark.parametrize(("debug", "skipped"), [(True, True), (False, False)])
def test_demo_staff_skip_the_second_factor_only_with_debug_on(
    client, settings, reference_data, debug, skipped
):
    from destreg.demo.data import PASSWORD as DEMO_PASSWORD
    from destreg.demo.data import seed

    seed()
    settings.DEBUG = debug
    for username, home in [("school1", QUEUE), ("admin", "/admin/")]:
        client.post(LOGIN, {"username": username, "password": DEMO_PASSWORD})
        response = client.get(home)
        if skipped:
            assert response.status_code == 200, username
        else:
            assert response.status_code == 302 and response.url.startswith(ENROL), username
        client.post(reverse("logout"))


def test_debug_does_not_let_other_staff_skip(client, settings, school_reviewer):
    settings.DEBUG = True
    sign_in(client, school_reviewer)
    assert client.get(QUEUE).url.startswith(ENROL)


def test_the_admin_site_itself_refuses_a_session_without_the_second_factor(rf, platform_admin):
    from django.contrib import admin
    from django.contrib.sessions.backends.db import SessionStore
    from django_otp.middleware import OTPMiddleware

    from destreg.accounts.admin_site import VerifiedAdminSite

    assert isinstance(admin.site, VerifiedAdminSite)
    request = rf.get("/admin/")
    request.session, request.user = SessionStore(), platform_admin
    OTPMiddleware(lambda r: None)._verify_user_sync(request, platform_admin)
    assert not admin.site.has_permission(request)  # the password alone
    platform_admin.otp_device = confirmed_authenticator(platform_admin)
    assert admin.site.has_permission(request)
