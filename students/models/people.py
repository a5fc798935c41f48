"""Graduates: their accounts, their 学籍 records and requests to fix them.

A ``RegistryRecord`` is what the school reports about a graduate; a
``Student`` is the person's account. The two are linked when the student
confirms, on first sign-in, that the record is theirs.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from django_fsm import FSMField, FSMModelMixin, transition

from destreg.audit.stages import SCHOOL, ReviewStages
from destreg.lib.pii import (
    decrypt_id_number,
    encrypt_id_number,
    id_number_digest,
    mask_email,
    mask_id_number,
    mask_mobile,
)
from destreg.reference import cache as references
from destreg.reference.models import Code, CodeTable, College, Major, Region, School, code_field


def current_graduation_year() -> int:
    """The graduating class the system registers now (settings.GRADUATION_YEAR or this year)."""
    return settings.GRADUATION_YEAR or timezone.localdate().year


class Gender(models.IntegerChoices):
    MALE = 1, _("Male")
    FEMALE = 2, _("Female")


class StudyForm(models.TextChoices):
    """学习形式. Stored by meaning: the national standard's codes for it were not confirmed,
    so the exports print the Chinese name."""

    FULL_TIME = "full_time", _("Full-time")
    PART_TIME = "part_time", _("Part-time")


class IdNumberMixin(models.Model):
    """An encrypted 身份证号 with a keyed digest for lookup."""

    id_number_cipher = models.TextField(editable=False)
    id_number_digest = models.CharField(max_length=64, editable=False, db_index=True)

    class Meta:
        abstract = True

    @property
    def id_number(self) -> str:
        return decrypt_id_number(self.id_number_cipher) if self.id_number_cipher else ""

    @id_number.setter
    def id_number(self, value: str) -> None:
        self.id_number_cipher = encrypt_id_number(value)
        self.id_number_digest = id_number_digest(value)

    @property
    def id_number_masked(self) -> str:
        return mask_id_number(self.id_number)


class RegistryRecordQuerySet(models.QuerySet["RegistryRecord"]):
    def current(self) -> "RegistryRecordQuerySet":
        return self.filter(graduation_year=current_graduation_year())

    def with_id_number(self, id_number: str) -> "RegistryRecordQuerySet":
        return self.filter(id_number_digest=id_number_digest(id_number))

    def visible_to(self, user) -> "RegistryRecordQuerySet":
        """The records a reviewer looks after: their college's, or their school's."""
        if user.is_platform_admin:
            return self
        if user.is_school_reviewer:
            return self.filter(school_id=user.school_id)
        if user.is_college_reviewer:
            return self.filter(school_id=user.school_id, college_id=user.college_id)
        return self.none()

    def for_display(self) -> "RegistryRecordQuerySet":
        """Records with their school, college, major and codes filled in from each process's
        reference cache (destreg/reference/cache.py) rather than joined in SQL."""
        queryset = self._chain()  # type: ignore[attr-defined]
        queryset._iterable_class = _WithReferences
        return queryset


class _WithReferences(models.query.ModelIterable):
    def __iter__(self):
        yield from references.attach(super().__iter__())


class RegistryRecord(IdNumberMixin):
    """A graduate's registry entry (学籍/生源信息), imported by the school."""

    school = models.ForeignKey(School, verbose_name=_("school"), on_delete=models.PROTECT)
    student_no = models.CharField(_("student number"), max_length=30)
    name = models.CharField(pgettext_lazy("person", "name"), max_length=50)
    gender = models.PositiveSmallIntegerField(_("gender"), choices=Gender.choices)
    ethnicity = code_field(CodeTable.ETHNICITY, _("ethnicity"))
    political_status = code_field(CodeTable.POLITICAL_STATUS, _("political status"))
    college = models.ForeignKey(College, verbose_name=_("college"), on_delete=models.PROTECT)
    major = models.ForeignKey(Major, verbose_name=_("major"), on_delete=models.PROTECT)
    education_level = code_field(CodeTable.EDUCATION_LEVEL, _("education level"))
    study_mode = code_field(CodeTable.STUDY_MODE, _("training mode"), null=True, blank=True)
    # 委培单位: the unit that sponsors a 委培 (commissioned) student's training.
    sponsor_unit = models.CharField(_("sponsoring unit"), max_length=100, blank=True)
    study_form = models.CharField(
        _("form of study"), max_length=10, choices=StudyForm.choices, blank=True
    )
    enrolment_date = models.DateField(_("enrolment date"), null=True, blank=True)
    # 考生号: the entrance examination's candidate number (14 digits for 高考, 15 for 研招).
    candidate_no = models.CharField(_("candidate number"), max_length=20, blank=True)
    birth_date = models.DateField(_("date of birth"), null=True, blank=True)
    graduation_date = models.DateField(_("graduation date"))
    graduation_year = models.PositiveSmallIntegerField(_("graduation year"))
    origin_region = models.ForeignKey(
        Region,
        verbose_name=_("place of origin"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    urban_rural = code_field(
        CodeTable.URBAN_RURAL, _("urban or rural origin"), null=True, blank=True
    )
    # The contacts the school knows: the first-login check sends its one-time code to one of
    # them, so that knowing a name and an ID number is not enough to claim the record.
    mobile = models.CharField(_("mobile"), max_length=11, blank=True)
    email = models.EmailField(_("e-mail"), blank=True)
    # The registered 毕业去向, written by the service that approves a destination.
    destination = code_field(
        CodeTable.DESTINATION, _("graduate destination"), null=True, blank=True, editable=False
    )
    destination_at = models.DateTimeField(_("destination registered at"), null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = RegistryRecordQuerySet.as_manager()

    class Meta:
        verbose_name = _("registry record")
        verbose_name_plural = _("registry records")
        ordering = ["school", "student_no"]
        constraints = [
            models.UniqueConstraint(fields=["school", "student_no"], name="record_unique_number"),
            # A graduate has one record per graduating class: with two, whoever knew the name
            # and ID number could confirm whichever record's contacts they control.
            models.UniqueConstraint(
                fields=["graduation_year", "id_number_digest"],
                name="one_record_per_id_number_and_year",
            ),
        ]
        indexes = [
            models.Index(fields=["school", "graduation_year", "college"]),
        ]

    def __str__(self) -> str:
        return f"{self.student_no} {self.name}"

    @property
    def mobile_masked(self) -> str:
        return mask_mobile(self.mobile)

    @property
    def email_masked(self) -> str:
        return mask_email(self.email)


# The registry fields a student may ask to correct through 信息更新.
UPDATABLE_FIELDS = ("ethnicity", "political_status", "origin_region", "urban_rural", "study_mode")

# Registry fields that hold a national code, and the table each code comes from.
CODE_FIELDS = {
    "ethnicity": CodeTable.ETHNICITY,
    "political_status": CodeTable.POLITICAL_STATUS,
    "education_level": CodeTable.EDUCATION_LEVEL,
    "study_mode": CodeTable.STUDY_MODE,
    "urban_rural": CodeTable.URBAN_RURAL,
}


class BindingMethod(models.TextChoices):
    """How an account proved it belongs to the graduate of its registry record."""

    CODE = "code", _("One-time code sent to the registry's phone or e-mail")
    ACTIVATION = "activation", _("Activation code issued by the college")
    SSO = "sso", _("School single sign-on")
    IMPORT = "import", _("Registry import request approved by the school")


class Student(IdNumberMixin):
    """A graduate's account profile; ``record`` is set once they confirm their registry.

    Until then the account reserves nothing: several unconfirmed accounts may carry the same
    ID number, and only a confirmed one owns it (``one_confirmed_account_per_id_number``).
    """

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="student"
    )
    real_name = models.CharField(_("real name"), max_length=50)
    mobile = models.CharField(_("mobile"), max_length=11)
    record = models.OneToOneField(
        RegistryRecord,
        verbose_name=_("registry record"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="student",
    )
    confirmed_at = models.DateTimeField(_("registry confirmed at"), null=True, blank=True)
    confirmed_via = models.CharField(
        _("registry confirmed by"), max_length=10, choices=BindingMethod.choices, blank=True
    )

    class Meta:
        verbose_name = _("student")
        verbose_name_plural = _("students")
        constraints = [
            models.UniqueConstraint(
                fields=["id_number_digest"],
                condition=Q(confirmed_at__isnull=False),
                name="one_confirmed_account_per_id_number",
            ),
            models.CheckConstraint(
                name="confirmed_student_has_record",
                condition=Q(confirmed_at__isnull=True) | Q(record__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return self.real_name

    @property
    def is_confirmed(self) -> bool:
        return self.confirmed_at is not None

    def review_fields(self) -> dict:
        """What the review queue shows and filters on about this student."""
        record = self.record
        return {
            "student_name": self.real_name,
            "student_no": record.student_no if record else "",
            "id_last4": self.id_number[-4:],
            "major_id": record.major_id if record else None,
            "education_level_id": record.education_level_id if record else None,
        }


class RegistryCodeQuerySet(models.QuerySet["RegistryCode"]):
    def live(self) -> "RegistryCodeQuerySet":
        """Codes that may still be entered: not used, voided, expired or out of tries."""
        return self.filter(
            used_at__isnull=True,
            voided_at__isnull=True,
            expires_at__gt=timezone.now(),
            attempts__lt=RegistryCode.MAX_ATTEMPTS,
        )


class RegistryCode(models.Model):
    """A one-time secret that proves an account belongs to a record's graduate.

    A *sent* code (6 digits) goes to the phone or e-mail the school imported, for one account
    that asked for it; an *activation* code is issued by a college reviewer for a record with
    no contact and handed to the graduate. Only a keyed hash is stored.
    """

    MAX_ATTEMPTS = 5

    class Kind(models.TextChoices):
        SENT = "sent", _("One-time code")
        ACTIVATION = "activation", _("Activation code")

    class Channel(models.TextChoices):
        SMS = "sms", _("Text message")
        EMAIL = "email", _("E-mail")

    record = models.ForeignKey(RegistryRecord, on_delete=models.CASCADE, related_name="codes")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    channel = models.CharField(max_length=5, choices=Channel.choices, blank=True)
    # A sent code is good only for the account it was sent for.
    student = models.ForeignKey(
        Student, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    code_hash = models.CharField(max_length=64, editable=False)
    attempts = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    voided_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    client_ip = models.GenericIPAddressField(null=True, blank=True)

    objects = RegistryCodeQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["record", "kind", "created_at"]),
            models.Index(fields=["client_ip", "created_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk}"


class RegistryRequestQuerySet(models.QuerySet["RegistryRequest"]):
    def pending(self) -> "RegistryRequestQuerySet":
        return self.filter(status=RegistryRequest.Status.SUBMITTED)


class RegistryRequestStatus(models.TextChoices):
    SUBMITTED = "submitted", _("Awaiting school review")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")


class RegistryRequest(FSMModelMixin, models.Model):
    """A student's 信息导入 (no record found) or 信息更新 (record wrong) request."""

    class Kind(models.TextChoices):
        IMPORT = "import", _("Registry import by request")
        UPDATE = "update", _("Registry update")

    Status = RegistryRequestStatus
    # The school decides; there is no college stage.
    REVIEW = ReviewStages({RegistryRequestStatus.SUBMITTED: SCHOOL})

    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    student = models.ForeignKey(
        Student, verbose_name=_("student"), on_delete=models.CASCADE, related_name="requests"
    )
    school = models.ForeignKey(School, verbose_name=_("school"), on_delete=models.PROTECT)
    status = FSMField(
        _("status"),
        max_length=20,
        choices=Status.choices,
        default=Status.SUBMITTED,
        protected=True,
    )
    # Import: every registry field, as codes. Update: only the corrected fields.
    data = models.JSONField(_("requested values"), default=dict)
    # Update: the registry values the approval replaced, so the request still reads right later.
    previous = models.JSONField(_("replaced values"), default=dict, blank=True)
    note = models.TextField(_("explanation"), blank=True)
    reason = models.TextField(_("reviewer's reason"), blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(_("submitted at"), auto_now_add=True)

    objects = RegistryRequestQuerySet.as_manager()

    class Meta:
        verbose_name = _("registry request")
        verbose_name_plural = _("registry requests")
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["student", "kind"],
                condition=Q(status=RegistryRequestStatus.SUBMITTED),
                name="one_open_registry_request_per_kind",
            ),
        ]
        indexes = [models.Index(fields=["school", "status", "created_at"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk}"

    def review_entry(self) -> dict | None:
        """The review-queue row while the school has to decide (see ReviewTask)."""
        stage = self.REVIEW.stage_of(self)
        if stage is None:
            return None
        fields = self.student.review_fields()
        if self.kind == self.Kind.IMPORT:
            level = Code.objects.filter(
                table=CodeTable.EDUCATION_LEVEL, code=self.data.get("education_level")
            ).first()
            fields |= {
                "student_no": self.data.get("student_no", ""),
                "major_id": self.data.get("major"),
                "education_level_id": level.pk if level else None,
            }
        college_id = (
            self.student.record.college_id if self.student.record else self.data.get("college")
        )
        return fields | {
            "kind": "registry_" + self.kind,
            "stage": stage,
            "school_id": self.school_id,
            "college_id": college_id,
            "destination_id": None,
            "unit_name": "",
            "waiting_since": self.created_at,
        }

    @transition(field=status, source=Status.SUBMITTED, target=Status.APPROVED)
    def _approve(self) -> None:
        """The school approves: the service applies the data."""

    @transition(field=status, source=Status.SUBMITTED, target=Status.REJECTED)
    def _reject(self) -> None:
        """The school rejects with a reason."""


class DestinationPath(models.TextChoices):
    """The four ways to register a destination (四选一)."""

    ONLINE = "online", _("Online signing")
    OFFLINE = "offline", _("Offline signing")
    PAPER = "paper", _("Paper tripartite agreement")
    OTHER = "other", _("Other destination")


class DestinationClaim(models.Model):
    """Which path holds a student's destination: at most one in progress and one approved.

    Every path's service takes a claim when a submission enters review and
    releases or approves it at the end, so the four paths exclude each other in
    the database, whichever tables they live in (students/destinations.py).
    """

    student = models.ForeignKey(Student, on_delete=models.CASCADE, related_name="claims")
    path = models.CharField(max_length=10, choices=DestinationPath.choices)
    object_id = models.PositiveBigIntegerField()
    approved = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["student"], condition=Q(approved=False), name="one_path_in_progress"
            ),
            models.UniqueConstraint(
                fields=["student"], condition=Q(approved=True), name="one_approved_path"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.student_id}: {self.path} #{self.object_id}"
