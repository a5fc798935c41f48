"""Writes and the key lookup for the units' REST API keys (the API itself: agreements/api/).

A key reads ``dra_<prefix><secret>``: the 12-character prefix is stored to find the row and
to show which key is which; of the whole key only its SHA-256 is kept, so a stolen database
does not hand out working keys.
"""

import hmac
import secrets
from datetime import date, datetime, time, timedelta
from typing import cast

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from destreg.accounts.models import User
from destreg.audit.changes import record_event
from destreg.audit.models import AuditAction
from destreg.lib.permissions import require
from employers.models import ApiToken, Employer
from employers.permissions import can_manage_api_tokens

KEY_START = "dra_"
# What a key that matches no row is compared with, so a miss takes as long as a near miss.
_NO_DIGEST = ApiToken.digest_of("")


def _new_key() -> tuple[str, str]:
    prefix = secrets.token_hex(ApiToken.PREFIX_LENGTH // 2)
    return prefix, f"{KEY_START}{prefix}{secrets.token_urlsafe(32)}"


def latest_expiry() -> date:
    return timezone.localdate() + timedelta(days=ApiToken.MAX_DAYS)


@transaction.atomic
def api_token_create(*, by: User, name: str, scope: str, expires_on: date) -> tuple[ApiToken, str]:
    """A new key for ``by``'s unit, valid through ``expires_on`` (at most a year away).
    Returns the row and the key, which is never stored nor shown again."""
    require(can_manage_api_tokens(by))
    if expires_on <= timezone.localdate():
        raise ValidationError(_("The key must stay valid at least until tomorrow."))
    if expires_on > latest_expiry():
        raise ValidationError(_("A key can be valid for at most a year."))
    if scope not in ApiToken.Scope.values:
        raise ValidationError(_("Choose read or write."))
    employer = Employer.objects.select_for_update().get(pk=cast(int, by.employer_id))
    prefix, key = _new_key()
    token = ApiToken.objects.create(
        employer=employer,
        name=name,
        scope=scope,
        prefix=prefix,
        digest=ApiToken.digest_of(key),
        created_by=by,
        expires_at=timezone.make_aware(datetime.combine(expires_on, time(23, 59, 59))),
    )
    record_event(
        employer,
        by=by,
        action=AuditAction.CREATE_API_TOKEN,
        comment=name,
        changes={"token": token.pk, "prefix": prefix, "scope": scope},
    )
    return token, key


@transaction.atomic
def api_token_revoke(*, by: User, token: ApiToken) -> ApiToken:
    """An administrator ends a key at once; calls with it are refused from now on."""
    require(can_manage_api_tokens(by))
    token = ApiToken.objects.select_for_update().get(pk=token.pk)
    if token.employer_id != by.employer_id:
        raise PermissionDenied(_("Not found."))
    if token.revoked_at is not None:
        raise ValidationError(_("This key is already revoked."))
    token.revoked_at = timezone.now()
    token.revoked_by = by
    token.save(update_fields=["revoked_at", "revoked_by"])
    record_event(
        token.employer,
        by=by,
        action=AuditAction.REVOKE_API_TOKEN,
        comment=token.name,
        changes={"token": token.pk, "prefix": token.prefix},
    )
    return token


def end_api_tokens_of(user: User) -> None:
    """A colleague removed or no longer an administrator: the keys they made stop working
    (they are checked at each call as well, so this only makes the end visible)."""
    ApiToken.objects.filter(created_by=user, revoked_at=None).update(revoked_at=timezone.now())


def api_token_for_key(key: str) -> ApiToken | None:
    """The key's row, whatever its state (the caller tells expired and revoked keys apart),
    or None. The digest comparison takes the same time whether or not the prefix exists."""
    prefix = key[len(KEY_START) : len(KEY_START) + ApiToken.PREFIX_LENGTH]
    token = None
    if key.startswith(KEY_START) and len(prefix) == ApiToken.PREFIX_LENGTH:
        token = (
            ApiToken.objects.select_related("created_by", "employer").filter(prefix=prefix).first()
        )
    matches = hmac.compare_digest(
        ApiToken.digest_of(key), token.digest if token is not None else _NO_DIGEST
    )
    return token if token is not None and matches else None


def prefix_of(key: str) -> str:
    """The prefix part of something presented as a key (for the call log), or ""."""
    if not key.startswith(KEY_START):
        return ""
    return key[len(KEY_START) : len(KEY_START) + ApiToken.PREFIX_LENGTH]
