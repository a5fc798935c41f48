from functools import partial

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from destreg.lib.actions import attempt
from destreg.lib.admin import ShownNotEditedAdmin, read_only_names
from employers import services
from employers.models import ApiCall, ApiToken, Employer, EmployerVerification


class EmployerVerificationInline(admin.TabularInline):
    """Who verified the unit, for which school, on which documents: a record, not editable."""

    model = EmployerVerification
    extra = 0
    can_delete = False
    # The evidence by stored name: a FileField here would link to /media/, which is never served.
    readonly_fields = [
        "school", "verified_by", "verified_at", "licence_reviewed", "letter_reviewed", "note",
    ]  # fmt: skip
    exclude = ["business_licence", "authorisation_letter"]

    @admin.display(description=_("business licence reviewed"))
    def licence_reviewed(self, obj: EmployerVerification) -> str:
        return obj.business_licence.name or "—"

    @admin.display(description=_("authorisation letter reviewed"))
    def letter_reviewed(self, obj: EmployerVerification) -> str:
        return obj.authorisation_letter.name or "—"

    def has_add_permission(self, request, obj=None) -> bool:
        return False  # verifications are made through the action, which audits and notifies

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Employer)
class EmployerAdmin(admin.ModelAdmin):
    list_display = ["name", "uscc", "nature", "industry", "contact_name", "verified_at"]
    list_filter = [
        ("verified_at", admin.EmptyFieldListFilter),
        "placeholder",
        "nature",
        "industry",
    ]
    search_fields = ["name", "uscc", "contact_name"]
    list_select_related = ["nature", "industry"]
    raw_id_fields = ["region"]
    exclude = ["business_licence", "authorisation_letter"]  # the unit uploads them in its portal
    readonly_fields = ["verified_at", "verified_by", "created_at", "licence", "letter"]
    inlines = [EmployerVerificationInline]
    actions = ["verify"]

    def get_readonly_fields(self, request, obj=None):
        """Shown only: the unit's administrators change its details (employer_update_details
        audits them, and a new name or credit code sends the unit back to verification), the
        verification is the action below, and ``placeholder`` (a 扫码签约 unit without an
        account) is what reviewers are told about the unit."""
        return read_only_names(self)

    def has_add_permission(self, request) -> bool:
        return False  # units sign up (employer_register) or come from 扫码签约

    @admin.display(description=_("business licence"))
    def licence(self, obj: Employer) -> str:
        return self._document_link(obj, obj.business_licence, "licence")

    @admin.display(description=_("authorisation letter"))
    def letter(self, obj: Employer) -> str:
        return self._document_link(obj, obj.authorisation_letter, "authorisation")

    @staticmethod
    def _document_link(obj: Employer, field, which: str) -> str:
        """Through the permission-checked view, never the storage URL."""
        if not field:
            return "—"
        url = reverse("employers:document", args=[obj.pk, which])
        return format_html('<a href="{}" target="_blank" rel="noopener">{}</a>', url, _("Open"))

    @admin.action(description=_("Verify the selected employers for all schools"))
    def verify(self, request, queryset):
        """Through the same service as the review page: audited, the unit notified, and refused
        for a unit without its documents or already verified platform-wide."""
        verified, refused = 0, []
        for employer in queryset:
            done = attempt(
                partial(
                    services.employer_verify,
                    employer=employer,
                    by=request.user,
                    note=str(_("Verified in the admin.")),
                ),
                catch=PermissionDenied,
            )
            if done:
                verified += 1
            else:
                refused.append(f"{employer.name}: {done.message}")
        if verified:
            self.message_user(request, _("%d employers verified.") % verified, messages.SUCCESS)
        for line in refused:
            self.message_user(request, line, messages.WARNING)


class ReadOnlyAdmin(ShownNotEditedAdmin):
    """Seen, never changed here: keys are made and revoked by the unit's administrators (who
    are audited), and the call log is evidence."""

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(ApiToken)
class ApiTokenAdmin(ReadOnlyAdmin):
    list_display = ["name", "prefix", "employer", "scope", "created_by", "expires_at", "revoked_at"]
    list_select_related = ["employer", "created_by"]
    search_fields = ["name", "prefix", "employer__name"]
    exclude = ["digest"]


@admin.register(ApiCall)
class ApiCallAdmin(ReadOnlyAdmin):
    list_display = ["at", "token_name", "prefix", "method", "path", "status"]
    list_filter = ["status", "method"]
    search_fields = ["token_name", "prefix", "path"]
    date_hierarchy = "at"
