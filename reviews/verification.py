"""就业核查: school staff draw a random sample of graduates with an approved destination,
assign it to verifiers, and each check is recorded; "not true" sends the destination back
to the graduate (agreements/untrue.py).

The sample is stratified by college × destination type and reproducible: the population
is sorted deterministically (college, destination code, student number, id) and one
``random.Random(seed)`` draws ``ceil(n × percentage / 100)`` graduates from each stratum in
the strata's sorted order, so the same seed over the same population draws the same
graduates (``choose``). The seed is recorded on the sample.
"""

import math
import random
import secrets
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from operator import attrgetter
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count, Q, QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from agreements.models import Agreement, Registration
from agreements.untrue import can_find_untrue, destination_found_untrue
from destreg.accounts.models import Role, User
from destreg.audit.changes import Notice, record_event
from destreg.audit.models import AuditAction, AuditEvent
from destreg.lib.permissions import ALLOW, Decision, deny, load_for, require
from destreg.reference.models import College
from reviews.models import Outcome, VerificationCheck, VerificationItem, VerificationSample
from students.models import Student, current_graduation_year

SEED_LIMIT = 10**9  # a drawn seed has at most nine digits: easy to read out and type


# --- who may do what ---------------------------------------------------------------------


def can_draw_sample(user: User) -> Decision:
    """Only a school's reviewers draw its samples and assign them."""
    if user.is_authenticated and user.is_school_reviewer and user.school_id:
        return ALLOW
    return deny(_("Only school reviewers draw verification samples."))


def can_manage_sample(user: User, sample: VerificationSample) -> Decision:
    """See a sample whole and assign its graduates: the school's reviewers (a platform
    admin sees it); another school's staff do not know of it."""
    if user.is_platform_admin:
        return ALLOW
    if user.is_authenticated and user.school_id == sample.school_id:
        if user.is_school_reviewer:
            return ALLOW
        return deny(_("Only school reviewers manage verification samples."))
    return deny(_("Not found."), visible=False)


def can_view_item(user: User, item: VerificationItem) -> Decision:
    """A sampled graduate: the school's reviewers and the assigned verifier; a college's
    reviewers see only what is assigned to them."""
    if user.is_platform_admin:
        return ALLOW
    if not user.is_authenticated or user.school_id != item.school_id:
        return deny(_("Not found."), visible=False)
    if user.is_school_reviewer or item.verifier_id == user.pk:
        return ALLOW
    if user.is_college_reviewer and user.college_id == item.college_id:
        return deny(_("This graduate is assigned to another verifier."))
    return deny(_("Not found."), visible=False)


def can_check(user: User, item: VerificationItem) -> Decision:
    """Record a check: the assigned verifier only, until it is confirmed or found not true."""
    seen = can_view_item(user, item)
    if not seen:
        return seen
    if item.verifier_id != user.pk or not may_verify(user, item):
        # The assignment, and still the scope: a reviewer moved to another college since
        # checks no more of this one.
        return deny(_("Only the assigned verifier records checks."))
    if item.closed:
        return deny(_("This graduate's verification is finished."))
    return ALLOW


# Decisions that approved a destination: whoever took one does not verify it.
APPROVALS = (
    AuditAction.APPROVE,
    AuditAction.COLLEGE_APPROVE,
    AuditAction.SCHOOL_APPROVE,
    AuditAction.INFO_APPROVE,
)


def approved_by(verifier: User, item: VerificationItem) -> bool:
    """Did ``verifier`` approve the destination the item samples?"""
    return (
        AuditEvent.objects.for_object(item.source)
        .filter(actor=verifier, action__in=APPROVALS)
        .exists()
    )


def may_verify(verifier: User, item: VerificationItem) -> bool:
    """Who may be assigned: a school reviewer of the item's school, or a college reviewer
    of the graduate's college, who did not approve the destination they would check."""
    if not verifier.is_active:
        return False
    if verifier.is_school_reviewer:
        in_scope = verifier.school_id == item.school_id
    else:
        in_scope = verifier.is_college_reviewer and verifier.college_id == item.college_id
    return in_scope and not approved_by(verifier, item)


def get_sample_for(user: User, pk: Any) -> VerificationSample:
    return load_for(user, VerificationSample.objects.all(), pk, can_manage_sample)


def get_item_for(user: User, pk: Any) -> VerificationItem:
    items = VerificationItem.objects.select_related(
        "sample", "student__user", "student__record", "college", "destination", "verifier"
    )
    return load_for(user, items, pk, can_view_item)


# --- reads ---------------------------------------------------------------------------------


def samples_of(user: User) -> QuerySet[VerificationSample]:
    samples = VerificationSample.objects.select_related("college", "drawn_by").annotate(
        n=Count("items"), checked=Count("items", filter=~Q(items__outcome=""))
    )
    if user.is_platform_admin:
        return samples
    return samples.filter(school_id=user.school_id or 0)


def tasks_of(user: User) -> QuerySet[VerificationItem]:
    """我的核查任务: what is assigned to ``user``, unchecked first."""
    return (
        VerificationItem.objects.filter(verifier=user, school_id=user.school_id or 0)
        .select_related("student__record", "college", "destination", "sample")
        .order_by("checked_at", "assigned_at", "id")
    )


def verifiers_for(sample: VerificationSample) -> QuerySet[User]:
    """Everyone who may be assigned some of the sample's graduates."""
    colleges = sample.items.values("college_id")
    return (
        User.objects.filter(is_active=True)
        .filter(
            Q(role=Role.SCHOOL_REVIEWER, school_id=sample.school_id)
            | Q(role=Role.COLLEGE_REVIEWER, college_id__in=colleges)
        )
        .select_related("college")
        .order_by("role", "college_id", "display_name", "username")
    )


# --- drawing -------------------------------------------------------------------------------


@dataclass(frozen=True, order=True)
class Candidate:
    """A graduate with an approved destination; the field order is the sort order."""

    college_id: int
    destination_code: str
    student_no: str
    student_id: int
    destination_id: int
    agreement_id: int | None
    registration_id: int | None


def population(school_id: int, year: int, college_id: int | None = None) -> list[Candidate]:
    """The school's graduates of ``year`` whose destination is approved (a signed online
    agreement, which outranks anything it replaced, or an approved registration), sorted."""
    students = Student.objects.filter(
        record__school_id=school_id,
        record__graduation_year=year,
        record__destination__isnull=False,
    )
    if college_id is not None:
        students = students.filter(record__college_id=college_id)
    rows = list(
        students.values_list(
            "pk",
            "record__college_id",
            "record__destination__code",
            "record__student_no",
            "record__destination_id",
        )
    )
    ids = [row[0] for row in rows]
    sources: dict[int, tuple[int | None, int | None]] = {}
    for student_id, pk in Registration.objects.filter(
        school_id=school_id, student_id__in=ids, status=Registration.Status.APPROVED
    ).values_list("student_id", "pk"):
        sources[student_id] = (None, pk)
    for student_id, pk in Agreement.objects.filter(
        school_id=school_id, student_id__in=ids, status=Agreement.Status.SIGNED
    ).values_list("student_id", "pk"):
        sources[student_id] = (pk, None)
    return sorted(
        (
            Candidate(college, code, number, pk, destination, *sources[pk])
            for pk, college, code, number, destination in rows
            if pk in sources
        ),
        key=_order,
    )


# The sort order (the student id is unique, so the order is total); a key function sorts
# 100,000 candidates several times faster than the dataclass's own comparisons.
_order = attrgetter("college_id", "destination_code", "student_no", "student_id")


def choose(candidates: Iterable[Candidate], percentage: int, seed: int) -> list[Candidate]:
    """The stratified draw (module docstring): pure, and the same for the same input."""
    strata: dict[tuple[int, str], list[Candidate]] = defaultdict(list)
    for candidate in sorted(candidates, key=_order):
        strata[(candidate.college_id, candidate.destination_code)].append(candidate)
    rng = random.Random(seed)  # noqa: S311 - reproducible by design, not a secret
    chosen: list[Candidate] = []
    for key in sorted(strata):
        members = strata[key]
        drawn = rng.sample(members, math.ceil(len(members) * percentage / 100))
        chosen.extend(sorted(drawn, key=_order))
    return chosen


@transaction.atomic
def sample_draw(
    *,
    by: User,
    percentage: int,
    college: College | None = None,
    seed: int | None = None,
    year: int | None = None,
) -> VerificationSample:
    """Draw and record a sample of ``by``'s school (of ``college`` only, if given)."""
    require(can_draw_sample(by))
    school_id = by.school_id
    if school_id is None:  # can_draw_sample refused it already
        raise PermissionDenied
    if not 1 <= percentage <= 100:
        raise ValidationError(_("The percentage is between 1 and 100."))
    if college is not None and college.school_id != school_id:
        raise ValidationError(_("Choose a college of your school."))
    year = year or current_graduation_year()
    seed = secrets.randbelow(SEED_LIMIT) if seed is None else seed
    candidates = population(school_id, year, college.pk if college else None)
    if not candidates:
        raise ValidationError(_("No graduate of this year has an approved destination yet."))
    sample = VerificationSample.objects.create(
        school_id=school_id,
        college=college,
        year=year,
        percentage=percentage,
        seed=seed,
        population=len(candidates),
        drawn_by=by,
    )
    chosen = choose(candidates, percentage, seed)
    VerificationItem.objects.bulk_create(
        VerificationItem(
            sample=sample,
            student_id=c.student_id,
            school_id=school_id,
            college_id=c.college_id,
            destination_id=c.destination_id,
            agreement_id=c.agreement_id,
            registration_id=c.registration_id,
        )
        for c in chosen
    )
    record_event(
        sample,
        by=by,
        action=AuditAction.DRAW_SAMPLE,
        created=True,
        changes={
            "year": year,
            "percentage": percentage,
            "seed": seed,
            "college": college.pk if college else None,
            "population": len(candidates),
            "drawn": len(chosen),
        },
    )
    return sample


# --- assigning and checking ------------------------------------------------------------------


@transaction.atomic
def items_assign(
    *, sample: VerificationSample, item_ids: Iterable[int], verifier: User, by: User
) -> int:
    """Assign the sample's graduates ``item_ids`` to ``verifier``; refused as a whole when
    the verifier may not check one of them. Returns how many were assigned."""
    sample = VerificationSample.objects.select_for_update(of=("self",)).get(pk=sample.pk)
    require(can_manage_sample(by, sample))
    if not by.is_school_reviewer:
        raise ValidationError(_("Only school reviewers manage verification samples."))
    items = list(
        sample.items.select_for_update(of=("self",)).filter(pk__in=list(item_ids)).order_by("pk")
    )
    if not items:
        raise ValidationError(_("Select at least one graduate."))
    if any(item.closed for item in items):
        raise ValidationError(_("A finished verification cannot be reassigned."))
    if not all(may_verify(verifier, item) for item in items):
        raise ValidationError(
            _(
                "A college's reviewers verify only their own college's graduates, and nobody "
                "verifies a destination they approved; choose another reviewer."
            )
        )
    now = timezone.now()
    for item in items:
        before = item.verifier_id
        item.verifier, item.assigned_at = verifier, now
        item.save(update_fields=["verifier", "assigned_at"])
        record_event(
            item,
            by=by,
            action=AuditAction.ASSIGN_VERIFIER,
            changes={"verifier": verifier.pk, "before": before},
        )
    record_event(
        sample,
        by=by,
        action=AuditAction.ASSIGN_VERIFIER,
        changes={"verifier": verifier.pk, "items": [item.pk for item in items]},
        notify=[
            Notice(
                [verifier],
                gettext_lazy("%(n)s sampled graduates were assigned to you for verification."),
                reverse("reviews:verification_tasks"),
                {"n": len(items)},
            )
        ],
    )
    return len(items)


@transaction.atomic
def check_record(
    *, item: VerificationItem, by: User, method: str, outcome: str, notes: str = ""
) -> VerificationCheck:
    """Record a check of ``item``. "Not true" needs the reason (``notes``): the destination
    goes back to the graduate, and the approved version is kept on the check."""
    item = VerificationItem.objects.select_for_update(of=("self",)).get(pk=item.pk)
    require(can_check(by, item))
    approved: dict[str, Any] = {}
    if outcome == Outcome.NOT_TRUE:
        if not notes.strip():
            raise ValidationError(_("Give the graduate the reason it is not true."))
        require(can_find_untrue(by, item.source))
        approved = destination_found_untrue(source=item.source, by=by, reason=notes)
    check = VerificationCheck.objects.create(
        item=item, method=method, outcome=outcome, notes=notes, checked_by=by, approved=approved
    )
    item.outcome, item.checked_at = outcome, check.created_at
    item.save(update_fields=["outcome", "checked_at"])
    record_event(
        item,
        by=by,
        action=AuditAction.RECORD_CHECK,
        comment=notes,
        changes={"method": method, "outcome": outcome, "check": check.pk},
    )
    return check


# --- the statistics page (reviews/stats.py) ----------------------------------------------------


def figures(user: User, approved_total: int) -> dict[str, Any]:
    """The verified share and the outcome counts over the user's scope's samples of this
    year: sampled, checked (at least once), checked of sampled, checked of every graduate
    with an approved destination (``approved_total``), and how many each latest outcome."""
    items = VerificationItem.objects.filter(sample__year=current_graduation_year())
    if user.is_college_reviewer:
        items = items.filter(college_id=user.college_id or 0)
    elif not user.is_platform_admin:
        items = items.filter(school_id=user.school_id or 0)
    counts = items.aggregate(
        sampled=Count("id"),
        checked=Count("id", filter=~Q(outcome="")),
        **{value: Count("id", filter=Q(outcome=value)) for value in Outcome.values},
    )
    sampled, checked = counts["sampled"], counts["checked"]
    return {
        "sampled": sampled,
        "checked": checked,
        "approved": approved_total,
        "of_sampled": round(100 * checked / sampled, 1) if sampled else 0.0,
        "of_approved": round(100 * checked / approved_total, 1) if approved_total else 0.0,
        "outcomes": [(value, counts[value]) for value in Outcome.values],
    }
