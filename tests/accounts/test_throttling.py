"""Sign-in throttling tells clients apart and cannot be turned against a user."""

import pytest
from django.test import RequestFactory
from django.urls import reverse

from destreg.lib.clients import client_ip
from tests import factories as f

LOGIN = reverse("login")
PASSWORD = "pw-Secret-123"  # what tests.factories.make_user sets


def _post(client, username, password, address):
    """A sign-in as nginx would forward it: from nginx's address, the client's appended."""
    return client.post(
        LOGIN,
        {"username": username, "password": password},
        REMOTE_ADDR="127.0.0.1",
        HTTP_X_FORWARDED_FOR=address,
    )


@pytest.mark.parametrize(
    ("count", "header", "expected"),
    [
        (0, "198.51.100.7", "127.0.0.1"),  # no trusted proxy: the header proves nothing
        (1, "198.51.100.7", "198.51.100.7"),  # nginx appended the client
        (1, "6.6.6.6, 198.51.100.7", "198.51.100.7"),  # the client's own entry is ignored
        (2, "6.6.6.6, 198.51.100.7, 10.0.0.2", "198.51.100.7"),  # load balancer + nginx
        (2, "198.51.100.7", "127.0.0.1"),  # did not pass both proxies
        (1, "not-an-address", "127.0.0.1"),
        (1, "", "127.0.0.1"),
    ],
)
def test_client_address_comes_from_the_trusted_proxies(settings, count, header, expected):
    settings.TRUSTED_PROXY_COUNT = count
    request = RequestFactory().get("/", REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR=header)
    assert client_ip(request) == expected


def test_a_lockout_at_one_address_does_not_lock_the_owner_out_elsewhere(settings, client, student):
    settings.TRUSTED_PROXY_COUNT = 1
    username = student.user.username
    for _ in range(5):
        _post(client, username, "wrong", "198.51.100.7")
    assert _post(client, username, PASSWORD, "198.51.100.7").status_code == 429
    # The owner, from their own address behind the same nginx, signs in.
    owner = client.__class__()
    assert _post(owner, username, PASSWORD, "203.0.113.9").status_code == 302
    assert owner.get(reverse("students:home")).status_code == 200


def test_without_trusted_proxies_a_forged_header_does_not_escape_the_lockout(
    settings, client, student
):
    settings.TRUSTED_PROXY_COUNT = 0
    username = student.user.username
    for n in range(5):
        _post(client, username, "wrong", f"198.51.100.{n}")  # a new forged address each time
    assert _post(client, username, PASSWORD, "203.0.113.9").status_code == 429


def test_password_spraying_is_limited_per_client(settings, client, reference_data):
    settings.TRUSTED_PROXY_COUNT = 1
    settings.LOGIN_CLIENT_ACCOUNT_LIMIT = 10
    users = [f.make_user() for _ in range(11)]
    for user in users[:10]:  # one guess on each of ten accounts
        response = _post(client, user.username, "Password1", "198.51.100.7")
        assert response.status_code == 200  # the form again, with its error
    # The sprayer is now refused even with a right password ...
    refused = _post(client, users[10].username, PASSWORD, "198.51.100.7")
    assert refused.status_code == 429
    assert "当前网络地址在过多账号上登录失败" in refused.content.decode()
    # ... while everybody else, the sprayed accounts' owners included, signs in.
    assert _post(client.__class__(), users[0].username, PASSWORD, "203.0.113.9").status_code == 302


def test_an_owner_retrying_their_own_password_counts_once(settings, client, student):
    settings.TRUSTED_PROXY_COUNT = 1
    settings.LOGIN_CLIENT_ACCOUNT_LIMIT = 2
    for _ in range(4):
        _post(client, student.user.username, "wrong", "198.51.100.7")
    assert _post(client, student.user.username, PASSWORD, "198.51.100.7").status_code == 302


def test_the_deploy_check_asks_for_a_trusted_proxy_behind_tls(settings):
    from destreg.accounts.checks import secrets_from_environment

    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    settings.TRUSTED_PROXY_COUNT = 0
    assert "destreg.W005" in {w.id for w in secrets_from_environment(None)}
    settings.TRUSTED_PROXY_COUNT = 1
    assert "destreg.W005" not in {w.id for w in secrets_from_environment(None)}
