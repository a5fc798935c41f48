"""The annual 就业质量年度报告: the school reviewers' page that starts one and lists the
school's reports, and each report's page (progress, then the PDF)."""

from django.http import FileResponse, Http404
from django.shortcuts import redirect, render

from destreg.accounts.decorators import role_required
from destreg.accounts.models import Role
from destreg.lib.actions import attempt
from reviews.forms import AnnualReportForm
from reviews.models import AnnualReport
from reviews.permissions import get_annual_report_for, visible_snapshots
from reviews.services import annual_report_start
from students.models import current_graduation_year

REPORTS_SHOWN = 20

school_reviewer_required = role_required(Role.SCHOOL_REVIEWER)


@school_reviewer_required
def annual_reports(request):
    """GET: the school's latest reports and the form; POST: start one (then its page)."""
    form = AnnualReportForm(
        request.POST or None,
        current_year=current_graduation_year(),
        snapshots=visible_snapshots(request.user).order_by("-cutoff"),
    )
    status = 200
    if request.method == "POST":
        if form.is_valid():
            done = attempt(
                lambda: annual_report_start(
                    user=request.user,
                    year=form.cleaned_data["year"],
                    snapshot=form.cleaned_data["snapshot"],
                ),
                form=form,
            )
            if done and done.value is not None:
                return redirect("reviews:annual_report", pk=done.value.pk)
        status = 400
    reports = AnnualReport.objects.filter(school_id=request.user.school_id).select_related(
        "requested_by"
    )[:REPORTS_SHOWN]
    return render(
        request, "reviews/annual_reports.html", {"form": form, "reports": reports}, status=status
    )


@school_reviewer_required
def annual_report(request, pk: int):
    """The report's progress while it renders (the page refreshes itself), then its PDF."""
    report = get_annual_report_for(request.user, pk)
    if request.GET.get("download") and report.status == AnnualReport.Status.DONE and report.file:
        try:
            handle = report.file.open("rb")
        except FileNotFoundError:  # lost from the storage: drawn up again, not a 500
            raise Http404 from None
        return FileResponse(
            handle,
            as_attachment=True,
            filename=report.file.name.rsplit("/", 1)[-1],
            content_type="application/pdf",
        )
    return render(request, "reviews/annual_report.html", {"report": report})
