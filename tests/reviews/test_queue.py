"""The review changelist: scope, filters, search, facet counts, keyset pages, bulk approval."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from agreements.models import Agreement
from agreements.online import services
from destreg.audit.models import ReviewTask
from reviews import queue as review_queue
from tests import factories as f


def _agreements(world, employer, count, college_major=None):
    made = []
    for _ in range(count):
        student = f.make_student(f.make_record(college_major or world.major_a1))
        invitation = f.make_invitation(employer, student)
        made.append(services.invitation_accept(invitation=invitation, user=student.user))
    return made


def _queries(client, url) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


def test_query_count_does_not_grow_with_the_queue(client, world, employer_user, college_reviewer):
    _agreements(world, employer_user.employer, 2)
    client.force_login(college_reviewer)
    client.get(reverse("reviews:queue"))  # warm: the cached unread count
    few = _queries(client, reverse("reviews:queue"))
    _agreements(world, employer_user.employer, 30)
    assert _queries(client, reverse("reviews:queue")) == few


def test_scope_filters_search_and_facets(
    client, world, employer_user, college_reviewer, other_college_reviewer
):
    mine = _agreements(world, employer_user.employer, 3)
    _agreements(world, employer_user.employer, 2, world.major_a2)
    client.force_login(college_reviewer)
    response = client.get(reverse("reviews:queue"))
    assert response.context["total"] == 3
    facets = {name: values for name, _label, values in response.context["facets"]}
    assert facets["kind"] == [("online", "网签协议", 3)]

    target = mine[1].student
    for query in (target.real_name, target.record.student_no, target.id_number[-4:]):
        rows = client.get(reverse("reviews:queue"), {"q": query}).context["rows"]
        assert [task.object_id for task, _url, _o in rows] == [mine[1].pk], query
    client.force_login(other_college_reviewer)
    assert client.get(reverse("reviews:queue")).context["total"] == 2


def test_waiting_time_filter_and_sla_highlight(client, world, employer_user, college_reviewer):
    old, _new = _agreements(world, employer_user.employer, 2)
    ReviewTask.objects.filter(object_id=old.pk).update(
        waiting_since=timezone.now() - timedelta(days=5)
    )
    client.force_login(college_reviewer)
    rows = client.get(reverse("reviews:queue"), {"waiting": "3"}).context["rows"]
    assert [(task.object_id, overdue) for task, _url, overdue in rows] == [(old.pk, True)]


def test_keyset_pages_cover_everything_once(world, employer_user, college_reviewer):
    made = _agreements(world, employer_user.employer, 7)
    review_queue.PAGE_SIZE, size = 3, review_queue.PAGE_SIZE
    try:
        seen, cursor = [], ""
        base = ReviewTask.objects.visible_to(college_reviewer)
        while True:
            current = review_queue.page(base, cursor)
            seen += [task.object_id for task in current.tasks]
            if not current.next_cursor:
                break
            cursor = current.next_cursor
    finally:
        review_queue.PAGE_SIZE = size
    assert seen == [a.pk for a in made]


def test_bulk_approval_reports_what_could_not_be_approved(
    client, world, employer_user, college_reviewer, other_college_reviewer
):
    ok, gone = _agreements(world, employer_user.employer, 2)
    foreign = _agreements(world, employer_user.employer, 1, world.major_a2)[0]
    services.agreement_fail(agreement=gone, reviewer=college_reviewer, reason="已处理")
    tasks = {a.pk: ReviewTask.objects.filter(object_id=a.pk).first() for a in (ok, foreign)}
    client.force_login(college_reviewer)
    response = client.post(
        reverse("reviews:bulk"),
        {
            "decision": "approve",
            "confirmed": "1",
            "task": [f.bulk_value(tasks[ok.pk]), f.bulk_value(tasks[foreign.pk]), "999999:x"],
        },
    )
    results = response.context["results"]
    assert [r[1] for r in results] == [True, False, False]
    assert Agreement.objects.get(pk=ok.pk).status == "school_review"
    assert Agreement.objects.get(pk=foreign.pk).status == "college_review"


def test_approve_and_open_next(client, world, employer_user, college_reviewer):
    first, second = _agreements(world, employer_user.employer, 2)
    client.force_login(college_reviewer)
    url = reverse("reviews:agreement_decide", args=[first.pk]) + "?next=1"
    response = client.post(url, f.decision(first))
    assert response.url == reverse("reviews:agreement", args=[second.pk])


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["student", "employer_user"])
def test_non_reviewers_cannot_bulk_approve(client, request, who):
    user = request.getfixturevalue(who)
    client.force_login(getattr(user, "user", user))
    assert (
        client.post(
            reverse("reviews:bulk"), {"decision": "approve", "confirmed": "1", "task": [1]}
        ).status_code
        == 403
    )


def test_counters_agree_with_a_live_count(
    client, world, employer_user, college_reviewer, school_reviewer
):
    made = _agreements(world, employer_user.employer, 6)
    made += _agreements(world, employer_user.employer, 2, world.major_a2)
    services.agreement_approve(agreement=made[0], reviewer=college_reviewer)
    services.agreement_approve(agreement=made[1], reviewer=college_reviewer)
    services.agreement_approve(agreement=made[1], reviewer=school_reviewer)  # signed: gone
    services.agreement_fail(agreement=made[2], reviewer=college_reviewer, reason="不符")
    for user in (college_reviewer, school_reviewer):
        total, counted = review_queue.counted_facets(user)
        live_tasks = ReviewTask.objects.visible_to(user)
        live = review_queue.facet_counts(live_tasks)
        assert total == live_tasks.count()
        for facet in review_queue.FACETS[1:]:
            assert sorted(counted[facet]) == sorted(live[facet]), (user, facet)
    client.force_login(college_reviewer)
    assert client.get(reverse("reviews:queue")).context["total"] == 3


@pytest.mark.parametrize(
    "query",
    ["college=abc", "major=1.5", "destination=x", "after=2026-02-30T00:00:00|1", "after=nonsense"],
)
def test_bad_filter_values_are_ignored(client, college_reviewer, query):
    client.force_login(college_reviewer)
    assert client.get(reverse("reviews:queue") + "?" + query).status_code == 200


def test_bulk_approval_ignores_bad_ids(client, college_reviewer):
    client.force_login(college_reviewer)
    response = client.post(
        reverse("reviews:bulk"), {"decision": "approve", "confirmed": "1", "task": ["abc", "-1"]}
    )
    assert [ok for _label, ok, _message in response.context["results"]] == [False, False]
