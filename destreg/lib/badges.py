"""``{% badge state label %}``: a status as a coloured Bootstrap badge.

A tag rather than an included template: list pages draw two badges a row, and an
``{% include %}`` costs as much as the rest of the row."""

from django import template
from django.utils.html import format_html

register = template.Library()

COLOURS = {
    "signed": "success",
    "approved": "success",
    "failed": "danger",
    "rejected": "danger",
    "declined": "danger",
    "refused": "danger",
    "terminated": "danger",
    "expired": "secondary",
    "accepted": "primary",
}


@register.simple_tag
def badge(state: str, label) -> str:
    """Anything not listed (waiting, under review, draft…) is shown as pending (yellow)."""
    return format_html(
        '<span class="badge text-bg-{}">{}</span>', COLOURS.get(state, "warning"), label
    )
