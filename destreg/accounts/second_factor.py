"""The second factor's pages: the code after the password, enrolment with a QR code, the
recovery codes shown once, and the account security page.

Sign-in is two steps. ``LoginView`` checks the password (django-axes throttles it); then
``SecondFactorMiddleware`` keeps the person here until ``django_otp.login`` marks the
session verified with one of their devices: the authenticator app (TOTP) or a one-time
recovery code. Wrong codes are throttled by django-otp on the device itself (each failure
doubles the wait), so a second browser does not get a fresh set of guesses.
"""

import base64
import io
import math
import re
from urllib.parse import urlencode

import qrcode
import qrcode.image.svg
from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods
from django_otp import login as otp_login
from django_otp.models import Device
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from destreg.accounts import services
from destreg.accounts.middleware import has_authenticator, second_factor_url
from destreg.accounts.permissions import (
    can_change_second_factor,
    can_turn_off_second_factor,
    can_use_second_factor,
    second_factor_required,
)
from destreg.lib.actions import attempt
from destreg.lib.permissions import require

RECOVERY_CODES_SESSION_KEY = "second_factor_recovery_codes"
# The unconfirmed device this session is enrolling: every session gets its own secret.
ENROL_DEVICE_SESSION_KEY = "second_factor_enrol_device"
TOTP_CODE = re.compile(r"^\d{6}$")


def _safe_next(request, fallback: str = "") -> str:
    """The page to go on to: ``next`` if it is a page of this site, else ``fallback`` (a
    path), else the home page."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return fallback or reverse("home")


def _throttled_message(device: Device) -> str | None:
    """The wait a throttled device imposes, in words, or None if it may check a code now."""
    allowed, details = device.verify_is_allowed()
    if allowed:
        return None
    seconds = max(1, math.ceil((details["locked_until"] - timezone.now()).total_seconds()))
    return ngettext(
        "Too many wrong codes. Wait %(seconds)d second, then try again.",
        "Too many wrong codes. Wait %(seconds)d seconds, then try again.",
        seconds,
    ) % {"seconds": seconds}


def _check(device: Device, code: str) -> bool:
    """Verify ``code`` on ``device`` with the row locked, so one code cannot pass twice and
    concurrent guesses all count towards the throttle."""
    with transaction.atomic():
        locked = type(device).objects.select_for_update().filter(pk=device.pk).first()
        return locked is not None and bool(locked.verify_token(code))  # None: deleted meanwhile


def _normalise(code: str) -> str:
    return re.sub(r"[\s-]", "", code).lower()


class CodeForm(forms.Form):
    """The 6-digit code from the authenticator app, or one recovery code."""

    code = forms.CharField(
        label=gettext_lazy("Code"),
        max_length=32,
        help_text=gettext_lazy(
            "The 6-digit code your authenticator app shows now, or one of your recovery codes."
        ),
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "autofocus": True}),
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.device: Device | None = None

    def candidates(self, code: str) -> list[Device]:
        model: type[Device] = TOTPDevice if TOTP_CODE.match(code) else StaticDevice
        return list(model.objects.filter(user=self.user, confirmed=True))

    def clean_code(self) -> str:
        code = _normalise(self.cleaned_data["code"])
        devices = self.candidates(code)
        for device in devices:
            throttled = _throttled_message(device)
            if throttled:
                raise forms.ValidationError(throttled, code="throttled")
        for device in devices:
            if _check(device, code):
                self.device = device
                return code
        raise forms.ValidationError(
            _("That code is not right. Each wrong code makes you wait longer before the next."),
            code="wrong",
        )


class EnrolForm(CodeForm):
    code = forms.CharField(
        label=gettext_lazy("Code from the app"),
        max_length=8,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}
        ),
    )

    def __init__(self, *args, device: TOTPDevice, **kwargs):
        super().__init__(*args, user=device.user, **kwargs)
        self.pending = device

    def candidates(self, code: str) -> list[Device]:
        return [self.pending]


def _complete(request, device: Device) -> None:
    """Mark the session verified with ``device`` (a fresh session key: a new privilege)."""
    request.session.cycle_key()
    otp_login(request, device)
    request.session.pop(ENROL_DEVICE_SESSION_KEY, None)


@never_cache
@login_required
@sensitive_post_parameters("code")
@require_http_methods(["GET", "POST"])
def verify(request):
    """The second step of signing in: a code from the app or a recovery code."""
    next_url = _safe_next(request)
    if request.user.is_verified():
        return redirect(next_url)
    if not has_authenticator(request.user):
        if second_factor_required(request.user):
            return redirect(second_factor_url(request.user, next_url))
        return redirect(next_url)  # opted in, then turned off or reset meanwhile
    form = CodeForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid() and form.device is not None:
        _complete(request, form.device)
        if isinstance(form.device, StaticDevice):
            left = StaticToken.objects.filter(device=form.device).count()
            messages.warning(
                request,
                ngettext(
                    "You used a recovery code; %(left)d is left. Make new ones on the account "
                    "security page.",
                    "You used a recovery code; %(left)d are left. Make new ones on the account "
                    "security page.",
                    left,
                )
                % {"left": left},
            )
        return redirect(next_url)
    return render(request, "accounts/second_factor.html", {"form": form, "next": next_url})


def _qr_data_uri(text: str) -> str:
    """The QR code of ``text`` as an SVG data: URI (the CSP allows data: images only)."""
    buffer = io.BytesIO()
    qrcode.make(text, image_factory=qrcode.image.svg.SvgPathImage, box_size=8).save(buffer)
    return "data:image/svg+xml;base64," + base64.b64encode(buffer.getvalue()).decode()


def _grouped_secret(device: TOTPDevice) -> str:
    secret = base64.b32encode(device.bin_key).decode().rstrip("=")
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


@never_cache
@login_required
@sensitive_post_parameters("code")
@require_http_methods(["GET", "POST"])
def enrol(request):
    """Set up the authenticator app: scan the QR code (or type the secret), then prove it
    with a current code. Whoever already has one must pass it first (a password alone must
    not replace somebody's second factor)."""
    require(can_use_second_factor(request.user))
    next_url = _safe_next(request)
    if has_authenticator(request.user) and not request.user.is_verified():
        return redirect(second_factor_url(request.user, next_url))
    device = services.pending_totp_device(
        user=request.user, pk=request.session.get(ENROL_DEVICE_SESSION_KEY)
    )
    request.session[ENROL_DEVICE_SESSION_KEY] = device.pk
    form = EnrolForm(request.POST or None, device=device)
    if request.method == "POST" and form.is_valid():
        enrolled = attempt(
            lambda: services.second_factor_enrol(device=device),
            request=request,
            catch=PermissionDenied,
        )
        if not enrolled:  # another session enrolled first
            request.session.pop(ENROL_DEVICE_SESSION_KEY, None)
            return redirect(f"{reverse('second_factor_enrol')}?{urlencode({'next': next_url})}")
        codes = enrolled.value
        device.refresh_from_db()
        _complete(request, device)
        request.session[RECOVERY_CODES_SESSION_KEY] = codes
        query = urlencode({"next": next_url})
        return redirect(f"{reverse('second_factor_recovery_codes')}?{query}")
    context = {
        "form": form,
        "next": next_url,
        "qr": _qr_data_uri(device.config_url),
        "secret": _grouped_secret(device),
        "required": second_factor_required(request.user),
    }
    return render(request, "accounts/second_factor_enrol.html", context)


@never_cache
@login_required
def recovery_codes(request):
    """The new recovery codes, once: they are taken out of the session as they are shown."""
    codes = request.session.pop(RECOVERY_CODES_SESSION_KEY, None)
    if not codes:
        return redirect("account_security")
    context = {"codes": codes, "next": _safe_next(request, fallback=reverse("account_security"))}
    return render(request, "accounts/second_factor_recovery_codes.html", context)


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def security(request):
    """The account security page: set up, renew recovery codes or (if optional) turn off.
    Renewing and turning off need a session verified with the second factor."""
    user = request.user
    require(can_use_second_factor(user))
    if request.method == "POST":
        require(can_change_second_factor(user))
        action = request.POST.get("action")
        if action == "renew":
            request.session[RECOVERY_CODES_SESSION_KEY] = services.recovery_codes_renew(user=user)
            return redirect("second_factor_recovery_codes")
        if action == "turn_off":
            services.second_factor_turn_off(user=user)
            messages.success(request, _("The second factor is off."))
            return redirect("account_security")
        return redirect("account_security")
    authenticator = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    recovery = StaticToken.objects.filter(device__user=user, device__confirmed=True).count()
    context = {
        "authenticator": authenticator,
        "recovery_left": recovery,
        "required": second_factor_required(user),
        "may_turn_off": bool(can_turn_off_second_factor(user)),
    }
    return render(request, "accounts/account_security.html", context)
