"""Reporting dates and what moved since a snapshot (reviews/snapshots.py); the statistics
and export pages take their "as of" choice in reviews/views.py."""

import csv
import io
from itertools import islice

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone

from destreg.accounts.decorators import role_required
from destreg.accounts.models import Role
from destreg.lib.actions import attempt
from destreg.lib.spreadsheets import csv_row
from reviews.forms import ReportingDatesForm
from reviews.permissions import get_snapshot_for, visible_snapshots
from reviews.services import MAX_REPORTING_DATES, reporting_dates_set
from reviews.snapshots import (
    CATCH_UP_DAYS,
    DESTINATION_COLUMNS,
    changes_since,
    reporting_dates,
)
from students.models import current_graduation_year

reviewer_of_a_school = role_required(Role.COLLEGE_REVIEWER, Role.SCHOOL_REVIEWER)
CHANGES_SHOWN = 500  # on the page; the CSV has them all


@role_required(Role.SCHOOL_REVIEWER)
def reporting_dates_page(request):
    """The school's reporting dates of this graduating class, editable, and its snapshots."""
    school = request.user.school
    if school is None:
        raise PermissionDenied
    year = current_graduation_year()
    current = reporting_dates(school.pk, year)
    initial = {f"date_{n}": cutoff for n, cutoff in enumerate(current)}
    count = max(3, len(current))
    form = ReportingDatesForm(request.POST or None, initial=initial, count=count)
    status = 200
    if request.method == "POST":
        if form.is_valid() and attempt(
            lambda: reporting_dates_set(
                school=school, year=year, dates=form.dates(), by=request.user
            ),
            form=form,
            catch=ValidationError,
        ):
            return redirect("reviews:reporting_dates")
        status = 400
    snapshots = visible_snapshots(request.user).order_by("-graduation_year", "-cutoff")
    taken = {(s.graduation_year, s.cutoff) for s in snapshots}
    today = timezone.localdate()
    return render(
        request,
        "reviews/reporting_dates.html",
        {
            "form": form,
            "year": year,
            "dates": [
                (cutoff, _state(cutoff, (year, cutoff) in taken, today)) for cutoff in current
            ],
            "snapshots": snapshots,
            "max_dates": MAX_REPORTING_DATES,
        },
        status=status,
    )


def _state(cutoff, taken: bool, today) -> str:
    if taken:
        return "taken"
    if cutoff >= today:
        return "upcoming"
    return "due" if (today - cutoff).days <= CATCH_UP_DAYS else "missed"


@reviewer_of_a_school
def snapshot_changes(request, pk: int):
    """Graduates whose destination differs now from the snapshot, before and after."""
    snapshot = get_snapshot_for(request.user, pk)
    changes = changes_since(request.user, snapshot)
    shown = list(islice(changes, CHANGES_SHOWN + 1))
    return render(
        request,
        "reviews/snapshot_changes.html",
        {
            "snapshot": snapshot,
            "changes": shown[:CHANGES_SHOWN],
            "more": len(shown) > CHANGES_SHOWN,
            "limit": CHANGES_SHOWN,
        },
    )


@reviewer_of_a_school
def snapshot_changes_csv(request, pk: int):
    """The same list, every row, as CSV (UTF-8 with a BOM for Excel)."""
    snapshot = get_snapshot_for(request.user, pk)
    text = io.StringIO()
    writer = csv.writer(text)
    # The national layout's words, like the export's headings.
    headings = [
        f"{column}（{when}）" for when in ("快照", "现在") for column in DESTINATION_COLUMNS
    ]
    writer.writerow(csv_row(["学号", "姓名", *headings]))
    for change in changes_since(request.user, snapshot):
        writer.writerow(
            csv_row(
                [
                    change.student_no,
                    change.name,
                    *(change.before.get(column, "") for column in DESTINATION_COLUMNS),
                    *(change.after.get(column, "") for column in DESTINATION_COLUMNS),
                ]
            )
        )
    response = HttpResponse(
        ("\ufeff" + text.getvalue()).encode(), content_type="text/csv; charset=utf-8"
    )
    name = f"changes-since-{snapshot.cutoff:%Y%m%d}.csv"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
