"""Every state change goes through one door (destreg/audit/changes.py): no transition runs,
no audit row is written and no review-queue row moves any other way."""

import re
from pathlib import Path

import pytest
from django.apps import apps
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django_fsm import FSMField, TransitionNotAllowed

from agreements.models import Registration
from agreements.registrations import services as registrations
from destreg.audit.changes import TransitionOutsideTheDoor, change_state
from destreg.audit.models import AuditAction, AuditEvent, Notification, ReviewTask
from destreg.lib.decisions import decision_state
from destreg.lib.permissions import ALLOW, deny

ROOT = Path(__file__).resolve().parents[2]
APP_CODE = ["agreements", "students", "employers", "reviews", "destreg"]
THE_DOOR = ROOT / "destreg" / "audit" / "changes.py"


def _fsm_models():
    for model in apps.get_models():
        for field in model._meta.fields:
            if isinstance(field, FSMField):
                yield model, field


def _transitions():
    for model, field in _fsm_models():
        for transition in field.get_all_transitions(model):
            yield model, field, transition


def _app_sources():
    for folder in APP_CODE:
        for path in (ROOT / folder).rglob("*.py"):
            if "migrations" not in path.parts and path != THE_DOOR:
                yield path


@pytest.fixture
def student_registration(student):
    """A paper-path draft (暂存) of the student."""
    return registrations.registration_save_draft(student=student, path="paper", values={})


def test_every_reviewable_and_stateful_model_is_walked():
    names = {model.__name__ for model, _field in _fsm_models()}
    assert {"Invitation", "Agreement", "Termination", "Registration"} <= names
    assert {"RegistryRequest", "HeldRegistryChange"} <= names


@pytest.mark.parametrize(
    ("model", "field", "transition"),
    list(_transitions()),
    ids=lambda value: getattr(value, "__name__", getattr(value, "name", str(value))),
)
def test_a_transition_called_outside_the_door_raises(model, field, transition):
    sources = list(transition_sources(model, field, transition.name))
    raised = False
    for source, path in sources:
        item = model(**{field.name: source}, **({"path": path} if path else {}))
        try:
            getattr(item, transition.name)()
        except TransitionOutsideTheDoor:
            raised = True
            break
        except TransitionNotAllowed:
            continue  # a condition (e.g. the registration's path) refused first
    assert raised, f"{model.__name__}.{transition.name} ran outside the door"


def transition_sources(model, field, name):
    """(source state, registration path) pairs to try the transition from."""
    paths = [""]
    if model is Registration:
        paths = [choice for choice, _label in Registration.Path.choices]
    for transition in field.get_all_transitions(model):
        if transition.name == name and transition.source not in ("*", "+"):
            for path in paths:
                yield transition.source, path


def test_no_code_calls_a_transition_writes_audit_rows_or_syncs_the_queue_but_the_door():
    names = {transition.name for _model, _field, transition in _transitions()}
    call = re.compile(r"\.(" + "|".join(sorted(names)) + r")\(")
    offenders = []
    for path in _app_sources():
        text = path.read_text(encoding="utf-8")
        for pattern in (call, re.compile(r"AuditEvent\.objects\.create|ReviewTask\.sync\(")):
            for match in pattern.finditer(text):
                line = text.count("\n", 0, match.start()) + 1
                offenders.append(f"{path.relative_to(ROOT)}:{line}: {match.group(0)}")
    assert offenders == []


@pytest.mark.django_db
def test_the_door_saves_audits_queues_and_tells_the_next_reviewers(
    student_registration, college_reviewer, other_college_reviewer
):
    item = student_registration
    with transaction.atomic():
        change_state(
            item,
            Registration._submit,
            by=item.student.user,
            may=lambda user, registration: ALLOW,
            action=AuditAction.SUBMIT,
            values={"comment": "x"},
        )
    item.refresh_from_db()
    assert item.status == Registration.Status.COLLEGE_REVIEW
    event = AuditEvent.objects.for_object(item).get(action=AuditAction.SUBMIT)
    assert (event.from_state, event.to_state) == ("draft", "college_review")
    assert event.changes == {"comment": "x"}
    assert ReviewTask.objects.filter(object_id=item.pk, stage="college").exists()
    told = Notification.objects.get(user=college_reviewer)
    assert told.message == "有一条毕业去向登记等待您审核。"
    assert told.url == item.get_absolute_url()
    assert not Notification.objects.filter(user=other_college_reviewer).exists()


@pytest.mark.django_db
def test_the_door_refuses_a_stale_state_and_a_denied_decision_and_writes_nothing(
    student_registration,
):
    item = student_registration
    seen = decision_state(item)
    with transaction.atomic():
        change_state(item, Registration._submit, by=None, may=None, action=AuditAction.SUBMIT)
    events = AuditEvent.objects.count()
    with pytest.raises(ValidationError), transaction.atomic():
        change_state(
            item,
            Registration._college_approve,
            by=None,
            may=None,
            action=AuditAction.COLLEGE_APPROVE,
            expected_state=seen,  # the draft the person saw: it has moved since
        )
    with pytest.raises(PermissionDenied), transaction.atomic():
        change_state(
            item,
            Registration._college_approve,
            by=None,
            may=lambda user, registration: deny("no"),
            action=AuditAction.COLLEGE_APPROVE,
        )
    with pytest.raises(ValidationError), transaction.atomic():
        change_state(item, Registration._void, by=None, may=None, action=AuditAction.VOID)
    item.refresh_from_db()
    assert item.status == Registration.Status.COLLEGE_REVIEW
    assert AuditEvent.objects.count() == events


@pytest.mark.django_db(transaction=True)
def test_the_door_runs_only_inside_the_services_transaction(student_registration):
    with pytest.raises(RuntimeError):
        change_state(
            student_registration,
            Registration._submit,
            by=None,
            may=None,
            action=AuditAction.SUBMIT,
        )


def test_every_audit_action_is_written_somewhere():
    """A typed action nobody records is a state change that found another way (or a name
    that drifted): every member is named by some app code besides its declaration."""
    text = "\n".join(path.read_text(encoding="utf-8") for path in _app_sources())
    unused = [name for name in AuditAction.names if f"AuditAction.{name}" not in text]
    assert unused == []


@pytest.mark.django_db
def test_a_change_of_mind_leaves_one_audit_row_per_state_change(
    student, employer_user, college_reviewer, school_reviewer, world
):
    """申请解约 of a paper agreement, walked through the services: every move of the request
    and of the registration went through the door, with its typed action and states, and
    the queue row followed the request (the cut-off sends it straight to the school)."""
    from datetime import timedelta

    from django.utils import timezone

    from agreements.models import Termination
    from agreements.registrations import changes

    item = registrations.registration_save_draft(
        student=student,
        path="paper",
        values={
            "unit_uscc": employer_user.employer.uscc,
            "proof": SimpleUploadedFile("p.pdf", b"%PDF-1.7\n%%EOF\n"),  # the rule of code 10
        },
    )
    registrations.registration_submit(registration=item, user=student.user)
    for reviewer in (college_reviewer, school_reviewer):
        registrations.registration_review(registration=item, reviewer=reviewer, decision="approve")
    world.school_a.reporting_cutoff = timezone.localdate() - timedelta(days=1)
    world.school_a.save(update_fields=["reporting_cutoff"])
    request = changes.registration_termination_request(
        registration=item, user=student.user, reason="r"
    )
    changes.registration_termination_answer(termination=request, user=employer_user, agree=True)
    assert ReviewTask.objects.get(object_id=request.pk, kind="termination").stage == "school"
    changes.change_approve(termination=request, reviewer=school_reviewer)

    trail = [(e.action, e.from_state, e.to_state) for e in AuditEvent.objects.for_object(request)]
    assert trail == [
        (AuditAction.REQUEST_TERMINATION, "", "awaiting_party"),
        (AuditAction.AGREE_TERMINATION, "awaiting_party", "school_review"),
        (AuditAction.SCHOOL_APPROVE, "school_review", "approved"),
    ]
    last = AuditEvent.objects.for_object(item).order_by("-created_at", "-id").first()
    assert (last.action, last.from_state, last.to_state) == (
        AuditAction.TERMINATE,
        "approved",
        "terminated",
    )
    assert Termination.objects.get().after_cutoff
    assert not ReviewTask.objects.exists()
