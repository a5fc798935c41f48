from django.urls import reverse

from destreg.audit.models import Notification
from destreg.audit.notify import notify


def test_unread_count_and_reading(client, student):
    notify([student.user], "您有新的签约邀请", "/agreements/invitations/")
    client.force_login(student.user)
    page = client.get(reverse("students:home"))
    assert page.context["unread_notifications"] == 1
    listing = client.get(reverse("audit:notifications")).content.decode()
    assert "您有新的签约邀请" in listing
    assert not Notification.objects.unread().exists()
    assert client.get(reverse("students:home")).context["unread_notifications"] == 0


def test_the_cached_unread_count_follows_new_notifications(
    client, student, django_capture_on_commit_callbacks
):
    client.force_login(student.user)
    assert client.get(reverse("students:home")).context["unread_notifications"] == 0
    with django_capture_on_commit_callbacks(execute=True):
        notify([student.user], "审核通过", "")
        notify([student.user], "审核退回", "")
    assert client.get(reverse("students:home")).context["unread_notifications"] == 2


def test_notifications_are_private(client, student, other_student):
    notify([student.user], "仅本人可见", "")
    client.force_login(other_student.user)
    assert "仅本人可见" not in client.get(reverse("audit:notifications")).content.decode()
    assert client.get(reverse("audit:notifications")).status_code == 200


def test_email_goes_out_only_after_commit(student, django_capture_on_commit_callbacks, mailoutbox):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        notify([student.user], "协议审核通过", "/agreements/mine/")
    assert mailoutbox == [] and len(callbacks) == 2  # the unread count, the e-mail
    for callback in callbacks:
        callback()
    assert mailoutbox[0].to == [student.user.email]
