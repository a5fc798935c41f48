"""Read-only admin for platform staff. Invitations, agreements, terminations and
registrations are a graduate's destination: only the graduate (and, for its part, the unit)
creates or answers them and only reviewers decide them, through the services, which audit
and tell the graduate. The admin shows them; adding or editing one here would act in the
graduate's name without a trace (tests/test_no_coercion.py)."""

from typing import cast

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from agreements.evidence import PROOF_FIELDS, RULE_FIELDS
from agreements.models import (
    Agreement,
    EvidenceRule,
    Invitation,
    Registration,
    Termination,
    UnitSigningRequest,
)
from agreements.retention import evidence_purge
from destreg.lib.admin import ShownNotEditedAdmin
from destreg.lib.permissions import error_text


class NoDeleteAdmin(ShownNotEditedAdmin):
    """View only: no field editable (ShownNotEditedAdmin). Deleting would orphan audit rows,
    queue rows and destination claims, and remove proofs the school must keep
    (agreements/retention.py)."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.action(description=_("Remove proof files past the retention period"))
def purge_evidence(modeladmin, request, queryset):
    """The proofs of the chosen items, each refused until three years after graduation."""
    today = timezone.localdate()
    removed = kept = 0
    for item in queryset:
        try:
            removed += len(evidence_purge(item=item, by=request.user, today=today))
        except (PermissionDenied, ValidationError) as error:
            kept += 1
            modeladmin.message_user(request, f"{item}: {error_text(error)}", messages.ERROR)
    modeladmin.message_user(
        request,
        _("%(removed)d files removed; %(kept)d items kept.") % {"removed": removed, "kept": kept},
        messages.SUCCESS if not kept else messages.WARNING,
    )


@admin.register(Invitation)
class InvitationAdmin(NoDeleteAdmin):
    list_display = ["id", "employer", "student", "position", "status", "deadline", "created_at"]
    list_filter = ["status"]
    search_fields = ["employer__name", "student__real_name", "position"]
    list_select_related = ["employer", "student"]
    raw_id_fields = ["employer", "student", "sent_by", "job_category"]
    readonly_fields = ["status"]


@admin.register(UnitSigningRequest)
class UnitSigningRequestAdmin(NoDeleteAdmin):
    """扫码签约 requests, for support: who asked which unit, and what became of it."""

    list_display = ["id", "student", "unit_name", "unit_uscc", "status", "expires_at"]
    list_filter = ["status"]
    search_fields = ["unit_name", "unit_uscc", "student__real_name"]
    list_select_related = ["student"]
    exclude = ["token_digest"]
    raw_id_fields = ["student", "invitation"]


@admin.register(Agreement)
class AgreementAdmin(NoDeleteAdmin):
    list_display = ["number", "employer", "student", "school", "college", "status", "signed_at"]
    list_filter = ["status", "school"]
    search_fields = ["number", "employer__name", "student__real_name"]
    list_select_related = ["employer", "student", "school", "college"]
    raw_id_fields = ["invitation", "employer", "student", "school", "college", "job_category"]
    readonly_fields = ["status", "number", "pdf_sha256", "content_sha256"]


@admin.register(Termination)
class TerminationAdmin(NoDeleteAdmin):
    actions = [purge_evidence]
    list_display = ["id", "agreement", "requested_by", "status", "created_at"]
    list_filter = ["status", "requested_by"]
    raw_id_fields = ["agreement"]
    readonly_fields = ["status"]


@admin.register(Registration)
class RegistrationAdmin(NoDeleteAdmin):
    actions = [purge_evidence]
    list_display = [
        "id",
        "path",
        "student",
        "school",
        "college",
        "destination",
        "status",
        "submitted_at",
    ]
    list_filter = ["path", "status", "school"]
    search_fields = ["student__real_name", "unit_name", "org_name", "number"]
    list_select_related = ["student", "school", "college", "destination"]
    raw_id_fields = [
        "student",
        "school",
        "college",
        "destination",
        "unit_nature",
        "unit_industry",
        "unit_region",
        "job_category",
    ]
    readonly_fields = ["status", "number", "country_legacy"]


def _choices(names: tuple[str, ...]) -> list[tuple[str, str]]:
    fields = {name: cast(models.Field, Registration._meta.get_field(name)) for name in names}
    return [(name, f"{field.verbose_name} ({name})") for name, field in fields.items()]


class EvidenceRuleForm(forms.ModelForm):
    """The lists as check boxes: only names the forms and services know can be chosen."""

    required_fields = forms.MultipleChoiceField(
        label=_("required fields"),
        choices=_choices(RULE_FIELDS),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    required_proofs = forms.MultipleChoiceField(
        label=_("required proof documents"),
        choices=_choices(PROOF_FIELDS),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    one_of = forms.MultipleChoiceField(
        label=_("at least one of"),
        choices=_choices(RULE_FIELDS + PROOF_FIELDS),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    def clean_required_with(self):
        # JSON ``null`` is "nothing required together", not a row the database refuses.
        value = self.cleaned_data.get("required_with")
        return {} if value is None else value

    class Meta:
        model = EvidenceRule
        fields = [
            "destination",
            "required_fields",
            "required_proofs",
            "one_of",
            "required_with",
            "check_minimum_wage",
            "source",
        ]


@admin.register(EvidenceRule)
class EvidenceRuleAdmin(admin.ModelAdmin):
    """Platform admins edit what each destination needs; the forms and services read it."""

    form = EvidenceRuleForm
    list_display = [
        "code",
        "destination",
        "required_fields",
        "required_proofs",
        "check_minimum_wage",
    ]
    list_display_links = ["code", "destination"]
    list_select_related = ["destination"]
    raw_id_fields = ["destination"]
    search_fields = ["destination__code", "destination__name", "source"]

    @admin.display(description=_("code"), ordering="destination__code")
    def code(self, rule: EvidenceRule) -> str:
        return rule.destination.code
