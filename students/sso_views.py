"""School single sign-on pages: start at a school's provider, come back to one callback."""

import logging
from urllib.parse import parse_qs, urlsplit

import requests
from django.conf import settings
from django.core.exceptions import SuspiciousOperation
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils.translation import gettext as _
from django.views.generic import View
from mozilla_django_oidc.views import OIDCAuthenticationCallbackView, OIDCAuthenticationRequestView

from students.models import SchoolSignOn
from students.sso import SESSION_BACKEND, oidc_setting

logger = logging.getLogger("destreg.sso")


def _sign_on_or_404(code: str | None) -> SchoolSignOn:
    if not settings.SSO_ENABLED:
        raise Http404
    return get_object_or_404(
        SchoolSignOn.objects.enabled().select_related("school"), school__code=code or ""
    )


class LoginView(OIDCAuthenticationRequestView):
    """Redirect to the school's provider, with the library's state, nonce and PKCE."""

    def __init__(self, **kwargs):
        # The library reads the provider from the settings here; ours depends on the URL.
        View.__init__(self, **kwargs)

    def get_settings(self, attr, *default):
        return oidc_setting(self.sign_on, attr, *default)

    def get(self, request, code: str):
        self.sign_on = _sign_on_or_404(code)
        self.OIDC_OP_AUTH_ENDPOINT = self.sign_on.authorization_endpoint
        self.OIDC_RP_CLIENT_ID = self.sign_on.client_id
        response = super().get(request)
        # Keep the school with this state's nonce and verifier: the callback reads it back,
        # and the library forgets all three together once the state is used.
        state = parse_qs(urlsplit(response["Location"]).query)["state"][-1]
        request.session["oidc_states"][state]["school"] = self.sign_on.school.code
        request.session.modified = True
        return response


class CallbackView(OIDCAuthenticationCallbackView):
    """The one redirect URI every school's provider sends graduates back to."""

    def get_settings(self, attr, *default):
        sign_on = getattr(self.request, "sso_sign_on", None)
        if sign_on is None:
            return super().get_settings(attr, *default)
        return oidc_setting(sign_on, attr, *default)

    def get(self, request):
        if not settings.SSO_ENABLED:
            raise Http404
        states = request.session.get("oidc_states")
        entry = states.get(request.GET.get("state", "")) if isinstance(states, dict) else None
        code = entry.get("school") if isinstance(entry, dict) else None
        request.sso_sign_on = (
            SchoolSignOn.objects.enabled()
            .select_related("school")
            .filter(school__code=code)
            .first()
            if code
            else None
        )
        try:
            return super().get(request)
        except SuspiciousOperation as error:
            # An unknown or reused state, or a token whose signature, issuer, audience or
            # nonce is wrong: nobody is signed in.
            logger.warning("SSO callback refused: %s", error)
            return self.failure(
                _("Your school's sign-in could not be verified. Please start again."), status=400
            )
        except requests.RequestException as error:
            logger.warning("SSO provider unreachable or refused the code: %s", error)
            return self.failure(
                _("Your school's sign-in service could not be reached. Please try again later."),
                status=502,
            )

    def login_success(self):
        # Later requests load the user like a password sign-in's session does.
        self.user.backend = SESSION_BACKEND
        return super().login_success()

    def login_failure(self):
        failure = getattr(self.request, "sso_failure", None)
        if failure is not None:
            return self.failure(failure.message)
        if self.request.GET.get("error"):
            return self.failure(_("Sign-in at your school was cancelled or refused."))
        return self.failure(_("Your school's sign-in did not complete. Please start again."))

    def failure(self, message: str, *, status: int = 403) -> HttpResponse:
        sign_on = getattr(self.request, "sso_sign_on", None)
        return render(
            self.request,
            "students/sso_error.html",
            {"message": message, "school": sign_on.school if sign_on else None},
            status=status,
        )
