"""School single sign-on (统一身份认证) over OpenID Connect, one provider per school.

mozilla-django-oidc reads one provider from the settings; here every school has its own
(``SchoolSignOn``). The login view (students/sso_views.py) puts the school's code into the
library's per-state entry in the session, next to the state, nonce and PKCE verifier; the
callback reads it back, and this backend then speaks to that school's provider only. The
library still checks the state and the nonce; the backend adds what it leaves out: the ID
token's issuer, audience and expiry.

A verified 学号 claim plus the school find the current-year registry record with no code
to type: ``student_for_record`` signs in the account bound to it, or creates one.
"""

import logging
import re
from dataclasses import dataclass
from typing import Any

import jwt
import requests
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import SuspiciousOperation, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from mozilla_django_oidc.auth import OIDCAuthenticationBackend
from mozilla_django_oidc.utils import import_from_settings

from destreg.accounts.models import Role, User
from destreg.audit.changes import record_event
from destreg.audit.models import AuditAction
from destreg.lib.db import refused_on_clash
from destreg.reference.models import School
from students.binding import registry_bind
from students.models import BindingMethod, RegistryRecord, SchoolSignOn, Student

logger = logging.getLogger("destreg.sso")

CALLBACK_URL_NAME = "sso:callback"
# Where a session signed in through SSO loads its user from: the same cached backend as a
# password sign-in, so a page costs the same either way (destreg/accounts/backends.py).
SESSION_BACKEND = "destreg.accounts.backends.UserAndProfileBackend"
# Seconds to wait for a provider's token, keys and userinfo endpoints.
PROVIDER_TIMEOUT = 10
# Clock difference tolerated between the provider and us when checking exp / iat.
LEEWAY_SECONDS = 60


def enabled_sign_ons() -> list[SchoolSignOn]:
    """The schools whose sign-on link the login page shows (templates/accounts/login.html)."""
    if not settings.SSO_ENABLED:
        return []
    return list(SchoolSignOn.objects.enabled().select_related("school").order_by("school__code"))


def login_context(request) -> dict[str, Any]:
    """Context processor: a callable, so only the login page pays for the query."""
    return {"sso_sign_ons": enabled_sign_ons}


def oidc_setting(sign_on: SchoolSignOn, attr: str, *default: Any) -> Any:
    """What mozilla-django-oidc's ``get_settings`` answers for this school's provider."""
    values = {
        "OIDC_RP_SCOPES": sign_on.scopes,
        "OIDC_USE_PKCE": sign_on.use_pkce,
        "OIDC_PKCE_CODE_CHALLENGE_METHOD": "S256",
        # Never relaxed per school: replayed or unsigned tokens are refused.
        "OIDC_USE_NONCE": True,
        "OIDC_ALLOW_UNSECURED_JWT": False,
        "OIDC_VERIFY_SSL": True,
        "OIDC_AUTHENTICATION_CALLBACK_URL": CALLBACK_URL_NAME,
        # client_secret_basic: what OpenID Connect providers must support.
        "OIDC_TOKEN_USE_BASIC_AUTH": True,
        "OIDC_TIMEOUT": PROVIDER_TIMEOUT,
        "OIDC_STORE_ACCESS_TOKEN": False,
        "OIDC_STORE_ID_TOKEN": False,
        "OIDC_CREATE_USER": True,
    }
    if attr in values:
        return values[attr]
    return import_from_settings(attr, *default)


def is_sso_callback(request, credentials) -> bool:
    """django-axes' AXES_WHITELIST_CALLABLE: an SSO callback is no password guess. Counted,
    its failures (a 学号 the registry lacks) would lock SSO for a whole campus behind one
    NAT address after five of them; the school's provider throttles its own sign-in."""
    match = getattr(request, "resolver_match", None)
    return match is not None and match.view_name == CALLBACK_URL_NAME


# --- Binding ----------------------------------------------------------------


class SignOnRefused(Exception):
    """The provider vouched for somebody, but no account can be signed in; ``message`` says
    why, for the graduate."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass
class SignOnFailure:
    """What the callback page tells the graduate (set on the request by the backend)."""

    message: str


def _username_for(school: School, student_no: str) -> str:
    base = re.sub(r"[^\w.@+-]", "", f"{school.code}-{student_no}")[:140]
    username, n = base, 1
    # A sign-up may have taken the name first; the graduate never types it anyway.
    while User.objects.filter(username=username).exists():
        n += 1
        username = f"{base}-{n}"
    return username


def _create_account(record: RegistryRecord) -> Student:
    user = User.objects.create_user(
        username=_username_for(record.school, record.student_no),
        password=None,  # unusable: this graduate signs in through their school
        email=record.email,
        role=Role.STUDENT,
        display_name=record.name,
    )
    # Another account may hold this ID number (today: any account; once unconfirmed
    # accounts reserve nothing, only a confirmed one, bound to another record).
    held = SignOnRefused(
        _(
            "Another account already holds your ID number. Sign in with it, or ask your "
            "college to check your registry."
        )
    )
    student = Student(user=user, real_name=record.name, mobile=record.mobile)
    student.id_number_cipher = record.id_number_cipher
    student.id_number_digest = record.id_number_digest
    with refused_on_clash(held):
        student.save()
    record_event(student, by=user, action=AuditAction.REGISTER, changes={"via": "sso"})
    return student


@transaction.atomic
def student_for_record(*, school: School, student_no: str) -> Student:
    """The account of the graduate the school's provider vouched for: the one bound to their
    current-year record (confirmed again if a corrected identity unconfirmed it), or a new
    confirmed account for it.

    Raises ``SignOnRefused`` when the registry has no such record. An unconfirmed account
    with the same ID number is left alone: proving one's 学号 to the school is not proof of
    owning someone's unconfirmed sign-up."""
    record = (
        RegistryRecord.objects.current()
        .select_for_update(of=("self",))
        .select_related("school")
        .filter(school=school, student_no=student_no)
        .first()
    )
    if record is None:
        raise SignOnRefused(
            _(
                "Your school's registry has no current-year record for student number "
                "%(no)s; ask your college to check it."
            )
            % {"no": student_no}
        )
    bound = Student.objects.select_related("user").filter(record=record).first()
    if bound is not None and bound.is_confirmed:
        return bound
    # Still linked but unconfirmed: the school corrected the record's name or ID number
    # (students/registry_changes.py), and its sign-on confirms the graduate again.
    student = bound or _create_account(record)
    try:
        return registry_bind(
            student=student, record=record, method=BindingMethod.SSO, actor=student.user
        )
    except ValidationError as refused:
        # E.g. another account confirmed this ID number with another record. Raising rolls
        # back the account just created.
        raise SignOnRefused(" ".join(refused.messages)) from None


# --- The backend ------------------------------------------------------------


class SchoolOIDCBackend(OIDCAuthenticationBackend):
    """mozilla-django-oidc's backend, configured per request from the school the callback
    found in the session (``request.sso_sign_on``). Without one it answers None, so it is
    harmless in ``AUTHENTICATION_BACKENDS`` next to the password backends."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # The library reads one provider from the settings here; ours comes per request.
        self.UserModel = get_user_model()
        self.sign_on: SchoolSignOn | None = None

    def get_settings(self, attr: str, *default: Any) -> Any:  # type: ignore[override]
        assert self.sign_on is not None  # noqa: S101  # only called once configured
        return oidc_setting(self.sign_on, attr, *default)

    def configure(self, sign_on: SchoolSignOn) -> None:
        self.sign_on = sign_on
        self.OIDC_OP_TOKEN_ENDPOINT = sign_on.token_endpoint
        self.OIDC_OP_USER_ENDPOINT = sign_on.userinfo_endpoint
        self.OIDC_OP_JWKS_ENDPOINT = sign_on.jwks_endpoint or None
        self.OIDC_RP_CLIENT_ID = sign_on.client_id
        self.OIDC_RP_CLIENT_SECRET = sign_on.client_secret
        self.OIDC_RP_SIGN_ALGO = sign_on.sign_algo
        self.OIDC_RP_IDP_SIGN_KEY = None

    def authenticate(self, request, **kwargs):
        sign_on = getattr(request, "sso_sign_on", None) if request is not None else None
        if sign_on is None or "nonce" not in kwargs:
            return None  # not a callback of ours: a password sign-in, say
        self.configure(sign_on)
        return super().authenticate(request, **kwargs)

    def get_payload_data(self, token, key):
        """The token's claims, after checking its signature, issuer, audience and expiry
        (the library checks the signature and the nonce only)."""
        assert self.sign_on is not None  # noqa: S101
        header = jwt.get_unverified_header(token)
        if header.get("alg") != self.OIDC_RP_SIGN_ALGO:
            raise SuspiciousOperation(f"ID token signed with {header.get('alg')!r}")
        try:
            claims = jwt.decode(
                token,
                key,
                algorithms=[self.OIDC_RP_SIGN_ALGO],
                audience=self.OIDC_RP_CLIENT_ID,
                issuer=self.sign_on.issuer,
                leeway=LEEWAY_SECONDS,
                options={"require": ["iss", "aud", "sub"]},
            )
        except jwt.PyJWTError as error:
            raise SuspiciousOperation(f"Token refused: {error}") from error
        audiences = claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
        if len(audiences) > 1 and claims.get("azp") != self.OIDC_RP_CLIENT_ID:
            raise SuspiciousOperation("ID token issued to another party (azp)")
        return claims

    def verify_token(self, token, **kwargs):
        try:
            claims = super().verify_token(token, **kwargs)  # the signature and the nonce
        except (jwt.PyJWTError, KeyError, TypeError, ValueError) as error:
            # No ID token, or not a JWT: refused like a bad signature, not a server error.
            raise SuspiciousOperation(f"Token unreadable: {error!r}") from error
        if "nonce" in kwargs and "exp" not in claims:
            raise SuspiciousOperation("ID token without an expiry")
        return claims

    def retrieve_matching_jwk(self, token):
        """The provider's key for this token: the library's lookup fails with a KeyError when
        the token or the keys carry no ``kid``, which a provider with one key may omit."""
        header = jwt.get_unverified_header(token)
        response = requests.get(self.OIDC_OP_JWKS_ENDPOINT or "", timeout=PROVIDER_TIMEOUT)
        response.raise_for_status()
        keys = [
            key
            for key in response.json().get("keys", [])
            if key.get("use", "sig") == "sig"
            and key.get("alg", header.get("alg")) == header.get("alg")
            and ("kid" not in header or key.get("kid") == header["kid"])
        ]
        if len(keys) != 1:
            raise SuspiciousOperation(f"{len(keys)} provider keys match the token")
        return jwt.PyJWK(keys[0])

    def get_userinfo(self, access_token, id_token, payload):
        """The userinfo claims under the verified ID token's: the userinfo must describe the
        same subject (OpenID Connect Core 5.3.2), and signed claims win."""
        info = super().get_userinfo(access_token, id_token, payload)
        if str(info.get("sub")) != str(payload.get("sub")):
            raise SuspiciousOperation("userinfo describes another subject")
        return {**info, **payload}

    def get_or_create_user(self, access_token, id_token, payload):
        assert self.sign_on is not None  # noqa: S101
        claims = self.get_userinfo(access_token, id_token, payload)
        student_no = str(claims.get(self.sign_on.student_no_claim) or "").strip()
        if not student_no:
            self.request.sso_failure = SignOnFailure(
                _("Your school's sign-in did not say your student number; ask your college.")
            )
            logger.warning(
                "SSO %s: no %r claim", self.sign_on.school.code, self.sign_on.student_no_claim
            )
            return None
        try:
            student = student_for_record(school=self.sign_on.school, student_no=student_no)
        except SignOnRefused as refused:
            self.request.sso_failure = SignOnFailure(refused.message)
            return None
        return student.user
