"""Who may verify a unit and see its evidence.

Any school's reviewer may verify any unit, for their own school; a platform admin verifies for
all schools. The evidence (营业执照, 授权委托书) is seen by the unit itself and by those who may
verify it; to anyone else it does not exist.
"""

from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _

from destreg.accounts.models import User
from destreg.lib.permissions import ALLOW, Decision, deny, load_for
from employers.models import Employer, EmployerVerification


def verification_scope(user: User) -> int | None:
    """The school a verification by ``user`` covers; None means every school."""
    return None if user.is_platform_admin else user.school_id


def can_view_employer_evidence(user: User, employer: Employer) -> Decision:
    if user.is_authenticated and (
        (user.is_employer and user.employer_id == employer.pk)
        or user.is_school_reviewer
        or user.is_platform_admin
    ):
        return ALLOW
    return deny(_("Not found."), visible=False)


def can_upload_employer_evidence(user: User, employer: Employer) -> Decision:
    if not (user.is_authenticated and user.is_employer and user.employer_id == employer.pk):
        return deny(_("Not found."), visible=False)
    if not user.is_unit_admin:
        return deny(_("Only the unit's administrators change its verification documents."))
    return ALLOW


def can_manage_colleagues(user: User) -> Decision:
    """A unit administrator invites colleagues, sets their roles and removes them."""
    if not (user.is_authenticated and user.is_employer and user.employer_id):
        return deny(_("Only employers have colleagues here."))
    if not user.is_unit_admin:
        return deny(_("Only the unit's administrators manage colleagues."))
    if not user.employer.is_verified:  # type: ignore[union-attr]
        return deny(
            _("Your unit is waiting for verification; you can invite colleagues once verified.")
        )
    return ALLOW


def can_change_unit_details(user: User) -> Decision:
    """Only a unit administrator changes the unit's details (name and credit code included)."""
    if not (user.is_authenticated and user.is_employer and user.employer_id):
        return deny(_("Only employers have unit details."))
    if not user.is_unit_admin:
        return deny(_("Only the unit's administrators change its details."))
    return ALLOW


def can_change_colleague(user: User, colleague: User) -> Decision:
    decision = can_manage_colleagues(user)
    if not decision:
        return decision
    if colleague.employer_id != user.employer_id or not colleague.is_employer:
        return deny(_("Not found."), visible=False)
    return ALLOW


def get_colleague_for(user: User, pk: int) -> User:
    return load_for(user, User.objects.filter(role="employer"), pk, can_change_colleague)


def can_verify_employer(user: User, employer: Employer) -> Decision:
    """State first (evidence, scope already covered), then role."""
    if not (user.is_authenticated and (user.is_school_reviewer or user.is_platform_admin)):
        return deny(_("Only school reviewers and platform admins verify units."))
    if user.is_school_reviewer and user.school_id is None:
        return deny(_("Only school reviewers and platform admins verify units."))
    if employer.placeholder:
        return deny(_("An unregistered unit (scan-to-sign) has no account to verify."))
    if not employer.has_evidence:
        return deny(
            _("This unit has not uploaded its business licence and authorisation letter yet.")
        )
    if (
        Employer.objects.filter(uscc=employer.uscc, verified_at__isnull=False)
        .exclude(pk=employer.pk)
        .exists()
    ):
        return deny(_("Another account of this credit code is already verified."))
    verifications = EmployerVerification.objects.current().filter(employer=employer)
    scope = verification_scope(user)
    if scope is None:
        covered = verifications.filter(school=None).exists()
    else:
        covered = verifications.covering(scope).exists()
    if covered and scope is None:
        return deny(_("This unit is already verified for all schools."))
    if covered:
        return deny(_("This unit is already verified for your school."))
    return ALLOW


def get_employer_evidence_for(user: User, pk: int) -> Employer:
    return load_for(user, Employer.objects.all(), pk, can_view_employer_evidence)


def get_verification_evidence_for(user: User, pk: int) -> EmployerVerification:
    """A verification, for its evidence: seen by whoever may see the unit's documents."""
    verification = get_object_or_404(EmployerVerification.objects.select_related("employer"), pk=pk)
    get_employer_evidence_for(user, verification.employer_id)
    return verification


# --- API keys ---------------------------------------------------------------------------------


def can_view_api_tokens(user: User) -> Decision:
    """Every colleague of the unit sees its API keys (names, scopes, who made them)."""
    if not (user.is_authenticated and user.is_employer and user.employer_id):
        return deny(_("Only employers have API keys."))
    return ALLOW


def can_manage_api_tokens(user: User) -> Decision:
    """A unit administrator of a verified unit creates and revokes its API keys."""
    seen = can_view_api_tokens(user)
    if not seen:
        return seen
    if not user.is_unit_admin:
        return deny(_("Only the unit's administrators create and revoke API keys."))
    if not user.employer.is_verified:  # type: ignore[union-attr]
        return deny(
            _("Your unit is waiting for verification; you can create API keys once verified.")
        )
    return ALLOW
