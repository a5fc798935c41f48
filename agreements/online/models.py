"""Online signing: invitations, agreements and terminations, each with a django-fsm-2 state
machine whose transitions only declare the move (the services make it)."""

from datetime import datetime
from typing import Any

from django.conf import settings
from django.core.validators import MaxLengthValidator, MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_fsm import FSMField, FSMModelMixin, transition

from agreements.terms import Terms, new_verify_token, signed_destination_id
from destreg.audit.stages import COLLEGE, SCHOOL, ReviewStages
from destreg.lib.uploads import document_path
from destreg.reference.models import College, School
from employers.models import Employer
from students.models import Student


class InvitationQuerySet(models.QuerySet["Invitation"]):
    def live(self) -> "InvitationQuerySet":
        return self.filter(status=Invitation.Status.PENDING, deadline__gt=timezone.now())

    def overdue(self, now: datetime | None = None) -> "InvitationQuerySet":
        return self.filter(status=Invitation.Status.PENDING, deadline__lte=now or timezone.now())


class InvitationStatus(models.TextChoices):
    PENDING = "pending", _("Awaiting answer")
    ACCEPTED = "accepted", _("Accepted")
    DECLINED = "declined", _("Declined")
    EXPIRED = "expired", _("Expired")


class Invitation(FSMModelMixin, Terms):
    """签约邀请: an employer asks a graduate to sign, answerable until ``deadline``."""

    Status = InvitationStatus

    employer = models.ForeignKey(
        Employer, verbose_name=_("employer"), on_delete=models.PROTECT, related_name="invitations"
    )
    student = models.ForeignKey(
        Student, verbose_name=_("student"), on_delete=models.PROTECT, related_name="invitations"
    )
    # Empty for an invitation a unit without an account made through its 扫码签约 link
    # (agreements/scansign): its contact is named on the UnitSigningRequest.
    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
    )
    status = FSMField(
        _("status"),
        max_length=10,
        choices=Status.choices,
        default=Status.PENDING,
        protected=True,
    )
    deadline = models.DateTimeField(_("answer by"))
    created_at = models.DateTimeField(_("sent at"), auto_now_add=True)
    answered_at = models.DateTimeField(_("answered at"), null=True, blank=True)

    objects = InvitationQuerySet.as_manager()

    class Meta:
        verbose_name = _("signing invitation")
        verbose_name_plural = _("signing invitations")
        ordering = ["-created_at", "-id"]
        constraints = [
            # One live invitation per employer and student; after an answer or expiry
            # the employer may invite again.
            models.UniqueConstraint(
                fields=["employer", "student"],
                condition=Q(status=InvitationStatus.PENDING),
                name="one_pending_invitation_per_employer_and_student",
            ),
        ]
        indexes = [models.Index(fields=["status", "deadline"])]

    def __str__(self) -> str:
        return f"{self.employer} → {self.student}"

    @property
    def is_overdue(self) -> bool:
        return self.deadline <= timezone.now()

    @property
    def agreement_or_none(self) -> "Agreement | None":
        """The agreement this invitation led to, if any (``agreement`` raises when there is
        none)."""
        return getattr(self, "agreement", None)

    @property
    def shown_status(self) -> str:
        """What people see: a pending invitation past its deadline is already 已失效."""
        if self.status == self.Status.PENDING and self.is_overdue:
            return self.Status.EXPIRED
        return self.status

    def get_shown_status_display(self) -> str:
        return str(self.Status(self.shown_status).label)

    @property
    def by_unit_link(self) -> bool:
        """Made by a unit without an account through its 扫码签约 link."""
        return self.sent_by_id is None

    @transition(field=status, source=Status.PENDING, target=Status.ACCEPTED)
    def _accept(self) -> None:
        """The student accepts; the service creates the agreement."""

    @transition(field=status, source=Status.PENDING, target=Status.DECLINED)
    def _decline(self) -> None:
        """The student declines."""

    @transition(field=status, source=Status.PENDING, target=Status.EXPIRED)
    def _expire(self) -> None:
        """The deadline passed without an answer."""


class AgreementQuerySet(models.QuerySet["Agreement"]):
    def active(self) -> "AgreementQuerySet":
        """Under review or signed: the student's one signing."""
        return self.filter(status__in=Agreement.ACTIVE)


class AgreementStatus(models.TextChoices):
    COLLEGE_REVIEW = "college_review", _("Awaiting college review")
    SCHOOL_REVIEW = "school_review", _("Awaiting school review")
    SIGNED = "signed", _("Signed successfully")
    FAILED = "failed", _("Signing failed")
    TERMINATED = "terminated", _("Terminated")
    FOUND_UNTRUE = "found_untrue", _("Not true (verification)")


AGREEMENT_REVIEW = ReviewStages(
    {AgreementStatus.COLLEGE_REVIEW: COLLEGE, AgreementStatus.SCHOOL_REVIEW: SCHOOL},
    told=_("A new agreement awaits your review."),
)
# The states in which a student counts as signed (or about to be): one at a time.
ACTIVE_AGREEMENT_STATES = (*AGREEMENT_REVIEW.statuses(), AgreementStatus.SIGNED)


class Agreement(FSMModelMixin, Terms):
    """就业协议: made when a student accepts an invitation, signed after two reviews."""

    Status = AgreementStatus
    REVIEW = AGREEMENT_REVIEW
    ACTIVE = ACTIVE_AGREEMENT_STATES

    invitation = models.OneToOneField(
        Invitation, on_delete=models.PROTECT, related_name="agreement"
    )
    student = models.ForeignKey(
        Student, verbose_name=_("student"), on_delete=models.PROTECT, related_name="agreements"
    )
    employer = models.ForeignKey(
        Employer, verbose_name=_("employer"), on_delete=models.PROTECT, related_name="agreements"
    )
    # The unit's name and credit code as they stood when the graduate accepted: what the
    # agreement was made with, whatever the unit is called later.
    unit_name = models.CharField(_("unit name"), max_length=100, blank=True)
    unit_uscc = models.CharField(_("unified social credit code"), max_length=18, blank=True)
    # Copied from the student's registry when accepted, so reviewers' queues are plain filters.
    school = models.ForeignKey(School, verbose_name=_("school"), on_delete=models.PROTECT)
    college = models.ForeignKey(College, verbose_name=_("college"), on_delete=models.PROTECT)
    status = FSMField(
        _("status"),
        max_length=20,
        choices=Status.choices,
        default=Status.COLLEGE_REVIEW,
        protected=True,
    )
    number = models.CharField(
        _("agreement number"), max_length=20, unique=True, null=True, blank=True
    )
    reason = models.TextField(_("reviewer's reason"), blank=True)
    # The public verification link's secret (the QR code); not the id, no personal data.
    verify_token = models.CharField(
        max_length=43, unique=True, default=new_verify_token, editable=False
    )
    # The stored, signed PDF: written once the content is final, re-rendered only if it changes.
    pdf = models.FileField(upload_to="agreements/", blank=True, editable=False)
    pdf_sha256 = models.CharField(max_length=64, blank=True, editable=False)
    content_sha256 = models.CharField(max_length=64, blank=True, editable=False)
    pdf_queued_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(_("accepted at"), auto_now_add=True)
    submitted_at = models.DateTimeField(_("waiting since"), default=timezone.now)
    signed_at = models.DateTimeField(_("signed at"), null=True, blank=True)

    objects = AgreementQuerySet.as_manager()

    class Meta:
        verbose_name = _("agreement")
        verbose_name_plural = _("agreements")
        ordering = ["-created_at", "-id"]
        constraints = [
            # One signing per student: at most one agreement under review or signed.
            models.UniqueConstraint(
                fields=["student"],
                condition=Q(status__in=ACTIVE_AGREEMENT_STATES),
                name="one_active_agreement_per_student",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "college", "submitted_at"]),
            models.Index(fields=["status", "school", "submitted_at"]),
        ]

    def __str__(self) -> str:
        return self.number or f"{self.employer} · {self.student}"

    def get_absolute_url(self) -> str:
        return reverse("agreements:agreement", args=[self.pk])

    def review_entry(self) -> dict | None:
        stage = self.REVIEW.stage_of(self)
        if stage is None:
            return None
        return self.student.review_fields() | {
            "kind": "online",
            "stage": stage,
            "school_id": self.school_id,
            "college_id": self.college_id,
            "destination_id": signed_destination_id(),
            "unit_name": self.unit_name or self.employer.name,
            "waiting_since": self.submitted_at,
        }

    @transition(field=status, source=Status.COLLEGE_REVIEW, target=Status.SCHOOL_REVIEW)
    def _college_approve(self) -> None:
        """The college approves; the school reviews next."""

    @transition(field=status, source=Status.SCHOOL_REVIEW, target=Status.SIGNED)
    def _school_approve(self) -> None:
        """The school approves: 签约成功."""

    @transition(
        field=status, source=[Status.COLLEGE_REVIEW, Status.SCHOOL_REVIEW], target=Status.FAILED
    )
    def _fail(self) -> None:
        """审核不通过: the signing failed; a new one needs a new invitation."""

    @transition(field=status, source=Status.SIGNED, target=Status.TERMINATED)
    def _terminate(self) -> None:
        """An approved termination ends the agreement: 已解约."""

    @transition(field=status, source=Status.SIGNED, target=Status.FOUND_UNTRUE)
    def _found_untrue(self) -> None:
        """核查不实: verification found the signing not true; the graduate registers their
        destination again (the agreement stays, for the record)."""


class AgreementSequence(models.Model):
    """The last 协议书编号 sequence used per school and year; locked while numbering."""

    school = models.ForeignKey(School, on_delete=models.PROTECT)
    year = models.PositiveSmallIntegerField()
    last = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["school", "year"], name="one_sequence_per_school_year")
        ]

    def __str__(self) -> str:
        return f"{self.school_id}/{self.year}: {self.last}"


class TerminationStatus(models.TextChoices):
    AWAITING_PARTY = "awaiting_party", _("Awaiting the other party")
    REFUSED = "refused", _("Refused by the other party")
    COLLEGE_REVIEW = "college_review", _("Awaiting college review")
    SCHOOL_REVIEW = "school_review", _("Awaiting school review")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Not approved")
    WITHDRAWN = "withdrawn", _("Withdrawn")


TERMINATION_REVIEW = ReviewStages(
    {TerminationStatus.COLLEGE_REVIEW: COLLEGE, TerminationStatus.SCHOOL_REVIEW: SCHOOL},
    school="subject.school_id",
    college="subject.college_id",
    told=_("A termination request awaits your review."),
)
# The states of a request still in progress: one per agreement or registration at a time.
OPEN_TERMINATION_STATES = [TerminationStatus.AWAITING_PARTY, *TERMINATION_REVIEW.statuses()]


def after_reporting_cutoff(school_id: int) -> bool:
    """Is today past the school's reporting cut-off (报送截止日期)? Changes of mind made
    after it skip the college: the school decides them alone."""
    cutoff = School.objects.filter(pk=school_id).values_list("reporting_cutoff", flat=True).first()
    return cutoff is not None and timezone.localdate() > cutoff


class Termination(FSMModelMixin, models.Model):
    """A change of mind about an approved destination, with one lifecycle whatever the path:

    - 申请解约 of a signed online agreement (``agreement``) or of an approved offline
      e-agreement or paper agreement (``registration``): one party asks, the other agrees,
      then college and school review; approved, the agreement or registration is 已解约;
    - 作废申请 of an approved other destination (``registration`` of path 四): the student
      asks, nobody else answers, so it starts at the review; approved, it is 已作废.

    After the school's reporting cut-off a request skips the college (``after_cutoff``).
    Exactly one of ``agreement`` and ``registration`` is set.
    """

    class Party(models.TextChoices):
        STUDENT = "student", _("Student")
        EMPLOYER = "employer", _("Employer")

    Status = TerminationStatus
    REVIEW = TERMINATION_REVIEW
    OPEN = OPEN_TERMINATION_STATES

    agreement = models.ForeignKey(
        Agreement,
        verbose_name=_("agreement"),
        on_delete=models.PROTECT,
        related_name="terminations",
        null=True,
        blank=True,
    )
    registration = models.ForeignKey(
        "agreements.Registration",
        verbose_name=_("destination registration"),
        on_delete=models.PROTECT,
        related_name="terminations",
        null=True,
        blank=True,
    )
    requested_by = models.CharField(_("requested by"), max_length=10, choices=Party.choices)
    reason = models.TextField(_("reason"), validators=[MaxLengthValidator(1000)])
    document = models.FileField(_("supporting document"), upload_to=document_path, blank=True)
    status = FSMField(
        _("status"),
        max_length=20,
        choices=Status.choices,
        default=Status.AWAITING_PARTY,
        protected=True,
    )
    after_cutoff = models.BooleanField(_("change after the reporting cut-off"), default=False)
    comment = models.TextField(_("latest comment"), blank=True)
    created_at = models.DateTimeField(_("requested at"), auto_now_add=True)
    submitted_at = models.DateTimeField(_("waiting since"), default=timezone.now)

    class Meta:
        verbose_name = _("termination request")
        verbose_name_plural = _("termination requests")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["agreement"],
                condition=Q(status__in=OPEN_TERMINATION_STATES),
                name="one_open_termination_per_agreement",
            ),
            models.UniqueConstraint(
                fields=["registration"],
                condition=Q(status__in=OPEN_TERMINATION_STATES),
                name="one_open_termination_per_registration",
            ),
            models.CheckConstraint(
                condition=Q(agreement__isnull=False, registration__isnull=True)
                | Q(agreement__isnull=True, registration__isnull=False),
                name="termination_of_an_agreement_or_a_registration",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.subject} · {self.get_status_display()}"

    def get_absolute_url(self) -> str:
        """A request is shown, answered and reviewed on its subject's page."""
        return self.subject.get_absolute_url()

    @property
    def subject(self) -> Any:
        """The agreement or registration this request would end."""
        return self.agreement if self.agreement_id else self.registration

    @property
    def is_void_request(self) -> bool:
        """作废申请 of an other destination (no agreement, no other party)."""
        return self.registration is not None and self.registration.path == "other"

    @property
    def other_party(self) -> str:
        return (
            self.Party.EMPLOYER if self.requested_by == self.Party.STUDENT else self.Party.STUDENT
        )

    def review_entry(self) -> dict | None:
        stage = self.REVIEW.stage_of(self)
        if stage is None:
            return None
        subject = self.subject
        if self.agreement_id:
            unit_name, destination_id = subject.employer.name, signed_destination_id()
        else:
            unit_name = subject.unit_name or subject.org_name or subject.institution
            destination_id = subject.destination_id
        return subject.student.review_fields() | {
            "kind": "void_request" if self.is_void_request else "termination",
            "stage": stage,
            "school_id": subject.school_id,
            "college_id": subject.college_id,
            "destination_id": destination_id,
            "unit_name": unit_name,
            "waiting_since": self.submitted_at,
            "after_cutoff": self.after_cutoff,
        }

    @transition(field=status, source=Status.AWAITING_PARTY, target=Status.COLLEGE_REVIEW)
    def _agree(self) -> None:
        """The other party agrees; the college reviews next."""

    @transition(field=status, source=Status.AWAITING_PARTY, target=Status.SCHOOL_REVIEW)
    def _agree_after_cutoff(self) -> None:
        """The other party agrees after the school's reporting cut-off: the school alone
        reviews."""

    @transition(field=status, source=OPEN_TERMINATION_STATES, target=Status.WITHDRAWN)
    def _withdraw(self) -> None:
        """The requester takes the request back before the school decides (撤回申请): what
        was signed stays in force, and a new request may be made."""

    @transition(field=status, source=Status.AWAITING_PARTY, target=Status.REFUSED)
    def _refuse(self) -> None:
        """The other party refuses; the agreement stays in force."""

    @transition(field=status, source=Status.COLLEGE_REVIEW, target=Status.SCHOOL_REVIEW)
    def _college_approve(self) -> None:
        """The college approves the request."""

    @transition(field=status, source=Status.SCHOOL_REVIEW, target=Status.APPROVED)
    def _school_approve(self) -> None:
        """The school approves: the agreement or registration becomes 已解约 (已作废)."""

    @transition(
        field=status, source=[Status.COLLEGE_REVIEW, Status.SCHOOL_REVIEW], target=Status.REJECTED
    )
    def _reject(self) -> None:
        """Not approved; the agreement or destination stays in force."""


class TermTemplate(Terms):
    """A unit's saved terms (职位类别, 岗位名称, 工作地点, pay, probation, 户档, 协议补充内容) and
    how long a graduate has to answer: the invitation form starts from one."""

    employer = models.ForeignKey(
        Employer,
        verbose_name=_("employer"),
        on_delete=models.CASCADE,
        related_name="term_templates",
    )
    name = models.CharField(_("template name"), max_length=50)
    validity_days = models.PositiveSmallIntegerField(
        _("days to answer"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(90)],
        help_text=_("Leave empty for the school's default."),
    )
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("last changed by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    updated_at = models.DateTimeField(_("last changed at"), auto_now=True)

    class Meta:
        verbose_name = _("terms template")
        verbose_name_plural = _("terms templates")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["employer", "name"], name="one_template_name_per_unit")
        ]

    def __str__(self) -> str:
        return self.name
