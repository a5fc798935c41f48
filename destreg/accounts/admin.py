from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path
from django.utils.decorators import method_decorator
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods
from django_otp import devices_for_user

from destreg.accounts import services
from destreg.accounts.models import User
from destreg.accounts.permissions import can_reset_second_factor


def _device_names(user: User) -> str:
    devices = devices_for_user(user, confirmed=None)
    names = [f"{device.name or type(device)._meta.verbose_name}" for device in devices]
    return ", ".join(names) or str(_("none"))


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    list_display = [
        "username",
        "display_name",
        "role",
        "school",
        "college",
        "employer",
        "is_active",
    ]
    list_filter = ["role", "school", "is_active", "is_staff"]
    search_fields = ["username", "display_name", "email"]
    list_select_related = ["school", "college", "employer"]
    raw_id_fields = ["employer"]
    fieldsets = [
        *(BaseUserAdmin.fieldsets or ()),
        (
            _("Role and scope"),
            {"fields": ["role", "display_name", "school", "college", "employer", "province"]},
        ),
    ]
    add_fieldsets = [
        *BaseUserAdmin.add_fieldsets,
        (
            _("Role and scope"),
            {"fields": ["role", "display_name", "school", "college", "employer", "province"]},
        ),
    ]
    actions = ["reset_second_factor"]

    def get_urls(self):
        return [
            path(
                "<path:object_id>/reset-second-factor/",
                self.admin_site.admin_view(self.reset_second_factor_view),
                name="accounts_user_reset_second_factor",
            ),
            *super().get_urls(),
        ]

    @admin.action(description=_("Reset second factor"))
    def reset_second_factor(self, request, queryset):
        """The change list's action: reset each selected user's second factor."""
        done = 0
        for user in queryset:
            if can_reset_second_factor(request.user, user):
                services.second_factor_reset(user=user, actor=request.user)
                done += 1
        self.message_user(
            request,
            ngettext(
                "Second factor reset for %(count)d user.",
                "Second factor reset for %(count)d users.",
                done,
            )
            % {"count": done},
            messages.SUCCESS if done else messages.WARNING,
        )

    @method_decorator(require_http_methods(["GET", "POST"]))
    def reset_second_factor_view(self, request, object_id):
        """The user change page's button: confirm, then reset (audited, e-mailed)."""
        user = get_object_or_404(User, pk=object_id)
        decision = can_reset_second_factor(request.user, user)
        if not decision:
            raise PermissionDenied(decision.reason)
        if request.method == "POST":
            comment = request.POST.get("comment", "").strip()[:200]
            services.second_factor_reset(user=user, actor=request.user, comment=comment)
            self.message_user(
                request,
                _(
                    "The second factor of %(name)s is reset; they set it up again when they "
                    "next sign in."
                )
                % {"name": user},
                messages.SUCCESS,
            )
            return redirect("admin:accounts_user_change", user.pk)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "original": user,
            "devices": _device_names(user),
            "title": _("Reset second factor"),
        }
        return TemplateResponse(request, "admin/accounts/user/reset_second_factor.html", context)
