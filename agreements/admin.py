"""Read-only admin for platform staff. Invitations, agreements, terminations and
registrations are a graduate's destination: only the graduate (and, for its part, the unit)
creates or answers them and only reviewers decide them, through the services, which audit
and tell the graduate. The admin shows them; adding or editing one here would act in the
graduate's name without a trace (tests/test_no_coercion.py)."""

from django.contrib import admin

from agreements.models import Agreement, Invitation, Registration, Termination


class NoDeleteAdmin(admin.ModelAdmin):
    """View only. Deleting would orphan audit rows, queue rows and destination claims."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Invitation)
class InvitationAdmin(NoDeleteAdmin):
    list_display = ["id", "employer", "student", "position", "status", "deadline", "created_at"]
    list_filter = ["status"]
    search_fields = ["employer__name", "student__real_name", "position"]
    list_select_related = ["employer", "student"]
    raw_id_fields = ["employer", "student", "sent_by", "job_category"]
    readonly_fields = ["status"]


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
    list_display = ["id", "agreement", "requested_by", "status", "created_at"]
    list_filter = ["status", "requested_by"]
    raw_id_fields = ["agreement"]
    readonly_fields = ["status"]


@admin.register(Registration)
class RegistrationAdmin(NoDeleteAdmin):
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
    readonly_fields = ["status", "number"]
