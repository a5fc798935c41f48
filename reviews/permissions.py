"""Who may do what in the reviewer area's own objects (exports, annual reports, snapshots,
reporting dates; the items under review have theirs in their apps)."""

from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from destreg.lib.permissions import ALLOW, Decision, deny, load_for
from reviews.models import AnnualReport, ExportJob, Snapshot
from reviews.stats import scope_of


def can_view_export(user, job: ExportJob) -> Decision:
    """Its page is the user's who started it; nobody else learns that it exists."""
    if job.user_id != user.pk:
        return deny(_("This export is somebody else's."), visible=False)
    return ALLOW


def can_download_export(user, job: ExportJob) -> Decision:
    """Its file only while the graduates in it are still the user's to see: an active
    account with the role, and the province, school or college, it was started with."""
    if not user.is_active or job.scope != scope_of(user):
        return deny(
            _(
                "This export was made for graduates you no longer oversee: "
                "start a new export of your current graduates."
            )
        )
    return ALLOW


def get_export_for(user, pk) -> ExportJob:
    return load_for(user, ExportJob.objects.all(), pk, can_view_export)


def can_request_annual_report(user) -> Decision:
    """The annual report is the school's: its school reviewers draw it up."""
    if not getattr(user, "is_school_reviewer", False) or user.school_id is None:
        return deny(_("Only the school's reviewers draw up its annual report."))
    return ALLOW


def can_view_annual_report(user, report: AnnualReport) -> Decision:
    """Any school reviewer of the report's school; nobody else learns that it exists."""
    if not getattr(user, "is_school_reviewer", False) or user.school_id != report.school_id:
        return deny(_("This report is another school's."), visible=False)
    return ALLOW


def get_annual_report_for(user, pk) -> AnnualReport:
    return load_for(user, AnnualReport.objects.select_related("school"), pk, can_view_annual_report)


def can_see_snapshot(user: Any, snapshot: Snapshot) -> Decision:
    """The reviewers of the snapshot's school: its school reviewers (every graduate) and its
    college reviewers (their college's graduates only: ``snapshot_rows_for``). Anybody
    else, the platform admin included, does not learn it exists."""
    if (user.is_school_reviewer or user.is_college_reviewer) and (
        user.school_id == snapshot.school_id
    ):
        return ALLOW
    return deny(_("This snapshot belongs to another school."), visible=False)


def can_set_reporting_dates(user: Any, school_id: int | None) -> Decision:
    if user.is_school_reviewer and school_id is not None and user.school_id == school_id:
        return ALLOW
    return deny(_("Only the school's reviewers set its reporting dates."))


def visible_snapshots(user: Any) -> QuerySet[Snapshot]:
    if (user.is_school_reviewer or user.is_college_reviewer) and user.school_id:
        return Snapshot.objects.filter(school_id=user.school_id)
    return Snapshot.objects.none()


def get_snapshot_for(user: Any, pk: Any) -> Snapshot:
    return load_for(user, Snapshot.objects.all(), pk, can_see_snapshot)
