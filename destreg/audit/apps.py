from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AuditConfig(AppConfig):
    name = "destreg.audit"
    label = "audit"
    verbose_name = _("Audit log")

    def ready(self) -> None:
        from django_fsm.signals import pre_transition

        from destreg.audit.changes import refuse_transitions_outside_the_door

        pre_transition.connect(refuse_transitions_outside_the_door, dispatch_uid="the-door")
