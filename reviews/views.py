from functools import partial

from django.contrib import messages
from django.core.exceptions import ObjectDoesNotExist, PermissionDenied, ValidationError
from django.http import FileResponse, Http404, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from agreements.models import Agreement, Registration, Termination
from agreements.online.permissions import (
    can_review_agreement,
    can_review_termination,
    get_agreement_for,
)
from agreements.online.presenters import agreement_context
from agreements.registrations.permissions import (
    can_review_registration,
    get_change_for,
    get_registration_for,
)
from agreements.registrations.presenters import registration_context
from destreg.accounts.decorators import role_required
from destreg.accounts.models import Role
from destreg.audit.models import AuditEvent, ReviewTask
from destreg.audit.services import review_task_drop
from destreg.lib.actions import REFUSALS, Outcome, attempt
from destreg.lib.decisions import (
    STALE_MESSAGE,
    decision_state,
    decision_states,
    parse_bulk_value,
)
from employers import services as employer_services
from employers.forms import VerifyEmployerForm
from employers.models import Employer, EmployerVerification
from employers.permissions import verification_scope
from reviews import queue as review_queue
from reviews import stats as review_stats
from reviews.decisions import (
    AGREEMENT,
    BY_MODEL,
    REGISTRATION,
    REGISTRY_REQUEST,
    approve_task,
    decide,
)
from reviews.forms import DecisionForm
from reviews.models import ExportJob
from reviews.services import EXPORT_FORMATS
from reviews.services import export_start as export_start_service
from students.models import (
    RegistryRequest,
)
from students.permissions import (
    can_review_registry_request,
    get_registry_request_for,
)
from students.presenters import describe_request_data

reviewer_required = role_required(Role.COLLEGE_REVIEWER, Role.SCHOOL_REVIEWER, Role.PLATFORM_ADMIN)
QUEUE_PAGE_SIZE = 50


@reviewer_required
def queue(request, results=None):
    """The changelist of everything waiting for this reviewer."""
    base = ReviewTask.objects.visible_to(request.user)
    tasks = review_queue.filtered(base, request.GET)
    current = review_queue.page(tasks, request.GET.get("after", ""))
    school = request.user.school
    sla_days = school.review_sla_days if school else 3
    overdue = review_queue.overdue_after(sla_days)
    rows = [
        (task, review_queue.detail_url(task), task.waiting_since <= overdue)
        for task in current.tasks
    ]
    params = request.GET.copy()
    params.pop("after", None)
    if review_queue.is_filtered(request.GET):
        total, facets = tasks.count(), review_queue.facet_counts(tasks)
    else:  # the counters answer for the whole queue in a few small queries
        total, facets = review_queue.counted_facets(request.user)
    return render(
        request,
        "reviews/queue.html",
        {
            "rows": rows,
            "next_cursor": current.next_cursor,
            "facets": [
                (name, review_queue.FACET_LABELS[name], values) for name, values in facets.items()
            ],
            "params": params,
            "query": request.GET.get("q", ""),
            "total": total,
            "sla_days": sla_days,
            "results": results,
            # Each checkbox carries its item's state as rendered ("<task id>:<state>").
            "states": decision_states(current.tasks),
        },
    )


@reviewer_required
@require_POST
def bulk_approve(request):
    """Approve the selected items one by one: each succeeds or is reported, never half done."""
    results = []
    for value in request.POST.getlist("task")[: review_queue.PAGE_SIZE]:
        task_id, expected_state = parse_bulk_value(value)
        task = None
        if task_id is not None:
            task = ReviewTask.objects.visible_to(request.user).filter(pk=task_id).first()
        if task is None:
            if task_id is not None and expected_state is not None:
                # Decided since the queue was shown (its row is gone), or never ours: the
                # same answer either way, so it tells nothing about other people's items.
                results.append((f"#{task_id}", False, str(STALE_MESSAGE)))
            else:
                results.append((value, False, _("No longer waiting for you.")))
            continue
        label = f"{task.get_kind_display()} · {task.student_name}"
        if expected_state is None:  # a page from before states were rendered
            results.append((label, False, str(STALE_MESSAGE)))
            continue
        done = attempt(
            partial(approve_task, task, request.user, expected_state=expected_state),
            catch=(*REFUSALS, ObjectDoesNotExist),
        )
        if isinstance(done.error, ObjectDoesNotExist):
            review_task_drop(task=task)  # the item is gone; so is its place in the queue
            results.append((label, False, _("No longer waiting for you.")))
        else:
            results.append((label, True, _("Approved.")) if done else (label, False, done.message))
    return queue(request, results=results)


def _after_decision(request):
    """Back to the queue, or straight to the next item ("approve and open next")."""
    if request.GET.get("next"):
        url = review_queue.next_task_url(request.user)
        if url:
            return redirect(url)
    return redirect("reviews:queue")


def _decide(request, item, form: DecisionForm, *, page=None) -> Outcome:
    """Take the form's decision on ``item`` through the kind's service. A PermissionDenied
    stays a 403; a decision on a moved item shows ``page`` (default: the item) as it is now,
    with the reason."""
    page = page if page is not None else item
    return attempt(
        lambda: decide(
            item,
            reviewer=request.user,
            decision=form.cleaned_data["decision"],
            comment=form.cleaned_data["comment"],
            expected_state=form.cleaned_data["state"],
        ),
        request=request,
        form=form,
        stale=BY_MODEL[type(page)].detail_url(page),
        catch=ValidationError,
    )


def _initial(item) -> dict:
    return {"state": decision_state(item)}


@reviewer_required
def termination(request, pk: int):
    """A termination (or void request) is reviewed on its agreement's or registration's
    page."""
    termination = get_change_for(request.user, pk)
    if termination.registration_id is not None:
        return redirect("reviews:registration", pk=termination.registration_id)
    return redirect("reviews:agreement", pk=termination.agreement_id)


def _render_detail(request, item: RegistryRequest, form: DecisionForm, status: int = 200):
    return render(
        request,
        "reviews/registry_request.html",
        {
            "item": item,
            "rows": describe_request_data(item),
            "events": AuditEvent.objects.timeline(item),
            "can_review": can_review_registry_request(request.user, item),
            "form": form,
        },
        status=status,
    )


@reviewer_required
def registry_request_detail(request, pk: int):
    item = get_registry_request_for(request.user, pk)
    return _render_detail(request, item, DecisionForm(allow_return=False, initial=_initial(item)))


@reviewer_required
@require_POST
def registry_request_decide(request, pk: int):
    item = REGISTRY_REQUEST.load(request.user, pk)
    form = DecisionForm(request.POST, allow_return=False)
    if form.is_valid():
        done = _decide(request, item, form)
        if done.response is not None:
            return done.response
        if done:
            if form.cleaned_data["decision"] == DecisionForm.APPROVE:
                messages.success(request, _("Approved."))
            else:
                messages.success(request, _("Rejected; the student sees your reason."))
            return _after_decision(request)
    decision = can_review_registry_request(request.user, item)
    if not decision:
        raise PermissionDenied(decision.reason)
    return _render_detail(request, item, form, status=400)


@reviewer_required
def agreement(request, pk: int):
    """An agreement (and its open termination) with the reviewer's decision panel."""
    item = get_agreement_for(request.user, pk)
    return _render_agreement(request, item)


def _render_agreement(
    request, item: Agreement, form: DecisionForm | None = None, status: int = 200
):
    context = agreement_context(request.user, item)
    termination = context["open_termination"]
    subject: Agreement | Termination = item if termination is None else termination
    may = (
        can_review_agreement(request.user, item)
        if termination is None
        else can_review_termination(request.user, termination)
    )
    if may:
        context |= {
            "review_form": form or DecisionForm(allow_return=False, initial=_initial(subject)),
            "review_subject": "agreement" if termination is None else "termination",
            "review_url": reverse("reviews:agreement_decide", args=[item.pk]),
        }
    else:
        context["review_refusal"] = may.reason
    return render(request, "agreements/agreement.html", context, status=status)


@reviewer_required
@require_POST
def agreement_decide(request, pk: int):
    """审核通过 / 审核不通过 for the agreement or, when one is open, its termination."""
    item = AGREEMENT.load(request.user, pk)
    form = DecisionForm(request.POST, allow_return=False)
    if form.is_valid():
        termination = item.terminations.filter(
            status__in=[Termination.Status.COLLEGE_REVIEW, Termination.Status.SCHOOL_REVIEW]
        ).first()
        done = _decide(request, item if termination is None else termination, form, page=item)
        if done.response is not None:
            return done.response
        if done:
            messages.success(request, _("Your decision is recorded."))
            return _after_decision(request)
    return _render_agreement(request, item, form, status=400)


@role_required(Role.SCHOOL_REVIEWER, Role.PLATFORM_ADMIN)
def employers(request):
    """Units waiting for verification in this reviewer's scope: their school (a platform admin:
    every school). The reviewer opens both documents, ticks that they checked them, verifies."""
    scope = verification_scope(request.user)
    if request.method == "POST":
        form = VerifyEmployerForm(request.POST)
        if not form.is_valid():
            messages.error(
                request, _("Open both documents and tick the box to confirm you checked them.")
            )
            return redirect("reviews:employers")
        employer = Employer.objects.filter(pk=form.cleaned_data["employer"]).first()
        if employer is None:
            raise Http404
        if attempt(
            lambda: employer_services.employer_verify(
                employer=employer, by=request.user, note=form.cleaned_data["note"]
            ),
            request=request,
            catch=PermissionDenied,
        ):
            messages.success(request, _("%(name)s is verified.") % {"name": employer.name})
        return redirect("reviews:employers")
    waiting = (
        Employer.objects.awaiting_verification(scope)
        .select_related("nature", "industry", "region")
        .order_by("created_at")[:QUEUE_PAGE_SIZE]
    )
    recent = (
        EmployerVerification.objects.filter(school=scope)
        .select_related("employer", "verified_by")
        .order_by("-verified_at")[:QUEUE_PAGE_SIZE]
    )
    context = {"items": waiting, "recent": recent, "form": VerifyEmployerForm()}
    return render(request, "reviews/employers.html", context)


def _render_registration(
    request, item: Registration, form: DecisionForm | None = None, status: int = 200
):
    context = registration_context(request.user, item)
    change = context["open_change"]  # an open 申请解约 / 作废申请 is decided first
    may = (
        can_review_registration(request.user, item)
        if change is None
        else can_review_termination(request.user, change)
    )
    if may:
        subject = item if change is None else change
        context |= {
            "review_form": form
            or DecisionForm(allow_return=change is None, initial=_initial(subject)),
            "review_url": reverse("reviews:registration_decide", args=[item.pk]),
            "review_change": change,
        }
    else:
        context["review_refusal"] = may.reason
    return render(request, "agreements/registration.html", context, status=status)


@reviewer_required
def registration(request, pk: int):
    """Paths 二, 三, 四 with previews and 审核通过 / 退回修改 / 审核不通过."""
    item = get_registration_for(request.user, pk)
    return _render_registration(request, item)


@reviewer_required
@require_POST
def registration_decide(request, pk: int):
    item = REGISTRATION.load(request.user, pk)
    change = item.terminations.filter(status__in=Termination.REVIEW.statuses()).first()
    form = DecisionForm(request.POST, allow_return=change is None)
    if form.is_valid():
        done = _decide(request, item if change is None else change, form, page=item)
        if done.response is not None:
            return done.response
        if done:
            messages.success(request, _("Your decision is recorded."))
            return _after_decision(request)
    return _render_registration(request, item, form, status=400)


@reviewer_required
def statistics(request):
    """去向落实率 and pending work, scoped like the queue."""
    figures = review_stats.cached(request.user, refresh=bool(request.GET.get("refresh")))
    return render(request, "reviews/statistics.html", figures)


@reviewer_required
@require_POST
def export_start(request):
    """Start an export of the reviewer's graduates; its page shows the progress."""
    fmt = request.POST.get("fmt")
    if fmt not in EXPORT_FORMATS:
        return HttpResponseBadRequest(_("Choose CSV or XLSX."))
    job = export_start_service(user=request.user, fmt=fmt)
    return redirect("reviews:export", pk=job.pk)


@reviewer_required
def export(request, pk: int):
    job = ExportJob.objects.filter(pk=pk, user=request.user).first()
    if job is None:
        raise Http404
    if request.GET.get("download") and job.status == ExportJob.Status.DONE:
        return FileResponse(
            job.file.open("rb"), as_attachment=True, filename=job.file.name.rsplit("/", 1)[-1]
        )
    return render(request, "reviews/export.html", {"job": job})


# --- registry records: lookup, activation codes, unlinking -------------------
