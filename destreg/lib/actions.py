"""A service's refusal turned into the page's answer, in one place.

Views call a service through ``attempt``; when the service refuses (a ValidationError or a
PermissionDenied) the refusal is shown the one way this project shows it:

- with ``form``: added to the form (``field`` or the form as a whole), so the view re-renders
  it with what the user typed and status 400;
- otherwise, with ``request``: a ``messages.error`` with the service's reason;
- a decision taken on a page that is out of date (``is_stale``) with ``stale``: the
  ``STALE_MESSAGE`` message and a redirect to that URL, the item's current page
  (``Outcome.response``).

What is caught is ``catch``: where a PermissionDenied must stay a 403 the view passes
``catch=ValidationError`` and lets it through.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.forms import BaseForm
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect

from destreg.lib.decisions import STALE_MESSAGE, is_stale
from destreg.lib.permissions import error_text

T = TypeVar("T")
REFUSALS: tuple[type[Exception], ...] = (ValidationError, PermissionDenied)


@dataclass
class Outcome(Generic[T]):
    """What came of the call: truthy when the service did it (``value`` is its return)."""

    value: T | None = None
    error: Exception | None = None
    # Set when the refusal already decides the answer (a stale decision's redirect).
    response: HttpResponse | None = None

    def __bool__(self) -> bool:
        return self.error is None

    @property
    def message(self) -> str:
        return error_text(self.error) if self.error is not None else ""


def attempt(
    call: Callable[[], T],
    *,
    request: HttpRequest | None = None,
    form: BaseForm | None = None,
    field: str | None = None,
    stale: str | None = None,
    catch: type[Exception] | tuple[type[Exception], ...] = REFUSALS,
) -> Outcome[T]:
    """Run ``call`` (one service call, or a few in one branch) and report a refusal as
    described in the module docstring. Exceptions outside ``catch`` propagate."""
    try:
        value = call()
    except catch as error:
        outcome: Outcome[T] = Outcome(error=error)
        if stale is not None and isinstance(error, ValidationError) and is_stale(error):
            if request is not None:
                messages.error(request, str(STALE_MESSAGE))
            outcome.response = redirect(stale)
        elif form is not None:
            # A ValidationError keeps its messages and codes; a PermissionDenied its reason.
            form.add_error(
                field, error if isinstance(error, ValidationError) else error_text(error)
            )
        elif request is not None:
            messages.error(request, error_text(error))
        return outcome
    return Outcome(value=value)
