"""就业核查 pages: samples (list and 抽样), a sample's graduates with their assignment, one
sampled graduate with its checks, and 我的核查任务 (reviews/verification.py)."""

import re

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from agreements.untrue import snapshot_rows
from destreg.accounts.decorators import role_required
from destreg.accounts.models import Role
from destreg.audit.models import AuditEvent
from destreg.lib.actions import attempt
from destreg.lib.permissions import require
from reviews import verification
from reviews.forms import AssignForm, CheckForm, SampleForm

reviewer_required = role_required(Role.COLLEGE_REVIEWER, Role.SCHOOL_REVIEWER, Role.PLATFORM_ADMIN)
LIST_LIMIT = 500
ITEM_ID = re.compile(r"[0-9]{1,18}")  # ASCII digits only (str.isdigit() takes '²')


@reviewer_required
def samples(request):
    """The school's samples, and the 抽样 form (school reviewers only)."""
    user = request.user
    if not (user.is_school_reviewer or user.is_platform_admin):
        raise PermissionDenied(_("Only school reviewers manage verification samples."))
    form = SampleForm(request.POST or None, school=user.school) if user.school_id else None
    status = 200
    if request.method == "POST":
        require(verification.can_draw_sample(user))
        status = 400
        if form is not None and form.is_valid():
            data = form.cleaned_data
            outcome = attempt(
                lambda: verification.sample_draw(
                    by=user,
                    percentage=data["percentage"],
                    college=data["college"],
                    seed=data["seed"],
                ),
                form=form,
            )
            if outcome.value is not None:
                drawn = outcome.value
                messages.success(
                    request,
                    _("Sample drawn: %(n)s of %(total)s graduates (seed %(seed)s).")
                    % {"n": drawn.items.count(), "total": drawn.population, "seed": drawn.seed},
                )
                return redirect("reviews:verification_sample", pk=drawn.pk)
    return render(
        request,
        "reviews/verification_samples.html",
        {"form": form, "samples": verification.samples_of(user)[:LIST_LIMIT]},
        status=status,
    )


@reviewer_required
def sample(request, pk: int):
    """A sample's graduates, by stratum, with their verifier and outcome; assigning."""
    found = verification.get_sample_for(request.user, pk)
    verifiers = verification.verifiers_for(found)
    form = AssignForm(request.POST or None, verifiers=verifiers)
    if request.method == "POST" and form.is_valid():
        ids = [int(value) for value in request.POST.getlist("item") if ITEM_ID.fullmatch(value)]
        outcome = attempt(
            lambda: verification.items_assign(
                sample=found, item_ids=ids, verifier=form.cleaned_data["verifier"], by=request.user
            ),
            request=request,
        )
        if outcome:
            messages.success(request, _("%(n)s graduates assigned.") % {"n": outcome.value})
        return redirect("reviews:verification_sample", pk=found.pk)
    items = found.items.select_related(
        "student__record", "college", "destination", "verifier"
    ).order_by("college__name", "destination__code", "student__record__student_no", "id")
    return render(
        request,
        "reviews/verification_sample.html",
        {
            "sample": found,
            "items": items,
            "form": form,
            "can_assign": request.user.is_school_reviewer,
            "events": AuditEvent.objects.timeline(found),
        },
        status=400 if request.method == "POST" else 200,
    )


@reviewer_required
def item(request, pk: int):
    """One sampled graduate: the approved destination, the checks so far (with the
    approved version kept by a "not true"), and the check form for the verifier."""
    found = verification.get_item_for(request.user, pk)
    may_check = verification.can_check(request.user, found)
    form = CheckForm(request.POST or None)
    if request.method == "POST":
        require(may_check)
        if form.is_valid():
            data = form.cleaned_data
            outcome = attempt(
                lambda: verification.check_record(
                    item=found,
                    by=request.user,
                    method=data["method"],
                    outcome=data["outcome"],
                    notes=data["notes"],
                ),
                form=form,
            )
            if outcome:
                messages.success(request, _("Check recorded."))
                return redirect("reviews:verification_item", pk=found.pk)
    checks = list(found.checks.select_related("checked_by"))
    return render(
        request,
        "reviews/verification_item.html",
        {
            "item": found,
            "source": found.source,
            "checks": [(check, snapshot_rows(check.approved)) for check in checks],
            "form": form,
            "may_check": may_check,
            "events": AuditEvent.objects.timeline(found),
        },
        status=400 if request.method == "POST" else 200,
    )


@reviewer_required
def tasks(request):
    """我的核查任务: the graduates assigned to this verifier."""
    return render(
        request,
        "reviews/verification_tasks.html",
        {"items": verification.tasks_of(request.user)[:LIST_LIMIT]},
    )
