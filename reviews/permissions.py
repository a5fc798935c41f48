"""Who may do what in the reviewer area's own objects (the items under review have theirs in
their apps)."""

from django.utils.translation import gettext as _

from destreg.lib.permissions import ALLOW, Decision, deny, load_for
from reviews.models import AnnualReport


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
