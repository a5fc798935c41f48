"""Graduates: their accounts, their 学籍 records and requests to fix them.

A ``RegistryRecord`` is what the school reports about a graduate; a
``Student`` is the person's account. The two are linked when the student
confirms, on first sign-in, that the record is theirs.
"""

from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from django_fsm import FSMField, FSMModelMixin, transition

from destreg.audit.stages import SCHOOL, ReviewStages
from destreg.lib.pii import (
    decrypt_id_number,
    decrypt_secret,
    encrypt_id_number,
    encrypt_secret,
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
    student_no = models.CharField(_("student number (学号)"), max_length=30)
    name = models.CharField(pgettext_lazy("person", "name"), max_length=50)
    gender = models.PositiveSmallIntegerField(_("gender"), choices=Gender.choices)
    ethnicity = code_field(CodeTable.ETHNICITY, _("ethnicity"))
    political_status = code_field(CodeTable.POLITICAL_STATUS, _("political status"))
    college = models.ForeignKey(College, verbose_name=_("college"), on_delete=models.PROTECT)
    major = models.ForeignKey(Major, verbose_name=_("major"), on_delete=models.PROTECT)
    education_level = code_field(CodeTable.EDUCATION_LEVEL, _("education level"))
    study_mode = code_field(CodeTable.STUDY_MODE, _("training mode"), null=True, blank=True)
    enrolment_date = models.DateField(_("enrolment date"), null=True, blank=True)
    graduation_date = models.DateField(_("graduation date"))
    graduation_year = models.PositiveSmallIntegerField(_("graduation year"))
    origin_region = models.ForeignKey(
        Region,
        verbose_name=_("place of origin (生源地)"),
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
        IMPORT = "import", _("Registry import (信息导入)")
        UPDATE = "update", _("Registry update (信息更新)")

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

    ONLINE = "online", _("Online signing (线上签约)")
    OFFLINE = "offline", _("Offline e-agreement (线下签约)")
    PAPER = "paper", _("Paper tripartite agreement (纸质三方)")
    OTHER = "other", _("Other destination (其他去向)")


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


class RegistryImportJob(models.Model):
    """A 学籍 file uploaded through the site, imported in the background (students/import_jobs.py).

    The stored upload holds ID numbers: it is deleted as soon as the job ends.
    """

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    school = models.ForeignKey(School, verbose_name=_("school"), on_delete=models.CASCADE)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    file = models.FileField(upload_to="imports/", blank=True)
    filename = models.CharField(max_length=255)
    valid_only = models.BooleanField(default=False)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    rows_read = models.PositiveIntegerField(default=0)
    imported = models.PositiveIntegerField(default=0)
    held = models.PositiveIntegerField(default=0)
    error_count = models.PositiveIntegerField(default=0)
    # The first rows' problems, as [{"line": n, "messages": [...]}]; error_count says how many.
    errors = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("registry import")
        verbose_name_plural = _("registry imports")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.filename} #{self.pk} ({self.status})"

    @property
    def finished(self) -> bool:
        return self.status in (self.Status.DONE, self.Status.FAILED)


class HeldRegistryChangeStatus(models.TextChoices):
    PENDING = "pending", _("Held back")
    APPLIED = "applied", _("Applied")
    DROPPED = "dropped", _("Dropped")


class HeldRegistryChange(FSMModelMixin, IdNumberMixin):
    """A re-import's new name or ID number for a record a graduate has already confirmed.

    The import keeps the confirmed identity and holds the new one here until a school
    reviewer applies it (the graduate then confirms again) or drops it
    (students/registry_changes.py). ``id_number_*`` hold the new ID number.
    """

    Status = HeldRegistryChangeStatus

    record = models.ForeignKey(
        RegistryRecord,
        verbose_name=_("registry record"),
        on_delete=models.CASCADE,
        related_name="held_changes",
    )
    name = models.CharField(pgettext_lazy("person", "name"), max_length=50)
    # The row's other values (code or text per field), as imported alongside the new identity.
    values = models.JSONField(_("other imported values"), default=dict, blank=True)
    job = models.ForeignKey(
        RegistryImportJob, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    filename = models.CharField(max_length=255, blank=True)
    imported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("imported at"), auto_now_add=True)
    status = FSMField(
        _("status"), max_length=10, choices=Status.choices, default=Status.PENDING, protected=True
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("held registry change")
        verbose_name_plural = _("held registry changes")
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["record"],
                condition=Q(status=HeldRegistryChangeStatus.PENDING),
                name="one_held_change_per_record",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.record_id}: {self.name} ({self.status})"

    @transition(field=status, source=Status.PENDING, target=Status.APPLIED)
    def _apply(self) -> None:
        """A school reviewer applies the new identity; the graduate confirms again."""

    @transition(field=status, source=Status.PENDING, target=Status.DROPPED)
    def _drop(self) -> None:
        """A school reviewer keeps the confirmed identity."""


SIGN_ON_URL_FIELDS = (
    "issuer",
    "authorization_endpoint",
    "token_endpoint",
    "userinfo_endpoint",
    "jwks_endpoint",
)
LOOPBACK_HOSTS = ("127.0.0.1", "::1", "localhost")


class SchoolSignOnQuerySet(models.QuerySet["SchoolSignOn"]):
    def enabled(self) -> "SchoolSignOnQuerySet":
        return self.filter(enabled=True)


class SchoolSignOn(models.Model):
    """A school's identity provider (统一身份认证), spoken to over OpenID Connect.

    A graduate who signs in there has proven who they are: the claim named
    ``student_no_claim`` carries their 学号, which with the school finds their
    current-year registry record (students/sso.py)."""

    class Algorithm(models.TextChoices):
        RS256 = "RS256", "RS256"
        RS384 = "RS384", "RS384"
        RS512 = "RS512", "RS512"
        ES256 = "ES256", "ES256"
        ES384 = "ES384", "ES384"
        HS256 = "HS256", _("HS256 (signed with the client secret)")

    school = models.OneToOneField(
        School, verbose_name=_("school"), on_delete=models.CASCADE, related_name="sign_on"
    )
    enabled = models.BooleanField(
        _("enabled"), default=False, help_text=_("Show the single sign-on link on the login page.")
    )
    issuer = models.URLField(
        _("issuer"), max_length=300, help_text=_("The provider's issuer (iss), exactly.")
    )
    authorization_endpoint = models.URLField(_("authorization endpoint"), max_length=300)
    token_endpoint = models.URLField(_("token endpoint"), max_length=300)
    userinfo_endpoint = models.URLField(_("userinfo endpoint"), max_length=300)
    jwks_endpoint = models.URLField(
        _("JWKS endpoint"),
        max_length=300,
        blank=True,
        help_text=_("Where the provider publishes its signing keys (jwks_uri)."),
    )
    client_id = models.CharField(_("client ID"), max_length=200)
    # Encrypted like the ID numbers (destreg/lib/pii.py); the admin never shows it back.
    client_secret_cipher = models.TextField(blank=True, editable=False)
    sign_algo = models.CharField(
        _("ID token signing algorithm"),
        max_length=10,
        choices=Algorithm.choices,
        default=Algorithm.RS256,
    )
    student_no_claim = models.CharField(
        _("student number claim"),
        max_length=100,
        default="sub",
        help_text=_("The claim that carries the student number (学号), e.g. sub or student_no."),
    )
    scopes = models.CharField(
        _("scopes"),
        max_length=200,
        default="openid",
        help_text=_("Space-separated; must include openid."),
    )
    use_pkce = models.BooleanField(_("use PKCE"), default=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = SchoolSignOnQuerySet.as_manager()

    class Meta:
        verbose_name = _("school single sign-on")
        verbose_name_plural = _("school single sign-on")
        ordering = ["school"]

    def __str__(self) -> str:
        return str(self.school)

    @property
    def client_secret(self) -> str:
        return decrypt_secret(self.client_secret_cipher) if self.client_secret_cipher else ""

    @client_secret.setter
    def client_secret(self, value: str) -> None:
        self.client_secret_cipher = encrypt_secret(value) if value else ""

    def clean(self) -> None:
        errors = {}
        if "openid" not in self.scopes.split():
            errors["scopes"] = _("The scopes must include openid.")
        if self.sign_algo != self.Algorithm.HS256 and not self.jwks_endpoint:
            errors["jwks_endpoint"] = _("Needed to check signatures with this algorithm.")
        for name in SIGN_ON_URL_FIELDS:
            url = urlsplit(getattr(self, name) or "")
            # The secret, codes and tokens travel there: only a test provider on this machine
            # may do without TLS.
            if url.scheme == "http" and url.hostname not in LOOPBACK_HOSTS:
                errors.setdefault(name, _("Use an https:// address."))
        if errors:
            raise ValidationError(errors)


class RegistryConflictQuerySet(models.QuerySet["RegistryConflict"]):
    def open(self) -> "RegistryConflictQuerySet":
        return self.filter(resolved_at__isnull=True)


class RegistryConflict(models.Model):
    """A school claimed a graduate whose ID number another school's record of that year has.

    Opened when an import row or a 信息导入 approval is refused for that reason
    (students/conflicts.py): the first import of a graduate must not decide who they are,
    since any school's staff could import them first with contacts of their choosing. While
    a case is open the holding record cannot be confirmed or bound; a platform admin checks
    with both schools, corrects or deletes the wrong record, and resolves the case.
    """

    class Source(models.TextChoices):
        IMPORT = "import", _("Registry file import")
        REQUEST = "request", _("信息导入 approval")

    graduation_year = models.PositiveSmallIntegerField(_("graduation year"))
    id_number_digest = models.CharField(max_length=64, editable=False, db_index=True)
    record = models.ForeignKey(
        RegistryRecord,
        verbose_name=_("holding record"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="conflicts",
    )
    # Kept apart from the record: the case stays readable once a wrong record is deleted.
    holding_school = models.ForeignKey(
        School, verbose_name=_("holding school"), on_delete=models.PROTECT, related_name="+"
    )
    holding_student_no = models.CharField(_("holding student number"), max_length=30)
    bound_when_claimed = models.BooleanField(_("record was bound when claimed"), default=False)
    claiming_school = models.ForeignKey(
        School, verbose_name=_("claiming school"), on_delete=models.PROTECT, related_name="+"
    )
    claimed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("claimed by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    source = models.CharField(_("how"), max_length=10, choices=Source.choices)
    job = models.ForeignKey(
        RegistryImportJob,
        verbose_name=_("import job"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    filename = models.CharField(_("file"), max_length=255, blank=True)
    request = models.ForeignKey(
        "RegistryRequest",
        verbose_name=_("信息导入 request"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("claimed at"), auto_now_add=True)
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("resolved by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    note = models.TextField(_("note"), blank=True)

    objects = RegistryConflictQuerySet.as_manager()

    class Meta:
        verbose_name = _("registry conflict")
        verbose_name_plural = _("registry conflicts")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["record", "claiming_school"],
                condition=Q(resolved_at__isnull=True),
                name="one_open_conflict_per_record_and_school",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.graduation_year} {self.holding_student_no} ({self.pk})"

    @property
    def is_open(self) -> bool:
        return self.resolved_at is None
