"""Who may see what of the reviewer area's own objects (snapshots, reporting dates)."""

from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from destreg.lib.permissions import ALLOW, Decision, deny, load_for
from reviews.models import Snapshot


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
