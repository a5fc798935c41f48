from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.utils import timezone

from destreg.audit.models import Notification


@login_required
def notifications(request):
    """The latest notifications; opening the page marks them read."""
    items = list(request.user.notifications.all()[:50])
    if request.user.notifications.unread().update(read_at=timezone.now()):
        Notification.forget_unread_counts([request.user.pk])
    return render(request, "audit/notifications.html", {"items": items})
