from destreg.audit.models import Notification
from destreg.audit.notify import notify
from destreg.audit.services import notifications_mark_read


def test_it_marks_only_the_users_unread_notifications(
    student, other_student, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        notify([student.user], "一", "")
        notify([student.user], "二", "")
        notify([other_student.user], "三", "")
    assert Notification.unread_count(student.user) == 2  # now cached
    assert notifications_mark_read(user=student.user) == 2
    assert Notification.unread_count(student.user) == 0  # the cached count was forgotten
    assert Notification.objects.filter(user=other_student.user).unread().count() == 1
    assert notifications_mark_read(user=student.user) == 0
