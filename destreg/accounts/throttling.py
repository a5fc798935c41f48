"""Sign-in throttling beyond django-axes: password spraying from one client.

django-axes locks a username at one client address after ``AXES_FAILURE_LIMIT`` failures, so a
stranger cannot lock the owner out from elsewhere. Spraying tries one or two passwords on each of
many accounts, which never reaches that limit; this module counts, per client address, the
distinct usernames that failed within the cool-off window and refuses that client's sign-ins
once there are ``LOGIN_CLIENT_ACCOUNT_LIMIT`` of them. A graduate who mistypes their own password
counts once however often they retry. A campus behind one NAT address shares the count, so the
default (30 accounts in the cool-off) stays well above what a dormitory's own typos reach; it
still cuts a sprayer from one address to 30 accounts per window.
"""

import hashlib

from django.conf import settings
from django.contrib.auth.signals import user_login_failed
from django.core.cache import cache
from django.dispatch import receiver

from destreg.lib.clients import client_ip


def _key(request) -> str:
    return f"accounts:spray:{client_ip(request)}"


def _window_seconds() -> int:
    return int(settings.AXES_COOLOFF_TIME * 3600)


def client_is_blocked(request) -> bool:
    """Whether this client has failed on too many different accounts lately."""
    return len(cache.get(_key(request), ())) >= settings.LOGIN_CLIENT_ACCOUNT_LIMIT


@receiver(user_login_failed)
def count_failed_account(sender, credentials, request=None, **kwargs) -> None:
    username = str(credentials.get("username", "")).casefold()
    if request is None or not username:  # e.g. a refused school sign-on: no account guessed
        return
    digest = hashlib.sha256(username.encode()).hexdigest()[:16]
    key = _key(request)
    failed = set(cache.get(key, ()))
    if digest not in failed:
        failed.add(digest)
        cache.set(key, sorted(failed), _window_seconds())
