from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from destreg.audit.services import notifications_mark_read


@login_required
def notifications(request):
    """The latest notifications; opening the page marks them read."""
    items = list(request.user.notifications.all()[:50])
    notifications_mark_read(user=request.user)
    return render(request, "audit/notifications.html", {"items": items})
