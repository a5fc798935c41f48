from django import forms
from django.apps import apps
from django.contrib import admin
from django.core.files.uploadedfile import UploadedFile
from django.db.models import Model
from django.utils.translation import gettext_lazy as _

from destreg.audit.changes import record_event
from destreg.audit.models import AuditAction
from destreg.lib.uploads import rebuild_document, validate_seal_image
from destreg.reference.models import Code, College, Major, MinimumWage, Region, School
from destreg.reference.permissions import (
    can_change_school_seal,
    manages_every_school,
    schools_in_admin_of,
)
from destreg.reference.widgets import SealInput

# The statistics count graduates under their school, college and major (the registry records
# and the counters kept from them: students.DestinationTally, students.SchoolTally; see
# students/tallies.py), and the provincial pages add schools up by province. Moving a row
# under another parent once graduates are counted under it would leave the counters (and
# every report drawn from them) filed under the old one. For each reference model: the field
# that places it, and the counted models with their field pointing at it (named by label:
# the reference app imports no app).
COUNTED_BY: dict[type[Model], tuple[str, tuple[tuple[str, str], ...]]] = {
    School: (
        "province",
        (("students.RegistryRecord", "school"), ("students.SchoolTally", "school")),
    ),
    College: (
        "school",
        (("students.RegistryRecord", "college"), ("students.DestinationTally", "college")),
    ),
    Major: (
        "college",
        (("students.RegistryRecord", "major"), ("students.DestinationTally", "major")),
    ),
}
COUNTED_HELP = _(
    "Graduates are counted under this row, so this can no longer be changed here: the "
    "statistics would stay filed under the old one."
)


def counted_field(obj: Model | None) -> str | None:
    """The field of ``obj`` that must keep its value because graduates are counted under
    ``obj`` (COUNTED_BY); None for a new row, a row nobody counts under, or another model."""
    if obj is None or obj.pk is None or type(obj) not in COUNTED_BY:
        return None
    field, counted = COUNTED_BY[type(obj)]
    for label, lookup in counted:
        if apps.get_model(label)._default_manager.filter(**{lookup: obj.pk}).exists():
            return field
    return None


class CountedRowAdmin(admin.ModelAdmin):
    """A reference row's placing field (COUNTED_BY) is read-only, with the reason next to
    it, once graduates are counted under the row; new and unused rows stay editable."""

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        field = counted_field(obj)
        if field is not None and field not in fields:
            fields.append(field)
        return fields

    def get_form(self, request, obj=None, change=False, **kwargs):
        field = counted_field(obj)
        if field is not None:  # shown under the read-only value (form._meta.help_texts)
            kwargs["help_texts"] = {**kwargs.get("help_texts", {}), field: COUNTED_HELP}
        return super().get_form(request, obj, change, **kwargs)


@admin.register(Code)
class CodeAdmin(admin.ModelAdmin):
    list_display = ["table", "code", "name", "name_en", "parent", "active"]
    list_filter = ["table", "active"]
    search_fields = ["code", "name", "name_en"]
    list_editable = ["active"]
    raw_id_fields = ["parent"]


@admin.register(Region)
class RegionAdmin(admin.ModelAdmin):
    list_display = ["code", "full_name", "level"]
    list_filter = ["level"]
    search_fields = ["code", "name", "full_name"]
    raw_id_fields = ["parent"]


class CollegeInline(admin.TabularInline):
    model = College
    extra = 0


class SchoolForm(forms.ModelForm):
    class Meta:
        model = School
        fields = "__all__"  # noqa: DJ007 - the admin picks the fields (readonly ones too)
        widgets = {"seal": SealInput}

    def clean_seal(self):
        """What is stored is the seal re-encoded from its pixels (no EXIF, text chunks or
        trailing bytes), once it passed the seal checks."""
        seal = self.cleaned_data.get("seal")
        if isinstance(seal, UploadedFile):
            validate_seal_image(seal)
            return rebuild_document(seal)
        return seal


@admin.register(School)
class SchoolAdmin(CountedRowAdmin):
    """Platform admins manage every school; a school's own staff, when the platform lets them
    into the admin (staff status and the permission to change schools), see only their school
    and may change only its seal."""

    form = SchoolForm
    list_display = [
        "code",
        "name",
        "province",
        "contact_name",
        "contact_phone",
        "invitation_validity_days",
        "reporting_cutoff",
    ]
    search_fields = ["code", "name"]
    inlines = [CollegeInline]

    def save_model(self, request, obj, form, change) -> None:
        """A new or removed seal is audited: it goes on every agreement the school approves.
        (The admin runs this in the change's transaction.)"""
        super().save_model(request, obj, form, change)
        if "seal" in form.changed_data:
            record_event(
                obj,
                by=request.user,
                action=AuditAction.CHANGE_SEAL,
                changes={"seal": obj.seal.name or ""},
            )

    def get_queryset(self, request):
        return super().get_queryset(request).filter(pk__in=schools_in_admin_of(request.user))

    def has_add_permission(self, request) -> bool:
        return manages_every_school(request.user) and super().has_add_permission(request)

    def has_delete_permission(self, request, obj=None) -> bool:
        return manages_every_school(request.user) and super().has_delete_permission(request, obj)

    def has_change_permission(self, request, obj=None) -> bool:
        if obj is not None and not can_change_school_seal(request.user, obj):
            return False
        return super().has_change_permission(request, obj)

    def get_readonly_fields(self, request, obj=None):
        if manages_every_school(request.user):
            return super().get_readonly_fields(request, obj)
        return [field.name for field in School._meta.fields if field.name not in ("id", "seal")]

    def get_inlines(self, request, obj):
        return self.inlines if manages_every_school(request.user) else []


@admin.register(College)
class CollegeAdmin(CountedRowAdmin):
    list_display = ["school", "code", "name"]
    list_filter = ["school"]
    search_fields = ["code", "name", "school__name"]


@admin.register(Major)
class MajorAdmin(CountedRowAdmin):
    list_display = ["college", "code", "name", "education_level"]
    list_filter = ["college__school", "education_level"]
    search_fields = ["code", "name"]
    list_select_related = ["college", "education_level"]


@admin.register(MinimumWage)
class MinimumWageAdmin(admin.ModelAdmin):
    """Platform admins keep the figures: only confirmed ones, each with its source."""

    list_display = ["province", "monthly_amount", "effective_from", "source"]
    list_filter = ["province"]
    search_fields = ["province__name", "source"]
    raw_id_fields = ["province"]
