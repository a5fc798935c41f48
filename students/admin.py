from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.utils.translation import gettext_lazy as _

from destreg.lib.actions import attempt
from destreg.lib.admin import ShownNotEditedAdmin, read_only_names
from students.conflicts import conflict_resolve
from students.forms import AdminRegistryImportForm
from students.import_jobs import import_job_start
from students.models import (
    RegistryConflict,
    RegistryImportJob,
    RegistryRecord,
    RegistryRequest,
    Student,
)
from students.tallies import record_delete, record_save


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
        "mobile_masked",
        "email_masked",
    ]
    list_filter = ["graduation_year", "school", "education_level", "gender"]
    search_fields = ["student_no", "name"]
    list_select_related = ["school", "college", "major", "education_level"]
    raw_id_fields = ["college", "major", "origin_region"]
    # The school's contacts are shown masked, never in clear, and so not editable here.
    exclude = ["mobile", "email"]
    readonly_fields = ["id_number_masked", "mobile_masked", "email_masked"]
    change_list_template = "admin/students/registryrecord/change_list.html"

    def get_readonly_fields(self, request, obj=None):
        """A graduate's record (bound to an account) changes through the school's re-import,
        whose identity changes a reviewer applies, or the graduate's 信息更新 request: here it
        is only shown. Any record keeps its school and student number, the import's key."""
        if obj is None:
            return self.readonly_fields
        if Student.objects.filter(record_id=obj.pk).exists():
            return read_only_names(self)
        return [*self.readonly_fields, "school", "student_no"]

    # An edit or a delete here moves the record between the destination tallies.
    def save_model(self, request, obj, form, change):
        with transaction.atomic():
            record_save(obj)

    def delete_model(self, request, obj):
        with transaction.atomic():
            record_delete(RegistryRecord.objects.filter(pk=obj.pk))

    def delete_queryset(self, request, queryset):
        with transaction.atomic():
            record_delete(queryset)

    @admin.display(description=_("mobile"))
    def mobile_masked(self, obj: RegistryRecord) -> str:
        return obj.mobile_masked

    @admin.display(description=_("e-mail"))
    def email_masked(self, obj: RegistryRecord) -> str:
        return obj.email_masked

    def get_urls(self):
        return [
            path(
                "import/",
                self.admin_site.admin_view(self.import_view),
                name="students_registryrecord_import",
            ),
            path(
                "import/<int:pk>/",
                self.admin_site.admin_view(self.import_job_view),
                name="students_registryrecord_import_job",
            ),
            *super().get_urls(),
        ]

    def import_view(self, request):
        """学籍 import for platform admins: pick the school, upload CSV or XLSX; it runs in
        the background and its page shows the progress."""
        form = AdminRegistryImportForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            started = attempt(
                lambda: import_job_start(
                    school=form.cleaned_data["school"],
                    user=request.user,
                    upload=form.cleaned_data["file"],
                    valid_only=form.cleaned_data["valid_only"],
                ),
                form=form,
                field="file",
                catch=ValidationError,
            )
            if started.value is not None:
                return redirect("admin:students_registryrecord_import_job", pk=started.value.pk)
        context = {
            **self.admin_site.each_context(request),
            "form": form,
            "opts": self.model._meta,
            "title": _("Import registry records"),
        }
        return render(request, "admin/students/registryrecord/import.html", context)

    def import_job_view(self, request, pk: int):
        """An admin-started (or any) import's progress, outcome and row problems."""
        job = get_object_or_404(RegistryImportJob.objects.select_related("school"), pk=pk)
        context = {
            **self.admin_site.each_context(request),
            "job": job,
            "opts": self.model._meta,
            "title": _("Import registry records"),
        }
        return render(request, "admin/students/registryrecord/import_job.html", context)


@admin.register(Student)
class StudentAdmin(ShownNotEditedAdmin):
    list_display = ["real_name", "user", "record", "confirmed_at", "confirmed_via"]
    search_fields = ["real_name", "user__username"]
    list_select_related = ["user", "record"]
    # Binding goes through the first-login check and unlinking through the record page
    # (students.services), which audit it; the admin only shows it. Nor may it give the
    # profile (and with it the graduate's destination) to another account, rename the
    # graduate or change the mobile unaudited (student_update_contact).
    readonly_fields = ["user", "id_number_masked", "record", "confirmed_at", "confirmed_via"]

    def has_add_permission(self, request) -> bool:
        return False  # accounts are made by signing up (students.services.student_register)

    def has_delete_permission(self, request, obj=None) -> bool:
        # It would free the graduate's record unaudited (registry_unbind checks and audits)
        # and drop their registry requests under the review queue's rows.
        return False


@admin.register(RegistryRequest)
class RegistryRequestAdmin(ShownNotEditedAdmin):
    """信息导入 / 信息更新 requests, shown only: the graduate files them and the school decides
    them through students.services, which audit them and keep the review queue in step."""

    list_display = ["id", "kind", "student", "school", "status", "created_at"]
    list_filter = ["kind", "status", "school"]
    list_select_related = ["student", "school"]
    readonly_fields = ["status"]
    raw_id_fields = ["student", "reviewed_by"]

    def has_add_permission(self, request) -> bool:
        return False  # registry_request_submit, in the graduate's name

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # its review-queue row and audit trail would be left behind


class ResolveConflictForm(forms.Form):
    note = forms.CharField(
        label=_("What was checked and done"), widget=forms.Textarea, max_length=2000
    )


class ConflictStatusFilter(admin.SimpleListFilter):
    title = _("status")
    parameter_name = "status"

    def lookups(self, request, model_admin):
        return [("open", _("Not resolved yet")), ("resolved", _("Resolved"))]

    def queryset(self, request, queryset):
        if self.value() == "open":
            return queryset.filter(resolved_at__isnull=True)
        if self.value() == "resolved":
            return queryset.filter(resolved_at__isnull=False)
        return queryset


@admin.register(RegistryConflict)
class RegistryConflictAdmin(admin.ModelAdmin):
    """Cross-school conflicts (students/conflicts.py): read-only but for "resolve"."""

    list_display = [
        "id",
        "graduation_year",
        "holding_school",
        "holding_student_no",
        "bound_now",
        "claiming_school",
        "claimed_by",
        "source",
        "created_at",
        "resolved_at",
    ]
    list_filter = [
        ConflictStatusFilter,
        "graduation_year",
        "source",
        "holding_school",
        "claiming_school",
    ]
    list_select_related = ["holding_school", "claiming_school", "claimed_by"]
    search_fields = ["holding_student_no", "filename"]
    change_form_template = "admin/students/registryconflict/change_form.html"

    def get_readonly_fields(self, request, obj=None):
        return [field.name for field in self.model._meta.fields] + ["bound_now"]

    def has_change_permission(self, request, obj=None) -> bool:
        return False  # shown read-only; "resolve" is its own page (conflict_resolve)

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    @admin.display(description=_("record linked to an account now"), boolean=True)
    def bound_now(self, obj: RegistryConflict) -> bool:
        return (
            obj.record_id is not None and Student.objects.filter(record_id=obj.record_id).exists()
        )

    def get_urls(self):
        return [
            path(
                "<int:pk>/resolve/",
                self.admin_site.admin_view(self.resolve_view),
                name="students_registryconflict_resolve",
            ),
            *super().get_urls(),
        ]

    def resolve_view(self, request, pk: int):
        conflict = get_object_or_404(
            RegistryConflict.objects.select_related("holding_school", "claiming_school"), pk=pk
        )
        if not request.user.is_platform_admin:
            raise PermissionDenied
        form = ResolveConflictForm(request.POST or None)
        if (
            request.method == "POST"
            and form.is_valid()
            and attempt(
                lambda: conflict_resolve(
                    conflict=conflict, admin=request.user, note=form.cleaned_data["note"]
                ),
                form=form,
                field="note",
                catch=ValidationError,
            )
        ):
            self.message_user(request, _("Resolved; the record can be confirmed again."))
            return redirect("admin:students_registryconflict_change", conflict.pk)
        context = {
            **self.admin_site.each_context(request),
            "form": form,
            "conflict": conflict,
            "holder": Student.objects.filter(record_id=conflict.record_id)
            .select_related("user")
            .first()
            if conflict.record_id
            else None,
            "opts": self.model._meta,
            "title": _("Resolve a registry conflict"),
        }
        return render(request, "admin/students/registryconflict/resolve.html", context)


from students import sso_admin  # noqa: E402, F401  # registers SchoolSignOnAdmin
