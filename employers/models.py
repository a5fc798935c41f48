"""Employers (用人单位) and their verification."""

import hashlib

from django.conf import settings
from django.db import models
from django.db.models import Count, Exists, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from destreg.accounts.models import UnitRole
from destreg.lib.uploads import document_path
from destreg.reference.models import CodeTable, Region, School, code_field


class EmployerQuerySet(models.QuerySet["Employer"]):
    def with_rival_claims(self) -> "EmployerQuerySet":
        """Annotate how many other accounts claim the same credit code, and whether one of
        them is verified (the reviewer sees this before verifying)."""
        rivals = Employer.objects.filter(uscc=OuterRef("uscc"), placeholder=False).exclude(
            pk=OuterRef("pk")
        )
        return self.annotate(
            rival_claims=Coalesce(
                Subquery(rivals.order_by().values("uscc").annotate(n=Count("pk")).values("n")[:1]),
                0,
            ),
            rival_verified=Exists(rivals.filter(verified_at__isnull=False)),
        )

    def awaiting_verification(self, school_id: int | None) -> "EmployerQuerySet":
        """Units no verification covers for this school (None: without a platform-wide one)."""
        covering = EmployerVerification.objects.current().filter(employer=OuterRef("pk"))
        if school_id is None:
            covering = covering.filter(school=None)
        else:
            covering = covering.covering(school_id)
        return self.filter(~Exists(covering), placeholder=False)


class Employer(models.Model):
    name = models.CharField(_("unit name"), max_length=100)
    # Several accounts may claim a credit code while they wait: whoever registers first must
    # not lock the real unit out. Only one of them can be verified (the constraint below).
    uscc = models.CharField(_("unified social credit code"), max_length=18, db_index=True)
    nature = code_field(CodeTable.UNIT_NATURE, _("unit nature"))
    industry = code_field(CodeTable.INDUSTRY, _("industry"))
    region = models.ForeignKey(
        Region, verbose_name=_("region"), on_delete=models.PROTECT, related_name="+"
    )
    address = models.CharField(_("detailed address"), max_length=200)
    contact_name = models.CharField(_("contact person"), max_length=50)
    contact_phone = models.CharField(_("contact phone"), max_length=30, blank=True)
    contact_mobile = models.CharField(_("contact mobile"), max_length=11)
    contact_email = models.EmailField(_("contact e-mail"))
    business_licence = models.FileField(_("business licence"), upload_to=document_path, blank=True)
    authorisation_letter = models.FileField(
        _("authorisation letter"), upload_to=document_path, blank=True
    )
    # The first verification of any scope, kept so "verified at all" needs no join; who may be
    # invited is decided by the EmployerVerification rows.
    verified_at = models.DateTimeField(_("verified at"), null=True, blank=True)
    verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("verified by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    # A unit without an account that signed through a 扫码签约 link: it has no users, is never
    # verified, and hands its agreements to the account of its code once one is verified.
    placeholder = models.BooleanField(_("unregistered unit (scan-to-sign)"), default=False)
    created_at = models.DateTimeField(_("registered at"), auto_now_add=True)

    objects = EmployerQuerySet.as_manager()

    class Meta:
        verbose_name = _("employer")
        verbose_name_plural = _("employers")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["uscc"],
                condition=Q(verified_at__isnull=False),
                name="one_verified_unit_per_uscc",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_verified(self) -> bool:
        return self.verified_at is not None

    @property
    def has_evidence(self) -> bool:
        return bool(self.business_licence and self.authorisation_letter)

    def may_invite_from(self, school_id: int | None) -> bool:
        """Whether a verification covers graduates of this school (one query)."""
        if school_id is None:
            return False
        return self.verifications.covering(school_id).exists()


class EmployerVerificationQuerySet(models.QuerySet["EmployerVerification"]):
    def current(self) -> "EmployerVerificationQuerySet":
        """Verifications still in force (one ends when the unit changes its name or code)."""
        return self.filter(ended_at=None)

    def covering(self, school_id: int) -> "EmployerVerificationQuerySet":
        """Verifications in force that let a unit invite this school's graduates."""
        return self.current().filter(Q(school=None) | Q(school_id=school_id))


class EmployerVerification(models.Model):
    """One reviewer vouching for a unit, on the evidence they opened.

    ``school`` is the scope: a school's reviewer verifies for their school only (the unit may
    then invite its graduates); a platform admin's verification (``school`` empty) covers every
    school. The evidence fields name the stored files the reviewer had in front of them, so a
    document the unit replaces later does not change what this verification rested on.
    """

    employer = models.ForeignKey(
        Employer, verbose_name=_("employer"), on_delete=models.CASCADE, related_name="verifications"
    )
    school = models.ForeignKey(
        School,
        verbose_name=_("school (empty: all schools)"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("verified by"),
        null=True,  # only for verifications made before reviewers were recorded
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    verified_at = models.DateTimeField(_("verified at"), default=timezone.now)
    business_licence = models.FileField(
        _("business licence reviewed"), upload_to=document_path, blank=True
    )
    authorisation_letter = models.FileField(
        _("authorisation letter reviewed"), upload_to=document_path, blank=True
    )
    note = models.CharField(_("note"), max_length=500, blank=True)
    # A verification vouches for the name and credit code it was made on: when the unit
    # changes either, it ends (kept for the record) and the unit is verified again.
    ended_at = models.DateTimeField(_("ended at"), null=True, blank=True)
    ended_reason = models.CharField(_("why it ended"), max_length=200, blank=True)

    objects = EmployerVerificationQuerySet.as_manager()

    class Meta:
        verbose_name = _("employer verification")
        verbose_name_plural = _("employer verifications")
        ordering = ["verified_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["employer", "school"],
                condition=Q(ended_at=None),
                name="one_verification_per_school",
            ),
            models.UniqueConstraint(
                fields=["employer"],
                condition=Q(school=None, ended_at=None),
                name="one_platform_verification",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.employer} · {self.scope_label}"

    @property
    def scope_label(self) -> str:
        return str(self.school) if self.school_id else str(_("all schools (platform)"))


class ColleagueInvitation(models.Model):
    """A unit administrator asks a colleague to join: a one-time link e-mailed to them, valid
    for ``DAYS`` days. Only the token's digest is stored."""

    DAYS = 7

    employer = models.ForeignKey(
        Employer, verbose_name=_("employer"), on_delete=models.CASCADE, related_name="+"
    )
    email = models.EmailField(_("e-mail"))
    unit_role = models.CharField(_("role in the unit"), max_length=10, choices=UnitRole.choices)
    token_digest = models.CharField(max_length=64, unique=True)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("invited by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("sent at"), auto_now_add=True)
    expires_at = models.DateTimeField(_("valid until"))
    used_at = models.DateTimeField(_("used at"), null=True, blank=True)
    joined = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("account created"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    class Meta:
        verbose_name = _("colleague invitation")
        verbose_name_plural = _("colleague invitations")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.employer} → {self.email}"

    @property
    def usable(self) -> bool:
        return self.used_at is None and self.expires_at > timezone.now()

    @staticmethod
    def digest(token: str) -> str:
        return hashlib.sha256(token.encode()).hexdigest()


class ApiToken(models.Model):
    """A key a unit's HR system uses for the REST API (agreements/api/). Made by a unit
    administrator, shown once; only its ``prefix`` (to tell keys apart) and the SHA-256
    ``digest`` of the whole key are stored. The API acts as ``created_by``, so the portal's
    permissions apply unchanged; the key stops working once it expires, is revoked, or its
    creator is removed or no longer an administrator of the unit."""

    class Scope(models.TextChoices):
        READ = "read", _("Read only")
        WRITE = "write", _("Read and send invitations")

    MAX_DAYS = 365
    PREFIX_LENGTH = 12

    employer = models.ForeignKey(
        Employer, verbose_name=_("employer"), on_delete=models.CASCADE, related_name="api_tokens"
    )
    name = models.CharField(_("key name"), max_length=60)
    scope = models.CharField(_("scope"), max_length=5, choices=Scope.choices)
    prefix = models.CharField(_("key prefix"), max_length=PREFIX_LENGTH, unique=True)
    digest = models.CharField(max_length=64, unique=True, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    expires_at = models.DateTimeField(_("valid until"))
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("revoked by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    last_used_at = models.DateTimeField(_("last used at"), null=True, blank=True)

    class Meta:
        verbose_name = _("API key")
        verbose_name_plural = _("API keys")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix})"

    @staticmethod
    def digest_of(key: str) -> str:
        return hashlib.sha256(key.encode()).hexdigest()

    @property
    def is_expired(self) -> bool:
        return self.expires_at <= timezone.now()

    @property
    def creator_still_admin(self) -> bool:
        creator = self.created_by
        return (
            creator.is_active and creator.is_unit_admin and creator.employer_id == self.employer_id
        )

    @property
    def state(self) -> str:
        """active, revoked (by an administrator), ended (its creator left or was demoted)
        or expired; only an active key is accepted."""
        if self.revoked_at is not None:
            return "revoked" if self.revoked_by_id else "ended"
        if not self.creator_still_admin:
            return "ended"
        if self.is_expired:
            return "expired"
        return "active"

    @property
    def usable(self) -> bool:
        return self.state == "active"


class ApiCall(models.Model):
    """One request to the REST API, answered or refused: which key (its name kept even if
    the key goes), what was asked and the answer's status."""

    token = models.ForeignKey(
        ApiToken,
        verbose_name=_("API key"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="calls",
    )
    token_name = models.CharField(_("key name"), max_length=60, blank=True)
    prefix = models.CharField(_("key prefix"), max_length=ApiToken.PREFIX_LENGTH, blank=True)
    method = models.CharField(_("HTTP method"), max_length=10)
    path = models.CharField(_("request path"), max_length=300)
    status = models.PositiveSmallIntegerField(_("status"))
    at = models.DateTimeField(_("at"), auto_now_add=True)

    class Meta:
        verbose_name = _("API call")
        verbose_name_plural = _("API calls")
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["token", "at"])]

    def __str__(self) -> str:
        return f"{self.method} {self.path} {self.status}"
