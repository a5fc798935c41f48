"""The project's template library (``{% load destreg %}``): status badges and dict lookups."""

from typing import Any

from django import template
from django.utils.html import format_html

register = template.Library()

BADGE_COLOURS = {
    "signed": "success",
    "approved": "success",
    "failed": "danger",
    "rejected": "danger",
    "declined": "danger",
    "refused": "danger",
    "terminated": "danger",
    "found_untrue": "danger",
    "expired": "secondary",
    "accepted": "primary",
    "done": "success",  # background work: an import, an annual report
    "valid": "success",  # a batch invitation row: its preview, then its outcome
    "sent": "success",
    "invalid": "danger",
    "duplicate": "danger",
    "no_match": "secondary",
    "live": "secondary",
    "handled": "success",
}


@register.simple_tag
def badge(state: str, label: Any) -> str:
    """``{% badge state label %}``: a status as a coloured Bootstrap badge. Anything not
    listed (waiting, under review, draft…) is shown as pending (yellow). A tag rather than
    an included template: list pages draw two badges a row."""
    return format_html(
        '<span class="badge text-bg-{}">{}</span>', BADGE_COLOURS.get(state, "warning"), label
    )


@register.filter
def get(mapping: Any, key: Any) -> Any:
    """``{{ states|get:task.pk }}``: the mapping's value for the key, or an empty string."""
    try:
        return mapping.get(key, "")
    except AttributeError:
        return ""
