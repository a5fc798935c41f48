from django.contrib import admin, messages
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext_lazy as _

from students.forms import AdminRegistryImportForm
from students.importing import registry_import
from students.models import RegistryRecord, RegistryRequest, Student


@admin.register(RegistryRecord)
class RegistryRecordAdmin(admin.ModelAdmin):
    list_display = [
        "student_no",
        "name",
        "school",
        "college",
        "major",
        "education_level",
        "graduation_year",
    ]
    list_filter = ["graduation_year", "school", "education_level", "gender"]
    search_fields = ["student_no", "name"]
    list_select_related = ["school", "college", "major", "education_level"]
    raw_id_fields = ["college", "major", "origin_region"]
    readonly_fields = ["id_number_masked"]
    change_list_template = "admin/students/registryrecord/change_list.html"

    def get_urls(self):
        return [
            path(
                "import/",
                self.admin_site.admin_view(self.import_view),
                name="students_registryrecord_import",
            ),
            *super().get_urls(),
        ]

    def import_view(self, request):
        """学籍 import for platform admins: pick the school, upload CSV or XLSX."""
        form = AdminRegistryImportForm(request.POST or None, request.FILES or None)
        report = None
        if request.method == "POST" and form.is_valid():
            upload = form.cleaned_data["file"]
            report = registry_import(
                school=form.cleaned_data["school"],
                handle=upload,
                filename=upload.name,
                actor=request.user,
                valid_only=form.cleaned_data["valid_only"],
            )
            if report.imported:
                self.message_user(
                    request, _("%d records imported.") % report.imported, messages.SUCCESS
                )
                if not report.errors:
                    return redirect("admin:students_registryrecord_changelist")
        context = {
            **self.admin_site.each_context(request),
            "form": form,
            "report": report,
            "opts": self.model._meta,
            "title": _("Import registry records"),
        }
        return render(request, "admin/students/registryrecord/import.html", context)


@admin.register(Student)
class StudentAdmin(admin.ModelAdmin):
    list_display = ["real_name", "user", "record", "confirmed_at"]
    search_fields = ["real_name", "user__username"]
    list_select_related = ["user", "record"]
    raw_id_fields = ["user", "record"]
    readonly_fields = ["id_number_masked"]


@admin.register(RegistryRequest)
class RegistryRequestAdmin(admin.ModelAdmin):
    list_display = ["id", "kind", "student", "school", "status", "created_at"]
    list_filter = ["kind", "status", "school"]
    list_select_related = ["student", "school"]
    readonly_fields = ["status"]
    raw_id_fields = ["student", "reviewed_by"]


from students import sso_admin  # noqa: E402, F401  # registers SchoolSignOnAdmin
