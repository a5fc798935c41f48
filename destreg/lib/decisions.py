"""A reviewer's decision is bound to the state of the item the reviewer saw.

Every decide form (a detail page's panel, each row of the queue's bulk approval)
carries ``decision_state(item)`` as rendered; the service compares it with the
locked row and refuses with ``STALE_MESSAGE`` when the item has moved since, so a
double-click, or two reviewers deciding at once, cannot apply one decision to a
later stage (or to a resubmitted version) that nobody has looked at.
"""

import re
from collections import defaultdict
from datetime import UTC, datetime, timedelta

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

STALE_MESSAGE = _("This item has already been handled; please refresh and try again.")

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)
# A queue checkbox: "<task id>:<state>". Ids are ASCII digits only (str.isdigit()
# would take '²'), and short enough for any database's integer.
_BULK_VALUE = re.compile(r"([0-9]{1,18})(?::(.*))?", re.DOTALL)


def waiting_since(item: models.Model) -> datetime:
    """When the item entered its current state: every review transition and every
    (re)submission sets ``submitted_at``; a registry request has one stage only."""
    return getattr(item, "submitted_at", None) or item.created_at  # type: ignore[attr-defined]


def decision_state(item: models.Model) -> str:
    """The state a decision is taken on: the status and when the item entered it.

    The status alone would not notice a registration returned, edited and
    resubmitted while the page stood open; the entry time does.
    """
    micros = (waiting_since(item) - _EPOCH) // _MICROSECOND
    return f"{item.status}@{micros}"  # type: ignore[attr-defined]


def check_state(item: models.Model, expected_state: str | None) -> None:
    """Refuse (ValidationError, code "stale") when ``item`` has moved from the state
    the reviewer saw. Call it after locking the row, before anything is written;
    ``None`` (a service called directly, not from a form) skips the check."""
    if expected_state is not None and expected_state != decision_state(item):
        raise ValidationError(STALE_MESSAGE, code="stale")


def parse_bulk_value(value: str) -> tuple[int | None, str | None]:
    """A queue checkbox value: (task id or None when malformed, the state it was
    rendered with or None when the value carries none)."""
    match = _BULK_VALUE.fullmatch(value)
    if match is None:
        return None, None
    return int(match.group(1)), match.group(2)


def is_stale(error: ValidationError) -> bool:
    return getattr(error, "code", None) == "stale" or any(
        getattr(item, "code", None) == "stale" for item in getattr(error, "error_list", [])
    )


def decision_states(tasks) -> dict[int, str]:
    """``decision_state`` of the item behind each review-queue task, by task id: one
    query per kind of item on the page (the queue rows do not hold the status)."""
    by_type: dict[int, list] = defaultdict(list)
    for task in tasks:
        by_type[task.content_type_id].append(task)
    states: dict[int, str] = {}
    for type_id, group in by_type.items():
        model = ContentType.objects.get_for_id(type_id).model_class()
        if model is None:
            continue
        present = {field.name for field in model._meta.fields}
        names = [name for name in ("status", "submitted_at", "created_at") if name in present]
        items = model._default_manager.only(*names).in_bulk([task.object_id for task in group])
        for task in group:
            item = items.get(task.object_id)
            if item is not None:
                states[task.pk] = decision_state(item)
    return states
