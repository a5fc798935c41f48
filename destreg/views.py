"""Site-wide views that belong to no app."""

import sys

from django.db import InterfaceError, OperationalError
from django.http import HttpResponse, HttpResponseServerError
from django.template import loader
from django.views.decorators.cache import never_cache

from destreg.lib.storage import StorageUnavailable

# Failures of what the app stands on, not of the app: the database is unreachable or
# restarting, or the media storage is full. A service's transaction rolls back as a whole,
# but the failure may come after one committed, so the page asks the user to check.
UNAVAILABLE = (OperationalError, InterfaceError, StorageUnavailable)
RETRY_AFTER_SECONDS = 30


@never_cache
def healthz(request):
    """Liveness for load balancers: answers without touching the database."""
    return HttpResponse("ok", content_type="text/plain")


def server_error(request):
    """The 500 page, or 503 with Retry-After when a backing service failed.

    Both templates are static (no context, no database), since the database may be
    what failed.
    """
    if isinstance(sys.exc_info()[1], UNAVAILABLE):
        response = HttpResponse(loader.get_template("503.html").render(), status=503)
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response
    return HttpResponseServerError(loader.get_template("500.html").render())
