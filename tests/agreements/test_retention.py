"""Proofs are kept three years after the graduate's graduation (the registry record's
graduation date): removing them is refused before, allowed after; ``purge_expired`` lists by
default and removes with --execute, each removal audited."""

import io
from datetime import date

import pytest
from django.core.exceptions import PermissionDenied
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.urls import reverse

from agreements.models import Registration
from agreements.retention import evidence_purge, expired_evidence, retained_until
from destreg.audit.models import AuditAction, AuditEvent
from destreg.reference.models import Code, CodeTable
from tests import factories as f

PDF = f.pdf_bytes()


def _graduate(world, graduated: date):
    record = f.make_record(world.major_a1, graduation_year=graduated.year)
    record.graduation_date = graduated
    record.save(update_fields=["graduation_date"])
    return f.make_student(record)


def _approved_with_proofs(student) -> Registration:
    item = Registration(
        student=student,
        school=student.record.school,
        college=student.record.college,
        path="other",
        kind="freelance",
        destination=Code.objects.get(table=CodeTable.DESTINATION, code="76"),
    )
    item.proof.save("statement.pdf", ContentFile(PDF), save=False)
    item.extra_proof.save("income.pdf", ContentFile(PDF), save=False)
    item.save()
    Registration.objects.filter(pk=item.pk).update(status="approved")
    item.refresh_from_db()
    return item


@pytest.fixture
def old(world):
    """Graduated 30 June 2022: kept until 30 June 2025."""
    return _approved_with_proofs(_graduate(world, date(2022, 6, 30)))


@pytest.fixture
def recent(world):
    """Graduated 30 June 2025: kept until 30 June 2028."""
    return _approved_with_proofs(_graduate(world, date(2025, 6, 30)))


def test_proofs_are_kept_three_years_from_the_registry_graduation_date(old, recent):
    assert retained_until(old) == date(2025, 6, 30)
    assert retained_until(recent) == date(2028, 6, 30)


def test_removal_is_refused_before_the_end_and_allowed_after(
    old, platform_admin, django_capture_on_commit_callbacks
):
    names = [old.proof.name, old.extra_proof.name]
    with pytest.raises(PermissionDenied, match="2025-06-30"):
        evidence_purge(item=old, by=platform_admin, today=date(2025, 6, 29))
    assert all(default_storage.exists(name) for name in names)

    with django_capture_on_commit_callbacks(execute=True):  # the files go on commit
        removed = evidence_purge(item=old, by=platform_admin, today=date(2025, 6, 30))
    assert sorted(removed) == sorted(names)
    old.refresh_from_db()
    assert not old.proof and not old.extra_proof
    assert old.status == "approved"  # the registered destination stays
    assert not any(default_storage.exists(name) for name in names)
    event = AuditEvent.objects.for_object(old).get(action=AuditAction.PURGE_EVIDENCE)
    assert event.actor == platform_admin and sorted(event.changes["removed"].values()) == sorted(
        names
    )


def test_nobody_but_a_platform_admin_or_the_system_removes_proofs(old, school_reviewer):
    with pytest.raises(PermissionDenied):
        evidence_purge(item=old, by=school_reviewer, today=date(2030, 1, 1))
    with pytest.raises(PermissionDenied):
        evidence_purge(item=old, by=old.student.user, today=date(2030, 1, 1))
    old.refresh_from_db()
    assert old.proof


def test_the_dry_run_lists_and_removes_nothing(old, recent):
    out = io.StringIO()
    call_command("purge_expired", stdout=out)
    text = out.getvalue()
    assert old.proof.name in text and old.extra_proof.name in text
    assert recent.proof.name not in text
    assert "Dry run: 2 files of 1 items" in text
    old.refresh_from_db()
    assert old.proof and default_storage.exists(old.proof.name)
    assert not AuditEvent.objects.filter(action=AuditAction.PURGE_EVIDENCE).exists()


def test_execute_removes_the_expired_files_from_storage_and_keeps_the_others(
    old, recent, django_capture_on_commit_callbacks
):
    old_names = [old.proof.name, old.extra_proof.name]
    with django_capture_on_commit_callbacks(execute=True):
        call_command("purge_expired", "--execute", stdout=io.StringIO())
    old.refresh_from_db()
    recent.refresh_from_db()
    assert not old.proof and not old.extra_proof
    assert not any(default_storage.exists(name) for name in old_names)
    assert recent.proof and default_storage.exists(recent.proof.name)
    event = AuditEvent.objects.get(action=AuditAction.PURGE_EVIDENCE)
    assert event.object_id == old.pk and event.actor is None
    assert expired_evidence(date.today()) == []  # nothing left to remove  # noqa: DTZ011


def test_a_graduate_without_a_confirmed_record_is_kept(world, platform_admin):
    item = _approved_with_proofs(_graduate(world, date(2010, 6, 30)))
    item.student.record, item.student.confirmed_at = None, None
    item.student.save(update_fields=["record", "confirmed_at"])
    item.refresh_from_db()
    assert retained_until(item) is None
    with pytest.raises(PermissionDenied):
        evidence_purge(item=item, by=platform_admin, today=date(2030, 1, 1))


def test_the_admin_action_refuses_before_and_removes_after(client, platform_admin, old, recent):
    client.force_login(platform_admin)
    url = reverse("admin:agreements_registration_changelist")
    response = client.post(
        url,
        {"action": "purge_evidence", "_selected_action": [old.pk, recent.pk]},
        follow=True,
    )
    assert response.status_code == 200
    old.refresh_from_db()
    recent.refresh_from_db()
    assert not old.proof  # past retention on the real today (2022 graduate)
    assert recent.proof  # kept until 2028
    assert "2028-06-30" in response.content.decode()
    # The rows themselves cannot be deleted in the admin at all.
    delete = reverse("admin:agreements_registration_delete", args=[recent.pk])
    assert client.post(delete, {"post": "yes"}).status_code == 403
    assert Registration.objects.filter(pk=recent.pk).exists()


def test_a_termination_requests_document_follows_its_registrations_graduate(
    old, recent, django_capture_on_commit_callbacks
):
    from agreements.models import Termination

    kept, expired = (
        Termination(registration=item, requested_by="student", reason="已考取研究生")
        for item in (recent, old)
    )
    for termination in (kept, expired):
        termination.document.save("解约函.pdf", ContentFile(PDF), save=False)
        termination.save()
    found = {(type(e.item).__name__, e.item.pk) for e in expired_evidence(date(2026, 12, 1))}
    assert found == {("Registration", old.pk), ("Termination", expired.pk)}
    name = expired.document.name
    with django_capture_on_commit_callbacks(execute=True):
        call_command("purge_expired", "--execute", stdout=io.StringIO())
    expired.refresh_from_db()
    kept.refresh_from_db()
    assert not expired.document and not default_storage.exists(name)
    assert kept.document and default_storage.exists(kept.document.name)
