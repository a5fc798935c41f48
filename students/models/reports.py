"""A graduate's "这不是我本人的意愿" (this was not my own wish) report about a change to their
destination (students/coercion.py files and handles it)."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from django_fsm import FSMField, FSMModelMixin, transition

from destreg.audit.models import AuditEvent
from destreg.reference.models import College, School
from students.models.people import Student

REPORT_TEXT_MAX = 1000


class CoercionReportStatus(models.TextChoices):
    OPEN = "open", pgettext_lazy("report status", "Open")
    HANDLED = "handled", pgettext_lazy("report status", "Handled")


class CoercionReportQuerySet(models.QuerySet["CoercionReport"]):
    def visible_to(self, user) -> "CoercionReportQuerySet":
        """The school's reviewers see its reports, a college's reviewers their college's,
        platform admins all; nobody else any."""
        if user.is_platform_admin:
            return self
        if user.is_school_reviewer:
            return self.filter(school_id=user.school_id)
        if user.is_college_reviewer:
            return self.filter(school_id=user.school_id, college_id=user.college_id)
        return self.none()

    def open(self) -> "CoercionReportQuerySet":
        return self.filter(status=CoercionReportStatus.OPEN)


class CoercionReport(FSMModelMixin, models.Model):
    """The graduate says the change recorded by ``event`` was not their own wish.

    One per graduate and change (a second click shows the first); the school and college
    are the graduate's when they filed it, so the report stays with the staff who were
    responsible then."""

    Status = CoercionReportStatus

    student = models.ForeignKey(
        Student, verbose_name=_("student"), on_delete=models.PROTECT, related_name="reports"
    )
    event = models.ForeignKey(
        AuditEvent, verbose_name=_("change"), on_delete=models.PROTECT, related_name="+"
    )
    school = models.ForeignKey(School, on_delete=models.PROTECT, related_name="+")
    college = models.ForeignKey(College, on_delete=models.PROTECT, related_name="+")
    text = models.TextField(_("what happened"), max_length=REPORT_TEXT_MAX, blank=True)
    created_at = models.DateTimeField(_("reported at"), auto_now_add=True)
    status = FSMField(
        _("status"),
        max_length=10,
        choices=Status.choices,
        default=Status.OPEN,
        protected=True,
    )
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    handled_at = models.DateTimeField(_("handled at"), null=True, blank=True)
    handling_comment = models.TextField(_("how it was handled"), blank=True)

    objects = CoercionReportQuerySet.as_manager()

    class Meta:
        verbose_name = _("not-my-own-wish report")
        verbose_name_plural = _("not-my-own-wish reports")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["student", "event"], name="one_report_per_graduate_and_change"
            ),
        ]
        indexes = [models.Index(fields=["school", "status", "created_at"])]

    def __str__(self) -> str:
        return f"{self.student_id}: {self.event_id} ({self.status})"

    @transition(field=status, source=Status.OPEN, target=Status.HANDLED)
    def _handle(self) -> None:
        """A reviewer of the graduate's school or college has dealt with it."""
