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
statistics figures per scope (all, a        shared cache, 5 min       by the state-change door
school, a college), numbers only: labels                              (AFTER_STATE_CHANGE):
are translated when the page is rendered                              agreements, registrations,
(reviews/stats.py)                                                    terminations, registry
                                                                      requests, imports (audited
                                                                      on the school); records: on
                                                                      save / delete, below; the
                                                                      page says when they were
                                                                      computed, a button
                                                                      recomputes them
statistics figures as of a snapshot, per    shared cache, 1 hour      never: a snapshot does not
scope and snapshot (reviews/stats.py                                  change (append-only tables)
``cached_as_of``)
a confirmed graduate's home page data       shared cache, 60 s        records and profiles: on
(students/home.py: record, latest requests,                           save / delete, below; the
open items: invitations, agreements,                                  requests, destinations and
terminations, registrations)                                          open items: by the
                                                                      state-change door
                                                                      (AFTER_STATE_CHANGE) and on
                                                                      delete; an invitation past
                                                                      its deadline: left out when
                                                                      read; the import's bulk
                                                                      upsert: by the import
rate-limit and throttle counters            shared cache, windows     not: they count until
                                                                      their window ends
sessions (cached_db)                        shared cache              by Django's session store
==========================================  ========================  ===========================

The rows forgotten on save or delete change through the admin, the account screens and the
registry services (sign-in, password, second factor, binding, imports), so a save or delete
of the row is the change. What a state change makes stale (an agreement, a registration or a
registry request moving on changes the graduate's home page) is forgotten by the door
(destreg/audit/changes.py), which asks ``keys_after_state_change``.

Rules of the apps built on destreg are named by dotted path: destreg does not import them.

Every key of the shared cache carries the release (settings.CACHE_KEY_PREFIX), so nothing
written by older code is read after a deploy.
"""

from collections.abc import Callable, Iterable
from functools import cache
from typing import Any

from django.apps import apps
from django.db.models import Model
from django.db.models.signals import post_delete, post_save
from django.utils.module_loading import import_string

from destreg.accounts.backends import forget_user
from destreg.accounts.middleware import forget_authenticator
from destreg.lib.cache import forget
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


# The same for the apps' own caches: model → dotted paths of the rules.
APP_RULES: dict[str, tuple[str, ...]] = {
    "students.Student": ("students.home.forget_student_home",),
    "students.RegistryRecord": (
        "students.home.forget_record_homes",
        # The figures count records: a save of a counted field or a delete.
        "reviews.stats.forget_record_statistics",
    ),
}

# model → dotted paths of functions (item) → the cache keys to forget after the door changes
# the item's state (or records its creation or an action on it), and after a row is deleted
# (which is not a state change: a draft discarded, a row removed in the admin).
# The statistics count the pending work and the approved destinations (claim_approve and
# claim_release run in the same transaction as the door's change of the agreement or
# registration); the registry import is audited on its school.
AFTER_STATE_CHANGE: dict[str, tuple[str, ...]] = {
    "students.RegistryRequest": (
        "students.home.home_keys_of",
        "reviews.stats.statistics_keys_of",
    ),
    "agreements.Agreement": ("students.home.home_keys_of", "reviews.stats.statistics_keys_of"),
    "agreements.Registration": (
        "students.home.home_keys_of",
        "reviews.stats.statistics_keys_of",
    ),
    # The home page's open items: invitations sent, answered or expired; terminations.
    "agreements.Invitation": ("students.home.home_keys_of",),
    "agreements.Termination": (
        "agreements.online.presenters.termination_home_keys",
        "reviews.stats.statistics_keys_of",
    ),
    "reference.School": ("reviews.stats.statistics_keys_of",),
    # 就业核查 (reviews/verification.py): the statistics count the sampled and the checked.
    "reviews.VerificationSample": ("reviews.stats.statistics_keys_of",),
    "reviews.VerificationItem": ("reviews.stats.statistics_keys_of",),
}


@cache
def _rule(path: str) -> Callable[..., Any]:
    return import_string(path)


def keys_after_state_change(item: Model) -> Iterable[str]:
    """The cache keys the door forgets once ``item``'s state changed."""
    return [
        key for path in AFTER_STATE_CHANGE.get(item._meta.label, ()) for key in _rule(path)(item)
    ]


def connect() -> None:
    """Connect every rule to its model's post_save and post_delete, and the door's keys to
    post_delete (DestregConfig.ready)."""
    rules = [(label, rule, "forget") for label, rule in RULES.items()]
    rules += [
        (label, _rule(path), f"forget-app:{path}")
        for label, paths in APP_RULES.items()
        for path in paths
    ]
    for label, rule, prefix in rules:
        model = apps.get_model(label)

        def receiver(sender, instance, update_fields=None, rule=rule, **kwargs) -> None:
            rule(instance, update_fields)

        for signal in (post_save, post_delete):
            # weak=False: the receiver is a closure that nothing else holds on to.
            signal.connect(receiver, sender=model, weak=False, dispatch_uid=f"{prefix}:{label}")

    def deleted(sender, instance, **kwargs) -> None:
        forget(*keys_after_state_change(instance))

    for label in AFTER_STATE_CHANGE:
        model = apps.get_model(label)
        post_delete.connect(deleted, sender=model, weak=False, dispatch_uid=f"deleted:{label}")
