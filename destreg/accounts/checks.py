"""Deployment checks (`manage.py check --deploy`): secrets and the shared cache must come from
the environment."""

from django.conf import settings
from django.core.checks import Warning as CheckWarning
from django.core.checks import register


@register(deploy=True)
def secrets_from_environment(app_configs, **kwargs):
    warnings = []
    if settings.SECRET_KEY == settings.DEVELOPMENT_SECRET_KEY:
        warnings.append(
            CheckWarning(
                "SECRET_KEY is the development default.",
                hint="Set SECRET_KEY in the environment.",
                id="destreg.W001",
            )
        )
    if not settings.PII_ENCRYPTION_KEY or not settings.PII_DIGEST_KEY:
        warnings.append(
            CheckWarning(
                "身份证号 keys are derived from SECRET_KEY.",
                hint="Set PII_ENCRYPTION_KEY (a Fernet key) and PII_DIGEST_KEY, and keep them "
                "safe: they cannot change without re-encrypting every record.",
                id="destreg.W002",
            )
        )
    if not settings.PDF_SIGNING_KEY or not settings.PDF_SIGNING_CERT:
        warnings.append(
            CheckWarning(
                "Agreement PDFs are signed with a self-signed development certificate.",
                hint="Set PDF_SIGNING_KEY and PDF_SIGNING_CERT.",
                id="destreg.W003",
            )
        )
    if not settings.CACHE_URL:
        warnings.append(
            CheckWarning(
                "The cache is each process's own memory.",
                hint="Set CACHE_URL to a Redis that every app server shares: signed-in users "
                "and unread counts are cached there and dropped when they change, and a "
                "per-process cache would keep a changed account in the other processes.",
                id="destreg.W004",
            )
        )
    if settings.SECURE_PROXY_SSL_HEADER and not settings.TRUSTED_PROXY_COUNT:
        warnings.append(
            CheckWarning(
                "Behind a TLS proxy, but no proxy is trusted for the client's address.",
                hint="Set TRUSTED_PROXY_COUNT (nginx in front: 1); otherwise every client "
                "shares the proxy's address and five wrong passwords lock the owner out too.",
                id="destreg.W005",
            )
        )
    return warnings
