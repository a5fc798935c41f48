"""Who may do what with invitations, agreements and terminations (state first, then role)."""

from django.utils.translation import gettext as _

from agreements.models import Agreement, Invitation, Termination, TermTemplate
from agreements.permissions import (
    is_employer_of,
    is_student_of,
)
from destreg.accounts.models import User
from destreg.audit.stages import can_decide
from destreg.lib.permissions import ALLOW, Decision, deny, load_for
from destreg.reference import cache as references
from students.destinations import path_openings
from students.models import DestinationPath
from students.permissions import can_register_destination

# --- invitations -------------------------------------------------------------


def can_view_invitation(user: User, invitation: Invitation) -> Decision:
    if is_student_of(user, invitation.student_id) or is_employer_of(user, invitation.employer_id):
        return ALLOW
    return deny(_("Not found."), visible=False)


def can_answer_invitation(user: User, invitation: Invitation) -> Decision:
    seen = can_view_invitation(user, invitation)
    if not seen:
        return seen
    if invitation.shown_status == Invitation.Status.EXPIRED:
        return deny(_("This invitation has expired."))
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


def can_accept_invitation(user: User, invitation: Invitation) -> Decision:
    """接受 also needs the online path open (四选一: nothing in progress or approved on
    another path), read ahead as the path chooser does; 拒绝 needs only the answer."""
    answer = can_answer_invitation(user, invitation)
    if not answer:
        return answer
    verified = unit_still_verified(user, invitation)
    if not verified:
        return verified
    return path_openings(user.student)[DestinationPath.ONLINE]


def unit_still_verified(user: User, invitation: Invitation) -> Decision:
    """An invitation is accepted only while its unit is verified for the graduate's school
    (a unit that changed its name or credit code is verified again, then invites anew).
    An invitation a unit without an account made through its 扫码签约 link rests on the
    link and the credit code its contact confirmed instead (agreements/scansign)."""
    if invitation.by_unit_link:
        return ALLOW
    student = getattr(user, "student", None) if user.is_student else None
    record = student.record if student else None
    if not invitation.employer.may_invite_from(record.school_id if record else None):
        return deny(_("The unit is no longer verified for your school; it cannot be accepted."))
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
    if is_student_of(user, agreement.student_id) or is_employer_of(user, agreement.employer_id):
        return ALLOW
    if user.is_platform_admin:
        return ALLOW
    if user.is_school_reviewer and user.school_id == agreement.school_id:
        return ALLOW
    if user.is_college_reviewer and user.college_id == agreement.college_id:
        return ALLOW
    return deny(_("Not found."), visible=False)


def can_review_agreement(user: User, agreement: Agreement) -> Decision:
    seen = can_view_agreement(user, agreement)  # a refusal is falsy: it is the answer
    return seen and can_decide(user, agreement, Agreement.REVIEW)


def can_request_termination(user: User, agreement: Agreement) -> Decision:
    seen = can_view_agreement(user, agreement)
    if not seen:
        return seen
    if agreement.status != Agreement.Status.SIGNED:
        return deny(_("Only a signed agreement can be terminated."))
    if not (
        is_student_of(user, agreement.student_id) or is_employer_of(user, agreement.employer_id)
    ):
        return deny(_("Only the student or the employer may apply for termination."))
    if agreement.terminations.filter(status__in=Termination.OPEN).exists():
        return deny(_("A termination request is already in progress."))
    return ALLOW


# --- terminations ------------------------------------------------------------


def can_answer_termination(user: User, termination: Termination) -> Decision:
    """The other party of an online agreement's termination (registrations':
    agreements/registrations/permissions.py ``can_answer_registration_termination``)."""
    agreement = termination.agreement
    if agreement is None or termination.status != Termination.Status.AWAITING_PARTY:
        return deny(_("This request is not waiting for an answer."))
    if termination.other_party == Termination.Party.STUDENT:
        allowed = is_student_of(user, agreement.student_id)
    else:
        allowed = is_employer_of(user, agreement.employer_id)
    return ALLOW if allowed else deny(_("Only the other party answers this request."))


def can_review_termination(user: User, termination: Termination) -> Decision:
    return can_decide(user, termination, Termination.REVIEW)


# --- terms templates -----------------------------------------------------------


def can_manage_term_templates(user: User, template: TermTemplate | None = None) -> Decision:
    """A unit's users keep its templates (any state of verification: terms can be prepared
    before the unit may invite); nobody sees another unit's."""
    if not user.is_employer or user.employer_id is None:
        return deny(_("Only employers keep terms templates."))
    if template is not None and template.employer_id != user.employer_id:
        return deny(_("This template belongs to another unit."), visible=False)
    return ALLOW


# --- loaders -----------------------------------------------------------------


def get_invitation_for(user: User, pk: int) -> Invitation:
    invitation = load_for(
        user, Invitation.objects.select_related("employer", "student"), pk, can_view_invitation
    )
    references.attach_one(invitation)  # its job category
    references.attach_one(invitation.employer)  # nature, industry, region
    return invitation


def get_agreement_for(user: User, pk: int) -> Agreement:
    agreement = load_for(
        user, Agreement.objects.select_related("employer", "student"), pk, can_view_agreement
    )
    references.attach_one(agreement)  # school, college, job category
    references.attach_one(agreement.employer)
    return agreement


def get_termination_for(user: User, pk: int) -> Termination:
    """A termination of an online agreement (those of registrations:
    ``agreements.registrations.permissions.get_change_for``)."""
    return load_for(
        user,
        Termination.objects.filter(agreement__isnull=False).select_related("agreement"),
        pk,
        lambda user, termination: can_view_agreement(user, termination.agreement),  # type: ignore[arg-type]
    )


def get_term_template_for(user: User, pk: int) -> TermTemplate:
    return load_for(
        user, TermTemplate.objects.select_related("job_category"), pk, can_manage_term_templates
    )
