"""Page data of a registration, shared by the student's pages and the reviewers' (``reviews``),
and the graduate's open registrations (their home page)."""

from types import SimpleNamespace
from typing import Any

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from agreements.evidence import registration_wage
from agreements.models import Registration, Termination
from agreements.online.presenters import SIGNED, ShownStatus
from agreements.registrations import permissions
from agreements.registrations.change_presenters import change_context
from agreements.registrations.forms import ScanForm
from agreements.registrations.models import AWAITING_SCAN
from agreements.registrations.permissions import (
    can_answer_registration_termination,
    can_discard_registration,
    can_edit_registration,
    can_print_e_agreement,
    can_upload_scan,
    can_withdraw_registration,
)
from destreg.accounts.models import User
from destreg.audit.models import AuditEvent
from destreg.lib.permissions import Decision
from students import home
from students.home import OpenItem
from students.models import Student


def registration_status(item: Registration) -> ShownStatus:
    """An approved offline e-agreement or paper agreement is 签约成功, worded and coloured
    as an online one; an approved other destination stays approved (no agreement)."""
    if item.status == Registration.Status.APPROVED and item.path != Registration.Path.OTHER:
        return SIGNED
    return ShownStatus(item.status, item.get_status_display())


def registration_context(user: User, item: Registration) -> dict:
    """What every page showing a registration needs (the student's and the reviewers')."""
    return change_context(user, item) | {
        "item": item,
        "shown": registration_status(item),
        "events": AuditEvent.objects.timeline(item),
        "can_edit": can_edit_registration(user, item),
        "can_upload_scan": can_upload_scan(user, item),
        "can_print": can_print_e_agreement(user, item),
        "can_withdraw": can_withdraw_registration(user, item),
        "can_discard": can_discard_registration(user, item),
        "scan_form": ScanForm(),
        "return_link": item.return_links.order_by("-created_at").first(),
        "wage": registration_wage(item, timezone.localdate()),
    }


def registration_unit(item: Registration) -> SimpleNamespace:
    """单位信息 in the shape agreements/includes/unit.html reads (an employer's)."""
    return SimpleNamespace(
        name=item.unit_name,
        uscc=item.unit_uscc,
        nature=item.unit_nature,
        industry=item.unit_industry,
        region=item.unit_region,
        address=item.unit_address,
        contact_name=item.contact_name,
        contact_phone=item.contact_phone,
        contact_mobile=item.contact_mobile,
        contact_email=item.contact_email,
    )


def registration_preview(item: Registration) -> dict[str, Any]:
    """协议书预览 (agreements/includes/preview.html): the offline e-agreement's terms, or the
    paper agreement's form, number and date."""
    return {
        "number": item.number,
        "student": item.student,
        "unit_name": item.unit_name,
        "unit_uscc": item.unit_uscc,
        "school": item.school,
        "terms": item if item.is_offline else None,
        "paper": item if item.path == Registration.Path.PAPER else None,
    }


def _termination_decision(user: User, item: Registration) -> Decision | None:
    """申请解约 of an offline or paper agreement: asked of its permission function once the
    termination module provides it; until then nothing is offered."""
    may = getattr(permissions, "can_request_registration_termination", None)
    return may(user, item) if may is not None else None


def signing_context(user: User, item: Registration) -> dict:
    """我的签约 of an offline e-agreement or a paper agreement: the sections an online
    agreement's page has (preview, unit, student, download, verification, termination)."""
    can_print = can_print_e_agreement(user, item)
    has_pdf = bool(can_print and item.pdf)
    return {
        "item": item,
        "shown": registration_status(item),
        "preview": registration_preview(item),
        "unit": registration_unit(item),
        "record": item.student.record,
        "show_full_id": user.is_student,
        "download_url": reverse("agreements:registration_pdf", args=[item.pk]) if can_print else "",
        # The public page behind the e-agreement's QR code exists once its PDF does.
        "verify_url": reverse("agreements:verify", args=[item.verify_token]) if has_pdf else "",
        "can_terminate": _termination_decision(user, item),
    }


# --- the graduate's home page (students/home.py) ------------------------------


def student_open_items(student: Student) -> list[OpenItem]:
    """Registrations (paths 二, 三, 四) on the graduate's home page: sent back (退回修改) with
    the reviewer's comment, an offline e-agreement waiting for its stamped scan, a draft
    never submitted, a termination the unit asked for, and what is under review (a
    registration, a termination, a void request). Registered in AgreementsConfig.ready; the
    door forgets the home page when any of them changes (destreg/invalidation.py)."""
    user = student.user
    in_progress = [
        Registration.Status.DRAFT,
        Registration.Status.RETURNED,
        *AWAITING_SCAN,
        *Registration.REVIEW.statuses(),
    ]
    items = []
    for item in student.registrations.filter(status__in=in_progress):
        shown: dict[str, Any] = {
            "label": Registration.Path(item.path).label,
            "subject": item.unit_name or item.org_name or item.institution,
            "url": item.get_absolute_url(),
            "since": item.submitted_at or item.created_at,
        }
        edit = reverse("agreements:registration_edit", args=[item.pk])
        comment: dict[str, Any] = {"note": item.comment, "note_label": _("Reviewer's comment")}
        if item.sent_back and can_edit_registration(user, item):
            items.append(
                OpenItem(
                    rank=home.FIX,
                    title=_("Returned for changes"),
                    action=_("Edit and submit again"),
                    **shown | {"url": edit} | comment,
                )
            )
        elif item.sent_back:
            items.append(
                OpenItem(
                    rank=home.FIX,
                    title=_("Stamped agreement returned"),
                    action=_("Return the stamped agreement again"),
                    **shown | comment,
                )
            )
        elif can_upload_scan(user, item):
            items.append(
                OpenItem(
                    rank=home.RETURN_SCAN,
                    title=_("Waiting for the stamped agreement"),
                    action=_("Return the stamped agreement"),
                    hint=_(
                        "Print the agreement, have the unit stamp it, then send the scan back: "
                        "本人回传协议书, or 用人单位协助回传协议书 through a link for the unit."
                    ),
                    **shown,
                )
            )
        elif can_edit_registration(user, item):
            items.append(
                OpenItem(
                    rank=home.FINISH,
                    title=_("Draft not submitted yet"),
                    action=_("Continue"),
                    **shown | {"url": edit},
                )
            )
        else:
            items.append(
                OpenItem(
                    rank=home.WAITING,
                    title=Registration.Status(item.status).label,
                    **shown,
                )
            )
    terminations = Termination.objects.filter(
        registration__student=student, status__in=Termination.OPEN
    ).select_related("registration")
    for termination in terminations:
        registration: Registration = termination.registration  # type: ignore[assignment]
        title = _("Void request") if termination.is_void_request else _("Termination request")
        shown = {
            "subject": (
                registration.unit_name or registration.org_name or registration.institution
            ),
            "url": termination.get_absolute_url(),
            "since": termination.created_at,
        }
        if can_answer_registration_termination(user, termination):
            items.append(
                OpenItem(
                    rank=home.ANSWER,
                    title=_("Termination request to answer"),
                    note=termination.reason,
                    note_label=_("Reason for terminating"),
                    action=_("Answer"),
                    **shown,
                )
            )
        else:
            items.append(
                OpenItem(
                    rank=home.WAITING,
                    title=title,
                    label=Termination.Status(termination.status).label,
                    **shown,
                )
            )
    return items
