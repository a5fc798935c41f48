"""Who may do what with registry requests and students' own pages.

Each function looks at state first, then role, and returns a ``Decision``
shared by the view, the template's buttons and the service.
"""

from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.utils.translation import gettext as _

from destreg.accounts.models import User
from destreg.lib.permissions import ALLOW, Decision, deny
from students.models import RegistryRequest, Student


def can_register_destination(student: Student) -> Decision:
    """Signing and destination registration wait for the first-login check."""
    if not student.is_confirmed:
        return deny(_("Confirm your registry information first."))
    return ALLOW


def can_view_registry_request(user: User, request: RegistryRequest) -> Decision:
    if user.is_student:
        if getattr(user, "student", None) and request.student_id == user.student.pk:
            return ALLOW
        return deny(_("Not your request."), visible=False)
    if user.is_platform_admin:
        return ALLOW
    if user.is_reviewer and user.school_id == request.school_id:
        if user.is_school_reviewer:
            return ALLOW
        return deny(_("Registry requests are reviewed by the school employment office."))
    return deny(_("Not found."), visible=False)


def can_review_registry_request(user: User, request: RegistryRequest) -> Decision:
    seen = can_view_registry_request(user, request)
    if not seen:
        return seen
    if request.status != RegistryRequest.Status.SUBMITTED:
        return deny(_("This request has already been decided."))
    if user.is_platform_admin or (user.is_school_reviewer and user.school_id == request.school_id):
        return ALLOW
    return deny(_("Only the school employment office reviews registry requests."))


def get_registry_request_for(user: User, pk: int) -> RegistryRequest:
    """Load a request for ``user``: 404 for strangers, 403 for insiders without the right."""
    try:
        request = RegistryRequest.objects.select_related("student", "school").get(pk=pk)
    except RegistryRequest.DoesNotExist:
        raise Http404 from None
    decision = can_view_registry_request(user, request)
    if not decision.visible:
        raise Http404
    if not decision:
        raise PermissionDenied(decision.reason)
    return request
