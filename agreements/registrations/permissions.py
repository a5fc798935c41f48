"""Who may do what with registrations of paths 二, 三, 四 (state first, then role)."""

from django.utils.translation import gettext as _

from agreements.models import Registration, Termination
from agreements.online.permissions import can_view_agreement
from agreements.permissions import (
    is_employer_of,
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


# --- changes of mind: 申请解约 (二, 三) and 作废申请 (四) ---------------------------


def is_unit_of(user, registration: Registration) -> bool:
    """The unit's account: an employer whose credit code the registration names (the
    registration is linked to it by that code), verified for the registration's school
    (verification is per school), and only for an agreement in force or ended, never a
    student's application in progress."""
    if not (user.is_authenticated and user.is_employer and registration.unit_uscc):
        return False
    if registration.status not in UNIT_VISIBLE:
        return False
    employer = getattr(user, "employer", None)
    return bool(
        employer
        and employer.uscc == registration.unit_uscc
        and employer.may_invite_from(registration.school_id)
    )


UNIT_VISIBLE = (Registration.Status.APPROVED, Registration.Status.TERMINATED)


def _open_change(registration: Registration) -> bool:
    # .all(): a list page prefetches the requests; otherwise one small query.
    return any(t.status in Termination.OPEN for t in registration.terminations.all())


def can_request_registration_termination(
    user, registration: Registration, *, by_link: bool = False
) -> Decision:
    """申请解约 of an approved offline e-agreement or paper agreement: by the student, or by
    the unit (its account, or a one-time link e-mailed to its contact)."""
    student = user is not None and is_student_of(user, registration.student_id)
    if not (student or by_link or (user is not None and is_unit_of(user, registration))):
        return deny(_("Only the student or the unit may apply for termination."), visible=False)
    if registration.path == Registration.Path.OTHER:
        return deny(_("An other destination has no agreement to terminate; ask to void it."))
    if registration.status != Registration.Status.APPROVED:
        return deny(_("Only an approved agreement can be terminated."))
    if _open_change(registration):
        return deny(_("A termination request is already in progress."))
    return ALLOW


def can_request_void(user, registration: Registration) -> Decision:
    """作废申请 of an approved other destination, by its student."""
    if not is_student_of(user, registration.student_id):
        return deny(_("Only the student may ask to void their destination."), visible=False)
    if registration.path != Registration.Path.OTHER:
        return deny(_("Only an other destination can be voided; apply for termination."))
    if registration.status != Registration.Status.APPROVED:
        return deny(_("Only an approved destination can be voided."))
    if _open_change(registration):
        return deny(_("A void request is already in progress."))
    return ALLOW


def can_answer_registration_termination(
    user, termination: Termination, *, by_link: bool = False
) -> Decision:
    """The other party agrees or refuses: the student on the page, the unit on its portal or
    through its one-time link."""
    registration = termination.registration
    if registration is None or termination.status != Termination.Status.AWAITING_PARTY:
        return deny(_("This request is not waiting for an answer."))
    if termination.other_party == Termination.Party.STUDENT:
        allowed = user is not None and is_student_of(user, registration.student_id)
    else:
        allowed = by_link or (user is not None and is_unit_of(user, registration))
    return ALLOW if allowed else deny(_("Only the other party answers this request."))


def can_withdraw_change(user, termination: Termination) -> Decision:
    """撤回申请: the party who asked takes back a request the school has not decided (the
    student, or the unit with its account; a unit that asked through a one-time link has no
    account to withdraw with, and the student answers it instead)."""
    if termination.status not in Termination.OPEN:
        return deny(_("This request is already decided."))
    subject = termination.subject
    if termination.requested_by == Termination.Party.STUDENT:
        allowed = user is not None and is_student_of(user, subject.student_id)
    elif termination.agreement_id:
        allowed = user is not None and is_employer_of(user, subject.employer_id)
    else:
        allowed = user is not None and is_unit_of(user, subject)
    return ALLOW if allowed else deny(_("Only the party who asked may withdraw the request."))


def can_view_change(user, termination: Termination) -> Decision:
    """A request is seen by whoever sees its subject, and by the unit of a registration."""
    if termination.registration is None:
        return can_view_agreement(user, termination.agreement)  # type: ignore[arg-type]
    registration = termination.registration
    if is_unit_of(user, registration):
        return ALLOW
    return can_view_registration(user, registration)


def get_change_for(user, pk: int) -> Termination:
    """A termination or void request, of an agreement or a registration."""
    return load_for(
        user,
        Termination.objects.select_related(
            "agreement", "registration__student", "registration__school"
        ),
        pk,
        can_view_change,
    )


def get_registration_for(user, pk: int) -> Registration:
    return load_for(
        user,
        Registration.objects.select_related("student", "school", "college", "destination"),
        pk,
        can_view_registration,
    )
