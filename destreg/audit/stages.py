"""Review stages, declared once per reviewable model.

Each reviewable model says which of its statuses wait for which stage (the college's or the
school's) and where its school and college are; everything else is derived from that one
declaration: the review queue's row (``ReviewTask``), who may decide (``can_decide``), who is
told that an item waits (``reviewers``) and the sets of statuses the queries filter on.
"""

from dataclasses import dataclass, field
from operator import attrgetter
from typing import Any

from django.db.models import Model, QuerySet
from django.utils.translation import gettext as _

from destreg.accounts.models import Role, User
from destreg.audit.models import AuditEvent
from destreg.lib.permissions import ALLOW, Decision, deny

COLLEGE, SCHOOL = "college", "school"  # the values of ReviewTask.Stage


@dataclass(frozen=True)
class ReviewStages:
    """``waiting``: status → the stage that decides it. ``school`` and ``college``: the
    attribute paths from an item to its school's and college's ids. ``told``: what the
    reviewers of the stage are told when an item enters one of its statuses (``told_in``
    overrides it per status); the door (destreg/audit/changes.py) sends it, with a link to
    the item's ``get_absolute_url()``. None: they find it in their queue."""

    waiting: dict[str, str]
    school: str = "school_id"
    college: str = "college_id"
    told: Any = None
    told_in: dict[str, Any] = field(default_factory=dict)

    def stage_of(self, item: Model) -> str | None:
        """The stage ``item`` waits for, or None when nobody has to decide it."""
        return self.waiting.get(item.status)  # type: ignore[attr-defined]

    def statuses(self, stage: str | None = None) -> tuple[str, ...]:
        """The statuses waiting for ``stage`` (for any stage when None)."""
        return tuple(status for status, at in self.waiting.items() if stage in (None, at))

    def school_id(self, item: Model) -> Any:
        return attrgetter(self.school)(item)

    def college_id(self, item: Model) -> Any:
        return attrgetter(self.college)(item)

    def reviewers(self, item: Model, stage: str) -> QuerySet[User]:
        """The reviewers who decide ``item`` at ``stage`` (platform admins are not told)."""
        if stage == COLLEGE:
            return User.objects.filter(
                role=Role.COLLEGE_REVIEWER, college_id=self.college_id(item), is_active=True
            )
        return User.objects.filter(
            role=Role.SCHOOL_REVIEWER, school_id=self.school_id(item), is_active=True
        )

    def message_on_entering(self, item: Model) -> Any:
        """What the reviewers who now decide ``item`` are told, if anything (untranslated:
        a ``gettext_lazy`` string, put into each reader's language when shown)."""
        if self.stage_of(item) is None:
            return None
        return self.told_in.get(item.status, self.told)  # type: ignore[attr-defined]

    def is_reviewer_of(self, user: User, item: Model, stage: str) -> bool:
        """Role and scope: a platform admin everywhere, a reviewer in their own stage, school
        and college."""
        if user.is_platform_admin:
            return True
        if stage == COLLEGE:
            return user.is_college_reviewer and user.college_id == self.college_id(item)
        return user.is_school_reviewer and user.school_id == self.school_id(item)


def can_decide(user: User, item: Model, stages: ReviewStages) -> Decision:
    """May ``user`` decide ``item`` at the stage it waits for? State first, then role and
    scope, then the four-eyes rule: whoever approved the college stage does not decide the
    school stage of the same item (a platform admin included)."""
    stage = stages.stage_of(item)
    if stage is None:
        return deny(_("This is not waiting for review."))
    if not stages.is_reviewer_of(user, item, stage):
        if stage == COLLEGE:
            return deny(_("This is waiting for the college's review."))
        return deny(_("This is waiting for the school's review."))
    if (
        stage == SCHOOL
        and COLLEGE in stages.waiting.values()
        and _approved_college_stage(user, item)
    ):
        return deny(
            _(
                "You approved this at the college stage; another reviewer must make the "
                "school's decision."
            )
        )
    return ALLOW


def _approved_college_stage(user: User, item: Model) -> bool:
    return AuditEvent.objects.college_approver_id(item) == user.pk
