from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404, HttpResponse, HttpResponseBadRequest
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
from agreements.scansign.marks import scan_sign_marks
from destreg.accounts.decorators import role_required
from destreg.accounts.models import Role
from destreg.audit.models import AuditEvent, ReviewTask
from destreg.lib.actions import attempt
from destreg.lib.decisions import decision_state, decision_states
from destreg.lib.params import parse_id
from destreg.lib.replica import reads_from_replica
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
    decide,
)
from reviews.forms import BulkDecisionForm, DecisionForm
from reviews.models import ExportJob
from reviews.permissions import (
    can_download_export,
    get_export_for,
    get_snapshot_for,
    visible_snapshots,
)
from reviews.services import EXPORT_FORMATS, review_bulk
from reviews.services import export_start as export_start_service
from students.coercion import open_reports
from students.models import (
    RegistryRequest,
)
from students.permissions import (
    can_review_registry_request,
    get_registry_request_for,
)
from students.presenters import describe_request_data

reviewer_required = role_required(Role.COLLEGE_REVIEWER, Role.SCHOOL_REVIEWER, Role.PLATFORM_ADMIN)
# Exports are also the provincial and Ministry staff's (their province, the country).
exporter_required = role_required(
    Role.COLLEGE_REVIEWER,
    Role.SCHOOL_REVIEWER,
    Role.PLATFORM_ADMIN,
    Role.PROVINCE_STAFF,
    Role.MINISTRY_STAFF,
)
QUEUE_PAGE_SIZE = 50


@reviewer_required
def queue(request, results=None, decision: str = ""):
    """The changelist of everything waiting for this reviewer."""
    base = ReviewTask.objects.visible_to(request.user)
    tasks = review_queue.filtered(base, request.GET)
    cursor = request.GET.get("after", "")
    current = review_queue.page(tasks, cursor)
    school = request.user.school
    sla_days = school.review_sla_days if school else 3
    overdue = review_queue.overdue_after(sla_days)
    rows = [
        (task, review_queue.detail_url(task), task.waiting_since <= overdue)
        for task in current.tasks
    ]
    online = {
        task.pk: task.object_id for task in current.tasks if task.kind == ReviewTask.Kind.ONLINE
    }
    marks = scan_sign_marks(online.values())
    params = request.GET.copy()
    params.pop("after", None)
    params.pop("page", None)
    if review_queue.is_filtered(request.GET):
        total, facets = tasks.count(), review_queue.facet_counts(tasks)
    else:  # the counters answer for the whole queue in a few small queries
        total, facets = review_queue.counted_facets(request.user)
    number, pages = review_queue.position(total, cursor, request.GET.get("page", ""))
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
            "page_number": number,
            "next_page_number": number + 1,
            "pages": pages,
            "sla_days": sla_days,
            "results": results,
            "results_title": BulkDecisionForm.TITLES.get(decision, ""),
            # Each checkbox carries its item's state as rendered ("<task id>:<state>").
            "states": decision_states(current.tasks),
            # 这不是我本人的意愿 reports waiting for this reviewer's school or college.
            "open_reports": open_reports(request.user).count(),
            # 扫码签约 agreements, by task id: the platform cannot prove who confirmed.
            "scan_signs": {pk: marks[item] for pk, item in online.items() if item in marks},
        },
    )


@reviewer_required
@require_POST
def bulk(request):
    """审核通过 / 退回修改 / 审核不通过 for the rows chosen in the queue: first a page that
    lists them and asks for confirmation (and the one comment a return or rejection
    needs); on 确认 each row is decided on its own and reported."""
    values = request.POST.getlist("task")[: review_queue.PAGE_SIZE]
    if not values:
        messages.error(request, _("Select at least one item."))
        return redirect("reviews:queue")
    decision = request.POST.get("decision", "")
    if decision not in BulkDecisionForm.TITLES:
        return HttpResponseBadRequest(_("Choose a decision."))
    confirmed = request.POST.get("confirmed") == "1"
    if not confirmed:  # from the queue: nothing to complain about yet
        form = BulkDecisionForm(initial={"decision": decision})
    else:
        form = BulkDecisionForm(request.POST)
        if form.is_valid():
            results = review_bulk(
                reviewer=request.user,
                values=values,
                decision=decision,
                comment=form.cleaned_data["comment"],
            )
            return queue(request, results=results, decision=decision)
    needs_comment = decision != DecisionForm.APPROVE
    if needs_comment:  # the keyboard lands where the reason is typed
        form.fields["comment"].widget.attrs["autofocus"] = True
    return render(
        request,
        "reviews/bulk_confirm.html",
        {
            "form": form,
            "decision": decision,
            "needs_comment": needs_comment,
            "title": BulkDecisionForm.TITLES[decision],
            "values": values,
            "tasks": review_queue.chosen(request.user, values),
        },
        status=400 if confirmed else 200,
    )


def _after_decision(request):
    """Back to the queue, or straight to the next item ("approve and open next")."""
    if request.GET.get("next"):
        url = review_queue.next_task_url(request.user)
        if url:
            return redirect(url)
    return redirect("reviews:queue")


def _decided(
    request, item, form: DecisionForm, *, page=None, done: str | None = None
) -> HttpResponse | None:
    """Take the bound form's decision on ``item`` through the kind's service; the answer
    once it is taken (``done`` or "Your decision is recorded.", then back to the queue or on
    to the next item) or refused as stale (``page``, default the item, as it is now, with
    the reason). None when the form or the service refused it: the view re-renders the
    page with the form's errors. A PermissionDenied stays a 403."""
    if not form.is_valid():
        return None
    page = page if page is not None else item
    outcome = attempt(
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
    if outcome.response is not None or not outcome:
        return outcome.response
    messages.success(request, done or _("Your decision is recorded."))
    return _after_decision(request)


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
    approving = request.POST.get("decision") == DecisionForm.APPROVE
    done = _("Approved.") if approving else _("Rejected; the student sees your reason.")
    if response := _decided(request, item, form, done=done):
        return response
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
    termination = item.terminations.filter(
        status__in=[Termination.Status.COLLEGE_REVIEW, Termination.Status.SCHOOL_REVIEW]
    ).first()
    if response := _decided(request, termination or item, form, page=item):
        return response
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
        .with_rival_claims()
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
    if response := _decided(request, item if change is None else change, form, page=item):
        return response
    return _render_registration(request, item, form, status=400)


@reviewer_required
def statistics(request):
    """去向落实率 and pending work, scoped like the queue; the cached figures are numbers,
    labelled here in the reader's language."""
    snapshots = visible_snapshots(request.user)
    as_of = None
    if (chosen := parse_id(request.GET.get("as_of"))) is not None:
        as_of = get_snapshot_for(request.user, chosen)
        figures = review_stats.cached_as_of(request.user, as_of)
    else:
        figures = review_stats.cached(request.user, refresh=bool(request.GET.get("refresh")))
    context = review_stats.present(figures)
    context |= {"as_of": as_of, "snapshots": snapshots.order_by("-graduation_year", "-cutoff")}
    return render(request, "reviews/statistics.html", context)


@exporter_required
@require_POST
def export_start(request):
    """Start an export of the reviewer's graduates; its page shows the progress."""
    fmt = request.POST.get("fmt")
    if fmt not in EXPORT_FORMATS:
        return HttpResponseBadRequest(_("Choose CSV or XLSX."))
    snapshot = None
    if (chosen := parse_id(request.POST.get("as_of"))) is not None:
        snapshot = get_snapshot_for(request.user, chosen)
    started = attempt(
        lambda: export_start_service(user=request.user, fmt=fmt, snapshot=snapshot),
        request=request,
        catch=ValidationError,
    )
    if started.value is None:  # one is still being written (so it is their latest): its page
        running = ExportJob.objects.filter(user=request.user).latest("pk")
        return redirect("reviews:export", pk=running.pk)
    return redirect("reviews:export", pk=started.value.pk)


@exporter_required
@reads_from_replica()  # the worker's progress; after export_start the browser is pinned
def export(request, pk: int):
    """The job's progress (the page refreshes itself), then its file, while the graduates
    in it are still the user's to see."""
    job = get_export_for(request.user, pk)
    may_download = can_download_export(request.user, job)
    context = {"job": job, "may_download": may_download}
    if request.GET.get("download") and job.status == ExportJob.Status.DONE:
        if not may_download:
            return render(request, "reviews/export.html", context, status=403)
        try:
            handle = job.file.open("rb")
        except FileNotFoundError:  # lost from the storage: a new export, not a 500
            raise Http404 from None
        return FileResponse(handle, as_attachment=True, filename=job.file.name.rsplit("/", 1)[-1])
    return render(request, "reviews/export.html", context)


# --- registry records: lookup, activation codes, unlinking -------------------
