"""Form widgets for reference data."""

from django import forms
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
