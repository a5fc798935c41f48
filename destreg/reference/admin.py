from django.contrib import admin

from destreg.reference.models import Code, College, Major, MinimumWage, Region, School


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


@admin.register(School)
class SchoolAdmin(admin.ModelAdmin):
    list_display = [
        "code",
        "name",
        "contact_name",
        "contact_phone",
        "invitation_validity_days",
        "reporting_cutoff",
    ]
    search_fields = ["code", "name"]
    inlines = [CollegeInline]


@admin.register(College)
class CollegeAdmin(admin.ModelAdmin):
    list_display = ["school", "code", "name"]
    list_filter = ["school"]
    search_fields = ["code", "name", "school__name"]


@admin.register(Major)
class MajorAdmin(admin.ModelAdmin):
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
