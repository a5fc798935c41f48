from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AgreementsConfig(AppConfig):
    name = "agreements"
    verbose_name = _("Agreements")

    def ready(self) -> None:
        from agreements import checks  # noqa: F401 (registers the system checks)
        from agreements.online.presenters import student_open_items as online_items
        from agreements.registrations.presenters import student_open_items as registration_items
        from agreements.scansign.handover import hand_over_on_verify
        from agreements.webhooks.events import on_recorded
        from destreg.audit.signals import recorded
        from students.home import register_open_items

        recorded.connect(on_recorded, dispatch_uid="agreements.webhooks")
        # A unit verified later takes over what it signed through 扫码签约.
        recorded.connect(hand_over_on_verify, dispatch_uid="scansign_hand_over")

        # students may not import agreements (pyproject.toml): its home page asks us instead.
        register_open_items(online_items)
        register_open_items(registration_items)
