"""System checks: the agreement PDF needs a CJK font, and harfbuzz subsetting to be fast;
in production its links (and the e-mails') need the site's address."""

import ctypes.util
import shutil
import subprocess

from django.conf import settings
from django.core.checks import Error, register
from django.core.checks import Warning as CheckWarning


def cjk_font_available() -> bool:
    fc_list = shutil.which("fc-list")
    if fc_list is None:
        return False
    found = subprocess.run(  # noqa: S603 (a fixed command, no user input)
        [fc_list, ":lang=zh", "family"], capture_output=True, text=True, check=False
    )
    return bool(found.stdout.strip())


def harfbuzz_subset_available() -> bool:
    return ctypes.util.find_library("harfbuzz-subset") is not None


@register()
def pdf_fonts(app_configs, **kwargs):
    warnings = []
    if not cjk_font_available():
        warnings.append(
            CheckWarning(
                "No Chinese (CJK) font is installed: agreement PDFs would show boxes.",
                hint="Install Debian's fonts-noto-cjk (make run does it when it can).",
                id="agreements.W001",
            )
        )
    if not harfbuzz_subset_available():
        warnings.append(
            CheckWarning(
                "libharfbuzz-subset is missing: each agreement PDF takes seconds instead of "
                "a fraction of a second.",
                hint="Install Debian's libharfbuzz-subset0.",
                id="agreements.W002",
            )
        )
    return warnings


@register(deploy=True)
def site_url_set(app_configs, **kwargs):
    """Links in e-mails and the PDF's verification QR code are made where no request tells
    the site's address (background tasks): production must say it."""
    if settings.DEBUG or (settings.SITE_URL_SET and settings.SITE_URL):
        return []
    return [
        Error(
            "SITE_URL is not set: links in e-mails and agreement PDFs would point to "
            f"{settings.SITE_URL or 'nowhere'}.",
            hint="Set SITE_URL to the site's public address, e.g. https://destreg.example.edu.cn.",
            id="agreements.E001",
        )
    ]
