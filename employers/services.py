"""Writes for employers: registration and verification."""

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from destreg.accounts.models import Role, User
from destreg.audit.models import AuditEvent
from destreg.audit.notify import notify
from employers.models import Employer


@transaction.atomic
def employer_register(*, username: str, password: str, unit: dict) -> User:
    """A unit and its first user; it waits for verification before it can invite."""
    employer = Employer.objects.create(**unit)
    user = User.objects.create_user(
        username=username,
        password=password,
        email=unit["contact_email"],
        role=Role.EMPLOYER,
        employer=employer,
        display_name=unit["name"],
    )
    AuditEvent.record(employer, actor=user, action="register")
    return user


def can_verify(user: User) -> bool:
    return user.is_school_reviewer or user.is_platform_admin


@transaction.atomic
def employer_verify(*, employer: Employer, by: User) -> Employer:
    if not can_verify(by):
        raise PermissionDenied
    employer = Employer.objects.select_for_update().get(pk=employer.pk)
    if employer.is_verified:
        return employer
    employer.verified_at = timezone.now()
    employer.verified_by = by
    employer.save(update_fields=["verified_at", "verified_by"])
    AuditEvent.record(employer, actor=by, action="verify")
    notify(
        employer.users.all(),
        _("Your unit is verified; you can now send invitations."),
        reverse("employers:home"),
    )
    return employer
