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


def test_dropping_an_orphan_queue_row_moves_its_facet_counts(agreement, college_reviewer):
    from destreg.audit.models import ReviewFacetCount, ReviewTask
    from destreg.audit.services import review_task_drop
    from reviews.queue import counted_facets

    task = ReviewTask.objects.get(object_id=agreement.pk, kind=ReviewTask.Kind.ONLINE)
    assert counted_facets(college_reviewer)[0] == 1
    assert review_task_drop(task=task) is True
    assert not ReviewTask.objects.filter(pk=task.pk).exists()
    assert counted_facets(college_reviewer)[0] == 0
    assert not ReviewFacetCount.objects.filter(n__gt=0).exists()
    assert review_task_drop(task=task) is False  # already gone
