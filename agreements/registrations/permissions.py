"""Who may do what with registrations of paths 二, 三, 四 (state first, then role)."""

from django.utils.translation import gettext as _

from agreements.models import Registration
from agreements.permissions import (
    is_student_of,
)
from agreements.registrations.models import (
    AWAITING_SCAN,
    BEFORE_INFORMATION_APPROVAL,
    WITHDRAWABLE,
)
from destreg.audit.stages import can_decide
from destreg.lib.permissions import ALLOW, Decision, deny, load_for

# --- registrations (paths 二, 三, 四) ----------------------------------------


def can_view_registration(user, registration: Registration) -> Decision:
    if user.is_authenticated and is_student_of(user, registration.student_id):
        return ALLOW
    if registration.status == Registration.Status.DRAFT:
        return deny(_("Not found."), visible=False)  # a draft is the student's alone
    if user.is_authenticated and (
        user.is_platform_admin
        or (user.is_school_reviewer and user.school_id == registration.school_id)
        or (user.is_college_reviewer and user.college_id == registration.college_id)
    ):
        return ALLOW
    return deny(_("Not found."), visible=False)


def can_edit_registration(user, registration: Registration) -> Decision:
    if not is_student_of(user, registration.student_id):
        return deny(_("Only the student edits their registration."), visible=False)
    if not registration.editable:
        return deny(_("This registration is under review or decided; it cannot be edited."))
    return ALLOW


def can_review_registration(user, registration: Registration) -> Decision:
    seen = can_view_registration(user, registration)
    if not seen:
        return seen
    return can_decide(user, registration, Registration.REVIEW)


def can_discard_registration(user, registration: Registration) -> Decision:
    """取消 a draft: only the student's own, only while nothing was submitted."""
    if not is_student_of(user, registration.student_id):
        return deny(_("Only the student edits their registration."), visible=False)
    if registration.status != Registration.Status.DRAFT:
        return deny(_("Only a draft can be discarded."))
    return ALLOW


def can_withdraw_registration(user, registration: Registration) -> Decision:
    """撤回: the student gives up a returned application, or one waiting for its stamp, to
    take another path."""
    if not is_student_of(user, registration.student_id):
        return deny(_("Only the student withdraws their registration."), visible=False)
    if registration.status not in WITHDRAWABLE:
        return deny(
            _("Only a returned application, or one waiting for its stamp, can be withdrawn.")
        )
    return ALLOW


def can_print_e_agreement(user, registration: Registration) -> Decision:
    """The offline e-agreement, to print and stamp, once its information review passed (for
    whoever may see the registration)."""
    if not registration.is_offline or registration.status in BEFORE_INFORMATION_APPROVAL:
        return deny(_("The e-agreement can be printed once its information review passes."))
    return ALLOW


def can_upload_scan(user, registration: Registration, *, by_link: bool = False) -> Decision:
    """本人回传 by the student, or 用人单位协助回传 through a valid link."""
    if registration.status not in AWAITING_SCAN:
        return deny(_("This agreement is not waiting for a stamped scan."))
    if by_link or is_student_of(user, registration.student_id):
        return ALLOW
    return deny(_("Only the student or the unit returns the stamped agreement."))


def get_registration_for(user, pk: int) -> Registration:
    return load_for(
        user,
        Registration.objects.select_related("student", "school", "college", "destination"),
        pk,
        can_view_registration,
    )
