"""Form widgets for reference data."""

import base64

from django import forms
from django.contrib.admin.widgets import AdminFileWidget
from django.urls import reverse

from destreg.reference.regions import region_tree


class RegionPicker(forms.Select):
    """A region chosen as province → city → county.

    Renders the plain single ``<select>`` of the field's choices (what a browser without
    scripts uses) inside a wrapper that ``static/js/region-picker.js`` turns into three
    linked, labelled ``<select>``s over the region tree (``reference:regions``). The plain
    select stays in the form, hidden, and carries the value: the form posts the same field
    name and value either way, and only regions among the field's choices can be chosen.
    The script tag comes with the widget, so no page has to remember it (it runs once)."""

    template_name = "reference/widgets/region_picker.html"

    class Media:
        js = ["js/region-picker.js"]

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        url = reverse("reference:regions")
        context["widget"]["regions_url"] = f"{url}?v={region_tree().version}"
        return context


class SealInput(AdminFileWidget):
    """The admin's file input for a school's seal, showing the stored seal itself instead of
    a link to its file: uploads are never served from a media URL."""

    template_name = "reference/widgets/seal_input.html"

    def __init__(self, attrs=None):
        super().__init__({"accept": "image/png,image/jpeg", **(attrs or {})})

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        context["widget"]["preview"] = _data_uri(value) if self.is_initial(value) else ""
        return context


def _data_uri(stored) -> str:
    """The stored seal (a PNG or JPEG checked on upload) as a data URI; "" if unreadable."""
    try:
        with stored.open("rb") as handle:
            data = handle.read()
    except OSError:
        return ""
    mime = "image/png" if data.startswith(b"\x89PNG") else "image/jpeg"
    return f"data:{mime};base64," + base64.b64encode(data).decode()
