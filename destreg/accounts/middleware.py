"""Hold a signed-in person at the second factor until they pass it.

After the password, somebody whose role requires a second factor (or who turned one on)
reaches only the second-factor page, the enrolment page and sign-out; every other page,
``/admin/`` included, redirects there and comes back afterwards. Runs after django-otp's
``OTPMiddleware``, which tells whether this session was verified with a device.

Whether a session owes a code is decided on every request from the user's devices, not
from a flag set at sign-in: a session opened with the password before its user set up a
second factor (in another browser) is held as soon as the device exists.
"""

from urllib.parse import urlencode

from django.shortcuts import redirect
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from destreg.accounts.permissions import can_use_second_factor, second_factor_required
from destreg.lib.cache import forget, remember

# Whether a college reviewer or an employer has an authenticator is asked on every page of an
# unverified session; the answer is cached and forgotten whenever one of their devices is
# saved or deleted (destreg/invalidation.py), like the signed-in user itself.
HAS_AUTHENTICATOR_SECONDS = 60

# What a half-signed-in person may reach, by URL name.
OPEN_VIEWS = frozenset(
    {"second_factor", "second_factor_enrol", "logout", "set_language", "healthz"}
)


def _authenticator_key(user_id) -> str:
    return f"accounts:has-authenticator:{user_id}"


def has_authenticator(user) -> bool:
    return remember(
        _authenticator_key(user.pk),
        lambda: TOTPDevice.objects.filter(user=user, confirmed=True).exists(),
        HAS_AUTHENTICATOR_SECONDS,
    )


def forget_authenticator(user_id) -> None:
    """One of the user's devices was saved or deleted (destreg/invalidation.py)."""
    forget(_authenticator_key(user_id))


def owes_second_factor(user) -> bool:
    """Must ``user`` pass a second factor before using the site: their role requires it,
    or they set one up. No query for a required role or a student (who cannot have a
    device); for a college reviewer or an employer, one cache read (a query when it misses)."""
    if second_factor_required(user):
        return True
    return bool(can_use_second_factor(user)) and has_authenticator(user)


def verification_pending(request) -> bool:
    """Has the signed-in user of ``request`` still to pass (or set up) the second factor?
    Verified sessions cost no query here."""
    user = request.user
    if not user.is_authenticated or user.is_verified():
        return False
    return owes_second_factor(user)


def second_factor_url(user, next_url: str = "") -> str:
    """Where somebody pending goes: the code page, or enrolment if they have no device yet."""
    name = "second_factor" if has_authenticator(user) else "second_factor_enrol"
    query = f"?{urlencode({'next': next_url})}" if next_url else ""
    return reverse(name) + query


class SecondFactorMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        # base.html hides the menus from somebody held here: they lead nowhere yet.
        request.second_factor_pending = verification_pending(request)
        match = request.resolver_match
        if not request.second_factor_pending or (match and match.view_name in OPEN_VIEWS):
            return None
        next_url = request.get_full_path() if request.method == "GET" else ""
        return redirect(second_factor_url(request.user, next_url))
