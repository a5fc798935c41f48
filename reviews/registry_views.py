"""The graduate registry in the reviewer area: 学籍 imports and their progress, name and ID
changes held back for the school, and graduate records with the accounts bound to them."""

from collections.abc import Callable

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from destreg.accounts.decorators import role_required
from destreg.accounts.models import Role
from destreg.audit.models import AuditEvent
from destreg.lib.actions import attempt
from destreg.lib.permissions import Decision, require
from reviews.forms import UnbindForm
from reviews.views import reviewer_required
from students import binding
from students.forms import RegistryImportForm
from students.import_jobs import import_job_start
from students.importing import template_workbook
from students.models import (
    HeldRegistryChange,
    RegistryCode,
    RegistryConflict,
    RegistryImportJob,
    RegistryRecord,
)
from students.permissions import (
    can_issue_activation_code,
    can_unbind_record,
    get_held_change_for,
    get_import_job_for,
    get_record_for,
)
from students.registry_changes import held_change_apply, held_change_drop

PAGE_SIZE = 50  # rows of the held-change and record lists


@role_required(Role.SCHOOL_REVIEWER)
def registry_import(request):
    """School staff upload their graduates' registry (学籍) file; it imports in the background."""
    form = RegistryImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        started = attempt(
            lambda: import_job_start(
                school=request.user.school,
                user=request.user,
                upload=form.cleaned_data["file"],
                valid_only=form.cleaned_data["valid_only"],
            ),
            form=form,
            field="file",
            catch=ValidationError,
        )
        if started.value is not None:
            return redirect("reviews:registry_import_job", pk=started.value.pk)
    recent = RegistryImportJob.objects.filter(school=request.user.school).select_related("user")[
        :10
    ]
    return render(
        request,
        "reviews/registry_import.html",
        {"form": form, "recent": recent},
        status=400 if form.is_bound else 200,
    )


@reviewer_required
def registry_import_job(request, pk: int):
    """An import's progress (rows read), then its outcome and each row's problems."""
    job = get_import_job_for(request.user, pk)
    return render(request, "reviews/registry_import_job.html", {"job": job})


@role_required(Role.SCHOOL_REVIEWER, Role.PLATFORM_ADMIN)
def held_changes(request):
    """Names and ID numbers a re-import would have changed under a confirmed graduate."""
    changes = HeldRegistryChange.objects.filter(
        status=HeldRegistryChange.Status.PENDING
    ).select_related("record", "record__school", "record__student", "imported_by")
    if not request.user.is_platform_admin:
        changes = changes.filter(record__school_id=request.user.school_id)
    return render(
        request,
        "reviews/held_changes.html",
        {"changes": changes[:PAGE_SIZE], "total": changes.count()},
    )


@role_required(Role.SCHOOL_REVIEWER, Role.PLATFORM_ADMIN)
@require_POST
def held_change_decide(request, pk: int):
    """Apply a held-back change (the graduate confirms again) or drop it."""
    change = get_held_change_for(request.user, pk)
    decision = request.POST.get("decision")
    if decision not in ("apply", "drop"):
        return HttpResponseBadRequest(_("Choose to apply or to drop the change."))
    if decision == "apply":
        if attempt(
            lambda: held_change_apply(change=change, reviewer=request.user), request=request
        ):
            messages.success(
                request, _("Applied; the graduate is asked to confirm the record again.")
            )
    elif attempt(lambda: held_change_drop(change=change, reviewer=request.user), request=request):
        messages.success(request, _("Dropped; the confirmed name and ID number stay."))
    return redirect("reviews:held_changes")


@role_required(Role.SCHOOL_REVIEWER)
def registry_import_template(request):
    response = HttpResponse(
        template_workbook(),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    response["Content-Disposition"] = 'attachment; filename="registry-template.xlsx"'
    return response


@reviewer_required
def records(request):
    """Find a current-year graduate of the reviewer's college or school by 学号 (or its
    beginning) or name."""
    query = request.GET.get("q", "").strip()[:50]
    found: list[RegistryRecord] = []
    if query:
        scope = RegistryRecord.objects.current().visible_to(request.user)
        found = list(
            (scope.filter(student_no__startswith=query) | scope.filter(name__contains=query))
            .select_related("student__user")
            .for_display()
            .order_by("student_no")[:PAGE_SIZE]
        )
    rows = [(item, getattr(item, "student", None)) for item in found]
    return render(
        request,
        "reviews/records.html",
        {"query": query, "rows": rows, "page_size": PAGE_SIZE},
    )


def _render_record(request, record: RegistryRecord, *, unbind_form=None, code=None, status=200):
    holder = binding.record_holder(record)
    activation = (
        RegistryCode.objects.filter(record=record, kind=RegistryCode.Kind.ACTIVATION).live().first()
    )
    return render(
        request,
        "reviews/record.html",
        {
            "record": record,
            "holder": holder,
            "activation": activation,
            "new_code": code,
            "may_issue": can_issue_activation_code(request.user, record, holder=holder),
            "may_unbind": can_unbind_record(request.user, record, holder=holder),
            "unbind_form": unbind_form or UnbindForm(),
            "events": AuditEvent.objects.timeline(record),
            # Another school claimed this graduate: the admin checks (students/conflicts.py).
            "conflicts": list(RegistryConflict.objects.open().filter(record=record)),
        },
        status=status,
    )


def _record_for_binding(request, pk: int, may: Callable[..., Decision]) -> RegistryRecord:
    """The record for a change to the account bound to it: 404 / 403 as for its page, then
    403 unless ``may`` (asked with the record's current holder) allows."""
    item = get_record_for(request.user, pk)
    require(may(request.user, item, holder=binding.record_holder(item)))
    return item


def _new_code_key(pk: int) -> str:
    return f"reviews:activation_code:{pk}"


@reviewer_required
def record(request, pk: int):
    """A graduate's record (ID number and contacts masked) and the account bound to it."""
    item = get_record_for(request.user, pk)
    # A code just issued is shown on the page the issuing redirects to, and then forgotten.
    code = request.session.pop(_new_code_key(item.pk), None)
    response = _render_record(request, item, code=code)
    if code:
        response["Cache-Control"] = "no-store"
    return response


@reviewer_required
@require_POST
def record_activation(request, pk: int):
    """Issue an activation code, shown once on the record page (only its hash is kept)."""
    item = _record_for_binding(request, pk, can_issue_activation_code)
    issued = attempt(
        lambda: binding.activation_code_issue(record=item, reviewer=request.user),
        request=request,
        catch=ValidationError,
    )
    if issued:
        request.session[_new_code_key(item.pk)] = issued.value
    return redirect("reviews:record", pk=item.pk)


@reviewer_required
@require_POST
def record_unbind(request, pk: int):
    item = _record_for_binding(request, pk, can_unbind_record)
    form = UnbindForm(request.POST)
    if form.is_valid() and attempt(
        lambda: binding.registry_unbind(
            record=item, reviewer=request.user, reason=form.cleaned_data["reason"]
        ),
        form=form,
        catch=ValidationError,
    ):
        messages.success(request, _("The account is unlinked from this record."))
        return redirect("reviews:record", pk=item.pk)
    return _render_record(request, item, unbind_form=form, status=400)
