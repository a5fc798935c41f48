"""What a school's employment office runs on the registry: 学籍 file imports, the name and
ID changes a re-import holds back, cross-school ID conflicts, and the school's single sign-on."""

from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from django_fsm import FSMField, FSMModelMixin, transition

from destreg.lib.pii import (
    decrypt_secret,
    encrypt_secret,
)
from destreg.reference.models import School
from students.models.people import IdNumberMixin, RegistryRecord


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
        help_text=_("The claim that carries the student number, e.g. sub or student_no."),
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
        REQUEST = "request", _("Registry import approval")

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
        verbose_name=_("Registry import request"),
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
