"""The default admin site, open only to sessions that passed their second factor."""

from django.contrib import admin
from django.contrib.admin.apps import AdminConfig


class VerifiedAdminConfig(AdminConfig):
    """django.contrib.admin (in INSTALLED_APPS) with the site below as its default site."""

    default_site = "destreg.accounts.admin_site.VerifiedAdminSite"


class VerifiedAdminSite(admin.AdminSite):
    """Like django-otp's ``OTPAdminSite``, but for the site every app registers with:
    staff who still owe a second factor count as not staff. SecondFactorMiddleware sends
    them to the code page first; this holds even for an admin URL that slips past it."""

    def has_permission(self, request) -> bool:
        # Imported here: this module is loaded with INSTALLED_APPS, before the models.
        from destreg.accounts.middleware import verification_pending

        if not super().has_permission(request):
            return False
        if not hasattr(request.user, "is_verified"):  # no OTPMiddleware: trust nobody
            return False
        return not verification_pending(request)
