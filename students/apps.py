from django.apps import AppConfig
from django.db.models.signals import post_delete, post_save
from django.utils.translation import gettext_lazy as _


class StudentsConfig(AppConfig):
    name = "students"
    verbose_name = _("Students and registry")

    def ready(self) -> None:
        from students.home import forget_saved

        # A confirmed graduate's home page is cached (students/home.py).
        for name in ("Student", "RegistryRecord", "RegistryRequest"):
            model = self.get_model(name)
            for signal in (post_save, post_delete):
                signal.connect(forget_saved, sender=model, dispatch_uid=f"forget-home-{name}")
