from django.contrib import admin

from destreg.lib.admin import ShownNotEditedAdmin
from reviews.models import FlagExplanation, VerificationSettings


@admin.register(VerificationSettings)
class VerificationSettingsAdmin(admin.ModelAdmin):
    list_display = [
        "school",
        "share_percent",
        "share_growth_points",
        "unit_graduates",
        "shared_contact_units",
        "proof_graduates",
        "approval_seconds",
        "fast_approvals",
    ]
    autocomplete_fields = ["school"]


@admin.register(FlagExplanation)
class FlagExplanationAdmin(ShownNotEditedAdmin):
    """Read only: explanations are made on the 核查 page, audited there."""

    list_display = ["key", "school", "college", "explained_by", "explained_at"]
    list_filter = ["school"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False  # a flag explained and audited would silently come back unexplained
