from django.apps import AppConfig, apps
from django.db.models.signals import post_delete, post_save
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "destreg.accounts"
    label = "accounts"
    verbose_name = _("Accounts")

    def ready(self) -> None:
        from destreg.accounts import (
            checks,  # noqa: F401 (registers the deployment checks)
            throttling,  # noqa: F401 (counts failed sign-ins per client)
        )
        from destreg.accounts.backends import forget_saved_user
        from destreg.accounts.middleware import forget_authenticator

        # The signed-in user is cached with their student profile (backends.py).
        for model in (self.get_model("User"), apps.get_model("students", "Student")):
            for signal in (post_save, post_delete):
                signal.connect(forget_saved_user, sender=model, dispatch_uid=f"forget-{model}")
        # Whether a user has an authenticator is cached for the second-factor check.
        device = apps.get_model("otp_totp", "TOTPDevice")
        for signal in (post_save, post_delete):
            signal.connect(forget_authenticator, sender=device, dispatch_uid="forget-authenticator")
