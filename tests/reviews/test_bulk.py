"""Bulk 审核通过 / 退回修改 / 审核不通过 from the queue: a confirm page first (nothing changes
before 确认), one required comment for a return or rejection, each row decided through its
kind's service and reported on its own; the queue's total and page count."""

import pytest
from django.urls import reverse

from agreements.models import Registration
from agreements.registrations import services as reg
from destreg.audit.models import AuditEvent, ReviewTask
from reviews import queue as review_queue
from reviews.services import review_bulk
from tests import factories as f
from tests.reviews.test_queue import _agreements

STALE = "该事项已被处理，请刷新后重试"


def _registrations(major, count) -> list[Registration]:
    made = []
    for _ in range(count):
        student = f.make_student(f.make_record(major))
        draft = reg.registration_save_draft(
            student=student, path="offline", values={"unit_name": "甲"}
        )
        made.append(reg.registration_submit(registration=draft, user=student.user))
    return made


def _value(item) -> str:
    return f.bulk_value(
        ReviewTask.objects.get(object_id=item.pk, content_type__model=item._meta.model_name)
    )


def _status(item) -> str:
    return type(item).objects.get(pk=item.pk).status


def _post(client, decision, items_or_values, comment="", confirmed=True):
    values = [v if isinstance(v, str) else _value(v) for v in items_or_values]
    data = {"decision": decision, "comment": comment, "task": values}
    if confirmed:
        data["confirmed"] = "1"
    return client.post(reverse("reviews:bulk"), data)


# --- the confirm page ----------------------------------------------------------------


@pytest.mark.parametrize("decision", ["approve", "return", "reject"])
def test_the_queue_buttons_show_a_confirm_page_and_change_nothing(
    client, world, college_reviewer, decision
):
    made = _registrations(world.major_a1, 2)
    events = AuditEvent.objects.count()
    client.force_login(college_reviewer)
    response = _post(client, decision, made, confirmed=False)
    assert response.status_code == 200
    assert response.templates[0].name == "reviews/bulk_confirm.html"
    page = response.content.decode()
    assert [task.object_id for task in response.context["tasks"]] == [m.pk for m in made]
    for item in made:  # the chosen items are listed and carried to 确认
        assert item.student.real_name in page
        assert f'name="task" value="{_value(item)}"' in page
    assert 'name="confirmed" value="1"' in page
    assert "确认" in page and "取消" in page
    assert ('name="comment"' in page) == (decision != "approve")
    assert [_status(m) for m in made] == ["college_review", "college_review"]
    assert AuditEvent.objects.count() == events


def test_the_confirm_page_says_when_a_chosen_item_no_longer_waits(
    client, world, college_reviewer, platform_admin
):
    first, second = _registrations(world.major_a1, 2)
    values = [_value(first), _value(second)]
    reg.registration_review(registration=second, reviewer=platform_admin, decision="approve")
    client.force_login(college_reviewer)
    response = _post(client, "approve", values, confirmed=False)
    assert [task.object_id for task in response.context["tasks"]] == [first.pk]
    assert "已不在您的待审核范围内" in response.content.decode()


def test_nothing_chosen_goes_back_to_the_queue(client, college_reviewer):
    client.force_login(college_reviewer)
    response = client.post(reverse("reviews:bulk"), {"decision": "approve"})
    assert response.status_code == 302
    assert response.url == reverse("reviews:queue")


def test_an_unknown_decision_is_refused(client, world, college_reviewer):
    item = _registrations(world.major_a1, 1)[0]
    client.force_login(college_reviewer)
    assert _post(client, "approve!", [item]).status_code == 400
    assert _status(item) == "college_review"


# --- return and reject: one required comment ------------------------------------------


@pytest.mark.parametrize("decision", ["return", "reject"])
@pytest.mark.parametrize("comment", ["", "   "])
def test_a_return_or_rejection_needs_a_comment(client, world, college_reviewer, decision, comment):
    made = _registrations(world.major_a1, 2)
    events = AuditEvent.objects.count()
    client.force_login(college_reviewer)
    response = _post(client, decision, made, comment=comment)
    assert response.status_code == 400
    assert response.templates[0].name == "reviews/bulk_confirm.html"
    assert "请向学生说明理由。" in response.content.decode()
    assert [_status(m) for m in made] == ["college_review", "college_review"]
    assert AuditEvent.objects.count() == events


def test_bulk_return_returns_each_registration_with_the_comment(client, world, college_reviewer):
    made = _registrations(world.major_a1, 3)
    client.force_login(college_reviewer)
    response = _post(client, "return", made, comment="单位名称请写全称")
    assert response.status_code == 200
    results = response.context["results"]
    assert [ok for _label, ok, _message in results] == [True, True, True]
    assert {_status(m) for m in made} == {"returned"}
    for item in made:
        event = AuditEvent.objects.for_object(item).order_by("-pk").first()
        assert event.comment == "单位名称请写全称"
    assert not ReviewTask.objects.filter(object_id__in=[m.pk for m in made]).exists()


def test_bulk_reject_decides_each_kind_through_its_own_service(
    client, world, employer_user, college_reviewer
):
    registration = _registrations(world.major_a1, 1)[0]
    agreement = _agreements(world, employer_user.employer, 1)[0]
    client.force_login(college_reviewer)
    response = _post(client, "reject", [registration, agreement], comment="材料不符")
    assert [ok for _label, ok, _message in response.context["results"]] == [True, True]
    assert (_status(registration), _status(agreement)) == ("rejected", "failed")


def test_an_item_that_cannot_be_returned_is_reported_and_the_others_proceed(
    client, world, employer_user, college_reviewer
):
    agreement = _agreements(world, employer_user.employer, 1)[0]
    registration = _registrations(world.major_a1, 1)[0]
    client.force_login(college_reviewer)
    response = _post(client, "return", [agreement, registration], comment="请补充")
    results = response.context["results"]
    assert [ok for _label, ok, _message in results] == [False, True]
    assert (_status(agreement), _status(registration)) == ("college_review", "returned")
    assert "批量退回修改" in response.content.decode()


@pytest.mark.parametrize("decision", ["approve", "return", "reject"])
def test_other_colleges_and_schools_items_are_refused_not_fatal(
    client, world, college_reviewer, other_school_reviewer, decision
):
    mine = _registrations(world.major_a1, 1)[0]
    other_college = _registrations(world.major_a2, 1)[0]
    other_school = _registrations(world.major_b1, 1)[0]
    client.force_login(college_reviewer)
    response = _post(client, decision, [other_college, mine, other_school], comment="理由")
    results = response.context["results"]
    assert [ok for _label, ok, _message in results] == [False, True, False]
    # The answer for a stranger's row is the one for a decided row: it tells nothing.
    assert results[0].message == results[2].message == STALE
    assert _status(other_college) == _status(other_school) == "college_review"


def test_another_schools_reviewer_cannot_decide_this_schools_items(
    client, world, college_reviewer, school_reviewer, other_school_reviewer
):
    item = _registrations(world.major_a1, 1)[0]
    reg.registration_review(registration=item, reviewer=college_reviewer, decision="approve")
    value = _value(item)
    client.force_login(other_school_reviewer)
    response = _post(client, "reject", [value], comment="不符")
    assert [(ok, message) for _label, ok, message in response.context["results"]] == [
        (False, STALE)
    ]
    assert _status(item) == "school_review"
    client.force_login(school_reviewer)
    response = _post(client, "reject", [value], comment="不符")
    assert [ok for _label, ok, _message in response.context["results"]] == [True]
    assert _status(item) == "rejected"


def test_a_stale_row_is_reported_and_the_others_are_decided(
    client, world, college_reviewer, platform_admin
):
    made = _registrations(world.major_a1, 3)
    values = [_value(m) for m in made]
    # Another reviewer returns the middle one while the queue is open; the student
    # resubmits it: the row exists again, but not in the state the reviewer saw.
    reg.registration_review(
        registration=made[1], reviewer=platform_admin, decision="return", comment="改"
    )
    changed = reg.registration_save_draft(
        student=made[1].student, path="offline", values={"unit_name": "乙"}, registration=made[1]
    )
    reg.registration_submit(registration=changed, user=made[1].student.user)
    client.force_login(college_reviewer)
    response = _post(client, "reject", values, comment="不符")
    results = response.context["results"]
    assert [(ok, message) for _label, ok, message in results][1] == (False, STALE)
    assert [ok for _label, ok, _message in results] == [True, False, True]
    assert [_status(m) for m in made] == ["rejected", "college_review", "rejected"]


def test_the_service_decides_each_row_and_reports_in_order(world, college_reviewer):
    made = _registrations(world.major_a1, 2)
    results = review_bulk(
        reviewer=college_reviewer,
        values=[_value(made[0]), "junk", _value(made[1])],
        decision="reject",
        comment="不符",
    )
    assert [(r.ok, r.message) for r in results] == [
        (True, "已审核不通过。"),
        (False, "该事项已不在您的待审核范围内。"),
        (True, "已审核不通过。"),
    ]


def test_bulk_is_post_only_and_for_reviewers(client, world, student, college_reviewer):
    assert client.post(reverse("reviews:bulk")).status_code == 302  # to the sign-in page
    client.force_login(student.user)
    assert client.post(reverse("reviews:bulk"), {"decision": "approve"}).status_code == 403
    client.force_login(college_reviewer)
    assert client.get(reverse("reviews:bulk")).status_code == 405


def test_the_confirm_page_reads_a_few_queries(
    client, world, college_reviewer, django_assert_max_num_queries
):
    made = _registrations(world.major_a1, 10)
    values = [_value(m) for m in made]
    client.force_login(college_reviewer)
    client.get(reverse("reviews:queue"))  # warm: the cached unread count
    with django_assert_max_num_queries(8):
        _post(client, "reject", values, confirmed=False)


# --- total and page count -------------------------------------------------------------


def test_the_queue_shows_the_total_and_the_page_count(client, world, college_reviewer, monkeypatch):
    _registrations(world.major_a1, 5)
    monkeypatch.setattr(review_queue, "PAGE_SIZE", 2)
    client.force_login(college_reviewer)
    first = client.get(reverse("reviews:queue"))
    assert (first.context["total"], first.context["page_number"], first.context["pages"]) == (
        5,
        1,
        3,
    )
    assert "共 5 条，第 1 / 3 页" in first.content.decode()
    cursor = first.context["next_cursor"]
    second = client.get(reverse("reviews:queue"), {"after": cursor, "page": "2"})
    assert "共 5 条，第 2 / 3 页" in second.content.decode()
    assert "page=3" in second.content.decode()  # the next link carries the number
    # A filtered queue counts what the filter keeps.
    filtered = client.get(reverse("reviews:queue"), {"kind": "offline"})
    assert "共 5 条，第 1 / 3 页" in filtered.content.decode()


@pytest.mark.parametrize(
    ("total", "cursor", "number", "expected"),
    [
        (0, "", "", (1, 1)),
        (50, "", "7", (1, 1)),  # no cursor: the first page whatever the link says
        (51, "c", "", (2, 2)),
        (120, "c", "3", (3, 3)),
        (120, "c", "99", (3, 3)),  # a hand-edited number stays within the count
        (120, "c", "x", (2, 3)),
    ],
)
def test_position(total, cursor, number, expected):
    assert review_queue.position(total, cursor, number) == expected
