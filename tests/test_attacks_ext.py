"""Attacks on the REST API (agreements/api/, employers/api_tokens.py) and the webhooks
(agreements/webhooks/): security review of 2026-12-02.

Section 1: FINDINGS, each test FAILS while the weakness it describes exists.
Section 2: attacks that HELD; these pass and guard against regressions.
"""

import contextlib
import json
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from agreements.models import Invitation
from agreements.webhooks import services as webhooks
from agreements.webhooks.models import WebhookDelivery, WebhookEndpoint
from agreements.webhooks.sending import RefusedAddress, check_destination, check_url
from destreg.accounts.models import Role, UnitRole
from employers import services as employer_services
from employers.api_tokens import api_token_create, api_token_revoke
from employers.models import ApiCall, ApiToken
from tests import factories as f

TERMS = {
    "job_category": "13",
    "position": "软件工程师",
    "work_location": "北京市海淀区",
    "probation_months": 3,
    "probation_salary": 8000,
    "salary": 10000,
    "hukou": "employer",
}


def key_for(user, scope="write", days=30) -> str:
    return api_token_create(
        by=user, name=f"HR {scope}", scope=scope, expires_on=timezone.localdate() + timedelta(days)
    )[1]


def call(method, path, key=None, data=None, raw=None):
    client = Client(HTTP_COOKIE="django_language=en")
    headers = {}
    if key is not None:
        headers["HTTP_AUTHORIZATION"] = f"Bearer {key}"
    body = raw if raw is not None else (json.dumps(data) if data is not None else None)
    kwargs = {"content_type": "application/json", "data": body} if body is not None else {}
    return getattr(client, method.lower())(path, **kwargs, **headers)


def invite_row(student, **changes) -> dict:
    return {"name": student.real_name, "id_number": student.id_number, **TERMS, **changes}


@pytest.fixture
def second_admin(employer_user):
    return f.make_user(Role.EMPLOYER, employer=employer_user.employer, unit_role=UnitRole.ADMIN)


# =========================================================================================
# 1. FINDINGS
# =========================================================================================

# --- SSRF: 100.64.0.0/10 (carrier-grade NAT, shared address space) passes _is_public ------
# Python 3.11's ipaddress says is_private=False for 100.64.0.0/10, yet it is not public:
# Alibaba Cloud's metadata service lives at 100.100.100.200 (the instance's RAM credentials).


@pytest.mark.parametrize(
    "url",
    [
        "https://100.100.100.200/latest/meta-data/ram/security-credentials/",
        "https://100.64.0.1/",
    ],
)
def test_ssrf_shared_address_space_is_refused_by_the_form_check(url):
    with pytest.raises(ValidationError):
        check_url(url)


def test_ssrf_aliyun_metadata_is_refused_at_send_time():
    with pytest.raises(RefusedAddress):
        check_destination("https://100.100.100.200/latest/meta-data/")


def test_ssrf_aliyun_metadata_endpoint_cannot_be_added_through_the_page(client, employer_user):
    client.force_login(employer_user)
    response = client.post(
        reverse("agreements:webhook_new"),
        {"url": "https://100.100.100.200/latest/meta-data/", "events": ["agreement.signed"]},
    )
    assert response.status_code == 400
    assert not WebhookEndpoint.objects.exists()


# 6to4 (2002::/16) embeds an IPv4 address: 2002:a9fe:a9fe:: is 169.254.169.254, and
# _is_public unwraps only ::ffff:a.b.c.d (ipv4_mapped), not .sixtofour (low: needs a relay).


def test_ssrf_6to4_wrapped_link_local_is_refused():
    with pytest.raises(ValidationError):
        check_url("https://[2002:a9fe:a9fe::]/latest/meta-data/")


# --- 500s on bad JSON input: a JSON number or array where a date is expected -------------
# agreements/api/views.py _send() hands the JSON values to InvitationForm as they are; the
# form's DateField calls value.strip() on them: AttributeError, a 500 (with a traceback in
# the error log for every call an HR system's bug or a prober makes).

DATE_NOT_A_STRING = [{"answer_by": 20270101}, {"report_deadline": 5}, {"answer_by": ["2027-01-01"]}]


@pytest.mark.parametrize("changes", DATE_NOT_A_STRING)
def test_api_invitation_with_a_non_string_date_is_not_a_500(employer_user, student, changes):
    key = key_for(employer_user)
    response = call("POST", "/api/v1/invitations/", key, invite_row(student, **changes))
    assert response.status_code in (201, 400)


@pytest.mark.parametrize("changes", DATE_NOT_A_STRING)
def test_api_batch_with_a_non_string_date_is_not_a_500(employer_user, student, changes):
    key = key_for(employer_user)
    response = call("POST", "/api/v1/invitations/batch/", key, [invite_row(student, **changes)])
    assert response.status_code in (200, 400)


# --- webhooks outlive their creator ------------------------------------------------------
# API keys end when their creator is removed or demoted (employers/services.py
# _end_invitations_of -> end_api_tokens_of); webhook endpoints have a created_by too, but
# nothing ends them: an admin who pointed one at their own server before being removed keeps
# receiving the unit's events (agreement ids, numbers, the verification link) for ever.


def _sign(agreement, college_reviewer, school_reviewer):
    from agreements.online import services as agreement_services

    agreement_services.agreement_approve(agreement=agreement, reviewer=college_reviewer)
    agreement_services.agreement_approve(agreement=agreement, reviewer=school_reviewer)


def test_a_removed_admins_webhook_receives_no_more_of_the_units_events(
    employer_user, second_admin, agreement, college_reviewer, school_reviewer
):
    webhooks.webhook_endpoint_create(
        user=second_admin, url="https://attacker.example.net/hook", events=["agreement.signed"]
    )
    employer_services.colleague_remove(by=employer_user, colleague=second_admin)
    _sign(agreement, college_reviewer, school_reviewer)
    assert not WebhookDelivery.objects.filter(event="agreement.signed").exists()


def test_a_demoted_admins_webhook_receives_no_more_of_the_units_events(
    employer_user, second_admin, agreement, college_reviewer, school_reviewer
):
    webhooks.webhook_endpoint_create(
        user=second_admin, url="https://attacker.example.net/hook", events=["agreement.signed"]
    )
    employer_services.colleague_set_role(
        by=employer_user, colleague=second_admin, unit_role=UnitRole.HR
    )
    _sign(agreement, college_reviewer, school_reviewer)
    assert not WebhookDelivery.objects.filter(event="agreement.signed").exists()


# --- no rate limit before a key is recognised --------------------------------------------
# PerKeyThrottle counts only calls whose key authenticated; an unknown, revoked or expired key
# is refused in ApiKeyAuthentication before any throttle, and every refusal still writes an
# ApiCall row (ApiView.finalize_response): anyone can write rows without limit.


def test_calls_with_an_unknown_key_are_rate_limited(db, settings):
    settings.API_RATE_PER_MINUTE = 5
    codes = [
        call("GET", "/api/v1/invitations/", "dra_" + "0" * 12 + "x" * 43).status_code
        for _ in range(12)
    ]
    assert 429 in codes
    assert ApiCall.objects.count() <= 6


def test_calls_with_a_revoked_key_are_rate_limited(employer_user, settings):
    settings.API_RATE_PER_MINUTE = 5
    key = key_for(employer_user)
    api_token_revoke(by=employer_user, token=ApiToken.objects.get())
    codes = [call("GET", "/api/v1/invitations/", key).status_code for _ in range(12)]
    assert 429 in codes


# --- a port out of range stalls the webhook sender for every unit -------------------------
# URLField accepts "https://example.com:99999/" (up to 5 digits) and check_url never reads the
# port; at send time check_destination does ``parts.port or 443``: ValueError("Port out of
# range"), which post()/attempt() do not catch. The try is claimed but never recorded (the
# delivery stays pending, attempts=0, re-claimed every minute for ever), and send_due() -- the
# periodic job -- dies on it, so the deliveries of every other unit behind it are not sent.

BAD_PORT = "https://example.com:99999/hook"


def test_an_endpoint_with_a_port_out_of_range_is_refused_by_the_form(client, employer_user):
    client.force_login(employer_user)
    response = client.post(
        reverse("agreements:webhook_new"), {"url": BAD_PORT, "events": ["agreement.signed"]}
    )
    assert response.status_code == 400
    assert not WebhookEndpoint.objects.exists()


def test_a_delivery_to_a_port_out_of_range_is_recorded_as_a_failed_try(employer_user):
    from agreements.webhooks.sending import attempt

    # Refused when saved now; an endpoint stored before that check is planted directly.
    endpoint, _ = webhooks.webhook_endpoint_create(
        user=employer_user, url="https://hr.example.com/h", events=["agreement.signed"]
    )
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(url=BAD_PORT)
    endpoint.refresh_from_db()
    delivery = webhooks.webhook_endpoint_send_test(user=employer_user, endpoint=endpoint)
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        next_attempt_at=timezone.now() - timedelta(minutes=5)
    )
    attempt(delivery.pk)  # must not raise
    delivery.refresh_from_db()
    assert delivery.attempts >= 1 and delivery.status != WebhookDelivery.Status.PENDING


def test_one_units_bad_endpoint_does_not_stop_other_units_deliveries(
    employer_user, other_employer_user
):
    from agreements.webhooks.sending import send_due

    theirs, _ = webhooks.webhook_endpoint_create(
        user=other_employer_user, url="https://hr.example.com/h", events=["agreement.signed"]
    )
    victim = webhooks.webhook_endpoint_send_test(user=other_employer_user, endpoint=theirs)
    mine, _ = webhooks.webhook_endpoint_create(
        user=employer_user, url="https://hr2.example.com/h", events=["agreement.signed"]
    )
    WebhookEndpoint.objects.filter(pk=mine.pk).update(url=BAD_PORT)
    mine.refresh_from_db()
    webhooks.webhook_endpoint_send_test(user=employer_user, endpoint=mine)
    WebhookDelivery.objects.update(
        status=WebhookDelivery.Status.PENDING,
        attempts=0,
        next_attempt_at=timezone.now() - timedelta(minutes=5),
    )
    try:
        send_due()
    finally:
        victim.refresh_from_db()
        assert victim.attempts == 1


# --- deeply nested JSON: RecursionError, a 500 -------------------------------------------
# DRF's JSONParser turns only ValueError into a 400; json.loads raises RecursionError on
# "[[[[...]]]]" (a 200 kB body, far below DATA_UPLOAD_MAX_MEMORY_SIZE): an uncaught 500 for
# any key holder, on both POST endpoints (settings REST_FRAMEWORK DEFAULT_PARSER_CLASSES).


@pytest.mark.parametrize("path", ["/api/v1/invitations/", "/api/v1/invitations/batch/"])
def test_deeply_nested_json_is_a_400_not_a_500(employer_user, path):
    key = key_for(employer_user)
    client = Client(raise_request_exception=False)
    response = client.post(
        path,
        data="[" * 100000 + "]" * 100000,
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {key}",
    )
    assert response.status_code == 400


# --- a receiver that dribbles its answer holds the sender far past TIMEOUT ---------------
# sending.py TIMEOUT = (5, 5) is requests' connect/read timeout: the read timeout is per
# socket read, not for the whole answer. A receiver that sends its status line and headers a
# byte every few seconds keeps post() (and the worker) busy without end; after CLAIM (1 min)
# the same delivery is claimed and sent again by the next run of send_due: duplicate deliveries
# and, with a handful of such endpoints, every worker stuck. Shown here with TIMEOUT scaled
# down to 0.5 s and a receiver dribbling for ~4 s.


def test_a_dribbling_receiver_cannot_hold_a_try_past_its_timeout(
    employer_user, settings, monkeypatch
):
    import socket
    import threading
    import time

    from agreements.webhooks import sending

    settings.WEBHOOK_ALLOW_HTTP_LOCALHOST = True
    monkeypatch.setattr(sending, "TIMEOUT", (0.5, 0.5))
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    port = server.getsockname()[1]

    def dribble():
        conn, _ = server.accept()
        conn.settimeout(1)
        with contextlib.suppress(OSError):
            conn.recv(65536)
        answer = b"HTTP/1.1 200 OK\r\n" + b"X-A: " + b"a" * 5
        try:
            for byte in answer:
                conn.sendall(bytes([byte]))
                time.sleep(0.15)
        except OSError:
            pass
        conn.close()

    thread = threading.Thread(target=dribble, daemon=True)
    thread.start()
    endpoint, _ = webhooks.webhook_endpoint_create(
        user=employer_user, url=f"http://127.0.0.1:{port}/h", events=["agreement.signed"]
    )
    delivery = WebhookDelivery.objects.create(endpoint=endpoint, event="webhook.test", payload={})
    delivery = WebhookDelivery.objects.select_related("endpoint").get(pk=delivery.pk)
    started = time.monotonic()
    sending.post(delivery)
    took = time.monotonic() - started
    server.close()
    assert took < 2, f"one try took {took:.1f} s with a 0.5 s timeout"


# =========================================================================================
# 2. HELD
# =========================================================================================


@pytest.mark.parametrize(
    "changes",
    [{"job_category": {"x": 1}}, {"hukou": ["employer"]}, {"probation_months": {"a": 1}},
     {"name": 12345}, {"id_number": None}, {"salary": "1e400"}, {"name": "a\x00b"}],
)  # fmt: skip
def test_held_api_invitation_with_odd_values_is_400(employer_user, student, changes):
    key = key_for(employer_user)
    response = call("POST", "/api/v1/invitations/", key, invite_row(student, **changes))
    assert response.status_code == 400


def test_held_body_over_the_upload_limit_is_refused(employer_user, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 100_000
    key = key_for(employer_user)
    client = Client(raise_request_exception=False)
    response = client.post(
        "/api/v1/invitations/batch/",
        data=json.dumps([{"name": "x" * 1000}] * 300),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {key}",
    )
    assert response.status_code in (400, 413)


def test_held_hr_colleague_cannot_rotate_test_or_resend(client, employer_user):
    hr = f.make_user(Role.EMPLOYER, employer=employer_user.employer, unit_role=UnitRole.HR)
    endpoint, _ = webhooks.webhook_endpoint_create(
        user=employer_user, url="https://hr.example.com/h", events=["agreement.signed"]
    )
    delivery = webhooks.webhook_endpoint_send_test(user=employer_user, endpoint=endpoint)
    before = (endpoint.secret_cipher, WebhookDelivery.objects.count())
    client.force_login(hr)
    for name in ("webhook_rotate", "webhook_test", "webhook_delete"):
        client.post(reverse(f"agreements:{name}", args=[endpoint.pk]))
    client.post(reverse("agreements:webhook_resend", args=[delivery.pk]))
    endpoint.refresh_from_db()
    assert (endpoint.secret_cipher, WebhookDelivery.objects.count()) == before
    assert client.get(reverse("agreements:webhook_edit", args=[endpoint.pk])).status_code == 403


def test_held_student_cannot_make_keys_or_see_webhooks(client, student):
    client.force_login(student.user)
    assert client.get("/employers/api-tokens/").status_code in (302, 403, 404)
    assert client.get(reverse("agreements:webhooks")).status_code in (302, 403, 404)


def test_held_no_key_is_401_and_schema_is_public(db):
    assert call("GET", "/api/v1/agreements/").status_code == 401
    assert call("GET", "/api/v1/invitations/", "dra_" + "0" * 12 + "x" * 43).status_code == 401
    assert call("GET", "/api/v1/invitations/", "Basic abc").status_code == 401


def test_held_another_units_invitation_is_404(employer_user, other_employer_user, invitation):
    key = key_for(other_employer_user)
    assert call("GET", f"/api/v1/invitations/{invitation.pk}/", key).status_code == 404
    assert call("GET", "/api/v1/invitations/", key).json()["count"] == 0


def test_held_another_units_agreement_is_404(other_employer_user, signed):
    key = key_for(other_employer_user)
    for suffix in ("", "pdf/", "verification/"):
        assert call("GET", f"/api/v1/agreements/{signed.pk}/{suffix}", key).status_code == 404


def test_held_read_key_cannot_send(employer_user, student):
    key = key_for(employer_user, scope="read")
    assert call("POST", "/api/v1/invitations/", key, invite_row(student)).status_code == 403
    assert not Invitation.objects.exists()


def test_held_revoked_key_and_removed_creators_key_are_refused(employer_user, second_admin):
    key = key_for(employer_user)
    token = ApiToken.objects.get()
    api_token_revoke(by=employer_user, token=token)
    assert call("GET", "/api/v1/invitations/", key).status_code == 401
    key2 = key_for(second_admin)
    employer_services.colleague_remove(by=employer_user, colleague=second_admin)
    assert call("GET", "/api/v1/invitations/", key2).status_code == 401


def test_held_demoted_creators_key_is_refused_even_if_not_ended(employer_user, second_admin):
    key = key_for(second_admin)
    from destreg.accounts.models import User

    User.objects.filter(pk=second_admin.pk).update(unit_role=UnitRole.HR)
    assert call("GET", "/api/v1/invitations/", key).status_code == 401


def test_held_expired_key_is_refused(employer_user):
    key = key_for(employer_user)
    ApiToken.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    assert call("GET", "/api/v1/invitations/", key).status_code == 401


@pytest.mark.parametrize("raw", ["{", "null", "[]", '"x"', "[1]", "[null]", '{"a":null}'])
def test_held_bad_json_is_400(employer_user, raw):
    key = key_for(employer_user)
    assert call("POST", "/api/v1/invitations/", key, raw=raw).status_code == 400
    assert call("POST", "/api/v1/invitations/batch/", key, raw=raw).status_code in (200, 400)


@pytest.mark.parametrize("page", ["abc", "-1", "0", "9" * 30, "1e3"])
def test_held_bad_page_is_404_not_500(employer_user, page):
    key = key_for(employer_user)
    assert call("GET", f"/api/v1/invitations/?page={page}", key).status_code == 404


def test_held_other_units_webhook_pages_are_404(client, employer_user, other_employer_user):
    endpoint, _ = webhooks.webhook_endpoint_create(
        user=employer_user, url="https://hr.example.com/h", events=["agreement.signed"]
    )
    delivery = webhooks.webhook_endpoint_send_test(user=employer_user, endpoint=endpoint)
    client.force_login(other_employer_user)
    assert client.get(reverse("agreements:webhook", args=[endpoint.pk])).status_code == 404
    for name in ("webhook_rotate", "webhook_test", "webhook_delete"):
        assert client.post(reverse(f"agreements:{name}", args=[endpoint.pk])).status_code == 404
    assert client.post(reverse("agreements:webhook_resend", args=[delivery.pk])).status_code == 404


def test_held_webhook_actions_need_csrf(employer_user):
    endpoint, _ = webhooks.webhook_endpoint_create(
        user=employer_user, url="https://hr.example.com/h", events=["agreement.signed"]
    )
    client = Client(enforce_csrf_checks=True)
    client.force_login(employer_user)
    assert client.post(reverse("agreements:webhook_rotate", args=[endpoint.pk])).status_code == 403
    assert client.post("/employers/api-tokens/", {"name": "x"}).status_code == 403


@pytest.mark.parametrize(
    "url",
    [
        "https://169.254.169.254/",
        "https://[::ffff:127.0.0.1]/",
        "https://[::1]/",
        "https://10.0.0.1/",
        "http://example.com/",
        "https://user:pw@example.com/",
        "https://localhost/",
        "https://a.localhost/",
        "https://0.0.0.0/",
        "https://[fe80::1]/",
    ],
)
def test_held_private_addresses_are_refused(url):
    with pytest.raises((ValidationError, RefusedAddress)):
        check_destination(url)
