"""Online signing (线上签约): invitations, agreements and terminations.

Each has a django-fsm-2 state machine. Transition methods only declare the
move; services in ``agreements/services.py`` lock the rows, check
permissions, run the transition, save and audit.
"""

import secrets
from datetime import datetime

from django.conf import settings
from django.core.validators import MaxLengthValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_fsm import FSMField, FSMModelMixin, transition

from destreg.lib.uploads import document_path
from destreg.reference.models import Code, CodeTable, College, Region, School
from employers.models import Employer
from students.models import Student


class Hukou(models.TextChoices):
    """单位是否解决户档."""

    EMPLOYER = "employer", _("Received by the employer")
    CUSTODIAN = "custodian", _("Received by a custodian unit")
    SUPERIOR = "superior", _("Received by the superior unit")
    NONE = "none", _("Not received")


class Terms(models.Model):
    """The agreed terms an employer offers; shared by invitations and agreements."""

    job_category = models.ForeignKey(
        Code,
        verbose_name=_("job category"),
        on_delete=models.PROTECT,
        related_name="+",
        limit_choices_to={"table": CodeTable.JOB_CATEGORY},
    )
    position = models.CharField(_("position"), max_length=100)
    work_location = models.CharField(_("work location"), max_length=200)
    probation_months = models.PositiveSmallIntegerField(
        _("probation (months)"), default=0, validators=[MinValueValidator(0)]
    )
    probation_salary = models.PositiveIntegerField(
        _("probation salary (yuan/month)"), null=True, blank=True
    )
    salary = models.PositiveIntegerField(
        _("salary after probation (yuan/month)"), null=True, blank=True
    )
    penalty = models.PositiveIntegerField(_("breach penalty (yuan)"), null=True, blank=True)
    report_place = models.CharField(_("place to report"), max_length=200, blank=True)
    report_deadline = models.DateField(_("report by"), null=True, blank=True)
    hukou = models.CharField(_("residence and file (户档)"), max_length=10, choices=Hukou.choices)
    supplement = models.TextField(
        _("supplementary terms"), blank=True, validators=[MaxLengthValidator(1000)]
    )

    class Meta:
        abstract = True


class InvitationQuerySet(models.QuerySet["Invitation"]):
    def live(self) -> "InvitationQuerySet":
        return self.filter(status=Invitation.Status.PENDING, deadline__gt=timezone.now())

    def overdue(self, now: datetime | None = None) -> "InvitationQuerySet":
        return self.filter(status=Invitation.Status.PENDING, deadline__lte=now or timezone.now())


class Invitation(FSMModelMixin, Terms):
    """签约邀请: an employer asks a graduate to sign, answerable until ``deadline``."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Awaiting answer")
        ACCEPTED = "accepted", _("Accepted")
        DECLINED = "declined", _("Declined")
        EXPIRED = "expired", _("Expired")

    employer = models.ForeignKey(
        Employer, verbose_name=_("employer"), on_delete=models.PROTECT, related_name="invitations"
    )
    student = models.ForeignKey(
        Student, verbose_name=_("student"), on_delete=models.PROTECT, related_name="invitations"
    )
    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
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
                condition=Q(status="pending"),
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

    @transition(field=status, source=Status.PENDING, target=Status.ACCEPTED)
    def _accept(self) -> None:
        """The student accepts; the service creates the agreement."""

    @transition(field=status, source=Status.PENDING, target=Status.DECLINED)
    def _decline(self) -> None:
        """The student declines."""

    @transition(field=status, source=Status.PENDING, target=Status.EXPIRED)
    def _expire(self) -> None:
        """The deadline passed without an answer."""


def signed_destination_id() -> int:
    """The id of 毕业去向 10 (签就业协议形式就业), the destination of every signed agreement."""
    return Code.objects.get(table=CodeTable.DESTINATION, code="10").pk


def new_verify_token() -> str:
    return secrets.token_urlsafe(32)


# Agreement states in which a student counts as signed (or about to be).
ACTIVE_AGREEMENT_STATES = ("college_review", "school_review", "signed")


class AgreementQuerySet(models.QuerySet["Agreement"]):
    def active(self) -> "AgreementQuerySet":
        return self.filter(status__in=ACTIVE_AGREEMENT_STATES)

    def awaiting_review_by(self, user) -> "AgreementQuerySet":
        """The agreements in this reviewer's stage."""
        if user.is_college_reviewer:
            return self.filter(status=Agreement.Status.COLLEGE_REVIEW, college_id=user.college_id)
        if user.is_school_reviewer:
            return self.filter(status=Agreement.Status.SCHOOL_REVIEW, school_id=user.school_id)
        if user.is_platform_admin:
            return self.filter(status__in=["college_review", "school_review"])
        return self.none()


class Agreement(FSMModelMixin, Terms):
    """就业协议: made when a student accepts an invitation, signed after two reviews."""

    class Status(models.TextChoices):
        COLLEGE_REVIEW = "college_review", _("Awaiting college review")
        SCHOOL_REVIEW = "school_review", _("Awaiting school review")
        SIGNED = "signed", _("Signed successfully")
        FAILED = "failed", _("Signing failed")
        TERMINATED = "terminated", _("Terminated")

    invitation = models.OneToOneField(
        Invitation, on_delete=models.PROTECT, related_name="agreement"
    )
    student = models.ForeignKey(
        Student, verbose_name=_("student"), on_delete=models.PROTECT, related_name="agreements"
    )
    employer = models.ForeignKey(
        Employer, verbose_name=_("employer"), on_delete=models.PROTECT, related_name="agreements"
    )
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
        _("agreement number (协议书编号)"), max_length=20, unique=True, null=True, blank=True
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

    def review_entry(self) -> dict | None:
        stage = {"college_review": "college", "school_review": "school"}.get(self.status)
        if stage is None:
            return None
        return self.student.review_fields() | {
            "kind": "online",
            "stage": stage,
            "school_id": self.school_id,
            "college_id": self.college_id,
            "destination_id": signed_destination_id(),
            "unit_name": self.employer.name,
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


class TerminationQuerySet(models.QuerySet["Termination"]):
    def awaiting_review_by(self, user) -> "TerminationQuerySet":
        if user.is_college_reviewer:
            return self.filter(
                status=Termination.Status.COLLEGE_REVIEW, agreement__college_id=user.college_id
            )
        if user.is_school_reviewer:
            return self.filter(
                status=Termination.Status.SCHOOL_REVIEW, agreement__school_id=user.school_id
            )
        if user.is_platform_admin:
            return self.filter(status__in=["college_review", "school_review"])
        return self.none()


class Termination(FSMModelMixin, models.Model):
    """申请解约: one party asks, the other agrees, then college and school review."""

    class Party(models.TextChoices):
        STUDENT = "student", _("Student")
        EMPLOYER = "employer", _("Employer")

    class Status(models.TextChoices):
        AWAITING_PARTY = "awaiting_party", _("Awaiting the other party")
        REFUSED = "refused", _("Refused by the other party")
        COLLEGE_REVIEW = "college_review", _("Awaiting college review")
        SCHOOL_REVIEW = "school_review", _("Awaiting school review")
        APPROVED = "approved", _("Terminated")
        REJECTED = "rejected", _("Not approved")

    agreement = models.ForeignKey(
        Agreement,
        verbose_name=_("agreement"),
        on_delete=models.PROTECT,
        related_name="terminations",
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
    comment = models.TextField(_("latest comment"), blank=True)
    created_at = models.DateTimeField(_("requested at"), auto_now_add=True)
    submitted_at = models.DateTimeField(_("waiting since"), default=timezone.now)

    objects = TerminationQuerySet.as_manager()

    class Meta:
        verbose_name = _("termination request")
        verbose_name_plural = _("termination requests")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["agreement"],
                condition=Q(status__in=["awaiting_party", "college_review", "school_review"]),
                name="one_open_termination_per_agreement",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.agreement} · {self.get_status_display()}"

    @property
    def other_party(self) -> str:
        return (
            self.Party.EMPLOYER if self.requested_by == self.Party.STUDENT else self.Party.STUDENT
        )

    def review_entry(self) -> dict | None:
        stage = {"college_review": "college", "school_review": "school"}.get(self.status)
        if stage is None:
            return None
        agreement = self.agreement
        return agreement.student.review_fields() | {
            "kind": "termination",
            "stage": stage,
            "school_id": agreement.school_id,
            "college_id": agreement.college_id,
            "destination_id": signed_destination_id(),
            "unit_name": agreement.employer.name,
            "waiting_since": self.submitted_at,
        }

    @transition(field=status, source=Status.AWAITING_PARTY, target=Status.COLLEGE_REVIEW)
    def _agree(self) -> None:
        """The other party agrees; the college reviews next."""

    @transition(field=status, source=Status.AWAITING_PARTY, target=Status.REFUSED)
    def _refuse(self) -> None:
        """The other party refuses; the agreement stays in force."""

    @transition(field=status, source=Status.COLLEGE_REVIEW, target=Status.SCHOOL_REVIEW)
    def _college_approve(self) -> None:
        """The college approves the termination."""

    @transition(field=status, source=Status.SCHOOL_REVIEW, target=Status.APPROVED)
    def _school_approve(self) -> None:
        """The school approves: the agreement becomes 已解约."""

    @transition(
        field=status, source=[Status.COLLEGE_REVIEW, Status.SCHOOL_REVIEW], target=Status.REJECTED
    )
    def _reject(self) -> None:
        """Not approved; the agreement stays in force."""


class PaperForm(models.TextChoices):
    BEIJING = "beijing", _("北京地区普通高校毕业生就业协议书")
    OTHER = "other", _("Another province's agreement form")


# The other-destination kinds (四): each maps to its official 毕业去向 code, has its own
# required fields and a proof document. Fields: see Registration's "other" group.
OTHER_KINDS = {
    "labour_contract": (
        "11",
        _("Labour contract (签劳动合同形式就业)"),
        ["org_name", "org_uscc", "start_date"],
    ),
    "other_employment": (
        "12",
        _("Other employment (聘用证明, 公招接收函, 士官, 医学规培, 国际组织, 出国出境工作)"),
        ["subtype", "org_name"],
    ),
    "research_assistant": (
        "27",
        _("Research or management assistant (科研助理、管理助理)"),
        ["org_name"],
    ),
    "conscript": ("46", _("Conscript (应征义务兵)"), ["org_name"]),
    "national_project": (
        "50",
        _("National grassroots project (国家基层项目)"),
        ["subtype", "org_name"],
    ),
    "local_project": ("51", _("Local grassroots project (地方基层项目)"), ["subtype", "org_name"]),
    "entrepreneur": ("75", _("Entrepreneurship (自主创业)"), ["org_name", "org_uscc", "role"]),
    "freelance": ("76", _("Freelance (自由职业)"), ["subtype"]),
    "further_study": (
        "80",
        _("Further study (升学: 专升本, 第二学位, 研究生)"),
        ["subtype", "institution", "program"],
    ),
    "study_abroad": ("85", _("Study abroad (出国出境深造)"), ["institution", "country"]),
}

# Registration states in which the submission is with a reviewer.
IN_REVIEW = ("college_review", "school_review", "scan_college_review", "scan_school_review")


def _is_offline(registration) -> bool:
    """An offline e-agreement goes on to the stamped-scan stage after its information review."""
    return registration.path == "offline"


def _is_not_offline(registration) -> bool:
    return registration.path != "offline"


class RegistrationQuerySet(models.QuerySet["Registration"]):
    def awaiting_review_by(self, user) -> "RegistrationQuerySet":
        if user.is_college_reviewer:
            return self.filter(
                status__in=["college_review", "scan_college_review"], college_id=user.college_id
            )
        if user.is_school_reviewer:
            return self.filter(
                status__in=["school_review", "scan_school_review"], school_id=user.school_id
            )
        if user.is_platform_admin:
            return self.filter(status__in=IN_REVIEW)
        return self.none()


class Registration(FSMModelMixin, Terms):
    """Destination registration by paths 二 (offline e-agreement), 三 (paper agreement)
    and 四 (other destinations). Online signing (一) is ``Agreement``.

    Drafts (暂存) skip validation, so every content field may be blank here; the
    forms require what each path needs when the student submits.
    """

    class Path(models.TextChoices):
        OFFLINE = "offline", _("Offline e-agreement (线下签约)")
        PAPER = "paper", _("Paper tripartite agreement (纸质三方)")
        OTHER = "other", _("Other destination (其他去向)")

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft (暂存)")
        RETURNED = "returned", _("Returned for changes (退回修改)")
        COLLEGE_REVIEW = "college_review", _("Awaiting college review")
        SCHOOL_REVIEW = "school_review", _("Awaiting school review")
        INFO_APPROVED = "info_approved", _("Agreement information approved (就业协议审核通过)")
        SCAN_COLLEGE_REVIEW = "scan_college_review", _("Stamped agreement: awaiting college review")
        SCAN_SCHOOL_REVIEW = "scan_school_review", _("Stamped agreement: awaiting school review")
        SCAN_RETURNED = "scan_returned", _("Stamped agreement returned (退回修改)")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Not approved (审核不通过)")
        WITHDRAWN = "withdrawn", _("Withdrawn (已撤回)")
        VOIDED = "voided", _("Void (已作废)")

    student = models.ForeignKey(
        Student, verbose_name=_("student"), on_delete=models.PROTECT, related_name="registrations"
    )
    school = models.ForeignKey(School, verbose_name=_("school"), on_delete=models.PROTECT)
    college = models.ForeignKey(College, verbose_name=_("college"), on_delete=models.PROTECT)
    path = models.CharField(_("path"), max_length=10, choices=Path.choices)
    status = FSMField(
        _("status"), max_length=20, choices=Status.choices, default=Status.DRAFT, protected=True
    )
    destination = models.ForeignKey(
        Code,
        verbose_name=_("graduate destination"),
        on_delete=models.PROTECT,
        related_name="+",
        limit_choices_to={"table": CodeTable.DESTINATION},
    )

    # The unit (二, 三; and the organisation of some other destinations).
    unit_name = models.CharField(_("unit name"), max_length=100, blank=True)
    unit_uscc = models.CharField(_("unified social credit code"), max_length=18, blank=True)
    unit_nature = models.ForeignKey(
        Code,
        verbose_name=_("unit nature"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        limit_choices_to={"table": CodeTable.UNIT_NATURE},
    )
    unit_industry = models.ForeignKey(
        Code,
        verbose_name=_("industry"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        limit_choices_to={"table": CodeTable.INDUSTRY},
    )
    unit_region = models.ForeignKey(
        Region,
        verbose_name=_("address (region)"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    unit_address = models.CharField(_("detailed address"), max_length=200, blank=True)
    contact_name = models.CharField(_("contact person"), max_length=50, blank=True)
    contact_phone = models.CharField(_("contact phone"), max_length=30, blank=True)
    contact_mobile = models.CharField(_("contact mobile"), max_length=11, blank=True)
    contact_email = models.EmailField(_("contact e-mail"), blank=True)

    # Terms may be blank in a draft.
    job_category = models.ForeignKey(  # type: ignore[assignment]
        Code,
        verbose_name=_("job category"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        limit_choices_to={"table": CodeTable.JOB_CATEGORY},
    )
    position = models.CharField(_("position"), max_length=100, blank=True)
    work_location = models.CharField(_("work location"), max_length=200, blank=True)
    hukou = models.CharField(
        _("residence and file (户档)"), max_length=10, choices=Hukou.choices, blank=True
    )

    # 三: the paper agreement.
    paper_form = models.CharField(
        _("paper form"), max_length=10, choices=PaperForm.choices, blank=True
    )
    paper_number = models.CharField(_("paper agreement number"), max_length=40, blank=True)
    paper_signed_on = models.DateField(_("signing date"), null=True, blank=True)

    # 四: other destinations.
    kind = models.CharField(
        _("destination type"),
        max_length=30,
        blank=True,
        choices=[(k, v[1]) for k, v in OTHER_KINDS.items()],
    )
    subtype = models.CharField(_("sub-type or project"), max_length=100, blank=True)
    org_name = models.CharField(_("organisation"), max_length=100, blank=True)
    org_uscc = models.CharField(_("organisation's credit code"), max_length=18, blank=True)
    role = models.CharField(_("position held"), max_length=50, blank=True)
    institution = models.CharField(_("institution"), max_length=100, blank=True)
    program = models.CharField(_("major or programme"), max_length=100, blank=True)
    country = models.CharField(_("country or region"), max_length=50, blank=True)
    start_date = models.DateField(_("start date"), null=True, blank=True)
    end_date = models.DateField(_("end date"), null=True, blank=True)

    proof = models.FileField(_("proof document"), upload_to=document_path, blank=True)
    scan = models.FileField(_("stamped agreement scan"), upload_to=document_path, blank=True)
    comment = models.TextField(_("reviewer's comment"), blank=True)
    number = models.CharField(
        _("agreement number (协议书编号)"), max_length=20, unique=True, null=True, blank=True
    )
    verify_token = models.CharField(
        max_length=43, unique=True, default=new_verify_token, editable=False
    )
    pdf = models.FileField(upload_to="agreements/", blank=True, editable=False)
    pdf_sha256 = models.CharField(max_length=64, blank=True, editable=False)
    content_sha256 = models.CharField(max_length=64, blank=True, editable=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    submitted_at = models.DateTimeField(_("waiting since"), null=True, blank=True)
    signed_at = models.DateTimeField(_("approved at"), null=True, blank=True)

    objects = RegistrationQuerySet.as_manager()

    class Meta:
        verbose_name = _("destination registration")
        verbose_name_plural = _("destination registrations")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["status", "college", "submitted_at"]),
            models.Index(fields=["status", "school", "submitted_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.get_path_display()} · {self.student}"

    @property
    def is_offline(self) -> bool:
        return self.path == self.Path.OFFLINE

    @property
    def editable(self) -> bool:
        return self.status in (self.Status.DRAFT, self.Status.RETURNED)

    def review_entry(self) -> dict | None:
        stage = {
            "college_review": "college",
            "scan_college_review": "college",
            "school_review": "school",
            "scan_school_review": "school",
        }.get(self.status)
        if stage is None:
            return None
        kind = "offline_scan" if self.status.startswith("scan_") else self.path
        return self.student.review_fields() | {
            "kind": kind,
            "stage": stage,
            "school_id": self.school_id,
            "college_id": self.college_id,
            "destination_id": self.destination_id,
            "unit_name": self.unit_name or self.org_name or self.institution,
            "waiting_since": self.submitted_at or self.created_at,
        }

    @transition(field=status, source=[Status.DRAFT, Status.RETURNED], target=Status.COLLEGE_REVIEW)
    def _submit(self) -> None:
        """提交: to the college."""

    @transition(field=status, source=Status.COLLEGE_REVIEW, target=Status.SCHOOL_REVIEW)
    def _college_approve(self) -> None:
        """The college approves the information."""

    @transition(
        field=status,
        source=Status.SCHOOL_REVIEW,
        target=Status.INFO_APPROVED,
        conditions=[_is_offline],
    )
    def _approve_information(self) -> None:
        """就业协议审核通过: the e-agreement can be printed and stamped."""

    @transition(
        field=status,
        source=Status.SCHOOL_REVIEW,
        target=Status.APPROVED,
        conditions=[_is_not_offline],
    )
    def _school_approve(self) -> None:
        """The school approves a paper agreement or other destination."""

    @transition(
        field=status, source=[Status.COLLEGE_REVIEW, Status.SCHOOL_REVIEW], target=Status.RETURNED
    )
    def _return(self) -> None:
        """退回修改: the student edits and submits again."""

    @transition(
        field=status,
        source=[Status.INFO_APPROVED, Status.SCAN_RETURNED],
        target=Status.SCAN_COLLEGE_REVIEW,
    )
    def _upload_scan(self) -> None:
        """The stamped agreement comes back (本人回传 or 用人单位协助回传)."""

    @transition(field=status, source=Status.SCAN_COLLEGE_REVIEW, target=Status.SCAN_SCHOOL_REVIEW)
    def _scan_college_approve(self) -> None:
        """The college accepts the stamped scan."""

    @transition(field=status, source=Status.SCAN_SCHOOL_REVIEW, target=Status.APPROVED)
    def _scan_school_approve(self) -> None:
        """The school accepts the stamped scan: 签约成功."""

    @transition(
        field=status,
        source=[Status.SCAN_COLLEGE_REVIEW, Status.SCAN_SCHOOL_REVIEW],
        target=Status.SCAN_RETURNED,
    )
    def _return_scan(self) -> None:
        """退回修改 of the scan: upload again."""

    @transition(field=status, source=list(IN_REVIEW), target=Status.REJECTED)
    def _reject(self) -> None:
        """审核不通过: void; the student fills a new application."""

    @transition(
        field=status,
        source=[Status.RETURNED, Status.INFO_APPROVED, Status.SCAN_RETURNED],
        target=Status.WITHDRAWN,
    )
    def _withdraw(self) -> None:
        """The student gives up a returned or unstamped application; the path is free again."""

    @transition(field=status, source=Status.APPROVED, target=Status.VOIDED)
    def _void(self) -> None:
        """已作废: an approved other destination replaced by an approved signing."""


class ReturnLink(models.Model):
    """用人单位协助回传: a one-time, expiring link e-mailed to the unit's contact."""

    registration = models.ForeignKey(
        Registration, on_delete=models.CASCADE, related_name="return_links"
    )
    token = models.CharField(max_length=43, unique=True, default=new_verify_token)
    email = models.EmailField()
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.registration_id} → {self.email}"

    @property
    def usable(self) -> bool:
        return self.used_at is None and self.expires_at > timezone.now()
