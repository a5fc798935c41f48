"""The unit's batch invitation pages: upload, preview and 发送, progress, result file."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Count
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from agreements.batches import files, services
from agreements.batches.forms import BatchUploadForm
from agreements.batches.models import InvitationBatch, InvitationBatchRow
from agreements.batches.permissions import can_send_batch, get_batch_for
from agreements.online.permissions import can_invite
from destreg.accounts.decorators import role_required
from destreg.accounts.models import Role
from destreg.lib.actions import attempt
from destreg.lib.params import parse_id

employer_required = role_required(Role.EMPLOYER)
ROWS_PER_PAGE = 100


def _require_invite(request) -> None:
    decision = can_invite(request.user)
    if not decision:
        raise PermissionDenied(decision.reason)


@employer_required
def batches(request):
    items = InvitationBatch.objects.filter(employer_id=request.user.employer_id)[:50]
    return render(
        request,
        "agreements/batches.html",
        {"items": items, "can_invite": can_invite(request.user)},
    )


@employer_required
def batch_new(request):
    _require_invite(request)
    employer_id = request.user.employer_id
    initial = {}
    if chosen := parse_id(request.GET.get("template")):
        initial["template"] = chosen
    form = BatchUploadForm(
        request.POST or None, request.FILES or None, employer_id=employer_id, initial=initial
    )
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        made = attempt(
            lambda: services.batch_upload(
                user=request.user,
                template=form.cleaned_data["template"],
                handle=upload,
                filename=upload.name or "upload",
            ),
            form=form,
            field="file",
            catch=ValidationError,
        )
        if made.value is not None:
            return redirect("agreements:batch", pk=made.value.pk)
    return render(
        request,
        "agreements/batch_new.html",
        {"form": form, "has_templates": form.fields["template"].queryset.exists()},  # type: ignore[attr-defined]
        status=400 if form.is_bound else 200,
    )


@employer_required
def batch_template(request):
    """The file to fill in: the headings only."""
    response = HttpResponse(files.template_csv(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="batch-invitations.csv"'
    return response


@employer_required
def batch(request, pk: int):
    """The preview (a draft, with 发送), then the progress, then each row's outcome."""
    item = get_batch_for(request.user, pk)
    rows = item.rows.select_related("invitation").order_by("line")
    page = Paginator(rows, ROWS_PER_PAGE).get_page(request.GET.get("page"))
    found = dict(item.rows.values_list("preview").annotate(n=Count("pk")).order_by())
    counts = [
        (check, label, found[check])
        for check, label in InvitationBatchRow.Check.choices
        if found.get(check)
    ]
    return render(
        request,
        "agreements/batch.html",
        {
            "item": item,
            "page": page,
            "rows": page.object_list,
            "counts": counts,
            "can_send": can_send_batch(request.user, item),
        },
    )


@employer_required
@require_POST
def batch_send(request, pk: int):
    item = get_batch_for(request.user, pk)
    if attempt(lambda: services.batch_send(user=request.user, batch=item), request=request):
        messages.success(request, _("Sending. This page shows how far it got."))
    return redirect("agreements:batch", pk=pk)


@employer_required
def batch_result(request, pk: int):
    """Each row's outcome as CSV (``?format=csv``, the default) or XLSX; masked ID numbers."""
    item = get_batch_for(request.user, pk)
    rows = services.result_rows(item)
    if request.GET.get("format") == "xlsx":
        response = HttpResponse(
            files.result_xlsx(rows),
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
        name = f"batch-{item.pk}-result.xlsx"
    else:
        response = HttpResponse(files.result_csv(rows), content_type="text/csv; charset=utf-8")
        name = f"batch-{item.pk}-result.csv"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
