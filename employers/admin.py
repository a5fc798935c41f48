from django.contrib import admin, messages
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from employers.models import Employer


@admin.register(Employer)
class EmployerAdmin(admin.ModelAdmin):
    list_display = ["name", "uscc", "nature", "industry", "contact_name", "verified_at"]
    list_filter = [("verified_at", admin.EmptyFieldListFilter), "nature", "industry"]
    search_fields = ["name", "uscc", "contact_name"]
    list_select_related = ["nature", "industry"]
    raw_id_fields = ["region"]
    readonly_fields = ["verified_at", "verified_by", "created_at"]
    actions = ["verify"]

    @admin.action(description=_("Verify the selected employers"))
    def verify(self, request, queryset):
        count = queryset.filter(verified_at__isnull=True).update(
            verified_at=timezone.now(), verified_by=request.user
        )
        self.message_user(request, _("%d employers verified.") % count, messages.SUCCESS)
