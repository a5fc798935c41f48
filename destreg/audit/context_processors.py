from destreg.audit.models import Notification


def unread_notifications(request):
    """The unread count shown in the navigation."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"unread_notifications": Notification.unread_count(user)}
