"""Who must, who may and who can reset a second factor (django-otp).

School reviewers and platform admins decide for a whole school or the platform, and
provincial and ministry staff read a province's or the country's figures: they must use a
second factor, and so must anybody the Django admin lets in (``is_staff``), whatever
their role. College reviewers and employers may turn it on. Students prove themselves
otherwise (their registry record) and do not get it.
"""

from functools import cache

from django.apps import apps
from django.conf import settings
from django.db.models import Model
from django.utils.translation import gettext as _

from destreg.accounts.models import Role
from destreg.audit.models import AuditEvent
from destreg.lib.permissions import ALLOW, Decision, deny

REQUIRED_ROLES = frozenset(
    {Role.SCHOOL_REVIEWER, Role.PLATFORM_ADMIN, Role.PROVINCE_STAFF, Role.MINISTRY_STAFF}
)
OPTIONAL_ROLES = frozenset({Role.COLLEGE_REVIEWER, Role.EMPLOYER})


def is_demo_account(user) -> bool:
    """A seed_demo staff account while DEBUG is on: it may sign in with the password alone."""
    return bool(settings.DEBUG) and user.username in settings.SECOND_FACTOR_DEMO_USERNAMES


def second_factor_required(user) -> bool:
    """Must ``user`` pass a second factor before anything else? (No query: role and flags.)"""
    if not user.is_authenticated or is_demo_account(user):
        return False
    return user.role in REQUIRED_ROLES or user.is_staff or user.is_superuser


def can_use_second_factor(user) -> Decision:
    """May ``user`` set up a second factor (from the account security page)?"""
    if not user.is_authenticated:
        return deny(_("Sign in first."))
    if second_factor_required(user) or user.role in REQUIRED_ROLES | OPTIONAL_ROLES:
        return ALLOW
    return deny(_("Student accounts do not use a second factor."))


def can_turn_off_second_factor(user) -> Decision:
    """Only those who chose it may turn it off again; the others must keep it."""
    if second_factor_required(user) or user.role in REQUIRED_ROLES:
        return deny(_("Your role requires a second factor."))
    return can_use_second_factor(user)


def can_change_second_factor(user) -> Decision:
    """May this session renew the recovery codes or turn the second factor off? Only one
    that passed the second factor: the password alone must not manage it. ``user`` is the
    request's user (django-otp's middleware gives it ``is_verified``); a verified session
    has a confirmed device of this user."""
    decision = can_use_second_factor(user)
    if not decision:
        return decision
    is_verified = getattr(user, "is_verified", None)
    if is_verified is None or not is_verified():
        return deny(_("Sign in with a code from your authenticator app first."))
    return ALLOW


def can_manage_user(actor, user) -> Decision:
    """Only a superuser changes, deactivates or resets a superuser's account: whoever set
    their password, e-mail or second factor would sign in as them, superuser status
    included."""
    if user.is_superuser and not (actor.is_authenticated and actor.is_superuser):
        return deny(_("Only a superuser can change a superuser's account."))
    return ALLOW


def can_reset_second_factor(actor, user) -> Decision:
    """A platform admin resets another person's second factor (a lost phone); nobody else."""
    if not (actor.is_authenticated and actor.role == Role.PLATFORM_ADMIN and actor.is_staff):
        return deny(_("Only a platform administrator can reset a second factor."))
    if actor.pk == user.pk:
        return deny(_("Ask another platform administrator to reset your own second factor."))
    return can_manage_user(actor, user)


# What points at a user without being evidence of anything they did: their own notices,
# devices and downloads, which go with the account. Every other relation to the user (an
# audit row they wrote, a graduate's profile, an invitation they sent, a decision they
# recorded, the Django admin's own log of their changes...) is history, and so is a new
# relation nobody listed here: the safe side.
DISPOSABLE = frozenset(
    {"audit.Notification", "otp_totp.TOTPDevice", "otp_static.StaticDevice", "reviews.ExportJob"}
)


@cache
def _relations_to_users() -> list[tuple[type[Model], str]]:
    """(model, field) for every foreign key or one-to-one field to the user model, hidden
    ones (``related_name="+"``, most of the evidence) included, but DISPOSABLE."""
    user_model = apps.get_model(settings.AUTH_USER_MODEL)
    return [
        (model, field.name)
        for model in apps.get_models()
        if model._meta.label not in DISPOSABLE
        for field in model._meta.get_fields()
        if field.concrete
        and (field.many_to_one or field.one_to_one)
        and field.related_model is user_model
    ]


def user_history(user) -> list[str]:
    """What the records say ``user`` did or was: the names (plural, translated) of the
    kinds of rows that point at them, audit rows about them included. Empty for an account
    with nothing behind it. One EXISTS query per relation (a few dozen): the admin asks for
    one user at a time."""
    found: list[str] = []
    if AuditEvent.objects.for_object(user).exists():
        found.append(str(AuditEvent._meta.verbose_name_plural))
    for model, field in _relations_to_users():
        name = str(model._meta.verbose_name_plural)
        if name not in found and model._base_manager.filter(**{field: user.pk}).exists():
            found.append(name)
    return found


def can_delete_user(actor, user) -> Decision:
    """A platform admin deletes an account only if nothing points at it (a mistyped or
    unused account); one with history is deactivated instead, so that the audit trail
    keeps saying who did what."""
    if not (actor.is_authenticated and actor.is_staff and actor.is_active):
        return deny(_("Only a platform administrator can delete an account."))
    if actor.pk == user.pk:
        return deny(_("You cannot delete your own account."))
    if not (decision := can_manage_user(actor, user)):
        return decision
    history = user_history(user)
    if history:
        return deny(
            _(
                "%(name)s has history (%(history)s) and cannot be deleted: deactivate the "
                "account instead (untick “Active”, or the action “Deactivate selected users”)."
            )
            % {"name": user, "history": ", ".join(history)}
        )
    return ALLOW


def can_deactivate_user(actor, user) -> Decision:
    """A platform admin deactivates anybody's account but their own (somebody else must)."""
    if not (actor.is_authenticated and actor.is_staff and actor.is_active):
        return deny(_("Only a platform administrator can deactivate an account."))
    if actor.pk == user.pk:
        return deny(_("Ask another platform administrator to deactivate your own account."))
    return can_manage_user(actor, user)
