"""The unit's webhook pages: who sees what, the secret shown once, resend from the log."""

import pytest
from django.urls import reverse

from agreements.webhooks import services as webhooks
from agreements.webhooks.models import WebhookDelivery, WebhookEndpoint
from destreg.accounts.models import Role
from destreg.audit.models import AuditAction, AuditEvent
from tests import factories as f
from tests.agreements.webhook_receiver import receiver


@pytest.fixture(autouse=True)
def _local_receivers(settings):
    settings.WEBHOOK_ALLOW_HTTP_LOCALHOST = True


@pytest.fixture
def hr_colleague(employer_user):
    return f.make_user(Role.EMPLOYER, employer=employer_user.employer, unit_role="hr")


def _endpoint(user, url="https://hr.example.com/hooks"):
    endpoint, _secret = webhooks.webhook_endpoint_create(
        user=user, url=url, events=["invitation.accepted", "agreement.signed"]
    )
    return endpoint


def test_an_admin_adds_an_endpoint_and_sees_its_secret_once(client, employer_user):
    client.force_login(employer_user)
    response = client.post(
        reverse("agreements:webhook_new"),
        {"url": "https://hr.example.com/hooks", "events": ["agreement.signed"], "active": "on"},
        follow=True,
    )
    endpoint = WebhookEndpoint.objects.get()
    assert endpoint.employer == employer_user.employer
    assert endpoint.events == ["agreement.signed"] and endpoint.active
    page = response.content.decode()
    assert endpoint.secret in page
    assert response["Cache-Control"] == "no-store"
    again = client.get(reverse("agreements:webhook", args=[endpoint.pk])).content.decode()
    assert endpoint.secret not in again
    assert AuditEvent.objects.filter(action=AuditAction.WEBHOOK_CREATE).count() == 1


def test_a_bad_address_is_refused_and_what_was_typed_stays(client, employer_user):
    client.force_login(employer_user)
    response = client.post(
        reverse("agreements:webhook_new"),
        {"url": "https://169.254.169.254/latest/", "events": ["agreement.signed"]},
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert "https://169.254.169.254/latest/" in page
    assert 'value="agreement.signed"' in page and "checked" in page
    assert not WebhookEndpoint.objects.exists()
    response = client.post(reverse("agreements:webhook_new"), {"url": "https://hr.example.com"})
    assert response.status_code == 400
    assert not WebhookEndpoint.objects.exists()


def test_rotating_shows_the_new_secret_once(client, employer_user):
    endpoint = _endpoint(employer_user)
    old = endpoint.secret
    client.force_login(employer_user)
    page = client.post(
        reverse("agreements:webhook_rotate", args=[endpoint.pk]), follow=True
    ).content.decode()
    endpoint.refresh_from_db()
    assert endpoint.secret != old and endpoint.secret in page and old not in page


def test_an_hr_colleague_sees_the_log_but_changes_nothing(client, employer_user, hr_colleague):
    endpoint = _endpoint(employer_user)
    delivery = WebhookDelivery.objects.create(
        endpoint=endpoint, event="agreement.signed", status="failed", response_code=500
    )
    client.force_login(hr_colleague)
    assert "hr.example.com" in client.get(reverse("agreements:webhooks")).content.decode()
    page = client.get(reverse("agreements:webhook", args=[endpoint.pk])).content.decode()
    assert "500" in page
    assert reverse("agreements:webhook_resend", args=[delivery.pk]) not in page
    assert reverse("agreements:webhook_rotate", args=[endpoint.pk]) not in page
    assert client.get(reverse("agreements:webhook_new")).status_code == 403
    assert client.get(reverse("agreements:webhook_edit", args=[endpoint.pk])).status_code == 403
    for name, pk in [
        ("webhook_rotate", endpoint.pk),
        ("webhook_test", endpoint.pk),
        ("webhook_delete", endpoint.pk),
        ("webhook_resend", delivery.pk),
    ]:
        assert client.post(reverse(f"agreements:{name}", args=[pk])).status_code == 302
    endpoint.refresh_from_db()
    assert WebhookDelivery.objects.count() == 1
    assert not AuditEvent.objects.filter(action=AuditAction.WEBHOOK_ROTATE_SECRET).exists()


def test_another_units_endpoints_do_not_exist_for_them(client, employer_user, other_employer_user):
    endpoint = _endpoint(employer_user)
    delivery = WebhookDelivery.objects.create(endpoint=endpoint, event="agreement.signed")
    client.force_login(other_employer_user)
    assert "hr.example.com" not in client.get(reverse("agreements:webhooks")).content.decode()
    assert client.get(reverse("agreements:webhook", args=[endpoint.pk])).status_code == 404
    assert client.get(reverse("agreements:webhook_edit", args=[endpoint.pk])).status_code == 404
    for name, pk in [
        ("webhook_rotate", endpoint.pk),
        ("webhook_test", endpoint.pk),
        ("webhook_delete", endpoint.pk),
        ("webhook_resend", delivery.pk),
    ]:
        assert client.post(reverse(f"agreements:{name}", args=[pk])).status_code == 404
    assert WebhookEndpoint.objects.filter(pk=endpoint.pk).exists()
    assert WebhookDelivery.objects.count() == 1


def test_the_log_shows_status_code_and_attempts_and_a_delivery_is_resent(
    client, employer_user, django_capture_on_commit_callbacks
):
    with receiver(answers=[500]) as hr:
        endpoint = _endpoint(employer_user, hr.url)
        hr.secret = endpoint.secret
        client.force_login(employer_user)
        with django_capture_on_commit_callbacks(execute=True):
            client.post(reverse("agreements:webhook_test", args=[endpoint.pk]))
        first = WebhookDelivery.objects.get()
        assert (first.status, first.response_code, first.attempts) == ("failed", 500, 1)
        page = client.get(reverse("agreements:webhook", args=[endpoint.pk])).content.decode()
        assert "500" in page and first.get_status_display() in page
        with django_capture_on_commit_callbacks(execute=True):
            client.post(reverse("agreements:webhook_resend", args=[first.pk]))
    again = WebhookDelivery.objects.exclude(pk=first.pk).get()
    assert (again.status, again.response_code, again.resent_from) == ("succeeded", 200, first)
    assert again.payload == first.payload  # the same event (same id) for the receiver
    assert [r.signature_ok for r in hr.requests] == [True, True]


def test_an_admin_edits_and_deletes_an_endpoint(client, employer_user):
    endpoint = _endpoint(employer_user)
    client.force_login(employer_user)
    response = client.post(
        reverse("agreements:webhook_edit", args=[endpoint.pk]),
        {"url": "https://hr2.example.com/in", "events": ["invitation.declined"]},
    )
    assert response.status_code == 302
    endpoint.refresh_from_db()
    assert (endpoint.url, endpoint.events, endpoint.active) == (
        "https://hr2.example.com/in",
        ["invitation.declined"],
        False,
    )
    client.post(reverse("agreements:webhook_delete", args=[endpoint.pk]))
    assert not WebhookEndpoint.objects.exists()


def test_the_list_page_reads_in_few_queries(client, employer_user, django_assert_max_num_queries):
    for n in range(5):
        _endpoint(employer_user, f"https://hr{n}.example.com/hooks")
    client.force_login(employer_user)
    with django_assert_max_num_queries(12):
        assert client.get(reverse("agreements:webhooks")).status_code == 200
