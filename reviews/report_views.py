"""这不是我本人的意愿 reports in the reviewer area: the list the 核查 page flags
(students.coercion.open_reports) and marking a report handled."""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from destreg.lib.actions import attempt
from destreg.lib.decisions import decision_state
from reviews.forms import HandleReportForm
from reviews.views import reviewer_required
from students.coercion import coercion_report_handle, reports_for
from students.models import CoercionReport
from students.permissions import can_handle_report, get_report_for

PAGE_SIZE = 30  # reports are rare; each row carries its own form


@reviewer_required
def reports(request):
    """The reports of the reviewer's school (a college reviewer: their college's), open ones
    first unless another status is asked for."""
    status = request.GET.get("status", CoercionReport.Status.OPEN)
    if status not in (*CoercionReport.Status.values, "all"):
        status = CoercionReport.Status.OPEN
    rows = reports_for(request.user, status="" if status == "all" else status)
    shown = list(rows[:PAGE_SIZE])
    return render(
        request,
        "reviews/reports.html",
        {
            "reports": shown,
            "total": rows.count(),
            "status": status,
            "statuses": [*CoercionReport.Status.choices, ("all", _("All"))],
            "handle": {
                report.pk: HandleReportForm(
                    initial={"state": decision_state(report)}, prefix=f"r{report.pk}"
                )
                for report in shown
                if can_handle_report(request.user, report)
            },
        },
    )


@reviewer_required
@require_POST
def report_handle(request, pk: int):
    report = get_report_for(request.user, pk)
    form = HandleReportForm(request.POST, prefix=f"r{report.pk}")
    if not form.is_valid():
        messages.error(request, _("Say how it was handled (at most 1000 characters)."))
    elif attempt(
        lambda: coercion_report_handle(
            report=report,
            reviewer=request.user,
            comment=form.cleaned_data["comment"],
            expected_state=form.cleaned_data["state"],
        ),
        request=request,
    ):
        messages.success(request, _("The report is marked handled."))
    return redirect("reviews:reports")
