from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.utils.translation import gettext_lazy as _

from destreg.accounts.models import User


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    list_display = [
        "username",
        "display_name",
        "role",
        "school",
        "college",
        "employer",
        "is_active",
    ]
    list_filter = ["role", "school", "is_active", "is_staff"]
    search_fields = ["username", "display_name", "email"]
    list_select_related = ["school", "college", "employer"]
    raw_id_fields = ["employer"]
    fieldsets = [
        *(BaseUserAdmin.fieldsets or ()),
        (
            _("Role and scope"),
            {"fields": ["role", "display_name", "school", "college", "employer"]},
        ),
    ]
    add_fieldsets = [
        *BaseUserAdmin.add_fieldsets,
        (
            _("Role and scope"),
            {"fields": ["role", "display_name", "school", "college", "employer"]},
        ),
    ]
