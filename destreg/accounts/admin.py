from django.contrib import admin, messages
from django.contrib.admin.actions import delete_selected as django_delete_selected
from django.contrib.admin.utils import unquote
from django.contrib.auth.admin import GroupAdmin as BaseGroupAdmin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import HttpResponseRedirect
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
from destreg.accounts.permissions import (
    can_deactivate_user,
    can_delete_user,
    can_manage_user,
    can_reset_second_factor,
    user_history,
)
from destreg.lib.permissions import Decision


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
    # delete_selected replaces the site's action of that name (see below).
    actions = ["delete_selected", "deactivate_users", "reset_second_factor"]
    readonly_fields = ["deletion"]

    # --- changes of access: saved and audited by services.user_save --------------------
    # The admin saves the row (save_model) and then its groups and permissions
    # (save_related), in one transaction; both run inside user_save, from save_related, so
    # that the audit row compares what was stored before with all of what is stored after.

    def save_model(self, request, obj, form, change) -> None:
        """Saved with the groups and permissions in ``save_related``."""

    def save_related(self, request, form, formsets, change) -> None:
        def save() -> None:
            super(UserAdmin, self).save_model(request, form.instance, form, change)
            super(UserAdmin, self).save_related(request, form, formsets, change)

        services.user_save(user=form.instance, actor=request.user, save=save, created=not change)

    @method_decorator(transaction.atomic)
    def user_change_password(self, request, id, form_url=""):
        """Django's password form; a password set (or password sign-in switched off) is
        audited in the same transaction, without the password."""
        response = super().user_change_password(request, id, form_url)
        if request.method == "POST" and isinstance(response, HttpResponseRedirect):
            user = self.get_object(request, unquote(id))
            if user is not None and not response.url.startswith(request.path):
                services.user_password_record(user=user, actor=request.user)
        return response

    # --- deleting only what has no history; deactivating the rest --------------------------

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if obj is None:
            return fieldsets
        return [*fieldsets, (_("Deletion"), {"fields": ["deletion"]})]

    def _may_delete(self, request, user: User) -> Decision:
        """``can_delete_user``, asked once per request and user (it runs a query for each
        kind of row that may point at the user)."""
        asked = request.__dict__.setdefault("_may_delete_user", {})
        if user.pk not in asked:
            asked[user.pk] = can_delete_user(request.user, user)
        return asked[user.pk]

    @admin.display(description=_("deletion"))
    def deletion(self, obj: User) -> str:
        history = user_history(obj)
        if not history:
            return str(_("Nothing points at this account yet: it may be deleted."))
        return str(
            _(
                "This account has history (%(history)s): it cannot be deleted, only "
                "deactivated, so that the records keep saying who did what."
            )
            % {"history": ", ".join(history)}
        )

    def has_change_permission(self, request, obj=None) -> bool:
        """A superuser's account (its password form too) only for superusers."""
        if obj is not None and not can_manage_user(request.user, obj):
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None) -> bool:
        if not super().has_delete_permission(request, obj):
            return False
        return obj is None or bool(self._may_delete(request, obj))

    def delete_view(self, request, object_id, extra_context=None):
        """An account with history is not deleted: the admin says why and what to do."""
        user = self.get_object(request, unquote(object_id))
        if user is not None and super().has_delete_permission(request, user):
            decision = self._may_delete(request, user)
            if not decision:
                self.message_user(request, decision.reason, messages.ERROR)
                return redirect("admin:accounts_user_change", user.pk)
        return super().delete_view(request, object_id, extra_context)

    def delete_model(self, request, obj) -> None:
        services.user_delete(user=obj, actor=request.user)

    @method_decorator(transaction.atomic)
    def delete_queryset(self, request, queryset) -> None:
        for user in queryset:
            services.user_delete(user=user, actor=request.user)

    @admin.action(permissions=["delete"], description=_("Delete selected %(verbose_name_plural)s"))
    def delete_selected(self, request, queryset):
        """Django's bulk delete, refused whole when a selected account has history."""
        refused = [
            decision.reason
            for decision in (self._may_delete(request, user) for user in queryset)
            if not decision
        ]
        if refused:
            self.message_user(
                request,
                _("Nothing was deleted. %(reasons)s") % {"reasons": " ".join(refused)},
                messages.ERROR,
            )
            return None
        return django_delete_selected(self, request, queryset)

    @admin.action(permissions=["change"], description=_("Deactivate selected users"))
    def deactivate_users(self, request, queryset):
        """Switch the selected accounts off (audited); the way out for accounts with history."""
        done = 0
        for user in queryset:
            if user.is_active and can_deactivate_user(request.user, user):
                services.user_deactivate(user=user, actor=request.user)
                done += 1
        self.message_user(
            request,
            ngettext(
                "%(count)d user deactivated.",
                "%(count)d users deactivated.",
                done,
            )
            % {"count": done},
            messages.SUCCESS if done else messages.WARNING,
        )

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


admin.site.unregister(Group)


@admin.register(Group)
class GroupAdmin(BaseGroupAdmin):
    """Groups are changed by superusers only: a group's permissions are those of each of its
    members, so whoever changes a group they are in would give themselves any permission
    (the user admin gives only permissions the giver holds; see services.user_save)."""

    def has_add_permission(self, request) -> bool:
        return request.user.is_superuser and super().has_add_permission(request)

    def has_change_permission(self, request, obj=None) -> bool:
        return request.user.is_superuser and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None) -> bool:
        return request.user.is_superuser and super().has_delete_permission(request, obj)

    # A change of a group's permissions is audited on each member's account
    # (services.group_save): saved in save_related, with the permissions, as users are.

    def save_model(self, request, obj, form, change) -> None:
        """Saved with the permissions in ``save_related``."""

    def save_related(self, request, form, formsets, change) -> None:
        def save() -> None:
            super(GroupAdmin, self).save_model(request, form.instance, form, change)
            super(GroupAdmin, self).save_related(request, form, formsets, change)

        services.group_save(group=form.instance, actor=request.user, save=save, created=not change)

    def delete_model(self, request, obj) -> None:
        services.group_delete(group=obj, actor=request.user)

    @method_decorator(transaction.atomic)
    def delete_queryset(self, request, queryset) -> None:
        for group in queryset:
            services.group_delete(group=group, actor=request.user)
