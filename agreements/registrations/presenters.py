"""Page data of a registration, shared by the student's pages and the reviewers' (``reviews``)."""

from agreements.models import Registration
from agreements.registrations.change_presenters import change_context
from agreements.registrations.forms import ScanForm
from agreements.registrations.permissions import (
    can_discard_registration,
    can_edit_registration,
    can_print_e_agreement,
    can_upload_scan,
    can_withdraw_registration,
)
from destreg.accounts.models import User
from destreg.audit.models import AuditEvent


def registration_context(user: User, item: Registration) -> dict:
    """What every page showing a registration needs (the student's and the reviewers')."""
    return change_context(user, item) | {
        "item": item,
        "events": AuditEvent.objects.timeline(item),
        "can_edit": can_edit_registration(user, item),
        "can_upload_scan": can_upload_scan(user, item),
        "can_print": can_print_e_agreement(user, item),
        "can_withdraw": can_withdraw_registration(user, item),
        "can_discard": can_discard_registration(user, item),
        "scan_form": ScanForm(),
        "return_link": item.return_links.order_by("-created_at").first(),
    }
