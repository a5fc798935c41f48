"""Every cached copy of a row, and what forgets it when the row changes: in this one file.

What is cached, and how each copy is forgotten:

==========================================  ========================  ===========================
cached                                      where, how long           forgotten
==========================================  ========================  ===========================
the signed-in user with their student       shared cache, 60 s        on save / delete, below
profile (accounts/backends.py)
whether a user has an authenticator         shared cache, 60 s        on save / delete, below
(accounts/middleware.py)
codes, regions, schools, colleges, majors   each process,             on save / delete in the
(reference/cache.py)                        REFERENCE_CACHE_SECONDS   process, below; the others
                                                                      when their copy expires
unread notification counts                  shared cache, 60 s        by ``notify()`` once the
(audit/models.py)                                                     rows commit, and when read
                                                                      (audit/notify.py, views.py)
statistics figures (reviews/stats.py)       shared cache, 5 min       not: they say when they
                                                                      were computed; a button
                                                                      recomputes them
rate-limit and throttle counters            shared cache, windows     not: they count until
                                                                      their window ends
sessions (cached_db)                        shared cache              by Django's session store
==========================================  ========================  ===========================

The rows forgotten here change through the admin and the account screens (sign-in, password,
second factor, the registry profile), so a save or delete of the row is the change. No state
change of an agreement, invitation, registration or registry request (the state-change door,
destreg/audit) touches a cached copy: the door has no cache to forget.

Every key of the shared cache carries the release (settings.CACHE_KEY_PREFIX), so nothing
written by older code is read after a deploy.
"""

from collections.abc import Callable
from typing import Any

from django.apps import apps
from django.db.models import Model
from django.db.models.signals import post_delete, post_save

from destreg.accounts.backends import forget_user
from destreg.accounts.middleware import forget_authenticator
from destreg.reference import cache as references


def _user(instance: Model, update_fields: frozenset[str] | None) -> None:
    # Signing in saves only last_login, which no page reads: that save leaves the cache
    # alone, so the first pages after signing in come from the cache, and a forgotten mark
    # set by a real change just before stays in place.
    if update_fields == frozenset({"last_login"}):
        return
    forget_user(instance.pk)


def _student(instance: Any, update_fields: frozenset[str] | None) -> None:
    forget_user(instance.user_id)  # the profile is cached with its user


def _authenticator(instance: Any, update_fields: frozenset[str] | None) -> None:
    forget_authenticator(instance.user_id)


def _reference_row(instance: Model, update_fields: frozenset[str] | None) -> None:
    references.forget(type(instance), instance.pk)


# model ("app_label.ModelName") → what a save or delete of one of its rows forgets.
RULES: dict[str, Callable[[Any, frozenset[str] | None], None]] = {
    "accounts.User": _user,
    "students.Student": _student,
    "otp_totp.TOTPDevice": _authenticator,
    "reference.Code": _reference_row,
    "reference.Region": _reference_row,
    "reference.School": _reference_row,
    "reference.College": _reference_row,
    "reference.Major": _reference_row,
}


def connect() -> None:
    """Connect every rule to its model's post_save and post_delete (DestregConfig.ready)."""
    for label, rule in RULES.items():
        model = apps.get_model(label)

        def receiver(sender, instance, update_fields=None, rule=rule, **kwargs) -> None:
            rule(instance, update_fields)

        for signal in (post_save, post_delete):
            # weak=False: the receiver is a closure that nothing else holds on to.
            signal.connect(receiver, sender=model, weak=False, dispatch_uid=f"forget:{label}")
