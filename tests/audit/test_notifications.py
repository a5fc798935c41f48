from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext_lazy as _lazy

from agreements.online.services import invitation_decline
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


def _notifications_page(client, user, language: str) -> str:
    client.force_login(user)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    return client.get(reverse("audit:notifications")).content.decode()


def test_a_notice_is_shown_in_the_readers_language_not_the_actors(
    client, student, invitation, django_capture_on_commit_callbacks, mailoutbox
):
    client.force_login(student.user)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"  # the student works in Chinese
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            reverse("agreements:invitation_answer", args=[invitation.pk]),
            {"answer": "accept", "confirm": "1"},
        )
    employer = invitation.employer.users.get()
    notice = Notification.objects.get(user=employer)
    assert notice.message_id == "%(name)s accepted your invitation; the college reviews it next."
    assert notice.params == {"name": student.real_name}
    english = _notifications_page(client, employer, "en")
    assert f"{student.real_name} accepted your invitation; the college reviews it next." in english
    chinese = _notifications_page(Client(), employer, "zh-hans")
    assert f"{student.real_name}已接受您的签约邀请" in chinese
    # The e-mail is in the default language whoever acted.
    assert mailoutbox[-1].subject.startswith(f"{student.real_name}已接受")


def test_an_english_actor_leaves_a_notice_a_chinese_reader_reads_in_chinese(
    student, invitation, django_capture_on_commit_callbacks
):
    with translation.override("en"), django_capture_on_commit_callbacks(execute=True):
        invitation_decline(invitation=invitation, user=student.user)
    notice = Notification.objects.get(user=invitation.employer.users.get())
    assert notice.message.startswith(student.real_name) and "拒绝" in notice.message
    with translation.override("zh-hans"):
        assert "拒绝" in notice.text
    with translation.override("en"):
        assert notice.text == f"{student.real_name} declined your invitation."


def test_a_late_value_is_resolved_to_a_parameter_when_the_change_commits(signed):
    notice = Notification.objects.filter(user=signed.student.user).latest("pk")
    assert notice.params == {"number": signed.number}
    with translation.override("en"):
        assert notice.text == f"Signed successfully: agreement {signed.number}."


def test_lazy_parameters_are_translated_for_each_reader(student):
    notify([student.user], "Status: %(status)s", "", {"status": _lazy("Approved")})
    notice = Notification.objects.get()
    assert notice.params == {"status": {"msgid": "Approved"}}
    with translation.override("en"):
        assert notice.text == "Status: Approved"


def test_old_rows_written_before_untranslated_messages_are_shown_as_stored(client, student):
    Notification.objects.create(user=student.user, message="您的协议已审核通过。")
    assert "您的协议已审核通过。" in _notifications_page(client, student.user, "en")
