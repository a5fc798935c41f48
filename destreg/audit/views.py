from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.utils import timezone


@login_required
def notifications(request):
    """The latest notifications; opening the page marks them read."""
    items = list(request.user.notifications.all()[:50])
    request.user.notifications.unread().update(read_at=timezone.now())
    return render(request, "audit/notifications.html", {"items": items})
