"""Webhooks through real HTTP: a receiver on 127.0.0.1 checks each delivery's signature."""

import json
import socket
import threading
import time
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext

from agreements.online import services
from agreements.webhooks import services as webhooks
from agreements.webhooks.models import (
    BACKOFF,
    MAX_ATTEMPTS,
    SUBSCRIBABLE,
    DeliveryStatus,
    WebhookDelivery,
    WebhookEndpoint,
)
from agreements.webhooks.sending import (
    RefusedAddress,
    attempt,
    check_destination,
    check_url,
    next_attempt_after,
    send_due,
)
from agreements.webhooks.signing import body_of, signature, verify
from destreg.accounts.models import Role
from tests import factories as f
from tests.agreements.webhook_receiver import dribbler, receiver

ALL = ["invitation.accepted", "invitation.declined", "agreement.signed", "termination.requested"]


@pytest.fixture(autouse=True)
def _local_receivers(settings):
    settings.WEBHOOK_ALLOW_HTTP_LOCALHOST = True


def _endpoint(user, url, events=ALL):
    return webhooks.webhook_endpoint_create(user=user, url=url, events=events)


def _due_now(delivery):
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        next_attempt_at=timezone.now() - timedelta(seconds=1)
    )


def test_an_accepted_invitation_reaches_the_receiver_signed(
    employer_user, invitation, student, django_capture_on_commit_callbacks
):
    with receiver() as hr:
        _endpoint_row, secret = _endpoint(employer_user, hr.url)
        hr.secret = secret
        with django_capture_on_commit_callbacks(execute=True):
            services.invitation_accept(invitation=invitation, user=student.user)
    assert len(hr.requests) == 1
    got = hr.requests[0]
    assert got.signature_ok
    body = json.loads(got.body)
    assert body["event"] == "invitation.accepted"
    assert body["data"] == {"invitation": {"id": invitation.pk, "status": "accepted"}}
    assert got.headers["X-Destreg-Event"] == "invitation.accepted"
    delivery = WebhookDelivery.objects.get()
    assert got.headers["X-Destreg-Delivery"] == str(delivery.uuid)
    assert abs(int(got.headers["X-Destreg-Timestamp"]) - time.time()) < 30
    # No personal data in the body: no ID number, no name.
    assert student.id_number not in got.body.decode()
    assert student.real_name not in got.body.decode()
    assert delivery.status == DeliveryStatus.SUCCEEDED
    assert (delivery.attempts, delivery.response_code) == (1, 200)


def test_a_signed_agreement_carries_its_number_and_verification_link(
    employer_user, agreement, college_reviewer, school_reviewer, django_capture_on_commit_callbacks
):
    with receiver() as hr:
        _endpoint_row, hr.secret = _endpoint(employer_user, hr.url, ["agreement.signed"])
        with django_capture_on_commit_callbacks(execute=True):
            services.agreement_approve(agreement=agreement, reviewer=college_reviewer)
            services.agreement_approve(agreement=agreement, reviewer=school_reviewer)
    (got,) = hr.requests  # the college's approval is no event
    data = json.loads(got.body)["data"]["agreement"]
    agreement.refresh_from_db()
    assert data["number"] == agreement.number and data["status"] == "signed"
    assert data["verification_url"].endswith(f"/agreements/verify/{agreement.verify_token}/")


def test_a_termination_request_is_sent(
    employer_user, signed, student, django_capture_on_commit_callbacks
):
    with receiver() as hr:
        _endpoint_row, hr.secret = _endpoint(employer_user, hr.url)
        with django_capture_on_commit_callbacks(execute=True):
            termination = services.termination_request(
                agreement=signed, user=student.user, reason="改变主意"
            )
    (got,) = hr.requests
    assert json.loads(got.body)["data"]["termination"] == {
        "id": termination.pk,
        "status": "awaiting_party",
        "requested_by": "student",
        "agreement_id": signed.pk,
    }


def test_each_event_is_sent_once_at_its_moment(
    employer_user,
    other_student,
    signed,
    student,
    college_reviewer,
    school_reviewer,
    django_capture_on_commit_callbacks,
):
    """Expired, failed and approved termination; steps in between (the college's approval,
    the other party's answer) are no events."""
    everything = [name for name, _label in SUBSCRIBABLE]
    with receiver() as hr:
        _endpoint_row, hr.secret = _endpoint(employer_user, hr.url, everything)
        with django_capture_on_commit_callbacks(execute=True):
            termination = services.termination_request(
                agreement=signed, user=employer_user, reason="r"
            )
            services.termination_answer(termination=termination, user=student.user, agree=True)
            services.termination_approve(termination=termination, reviewer=college_reviewer)
            services.termination_approve(termination=termination, reviewer=school_reviewer)
        late = f.make_invitation(employer_user.employer, other_student, sent_by=employer_user)
        with django_capture_on_commit_callbacks(execute=True):
            services.invitations_expire(now=timezone.now() + timedelta(days=365))
        second = f.make_invitation(employer_user.employer, student, sent_by=employer_user)
        with django_capture_on_commit_callbacks(execute=True):
            agreement = services.invitation_accept(invitation=second, user=student.user)
            services.agreement_fail(agreement=agreement, reviewer=college_reviewer, reason="不符")
    events = [json.loads(r.body) for r in hr.requests]
    assert [e["event"] for e in events] == [
        "termination.requested",
        "termination.approved",
        "invitation.expired",
        "invitation.accepted",
        "agreement.failed",
    ]
    assert events[1]["data"]["termination"]["status"] == "approved"
    assert events[2]["data"]["invitation"] == {"id": late.pk, "status": "expired"}
    assert events[4]["data"]["agreement"]["status"] == "failed"
    assert all(r.signature_ok for r in hr.requests)


def test_only_chosen_events_of_the_unit_are_sent(
    employer_user, other_employer_user, invitation, student, django_capture_on_commit_callbacks
):
    with receiver() as mine, receiver() as theirs:
        _endpoint(employer_user, mine.url, ["invitation.declined"])
        _endpoint(other_employer_user, theirs.url, ["invitation.accepted"])
        with django_capture_on_commit_callbacks(execute=True):
            services.invitation_accept(invitation=invitation, user=student.user)
    assert mine.requests == [] and theirs.requests == []
    assert not WebhookDelivery.objects.exists()


def test_a_receiver_failing_twice_gets_it_on_the_third_try_with_backoff(
    employer_user, invitation, student, django_capture_on_commit_callbacks
):
    with receiver(answers=[500, 500]) as hr:
        _endpoint_row, hr.secret = _endpoint(employer_user, hr.url)
        with django_capture_on_commit_callbacks(execute=True):
            services.invitation_accept(invitation=invitation, user=student.user)
        delivery = WebhookDelivery.objects.get()
        assert (delivery.status, delivery.attempts, delivery.response_code) == ("failed", 1, 500)
        assert delivery.next_attempt_at - delivery.last_attempt_at == timedelta(minutes=1)
        assert send_due() == 0  # not due yet: nothing is sent before its time
        assert len(hr.requests) == 1

        _due_now(delivery)
        assert send_due() == 1
        delivery.refresh_from_db()
        assert (delivery.status, delivery.attempts) == ("failed", 2)
        assert delivery.next_attempt_at - delivery.last_attempt_at == timedelta(minutes=5)

        _due_now(delivery)
        assert attempt(delivery.pk) == DeliveryStatus.SUCCEEDED
    delivery.refresh_from_db()
    assert (delivery.attempts, delivery.response_code, delivery.next_attempt_at) == (3, 200, None)
    assert len(delivery.attempt_times) == 3
    assert [r.signature_ok for r in hr.requests] == [True, True, True]
    # Every try is the same delivery of the same event, signed afresh.
    assert {r.headers["X-Destreg-Delivery"] for r in hr.requests} == {str(delivery.uuid)}
    assert len({r.body for r in hr.requests}) == 1


def test_the_backoff_spans_about_a_day_then_gives_up():
    start = timezone.now()
    waits = [next_attempt_after(n, start) - start for n in range(1, MAX_ATTEMPTS)]
    assert waits == BACKOFF
    assert MAX_ATTEMPTS >= 6
    assert timedelta(hours=20) <= sum(waits, timedelta()) <= timedelta(hours=30)
    assert next_attempt_after(MAX_ATTEMPTS, start) is None


def test_a_delivery_is_given_up_after_its_last_try(employer_user, invitation, student):
    with receiver(answers=[503] * 10) as hr:
        endpoint, hr.secret = _endpoint(employer_user, hr.url)
        body = {"id": "x", "event": "webhook.test", "created_at": "", "data": {}}
        delivery = WebhookDelivery.objects.create(
            endpoint=endpoint, event="webhook.test", payload=body, next_attempt_at=timezone.now()
        )
        for _ in range(MAX_ATTEMPTS):
            _due_now(delivery)
            attempt(delivery.pk)
        delivery.refresh_from_db()
        assert (delivery.status, delivery.attempts) == (DeliveryStatus.GIVEN_UP, MAX_ATTEMPTS)
        assert delivery.next_attempt_at is None
        assert send_due() == 0
        _due_now(delivery)
        assert attempt(delivery.pk) is None  # no eighth try
    assert len(hr.requests) == MAX_ATTEMPTS


def test_a_failed_try_is_queued_for_later_on_a_backend_that_can_wait(
    settings, employer_user, invitation, student, django_capture_on_commit_callbacks
):
    from django_tasks_db.models import DBTaskResult

    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    with receiver(answers=[500]) as hr:
        _endpoint_row, hr.secret = _endpoint(employer_user, hr.url)
        with django_capture_on_commit_callbacks(execute=True):
            services.invitation_accept(invitation=invitation, user=student.user)
        # The action queued the first try and did not wait for it.
        assert hr.requests == []
        (queued,) = DBTaskResult.objects.filter(task_path__endswith="deliver_webhook")
        delivery = WebhookDelivery.objects.get()
        with django_capture_on_commit_callbacks(execute=True):
            attempt(delivery.pk)  # what the worker runs
    delivery.refresh_from_db()
    retry = DBTaskResult.objects.filter(task_path__endswith="deliver_webhook").exclude(pk=queued.pk)
    assert [r.run_after for r in retry] == [delivery.next_attempt_at]


def test_the_signature_covers_timestamp_and_body():
    body = body_of({"event": "invitation.accepted", "data": {"invitation": {"id": 1}}})
    good = signature("whsec_right", 1_700_000_000, body)
    assert verify("whsec_right", "1700000000", body, good)
    assert not verify("whsec_wrong", "1700000000", body, good)
    assert not verify("whsec_right", "1700000000", body.replace(b"1}", b"2}"), good)
    assert not verify("whsec_right", "1700000001", body, good)  # a replay with a new time
    assert not verify("whsec_right", "not-a-number", body, good)


def test_a_receiver_with_the_wrong_secret_refuses_the_delivery(
    employer_user, invitation, student, django_capture_on_commit_callbacks
):
    with receiver(secret="whsec_not-the-one") as hr:
        _endpoint_row, secret = _endpoint(employer_user, hr.url)
        with django_capture_on_commit_callbacks(execute=True):
            services.invitation_decline(invitation=invitation, user=student.user)
    (got,) = hr.requests
    assert not got.signature_ok
    assert verify(
        secret, got.headers["X-Destreg-Timestamp"], got.body, got.headers["X-Destreg-Signature"]
    )
    tampered = got.body.replace(b"declined", b"accepted")
    assert not verify(
        secret, got.headers["X-Destreg-Timestamp"], tampered, got.headers["X-Destreg-Signature"]
    )


def test_a_rotated_secret_signs_from_then_on(employer_user):
    with receiver() as hr:
        endpoint, old = _endpoint(employer_user, hr.url)
        new = webhooks.webhook_endpoint_rotate_secret(user=employer_user, endpoint=endpoint)
        hr.secret = new
        delivery = webhooks.webhook_endpoint_send_test(user=employer_user, endpoint=endpoint)
        attempt(delivery.pk)
    assert new != old
    (got,) = hr.requests
    assert got.signature_ok
    assert json.loads(got.body)["event"] == "webhook.test"
    assert old not in WebhookEndpoint.objects.get().secret_cipher


def test_a_rolled_back_action_sends_nothing(
    employer_user, invitation, student, django_capture_on_commit_callbacks
):
    with receiver() as hr:
        _endpoint_row, hr.secret = _endpoint(employer_user, hr.url)
        with (
            django_capture_on_commit_callbacks(execute=True),
            pytest.raises(RuntimeError),
            transaction.atomic(),
        ):
            services.invitation_decline(invitation=invitation, user=student.user)
            raise RuntimeError("something later in the transaction failed")
    assert hr.requests == []
    assert not WebhookDelivery.objects.exists()
    invitation.refresh_from_db()
    assert invitation.status == "pending"


def test_an_unreachable_receiver_does_not_break_the_action(
    employer_user, invitation, student, django_capture_on_commit_callbacks
):
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]  # nothing listens once closed
    _endpoint(employer_user, f"http://127.0.0.1:{port}/hooks")
    with django_capture_on_commit_callbacks(execute=True):
        agreement = services.invitation_accept(invitation=invitation, user=student.user)
    assert agreement.pk and agreement.invitation.status == "accepted"
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.response_code) == ("failed", None)
    assert "ConnectionError" in delivery.last_error


def test_a_slow_receiver_neither_slows_the_action_nor_holds_the_worker(
    settings, monkeypatch, employer_user, invitation, student, django_capture_on_commit_callbacks
):
    from agreements.webhooks import sending

    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    monkeypatch.setattr(sending, "TIMEOUT", (1, 1))
    with receiver(delay=3) as hr:
        _endpoint_row, hr.secret = _endpoint(employer_user, hr.url)
        started = time.monotonic()
        with django_capture_on_commit_callbacks(execute=True):
            services.invitation_accept(invitation=invitation, user=student.user)
        assert time.monotonic() - started < 1  # the action only queued the delivery
        started = time.monotonic()
        assert attempt(WebhookDelivery.objects.get().pk) == DeliveryStatus.FAILED
        assert time.monotonic() - started < 2.5  # the worker gave up at the read timeout
    delivery = WebhookDelivery.objects.get()
    assert delivery.response_code is None and delivery.last_error


# A status line and the start of a header, then a byte at a time: each read gets its byte
# well within the read timeout, and what arrived by the deadline parses as a 200.
DRIBBLED_ANSWER = b"HTTP/1.1 200 OK\r\nX-Slow: " + b"a" * 100


@pytest.mark.filterwarnings("ignore::urllib3.exceptions.InsecureRequestWarning")  # self-signed
@pytest.mark.parametrize("scheme", ["http", "https"])
def test_a_receiver_dribbling_its_answer_gets_a_timed_out_try_retried_later(
    monkeypatch, tmp_path, employer_user, scheme
):
    from agreements.webhooks import sending

    monkeypatch.setattr(sending, "TIMEOUT", (0.5, 0.5))  # the whole try: 1 s
    tls_in = None
    if scheme == "https":  # the receiver's certificate is self-signed: trust it
        tls_in, make_session = tmp_path, sending._session

        def trusting_session():
            session = make_session()
            session.verify = False
            return session

        monkeypatch.setattr(sending, "_session", trusting_session)
    with dribbler(DRIBBLED_ANSWER, tls_in=tls_in) as port:
        endpoint, _secret = _endpoint(employer_user, f"{scheme}://127.0.0.1:{port}/hooks")
        delivery = webhooks.webhook_endpoint_send_test(user=employer_user, endpoint=endpoint)
        _due_now(delivery)
        started = time.monotonic()
        assert attempt(delivery.pk) == DeliveryStatus.FAILED
        assert time.monotonic() - started < 2
    delivery.refresh_from_db()
    assert (delivery.attempts, delivery.response_code) == (1, None)
    assert delivery.last_error == gettext("The endpoint did not answer in time.")
    assert delivery.next_attempt_at - delivery.last_attempt_at == BACKOFF[0]
    # The deadline's timer does not outlive the try.
    assert not [t for t in threading.enumerate() if isinstance(t, threading.Timer)]


def test_a_redirect_is_not_followed(employer_user):
    with receiver(answers=[302]) as hr:
        endpoint, hr.secret = _endpoint(employer_user, hr.url)
        delivery = webhooks.webhook_endpoint_send_test(user=employer_user, endpoint=endpoint)
        attempt(delivery.pk)
    delivery.refresh_from_db()
    assert (delivery.status, delivery.response_code) == ("failed", 302)
    assert len(hr.requests) == 1


@pytest.mark.parametrize(
    "url",
    [
        "http://hr.example.com/hooks",
        "ftp://hr.example.com/hooks",
        "https://10.1.2.3/hooks",
        "https://192.168.0.1/hooks",
        "https://169.254.169.254/latest/meta-data/",
        "https://[::1]/hooks",
        "https://[::ffff:127.0.0.1]/hooks",
        "https://0.0.0.0/hooks",
        "https://localhost/hooks",
        "https://metadata.internal/hooks",
        "https://user:pw@hr.example.com/hooks",
    ],
)
def test_addresses_inside_our_network_are_refused(settings, url):
    settings.WEBHOOK_ALLOW_HTTP_LOCALHOST = False
    with pytest.raises(ValidationError):
        check_url(url)


def test_plain_http_to_this_machine_only_where_allowed(settings):
    check_url("http://127.0.0.1:8080/hooks")
    settings.WEBHOOK_ALLOW_HTTP_LOCALHOST = False
    with pytest.raises(ValidationError):
        check_url("http://127.0.0.1:8080/hooks")
    check_url("https://hr.example.com/hooks")


def test_a_name_resolving_inside_our_network_is_refused_at_send_time(
    settings, monkeypatch, employer_user
):
    settings.WEBHOOK_ALLOW_HTTP_LOCALHOST = False
    endpoint, _ = _endpoint(employer_user, "https://hr.example.com/hooks")

    def resolves_to(address):
        return lambda *args, **kwargs: [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, 443))]

    monkeypatch.setattr(socket, "getaddrinfo", resolves_to("10.0.0.5"))
    with pytest.raises(RefusedAddress):
        check_destination(endpoint.url)
    sent = []
    monkeypatch.setattr("requests.Session.request", lambda *a, **k: sent.append(a))
    delivery = webhooks.webhook_endpoint_send_test(user=employer_user, endpoint=endpoint)
    attempt(delivery.pk)
    delivery.refresh_from_db()
    assert sent == [] and delivery.status == "failed" and delivery.response_code is None
    monkeypatch.setattr(socket, "getaddrinfo", resolves_to("93.184.216.34"))
    check_destination(endpoint.url)  # a public address passes


def test_a_try_connects_only_to_the_addresses_it_checked(settings, monkeypatch, employer_user):
    """DNS rebinding: a name public when checked and 127.0.0.1 a moment later. The try
    resolves the name once and connects to what it checked, never asking again."""
    from agreements.webhooks import sending

    settings.WEBHOOK_ALLOW_HTTP_LOCALHOST = False
    monkeypatch.setattr(sending, "TIMEOUT", (0.2, 0.2))
    endpoint, _ = _endpoint(employer_user, "https://hr.example.com/hooks")
    asked = []
    real = socket.getaddrinfo

    def rebinding(host, port, *args, **kwargs):
        if host != "hr.example.com":
            return real(host, port, *args, **kwargs)
        asked.append(host)
        address = "192.0.2.10" if len(asked) == 1 else "127.0.0.1"  # TEST-NET-1, then here
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port))]

    monkeypatch.setattr(sending, "_is_public", lambda address: str(address) == "192.0.2.10")
    monkeypatch.setattr(socket, "getaddrinfo", rebinding)
    delivery = webhooks.webhook_endpoint_send_test(user=employer_user, endpoint=endpoint)
    assert attempt(delivery.pk) == DeliveryStatus.FAILED
    assert asked == ["hr.example.com"]  # the name was resolved once, for the check


def test_a_connection_that_reaches_a_private_address_anyway_gets_nothing(
    settings, monkeypatch, employer_user
):
    """Should a checked address still lead inside our network, the connection looks at the
    address it reached before sending anything."""
    from agreements.webhooks import sending

    with receiver() as hr:
        port = hr.url.split(":")[2].split("/")[0]
        endpoint, hr.secret = _endpoint(employer_user, hr.url)
        WebhookEndpoint.objects.filter(pk=endpoint.pk).update(
            url=f"http://hr.example.com:{port}/hooks"
        )
        settings.WEBHOOK_ALLOW_HTTP_LOCALHOST = False
        # The check fooled: it passed 127.0.0.1 as public.
        monkeypatch.setattr(sending, "check_destination", lambda url, timeout: ["127.0.0.1"])
        delivery = webhooks.webhook_endpoint_send_test(user=employer_user, endpoint=endpoint)
        assert attempt(delivery.pk) == DeliveryStatus.FAILED
    assert hr.requests == []
    delivery.refresh_from_db()
    assert delivery.response_code is None
    assert delivery.last_error == gettext("The address resolves inside a private network.")


def test_a_turned_off_endpoint_gets_nothing_more(employer_user):
    with receiver() as hr:
        endpoint, hr.secret = _endpoint(employer_user, hr.url)
        delivery = webhooks.webhook_endpoint_send_test(user=employer_user, endpoint=endpoint)
        webhooks.webhook_endpoint_update(
            user=employer_user, endpoint=endpoint, url=hr.url, events=ALL, active=False
        )
        assert attempt(delivery.pk) == DeliveryStatus.GIVEN_UP
    assert hr.requests == []


def test_the_secret_is_stored_encrypted(employer_user):
    _endpoint_row, secret = _endpoint(employer_user, "https://hr.example.com/hooks")
    stored = WebhookEndpoint.objects.get()
    assert secret not in stored.secret_cipher
    assert stored.secret == secret


def test_an_hr_colleague_may_not_manage_endpoints(employer_user):
    hr = f.make_user(Role.EMPLOYER, employer=employer_user.employer, unit_role="hr")
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        _endpoint(hr, "https://hr.example.com/hooks")
    endpoint, _ = _endpoint(employer_user, "https://hr.example.com/hooks")
    with pytest.raises(PermissionDenied):
        webhooks.webhook_endpoint_rotate_secret(user=hr, endpoint=endpoint)
