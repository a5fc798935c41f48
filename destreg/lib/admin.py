"""Django admin helpers shared by the apps."""

from django.contrib import admin


class ShownNotEditedAdmin(admin.ModelAdmin):
    """Every field read-only (not just the change permission refused): the object is changed
    through its services, which go through the state-change door and audit. If a change
    permission is ever granted again, the form still edits nothing."""

    def get_readonly_fields(self, request, obj=None) -> list[str]:
        return read_only_names(self)


def read_only_names(model_admin: admin.ModelAdmin, *extra: str) -> list[str]:
    """The model's editable fields (but those the admin excludes) and ``extra``, with the
    admin's own read-only fields: for a ``get_readonly_fields`` that leaves nothing editable."""
    excluded = set(model_admin.exclude or ())
    fields = [
        field.name
        for field in model_admin.model._meta.get_fields()
        if (field.concrete or field.many_to_many)
        and field.editable
        and not field.auto_created
        and field.name not in excluded
    ]
    return list(dict.fromkeys([*model_admin.readonly_fields, *fields, *extra]))
