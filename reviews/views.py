from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from destreg.accounts.decorators import role_required
from destreg.accounts.models import Role
from destreg.audit.models import AuditEvent
from reviews.forms import DecisionForm
from students import services as student_services
from students.forms import RegistryImportForm
from students.importing import registry_import as run_registry_import
from students.importing import template_workbook
from students.models import RegistryRequest
from students.permissions import can_review_registry_request, get_registry_request_for
from students.presenters import describe_request_data

reviewer_required = role_required(Role.COLLEGE_REVIEWER, Role.SCHOOL_REVIEWER, Role.PLATFORM_ADMIN)
QUEUE_PAGE_SIZE = 50


@reviewer_required
def queue(request):
    items = (
        RegistryRequest.objects.reviewable_by(request.user)
        .pending()
        .select_related("student", "school")
        .order_by("created_at", "id")[:QUEUE_PAGE_SIZE]
    )
    return render(request, "reviews/queue.html", {"items": items})


def _render_detail(request, item: RegistryRequest, form: DecisionForm, status: int = 200):
    return render(
        request,
        "reviews/registry_request.html",
        {
            "item": item,
            "rows": describe_request_data(item),
            "events": AuditEvent.objects.for_object(item),
            "can_review": can_review_registry_request(request.user, item),
            "form": form,
        },
        status=status,
    )


@reviewer_required
def registry_request_detail(request, pk: int):
    item = get_registry_request_for(request.user, pk)
    return _render_detail(request, item, DecisionForm(allow_return=False))


@reviewer_required
@require_POST
def registry_request_decide(request, pk: int):
    item = get_registry_request_for(request.user, pk)
    decision = can_review_registry_request(request.user, item)
    if not decision:
        raise PermissionDenied(decision.reason)
    form = DecisionForm(request.POST, allow_return=False)
    if form.is_valid():
        comment = form.cleaned_data["comment"]
        try:
            if form.cleaned_data["decision"] == DecisionForm.APPROVE:
                student_services.registry_request_approve(
                    request=item, reviewer=request.user, comment=comment
                )
                messages.success(request, _("Approved."))
            else:
                student_services.registry_request_reject(
                    request=item, reviewer=request.user, reason=comment
                )
                messages.success(request, _("Rejected; the student sees your reason."))
        except ValidationError as error:
            form.add_error(None, error)
        else:
            return redirect("reviews:queue")
    return _render_detail(request, item, form, status=400)


@role_required(Role.SCHOOL_REVIEWER)
def registry_import(request):
    """School staff upload their graduates' registry (学籍) file."""
    form = RegistryImportForm(request.POST or None, request.FILES or None)
    report = None
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        report = run_registry_import(
            school=request.user.school,
            handle=upload,
            filename=upload.name,
            actor=request.user,
            valid_only=form.cleaned_data["valid_only"],
        )
        if report.imported:
            messages.success(request, _("%(count)d records imported.") % {"count": report.imported})
        elif report.errors:
            messages.error(
                request,
                _(
                    "Nothing was imported: fix the rows below and upload again, "
                    "or choose to import the valid rows only."
                ),
            )
    return render(request, "reviews/registry_import.html", {"form": form, "report": report})


@role_required(Role.SCHOOL_REVIEWER)
def registry_import_template(request):
    response = HttpResponse(
        template_workbook(),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    response["Content-Disposition"] = 'attachment; filename="registry-template.xlsx"'
    return response
