"""destreg.lib.actions.attempt: a service's refusal shown the one way the project shows it."""

import pytest
from django import forms
from django.contrib.messages import get_messages
from django.contrib.messages.storage.fallback import FallbackStorage
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import RequestFactory

from destreg.lib.actions import attempt
from destreg.lib.decisions import STALE_MESSAGE


class _Form(forms.Form):
    name = forms.CharField()


def _request():
    request = RequestFactory().post("/")
    request.session = {}  # type: ignore[attr-defined]
    request._messages = FallbackStorage(request)  # type: ignore[attr-defined]
    return request


def _messages(request) -> list[str]:
    return [str(message) for message in get_messages(request)]


def _refuse(error: Exception):
    def call():
        raise error

    return call


def test_it_returns_the_service_value():
    done = attempt(lambda: 42, request=_request())
    assert done and done.value == 42 and done.error is None and done.response is None


def test_it_shows_a_refusal_as_a_message():
    request = _request()
    done = attempt(_refuse(PermissionDenied("Not yours.")), request=request)
    assert not done and done.message == "Not yours."
    assert _messages(request) == ["Not yours."]


def test_it_adds_a_refusal_to_the_form_and_keeps_what_was_typed():
    form = _Form({"name": "张三"})
    assert form.is_valid()
    done = attempt(_refuse(ValidationError("Too late.", code="late")), form=form, field="name")
    assert not done
    assert form.errors["name"] == ["Too late."]
    assert form.data["name"] == "张三"


def test_a_permission_refusal_goes_into_the_form_as_its_reason():
    form = _Form({"name": "x"})
    form.is_valid()
    attempt(_refuse(PermissionDenied("Not now.")), form=form)
    assert form.non_field_errors() == ["Not now."]


def test_a_stale_decision_redirects_to_the_item_with_the_stale_message():
    request, form = _request(), _Form({"name": "x"})
    form.is_valid()
    done = attempt(
        _refuse(ValidationError(STALE_MESSAGE, code="stale")),
        request=request,
        form=form,
        stale="/reviews/agreements/1/",
    )
    assert done.response is not None and done.response.status_code == 302
    assert done.response["Location"] == "/reviews/agreements/1/"
    assert _messages(request) == [str(STALE_MESSAGE)]
    assert not form.non_field_errors()


def test_what_is_not_caught_propagates():
    with pytest.raises(PermissionDenied):
        attempt(_refuse(PermissionDenied("403")), request=_request(), catch=ValidationError)
