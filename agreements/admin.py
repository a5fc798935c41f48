"""Read-mostly admin for platform staff. States change only through the services, so the
status fields are read-only here."""

from django.contrib import admin

from agreements.models import Agreement, Invitation, Registration, Termination


class NoDeleteAdmin(admin.ModelAdmin):
    """Deleting would orphan audit rows, queue rows and destination claims."""

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
    readonly_fields = ["status", "number", "country_legacy"]
