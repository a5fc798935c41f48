"""What a key's scope allows. Who may do what with invitations and agreements is decided by
the portal's own permission functions (agreements/online/permissions.py), called by the
services and loaders the views use."""

from django.utils.translation import gettext as _
from rest_framework.permissions import SAFE_METHODS, BasePermission

from destreg.lib.permissions import ALLOW, Decision, deny
from employers.models import ApiToken


def can_call_with(token: ApiToken, method: str) -> Decision:
    """A read key only reads; a write key may also send invitations."""
    if method in SAFE_METHODS or token.scope == ApiToken.Scope.WRITE:
        return ALLOW
    return deny(_("This API key may only read; sending invitations needs a write key."))


class KeyScope(BasePermission):
    def has_permission(self, request, view) -> bool:
        token = request.auth
        if not isinstance(token, ApiToken):
            return False  # no key: 401
        decision = can_call_with(token, request.method)
        if not decision:
            self.message = decision.reason
        return decision.allowed
