"""The shape every permission function returns."""

from dataclasses import dataclass

from django.core.exceptions import PermissionDenied


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


def error_text(error: Exception) -> str:
    """The user-facing reason a service refused (ValidationError lists, PermissionDenied one)."""
    return " ".join(getattr(error, "messages", None) or [str(error)])
