from django.apps import AppConfig
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
