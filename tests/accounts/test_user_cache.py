"""The signed-in user (with their student profile) is cached between requests
(destreg/accounts/backends.py); any change to either must reach the next request."""

from django.core.cache import cache
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from destreg.accounts.backends import UserAndProfileBackend, user_cache_key
from destreg.lib.cache import FORGOTTEN


def test_the_signed_in_user_is_read_from_the_cache_from_the_first_page_on(client, student):
    cache.delete(user_cache_key(student.user_id))  # the account was made long ago
    client.force_login(student.user)  # saves last_login, which leaves the cache alone
    assert cache.get(user_cache_key(student.user_id)) is None
    assert client.get(reverse("students:home")).status_code == 200
    with CaptureQueriesContext(connection) as queries:
        assert client.get(reverse("students:home")).status_code == 200
    assert not [q for q in queries if 'FROM "accounts_user"' in q["sql"]]


def test_signing_in_right_after_a_change_keeps_the_change_out_of_the_cache(client, student):
    student.user.set_password("n3w-Passw0rd!")
    student.user.save(update_fields=["password"])  # marks the cached user forgotten
    client.force_login(student.user)  # saves last_login, which must not lift the mark
    assert cache.get(user_cache_key(student.user_id)) == FORGOTTEN


def test_a_deactivated_account_is_signed_out_on_its_next_request(client, student):
    client.force_login(student.user)
    assert client.get(reverse("students:home")).status_code == 200
    student.user.is_active = False
    student.user.save(update_fields=["is_active"])
    response = client.get(reverse("students:home"))
    assert response.status_code == 302 and response.url.startswith(reverse("login"))


def test_a_password_changed_elsewhere_signs_out_the_other_sessions(client, student):
    client.force_login(student.user)
    assert client.get(reverse("students:home")).status_code == 200
    student.user.set_password("n3w-Passw0rd!")  # on another device, or by a password reset
    student.user.save(update_fields=["password"])
    response = client.get(reverse("students:home"))
    assert response.status_code == 302 and response.url.startswith(reverse("login"))


def test_a_profile_change_shows_on_the_next_page(client, student):
    client.force_login(student.user)
    client.get(reverse("students:home"))
    student.real_name = "改名后"
    student.save(update_fields=["real_name"])
    assert "改名后" in client.get(reverse("students:home")).content.decode()


def test_a_copy_read_before_a_change_commits_is_not_served_after_it(
    client, student, monkeypatch, django_capture_on_commit_callbacks
):
    client.force_login(student.user)
    before = UserAndProfileBackend.read_user(student.user_id)
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        student.user.is_active = False
        student.user.save(update_fields=["is_active"])
    # A request that read the row before the commit caches what it read only now.
    monkeypatch.setattr(UserAndProfileBackend, "read_user", staticmethod(lambda pk: before))
    UserAndProfileBackend().get_user(student.user_id)
    monkeypatch.undo()
    response = client.get(reverse("students:home"))
    assert response.status_code == 302 and response.url.startswith(reverse("login"))
