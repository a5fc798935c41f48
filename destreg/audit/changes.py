"""The one door for state changes, and the audit rows of everything else.

``change_state`` is the only code that runs a django-fsm transition: it locks the row, checks
that the item is still in the state the person saw and that they may do this, runs the
transition, saves it with the fields it sets, writes the audit row (before and after states,
a typed ``AuditAction``), keeps the review queue's row in step, forgets what is cached about
the item and queues the notifications. A transition called anywhere else raises
(``refuse_transitions_outside_the_door``, connected in ``AuditConfig.ready``), so the audit
trail and the queue cannot drift from the states.

Services say only what differs::

    change_state(
        agreement, Agreement._school_approve,
        by=reviewer, may=can_review_agreement, action=AuditAction.SCHOOL_APPROVE,
        expected_state=expected_state, comment=comment, values=signed_values,
        notify=[Notice(parties, gettext_lazy("Agreement %(number)s is signed."), url,
                       params=lambda item: {"number": item.number})],  # numbered on commit
    )

``record_event`` writes the audit rows of creations and of actions that change no state (a
code sent, a draft saved), with the same queue, cache and notification steps.
"""

import contextvars
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models, transaction
from django.db.models.fields.files import FieldFile
from django.utils.translation import gettext as _
from django_fsm import can_proceed

from destreg.audit.models import AuditAction, AuditEvent, ReviewTask
from destreg.audit.notify import notify as send_notification
from destreg.audit.signals import recorded
from destreg.invalidation import keys_after_state_change
from destreg.lib.cache import forget
from destreg.lib.decisions import check_state
from destreg.lib.permissions import Decision, require

M = TypeVar("M", bound=models.Model)

# The item whose transition the door is running; any other transition is refused.
_opened_for: contextvars.ContextVar[models.Model | None] = contextvars.ContextVar(
    "opened_for", default=None
)


class TransitionOutsideTheDoor(RuntimeError):
    """A transition was called other than through ``change_state``."""


@dataclass(frozen=True)
class Notice:
    """Tell ``users`` (in the app and by e-mail, once the change is committed).

    ``message`` is the untranslated English source (``gettext_lazy``/``gettext_noop``), never
    a sentence already translated: each reader sees it in their own language. Its
    ``%(name)s`` placeholders are filled from ``params``, stored with it; a callable makes
    them from the changed item when the door commits (e.g. its new number)."""

    users: Iterable[Any]
    message: Any
    url: str = ""
    params: Mapping[str, Any] | Callable[[Any], Mapping[str, Any]] = field(default_factory=dict)
    # For a change of a graduate's destination: (audit row, reader) -> the reader's own
    # "这不是我本人的意愿" link ("" for readers who get none); students/coercion.py builds it.
    report_link: Callable[[AuditEvent, Any], str] | None = None


def change_state(
    item: M,
    transition: Callable[[M], None],
    *,
    by: Any,
    may: Callable[[Any, M], Decision] | None,
    action: AuditAction,
    expected_state: str | None = None,
    values: Mapping[str, Any] | Callable[[M], Mapping[str, Any]] | None = None,
    comment: str = "",
    changes: Mapping[str, Any] | None = None,
    notify: Iterable[Notice] = (),
) -> M:
    """Run ``transition`` (the model's protected method, e.g. ``Agreement._fail``) on ``item``.

    In order, in the caller's transaction: lock the row and re-read it; refuse with
    ValidationError (code "stale") if ``expected_state`` is given and the item has moved
    (destreg/lib/decisions.py); refuse with PermissionDenied unless ``may(by, item)`` allows
    (``may`` is None only for the system's own moves, e.g. an expiry); refuse with
    ValidationError if the transition does not start from the current status; compute
    ``values`` (a callable runs here, once the change is allowed: the place for work the change
    entails, e.g. numbering); run the transition; save the status and ``values``; write the
    audit row (``changes`` plus the saved values); sync the review queue; forget caches;
    notify. Returns the locked, updated item (the same object).

    Callers that need other rows locked first (the lock order: student, then the item) lock
    them before calling; the door's own lock is then already held.
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("change_state runs inside the service's transaction")
    manager = type(item)._default_manager
    item.refresh_from_db(from_queryset=manager.select_for_update(of=("self",)))
    check_state(item, expected_state)
    if may is not None:
        require(may(by, item))
    bound = getattr(item, transition.__name__)
    if not can_proceed(bound):
        raise ValidationError(_("This cannot be done in its current state."), code="state")
    fields = dict(values(item) if callable(values) else values or {})
    before = item.status  # type: ignore[attr-defined]
    token = _opened_for.set(item)
    try:
        bound()
    finally:
        _opened_for.reset(token)
    for name, value in fields.items():
        setattr(item, name, value)
    item.save(update_fields=["status", *fields])
    _record(
        item,
        by=by,
        action=action,
        before=before,
        comment=comment,
        changes={**_loggable(fields), **(changes or {})},
        notify=notify,
    )
    return item


def record_event(
    subject: models.Model,
    *,
    by: Any,
    action: AuditAction,
    created: bool = False,
    comment: str = "",
    changes: Mapping[str, Any] | None = None,
    notify: Iterable[Notice] = (),
) -> None:
    """Audit an action that changes no state (a code sent, a draft saved), or with
    ``created`` a stateful item just created in its first state (from "" to its status),
    with the queue, cache and notification steps of ``change_state``."""
    status = getattr(subject, "status", "")
    _record(
        subject,
        by=by,
        action=action,
        before="" if created else status,
        comment=comment,
        changes=changes,
        notify=notify,
    )


def refuse_transitions_outside_the_door(sender, instance, name, **kwargs) -> None:
    """django-fsm's pre_transition receiver: only ``change_state`` may run a transition."""
    if _opened_for.get() is not instance:
        raise TransitionOutsideTheDoor(
            f"{sender.__name__}.{name} was called outside destreg.audit.changes.change_state"
        )


def _record(
    item: models.Model,
    *,
    by: Any,
    action: AuditAction,
    before: str,
    comment: str,
    changes: Mapping[str, Any] | None,
    notify: Iterable[Notice],
) -> None:
    event = AuditEvent.objects.create(
        content_type=ContentType.objects.get_for_model(item),
        object_id=item.pk,
        actor=by,
        actor_role=getattr(by, "role", "") if by else "",
        action=AuditAction(action),
        from_state=before,
        to_state=getattr(item, "status", ""),
        comment=comment,
        changes=dict(changes or {}),
    )
    recorded.send(sender=type(item), item=item, event=event, before=before)
    if hasattr(item, "REVIEW"):
        ReviewTask.sync(item)
        notify = [*notify, *_tell_reviewers(item, before)]
    _forget(item)
    for notice in notify:
        params = notice.params(item) if callable(notice.params) else notice.params
        if notice.report_link is None:
            send_notification(notice.users, notice.message, notice.url, params)
            continue
        # Each reader's report link is their own, so each gets their own row and e-mail.
        for user in {getattr(user, "pk", None): user for user in notice.users}.values():
            send_notification(
                [user],
                notice.message,
                notice.url,
                params,
                report_url=notice.report_link(event, user) if user is not None else "",
            )


def _tell_reviewers(item: Any, before: str) -> list[Notice]:
    """An item entering a stage's status tells that stage's reviewers (its ``REVIEW``)."""
    message = item.REVIEW.message_on_entering(item) if item.status != before else None
    if message is None:
        return []
    stage = item.REVIEW.stage_of(item)
    return [Notice(item.REVIEW.reviewers(item, stage), message, item.get_absolute_url())]


def _forget(item: models.Model) -> None:
    """What a state change of ``item`` makes stale (declared in destreg/invalidation.py)."""
    forget(*keys_after_state_change(item))


def _loggable(fields: Mapping[str, Any]) -> dict[str, Any]:
    """The saved values as the audit row's JSON holds them: rows by id, files by name."""
    encoder = DjangoJSONEncoder()
    logged: dict[str, Any] = {}
    for name, value in fields.items():
        if isinstance(value, models.Model):
            value = value.pk
        elif isinstance(value, FieldFile) or (hasattr(value, "name") and hasattr(value, "read")):
            value = getattr(value, "name", "") or ""
        elif value is not None and not isinstance(value, str | int | float | bool | list | dict):
            value = encoder.default(value)
        logged[name] = value
    return logged
