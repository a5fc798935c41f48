import pytest
from django.urls import reverse

from students import services
from tests import factories as f


@pytest.fixture
def pending(student):
    return services.registry_request_submit(
        student=student, kind="update", school=student.record.school, data={"ethnicity": "03"}
    )


def test_the_school_reviewer_sees_their_schools_requests(client, pending, school_reviewer):
    client.force_login(school_reviewer)
    response = client.get(reverse("reviews:queue"))
    urls = [url for _task, url, _overdue in response.context["rows"]]
    assert urls == [reverse("reviews:registry_request", args=[pending.pk])]


def test_other_reviewers_see_nothing(client, pending, other_school_reviewer, college_reviewer):
    for user in (other_school_reviewer, college_reviewer):
        client.force_login(user)
        assert client.get(reverse("reviews:queue")).context["rows"] == []


def test_queue_queries_do_not_grow_with_items(
    client, world, school_reviewer, django_assert_max_num_queries
):
    for _ in range(5):
        s = f.make_student(f.make_record(world.major_a1))
        services.registry_request_submit(
            student=s, kind="update", school=world.school_a, data={"ethnicity": "03"}
        )
    client.force_login(school_reviewer)
    with django_assert_max_num_queries(14):
        response = client.get(reverse("reviews:queue"))
    assert len(response.context["rows"]) == 5


@pytest.mark.parametrize(
    ("who", "expected"),
    [
        ("anonymous", 302),
        ("student", 403),  # the owner, but this is the reviewers' page
        ("other_student", 403),
        ("employer_user", 403),
        ("college_reviewer", 403),  # same school, not the school stage
        ("school_reviewer", 200),
        ("other_school_reviewer", 404),  # another school: as if it did not exist
        ("platform_admin", 200),
    ],
)
def test_review_detail_answers_each_role(client, request, pending, who, expected):
    if who != "anonymous":
        user = request.getfixturevalue(who)
        client.force_login(getattr(user, "user", user))
    response = client.get(reverse("reviews:registry_request", args=[pending.pk]))
    assert response.status_code == expected


@pytest.mark.parametrize(
    ("who", "expected"),
    [
        ("anonymous", 302),
        ("student", 200),
        ("other_student", 404),
        ("school_reviewer", 403),  # reviewers use their own page
    ],
)
def test_student_request_detail_answers_each_role(client, request, pending, who, expected):
    if who != "anonymous":
        user = request.getfixturevalue(who)
        client.force_login(getattr(user, "user", user))
    response = client.get(reverse("students:request_detail", args=[pending.pk]))
    assert response.status_code == expected


def test_deciding_needs_post_and_the_right_reviewer(
    client, pending, college_reviewer, other_school_reviewer, school_reviewer
):
    url = reverse("reviews:registry_decide", args=[pending.pk])
    client.force_login(college_reviewer)
    assert client.post(url, {"decision": "approve"}).status_code == 403
    client.force_login(other_school_reviewer)
    assert client.post(url, {"decision": "approve"}).status_code == 404
    client.force_login(school_reviewer)
    assert client.get(url).status_code == 405
    response = client.post(url, f.decision(pending))
    assert response.url == reverse("reviews:queue")


def test_reviewers_see_the_id_number_masked(client, pending, school_reviewer, student):
    client.force_login(school_reviewer)
    page = client.get(reverse("reviews:registry_request", args=[pending.pk])).content.decode()
    assert student.id_number not in page
    assert student.id_number_masked in page
