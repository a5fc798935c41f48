"""Registrations by paths 二, 三 and 四, and the unit's one-time return link."""

from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_fsm import FSMField, FSMModelMixin, transition

from agreements.terms import Hukou, Terms, new_verify_token
from destreg.audit.stages import COLLEGE, SCHOOL, ReviewStages
from destreg.lib.uploads import document_path
from destreg.reference.models import CodeTable, College, Region, School, code_field
from students.models import Student


class PaperForm(models.TextChoices):
    BEIJING = (
        "beijing",
        _("Employment agreement of graduates of Beijing higher-education institutions"),
    )
    OTHER = "other", _("Another province's agreement form")


# The other-destination kinds (四), each with its official 毕业去向 code. What each asks for
# (fields and proofs): OTHER_KIND_FIELDS in agreements/registrations/forms.py.
OTHER_KINDS = {
    "labour_contract": ("11", _("Labour contract")),
    "other_employment": (
        "12",
        _(
            "Other employment (employment certificate, public recruitment letter, "
            "non-commissioned officer, medical residency, international organisation, "
            "work abroad)"
        ),
    ),
    "research_assistant": ("27", _("Research or management assistant")),
    "conscript": ("46", _("Conscript")),
    "national_project": ("50", _("National grassroots project")),
    "local_project": ("51", _("Local grassroots project")),
    "entrepreneur": ("75", _("Entrepreneurship")),
    "freelance": ("76", _("Freelance")),
    "further_study": ("80", _("Further study (top-up bachelor, second degree, graduate school)")),
    "study_abroad": ("85", _("Study abroad")),
}


def _is_offline(registration) -> bool:
    """An offline e-agreement goes on to the stamped-scan stage after its information review."""
    return registration.path == Registration.Path.OFFLINE


def _is_not_offline(registration) -> bool:
    return registration.path != Registration.Path.OFFLINE


def _has_agreement(registration) -> bool:
    """Paths 二 and 三 sign an agreement (which can be terminated); 四 does not."""
    return registration.path != Registration.Path.OTHER


class RegistrationStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    RETURNED = "returned", _("Returned for changes")
    COLLEGE_REVIEW = "college_review", _("Awaiting college review")
    SCHOOL_REVIEW = "school_review", _("Awaiting school review")
    INFO_APPROVED = "info_approved", _("Agreement information approved")
    SCAN_COLLEGE_REVIEW = "scan_college_review", _("Stamped agreement: awaiting college review")
    SCAN_SCHOOL_REVIEW = "scan_school_review", _("Stamped agreement: awaiting school review")
    SCAN_RETURNED = "scan_returned", _("Stamped agreement returned")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Not approved")
    WITHDRAWN = "withdrawn", _("Withdrawn")
    VOIDED = "voided", _("Void")
    TERMINATED = "terminated", _("Terminated")


REGISTRATION_REVIEW = ReviewStages(
    {
        RegistrationStatus.COLLEGE_REVIEW: COLLEGE,
        RegistrationStatus.SCHOOL_REVIEW: SCHOOL,
        RegistrationStatus.SCAN_COLLEGE_REVIEW: COLLEGE,
        RegistrationStatus.SCAN_SCHOOL_REVIEW: SCHOOL,
    },
    told=_("A destination registration awaits your review."),
    told_in={RegistrationStatus.SCAN_COLLEGE_REVIEW: _("A stamped agreement awaits your review.")},
)
# The stamped scan's review (offline e-agreements): its own kind in the review queue.
SCAN_REVIEW = (RegistrationStatus.SCAN_COLLEGE_REVIEW, RegistrationStatus.SCAN_SCHOOL_REVIEW)
# Waiting for the unit's stamp: the student (or the unit, through a link) uploads the scan.
AWAITING_SCAN = (RegistrationStatus.INFO_APPROVED, RegistrationStatus.SCAN_RETURNED)
# Before the information review has passed: an offline e-agreement cannot be printed yet.
BEFORE_INFORMATION_APPROVAL = (
    RegistrationStatus.DRAFT,
    RegistrationStatus.RETURNED,
    RegistrationStatus.COLLEGE_REVIEW,
    RegistrationStatus.SCHOOL_REVIEW,
    RegistrationStatus.REJECTED,
)
# What the student may withdraw: returned, or never stamped (the path is then free again).
WITHDRAWABLE = (RegistrationStatus.RETURNED, *AWAITING_SCAN)


class Registration(FSMModelMixin, Terms):
    """Destination registration by paths 二 (offline e-agreement), 三 (paper agreement)
    and 四 (other destinations). Online signing (一) is ``Agreement``.

    Drafts (暂存) skip validation, so every content field may be blank here; the
    forms require what each path needs when the student submits.
    """

    class Path(models.TextChoices):
        OFFLINE = "offline", _("Offline signing")
        PAPER = "paper", _("Paper tripartite agreement")
        OTHER = "other", _("Other destination")

    Status = RegistrationStatus
    REVIEW = REGISTRATION_REVIEW

    student = models.ForeignKey(
        Student, verbose_name=_("student"), on_delete=models.PROTECT, related_name="registrations"
    )
    school = models.ForeignKey(School, verbose_name=_("school"), on_delete=models.PROTECT)
    college = models.ForeignKey(College, verbose_name=_("college"), on_delete=models.PROTECT)
    path = models.CharField(_("path"), max_length=10, choices=Path.choices)
    status = FSMField(
        _("status"), max_length=20, choices=Status.choices, default=Status.DRAFT, protected=True
    )
    destination = code_field(CodeTable.DESTINATION, _("graduate destination"))

    # The unit (二, 三; and the organisation of some other destinations).
    unit_name = models.CharField(_("unit name"), max_length=100, blank=True)
    unit_uscc = models.CharField(_("unified social credit code"), max_length=18, blank=True)
    unit_nature = code_field(CodeTable.UNIT_NATURE, _("unit nature"), null=True, blank=True)
    unit_industry = code_field(CodeTable.INDUSTRY, _("industry"), null=True, blank=True)
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
    job_category = code_field(CodeTable.JOB_CATEGORY, _("job category"), null=True, blank=True)  # type: ignore[assignment]
    position = models.CharField(_("position"), max_length=100, blank=True)
    work_location = models.CharField(_("work location"), max_length=200, blank=True)
    hukou = models.CharField(
        _("residence and file"), max_length=10, choices=Hukou.choices, blank=True
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
    # 出国出境: the names in the country's own language (or English), as the admission reads.
    institution_foreign = models.CharField(
        _("institution's foreign name"), max_length=200, blank=True
    )
    program_foreign = models.CharField(_("major's foreign name"), max_length=200, blank=True)
    country = code_field(CodeTable.COUNTRY, _("country or region"), null=True, blank=True)
    # A country typed as free text before the code table, that matched no entry of it: kept
    # so that nothing approved loses its value (the export prints it when ``country`` is empty).
    country_legacy = models.CharField(
        _("country or region as typed earlier"), max_length=50, blank=True, editable=False
    )
    start_date = models.DateField(_("start date"), null=True, blank=True)
    end_date = models.DateField(_("end date"), null=True, blank=True)
    # 自主创业 without a business licence: the online shop, shown by screenshots.
    shop_url = models.URLField(_("online shop address"), blank=True)

    proof = models.FileField(_("proof document"), upload_to=document_path, blank=True)
    # A type that needs two documents (自由职业: the signed statement and a proof of income).
    extra_proof = models.FileField(_("second proof document"), upload_to=document_path, blank=True)
    scan = models.FileField(_("stamped agreement scan"), upload_to=document_path, blank=True)
    # The stored proofs' SHA-256, written with the file (registration_save_draft; older rows:
    # manage.py fill_proof_digests): one file used for several graduates is a 核查 red flag.
    proof_sha256 = models.CharField(max_length=64, blank=True, editable=False, db_index=True)
    extra_proof_sha256 = models.CharField(max_length=64, blank=True, editable=False, db_index=True)
    comment = models.TextField(_("reviewer's comment"), blank=True)
    number = models.CharField(
        _("agreement number"), max_length=20, unique=True, null=True, blank=True
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

    def get_absolute_url(self) -> str:
        return reverse("agreements:registration", args=[self.pk])

    @property
    def is_offline(self) -> bool:
        return self.path == self.Path.OFFLINE

    @property
    def sent_back(self) -> bool:
        """退回修改: the information or the stamped scan came back to the student."""
        return self.status in (self.Status.RETURNED, self.Status.SCAN_RETURNED)

    @property
    def is_rejected(self) -> bool:
        return self.status == self.Status.REJECTED

    @property
    def editable(self) -> bool:
        return self.status in (self.Status.DRAFT, self.Status.RETURNED)

    def review_entry(self) -> dict | None:
        stage = self.REVIEW.stage_of(self)
        if stage is None:
            return None
        kind = "offline_scan" if self.status in SCAN_REVIEW else self.path
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
        source=list(AWAITING_SCAN),
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
        source=list(SCAN_REVIEW),
        target=Status.SCAN_RETURNED,
    )
    def _return_scan(self) -> None:
        """退回修改 of the scan: upload again."""

    @transition(field=status, source=list(REGISTRATION_REVIEW.statuses()), target=Status.REJECTED)
    def _reject(self) -> None:
        """审核不通过: void; the student fills a new application."""

    @transition(
        field=status,
        source=list(WITHDRAWABLE),
        target=Status.WITHDRAWN,
    )
    def _withdraw(self) -> None:
        """The student gives up a returned or unstamped application; the path is free again."""

    @transition(field=status, source=Status.APPROVED, target=Status.VOIDED)
    def _void(self) -> None:
        """已作废: an approved other destination replaced by an approved signing, or
        given up through an approved 作废申请."""

    @transition(
        field=status, source=Status.APPROVED, target=Status.TERMINATED, conditions=[_has_agreement]
    )
    def _terminate(self) -> None:
        """已解约: an approved termination ends an offline e-agreement or paper agreement."""

    @transition(field=status, source=Status.APPROVED, target=Status.RETURNED)
    def _found_untrue(self) -> None:
        """核查不实: verification found the approved destination not true; it goes back to
        the student to correct and submit again (退回修改)."""


class OneTimeLink(models.Model):
    """A one-time, expiring link e-mailed to a unit without an account."""

    token = models.CharField(max_length=43, unique=True, default=new_verify_token)
    email = models.EmailField()
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        abstract = True

    @property
    def usable(self) -> bool:
        return self.used_at is None and self.expires_at > timezone.now()


class ReturnLink(OneTimeLink):
    """用人单位协助回传: a one-time, expiring link e-mailed to the unit's contact."""

    registration = models.ForeignKey(
        Registration, on_delete=models.CASCADE, related_name="return_links"
    )

    def __str__(self) -> str:
        return f"{self.registration_id} → {self.email}"


class TerminationLink(OneTimeLink):
    """申请解约 by or to a unit without an account: with ``termination`` the unit answers the
    student's request; without, it asks for termination itself."""

    registration = models.ForeignKey(
        Registration, on_delete=models.CASCADE, related_name="termination_links"
    )
    termination = models.ForeignKey(
        "agreements.Termination",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="links",
    )

    def __str__(self) -> str:
        return f"{self.registration_id} → {self.email}"
