"""The shape every permission function returns."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from django.core.exceptions import PermissionDenied
from django.db.models import Model, QuerySet
from django.http import Http404

M = TypeVar("M", bound=Model)


@dataclass(frozen=True)
class Decision:
    """Whether an action is allowed, and why not when it is not.

    ``visible`` separates strangers (who get 404, as if the object did not
    exist) from insiders who may see the object but not do this (403).
    """

    allowed: bool
    reason: str = ""
    visible: bool = True

    def __bool__(self) -> bool:
        return self.allowed


ALLOW = Decision(True)


def deny(reason: str, *, visible: bool = True) -> Decision:
    return Decision(False, reason, visible)


def require(decision: Decision) -> None:
    """Raise PermissionDenied with the decision's reason unless it allows."""
    if not decision:
        raise PermissionDenied(decision.reason)


def enforce(decision: Decision) -> None:
    """For loaders: a stranger gets 404 (as for a missing object), an insider without the
    right 403 with the decision's reason."""
    if not decision.visible:
        raise Http404
    require(decision)


def load_for(user: Any, queryset: QuerySet[M], pk: Any, may: Callable[[Any, M], Decision]) -> M:
    """Row ``pk`` of ``queryset`` for ``user``: 404 when there is none or ``may`` says the
    user may not know of it, 403 when they may see it but ``may`` refuses."""
    item = queryset.filter(pk=pk).first()
    if item is None:
        raise Http404
    enforce(may(user, item))
    return item


def error_text(error: Exception) -> str:
    """The user-facing reason a service refused (ValidationError lists, PermissionDenied one)."""
    return " ".join(getattr(error, "messages", None) or [str(error)])
