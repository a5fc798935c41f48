from django.apps import AppConfig
from django.db.models.signals import post_delete, post_save
from django.utils.translation import gettext_lazy as _


class ReferenceConfig(AppConfig):
    name = "destreg.reference"
    label = "reference"
    verbose_name = _("Schools and code tables")

    def ready(self) -> None:
        from destreg.reference import cache

        for model in cache.REFERENCE_MODELS:
            for signal in (post_save, post_delete):
                signal.connect(cache.forget, sender=model, dispatch_uid=f"forget-{model}")
