"""Held-back registry changes: a re-import's new name or ID number for a confirmed record.

The import (students/importing.py) never changes the identity of a record an account is
linked to. A school reviewer either applies the held change, after which the graduate must
confirm again (still linked to the record, so their destination stays on it), or drops it.
Both are audited.
"""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from destreg.accounts.models import User
from destreg.audit.changes import change_state, record_event
from destreg.audit.models import AuditAction
from destreg.audit.notify import notify
from destreg.lib.pii import mask_id_number
from students.models import HeldRegistryChange, RegistryRecord, Student
from students.permissions import can_decide_held_change


def _lock(change: HeldRegistryChange, reviewer: User) -> HeldRegistryChange:
    change = (
        HeldRegistryChange.objects.select_for_update(of=("self",))
        .select_related("record")
        .get(pk=change.pk)
    )
    decision = can_decide_held_change(reviewer, change)
    if not decision:
        raise PermissionDenied(decision.reason)
    return change


@transaction.atomic
def held_change_apply(*, change: HeldRegistryChange, reviewer: User) -> HeldRegistryChange:
    """Give the record the held name and ID number; its graduate must confirm them again.

    It is the same graduate with a corrected identity, so the account stays linked to the
    record: its destination (agreements, registrations, in progress or approved) and every
    later change to it keep finding the record (students/tallies.py ``destination_set``).
    The account takes the record's new name and ID number, loses its confirmation (so the
    first-login check asks again, against the new identity, before anything new can be
    signed or registered), and is notified.
    Raises ValidationError if another confirmed account already holds the new ID number, or
    another record of the same graduation year has it.
    """
    change = _lock(change, reviewer)
    record = RegistryRecord.objects.select_for_update(of=("self",)).get(pk=change.record_id)
    student = (
        Student.objects.select_for_update(of=("self",))
        .select_related("user")
        .filter(record=record)
        .first()
    )
    # Unconfirmed accounts reserve nothing (students/binding.py): only a confirmed one blocks.
    taken = Student.objects.filter(
        id_number_digest=change.id_number_digest, confirmed_at__isnull=False
    )
    if student is not None:
        taken = taken.exclude(pk=student.pk)
    if taken.exists():
        raise ValidationError(
            _("Another account is registered with the new ID number; it cannot be applied.")
        )
    # A graduate has one record a year (one_record_per_id_number_and_year).
    twin = RegistryRecord.objects.filter(
        graduation_year=record.graduation_year, id_number_digest=change.id_number_digest
    ).exclude(pk=record.pk)
    if twin.exists():
        raise ValidationError(
            _(
                "Another registry record of this graduation year has the new ID number; "
                "it cannot be applied."
            )
        )
    old_name, old_id = record.name, record.id_number
    new_id = change.id_number
    record.name = change.name
    record.id_number_cipher = change.id_number_cipher
    record.id_number_digest = change.id_number_digest
    record.save(update_fields=["name", "id_number_cipher", "id_number_digest", "updated_at"])
    identity = {
        "name": [old_name, change.name],
        "id_number": [mask_id_number(old_id), mask_id_number(new_id)],
    }
    if student is not None:
        student.real_name = record.name
        student.id_number = new_id
        student.confirmed_at = None
        student.confirmed_via = ""
        student.save(
            update_fields=[
                "real_name",
                "id_number_cipher",
                "id_number_digest",
                "confirmed_at",
                "confirmed_via",
            ]
        )
        student.user.display_name = record.name
        student.user.save(update_fields=["display_name"])
        record_event(
            student,
            by=reviewer,
            action=AuditAction.REGISTRY_RECONFIRM,
            changes={"record": record.pk, **identity},
        )
        notify(
            [student.user],
            gettext_lazy(
                "Your school corrected the name or ID number of your registry record. "
                "Please check it and confirm your registry information again."
            ),
            reverse("students:home"),
        )
    change_state(
        change,
        HeldRegistryChange._apply,
        by=reviewer,
        may=can_decide_held_change,
        action=AuditAction.HELD_CHANGE_APPLY,
        values={"decided_by": reviewer, "decided_at": timezone.now()},
        changes={"record": record.pk, "student": student.pk if student else None, **identity},
    )
    return change


@transaction.atomic
def held_change_drop(*, change: HeldRegistryChange, reviewer: User) -> HeldRegistryChange:
    """Keep the confirmed name and ID number; the held change is closed."""
    return change_state(
        change,
        HeldRegistryChange._drop,
        by=reviewer,
        may=can_decide_held_change,
        action=AuditAction.HELD_CHANGE_DROP,
        values={"decided_by": reviewer, "decided_at": timezone.now()},
        changes={"record": change.record_id},
    )
