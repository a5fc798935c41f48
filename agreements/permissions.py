"""Who may do what with invitations, agreements and terminations.

State first, then role. A stranger's Decision is invisible (the view answers
404, as for a missing object); an insider without the right gets 403.
"""

from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _

from agreements.models import Agreement, Invitation, Registration, Termination
from destreg.accounts.models import User
from destreg.audit.models import AuditEvent
from destreg.lib.permissions import ALLOW, Decision, deny
from destreg.reference import cache as references
from students.permissions import can_register_destination


def _is_student_of(user: User, student_id: int) -> bool:
    return (
        user.is_student
        and getattr(user, "student", None) is not None
        and (user.student.pk == student_id)
    )


def _is_employer_of(user: User, employer_id: int) -> bool:
    return user.is_employer and user.employer_id == employer_id


def _made_the_college_decision(user: User, item: Agreement | Termination | Registration) -> bool:
    """The four-eyes rule: whoever approved the college stage may not decide the school
    stage of the same item, a platform admin included (the audit row is the record;
    a service calls this with the item locked)."""
    return AuditEvent.objects.college_approver_id(item) == user.pk


def _school_stage_refusal() -> Decision:
    return deny(
        _(
            "You approved this at the college stage; another reviewer must make the "
            "school's decision."
        )
    )


# --- invitations -------------------------------------------------------------


def can_view_invitation(user: User, invitation: Invitation) -> Decision:
    if _is_student_of(user, invitation.student_id) or _is_employer_of(user, invitation.employer_id):
        return ALLOW
    return deny(_("Not found."), visible=False)


def can_answer_invitation(user: User, invitation: Invitation) -> Decision:
    seen = can_view_invitation(user, invitation)
    if not seen:
        return seen
    if invitation.shown_status == Invitation.Status.EXPIRED:
        return deny(_("This invitation has expired (已失效)."))
    if invitation.status != Invitation.Status.PENDING:
        return deny(_("This invitation has already been answered."))
    if not user.is_student:
        return deny(_("Only the invited student answers an invitation."))
    registered = can_register_destination(user.student)
    if not registered:
        return registered
    if Agreement.objects.active().filter(student_id=invitation.student_id).exists():
        return deny(
            _(
                "You already have an agreement under review or signed; other "
                "invitations can only be viewed."
            )
        )
    return ALLOW


def can_invite(user: User) -> Decision:
    if not user.is_employer:
        return deny(_("Only employers send invitations."))
    if not user.employer.is_verified:  # type: ignore[union-attr]
        return deny(_("Your unit is waiting for verification; you can invite once verified."))
    return ALLOW


def can_invite_graduate_of(user: User, school_id: int | None) -> Decision:
    """Scope of a unit's verification: a school's reviewer verifies it for that school's
    graduates, a platform admin for every school's. The caller answers a refusal exactly as it
    answers an unknown graduate, so the form cannot tell who studies where."""
    decision = can_invite(user)
    if not decision:
        return decision
    if not user.employer.may_invite_from(school_id):  # type: ignore[union-attr]
        return deny(_("Your unit is not verified for this graduate's school."))
    return ALLOW


# --- agreements --------------------------------------------------------------


def can_view_agreement(user: User, agreement: Agreement) -> Decision:
    if _is_student_of(user, agreement.student_id) or _is_employer_of(user, agreement.employer_id):
        return ALLOW
    if user.is_platform_admin:
        return ALLOW
    if user.is_school_reviewer and user.school_id == agreement.school_id:
        return ALLOW
    if user.is_college_reviewer and user.college_id == agreement.college_id:
        return ALLOW
    return deny(_("Not found."), visible=False)


def can_review_agreement(user: User, agreement: Agreement) -> Decision:
    seen = can_view_agreement(user, agreement)
    if not seen:
        return seen
    status = agreement.status
    if status == Agreement.Status.COLLEGE_REVIEW:
        if user.is_platform_admin or (
            user.is_college_reviewer and user.college_id == agreement.college_id
        ):
            return ALLOW
        return deny(_("This agreement is waiting for the college's review."))
    if status == Agreement.Status.SCHOOL_REVIEW:
        if user.is_platform_admin or (
            user.is_school_reviewer and user.school_id == agreement.school_id
        ):
            if _made_the_college_decision(user, agreement):
                return _school_stage_refusal()
            return ALLOW
        return deny(_("This agreement is waiting for the school's review."))
    return deny(_("This agreement is not waiting for review."))


def can_request_termination(user: User, agreement: Agreement) -> Decision:
    seen = can_view_agreement(user, agreement)
    if not seen:
        return seen
    if agreement.status != Agreement.Status.SIGNED:
        return deny(_("Only a signed agreement can be terminated."))
    if not (
        _is_student_of(user, agreement.student_id) or _is_employer_of(user, agreement.employer_id)
    ):
        return deny(_("Only the student or the employer may apply for termination."))
    if agreement.terminations.filter(
        status__in=["awaiting_party", "college_review", "school_review"]
    ).exists():
        return deny(_("A termination request is already in progress."))
    return ALLOW


# --- terminations ------------------------------------------------------------


def can_answer_termination(user: User, termination: Termination) -> Decision:
    agreement = termination.agreement
    if termination.status != Termination.Status.AWAITING_PARTY:
        return deny(_("This request is not waiting for an answer."))
    if termination.other_party == Termination.Party.STUDENT:
        allowed = _is_student_of(user, agreement.student_id)
    else:
        allowed = _is_employer_of(user, agreement.employer_id)
    return ALLOW if allowed else deny(_("Only the other party answers this request."))


def can_review_termination(user: User, termination: Termination) -> Decision:
    agreement = termination.agreement
    if termination.status == Termination.Status.COLLEGE_REVIEW:
        if user.is_platform_admin or (
            user.is_college_reviewer and user.college_id == agreement.college_id
        ):
            return ALLOW
    elif termination.status == Termination.Status.SCHOOL_REVIEW:
        if user.is_platform_admin or (
            user.is_school_reviewer and user.school_id == agreement.school_id
        ):
            if _made_the_college_decision(user, termination):
                return _school_stage_refusal()
            return ALLOW
    else:
        return deny(_("This request is not waiting for review."))
    return deny(_("This request is waiting for another reviewer."))


# --- loaders -----------------------------------------------------------------


def _check(decision: Decision) -> None:
    if not decision.visible:
        raise Http404
    if not decision:
        raise PermissionDenied(decision.reason)


def get_invitation_for(user: User, pk: int) -> Invitation:
    invitation = get_object_or_404(Invitation.objects.select_related("employer", "student"), pk=pk)
    references.attach_one(invitation)  # its job category
    references.attach_one(invitation.employer)  # nature, industry, region
    _check(can_view_invitation(user, invitation))
    return invitation


def get_agreement_for(user: User, pk: int) -> Agreement:
    agreement = get_object_or_404(Agreement.objects.select_related("employer", "student"), pk=pk)
    references.attach_one(agreement)  # school, college, job category
    references.attach_one(agreement.employer)
    _check(can_view_agreement(user, agreement))
    return agreement


def get_termination_for(user: User, pk: int) -> Termination:
    termination = get_object_or_404(Termination.objects.select_related("agreement"), pk=pk)
    _check(can_view_agreement(user, termination.agreement))
    return termination


# --- registrations (paths 二, 三, 四) ----------------------------------------


def can_view_registration(user, registration: Registration) -> Decision:
    if user.is_authenticated and _is_student_of(user, registration.student_id):
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
    if not _is_student_of(user, registration.student_id):
        return deny(_("Only the student edits their registration."), visible=False)
    if not registration.editable:
        return deny(_("This registration is under review or decided; it cannot be edited."))
    return ALLOW


def can_review_registration(user, registration: Registration) -> Decision:
    seen = can_view_registration(user, registration)
    if not seen:
        return seen
    status = registration.status
    if status in ("college_review", "scan_college_review"):
        if user.is_platform_admin or (
            user.is_college_reviewer and user.college_id == registration.college_id
        ):
            return ALLOW
        return deny(_("This registration is waiting for the college's review."))
    if status in ("school_review", "scan_school_review"):
        if user.is_platform_admin or (
            user.is_school_reviewer and user.school_id == registration.school_id
        ):
            if _made_the_college_decision(user, registration):
                return _school_stage_refusal()
            return ALLOW
        return deny(_("This registration is waiting for the school's review."))
    return deny(_("This registration is not waiting for review."))


def can_upload_scan(user, registration: Registration, *, by_link: bool = False) -> Decision:
    """本人回传 by the student, or 用人单位协助回传 through a valid link."""
    if registration.status not in ("info_approved", "scan_returned"):
        return deny(_("This agreement is not waiting for a stamped scan."))
    if by_link or _is_student_of(user, registration.student_id):
        return ALLOW
    return deny(_("Only the student or the unit returns the stamped agreement."))


def get_registration_for(user, pk: int) -> Registration:
    registration = (
        Registration.objects.select_related("student", "school", "college", "destination")
        .filter(pk=pk)
        .first()
    )
    if registration is None:
        raise Http404
    _check(can_view_registration(user, registration))
    return registration
