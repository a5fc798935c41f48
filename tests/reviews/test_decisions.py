"""A decision is bound to the stage the reviewer saw, and one person never approves both
stages of an item: double posts, stale pages, stale queue rows, the four-eyes rule."""

import re

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from agreements.models import Agreement, Registration, Termination
from agreements.online import services
from agreements.registrations import services as reg
from destreg.audit.models import AuditEvent, Notification, ReviewTask
from destreg.lib.decisions import decision_state, parse_bulk_value
from students import services as student_services
from students.models import RegistryRequest
from tests import factories as f

STALE = "该事项已被处理，请刷新后重试"
SAME_PERSON = "您已在学院审核阶段审核通过此事项，学校审核须由其他审核人完成。"


def _page(client, user, url) -> str:
    client.force_login(user)
    response = client.get(url)
    assert response.status_code == 200
    return response.content.decode()


def _rendered_form(page: str, decision: str = "approve", comment: str = "") -> dict:
    """What the page's decide form posts: its hidden state as rendered, and the button."""
    match = re.search(r'<input type="hidden" name="state" value="([^"]*)"', page)
    assert match, "the decide form carries no state"
    return {"state": match.group(1), "decision": decision, "comment": comment}


def _footprint(item) -> tuple:
    """Everything a decision changes: the item's status, its audit rows, the queue, the
    notifications sent."""
    fresh = type(item).objects.get(pk=item.pk)
    return (
        fresh.status,
        AuditEvent.objects.for_object(item).count(),
        list(ReviewTask.objects.filter(object_id=item.pk).values_list("stage", flat=True)),
        Notification.objects.count(),
    )


def _offline_in_college_review(student) -> Registration:
    draft = reg.registration_save_draft(student=student, path="offline", values={"unit_name": "甲"})
    return reg.registration_submit(registration=draft, user=student.user)


def _termination_in_college_review(signed, student, employer_user) -> Termination:
    termination = services.termination_request(agreement=signed, user=student.user, reason="考研")
    return services.termination_answer(termination=termination, user=employer_user, agree=True)


# --- a decision posted twice --------------------------------------------------------


def test_an_agreement_decision_posted_twice_is_refused_the_second_time(
    client, agreement, college_reviewer
):
    page_url = reverse("reviews:agreement", args=[agreement.pk])
    form = _rendered_form(_page(client, college_reviewer, page_url))
    decide = reverse("reviews:agreement_decide", args=[agreement.pk])
    assert client.post(decide, form).url == reverse("reviews:queue")
    after_first = _footprint(agreement)
    assert after_first[0] == "school_review"

    second = client.post(decide, form, follow=True)
    assert second.redirect_chain == [(page_url, 302)]
    assert STALE in second.content.decode()
    assert _footprint(agreement) == after_first


def test_a_registry_request_decision_posted_twice_is_refused_the_second_time(
    client, student, school_reviewer
):
    pending = student_services.registry_request_submit(
        student=student, kind="update", school=student.record.school, data={"ethnicity": "03"}
    )
    page_url = reverse("reviews:registry_request", args=[pending.pk])
    form = _rendered_form(_page(client, school_reviewer, page_url))
    decide = reverse("reviews:registry_decide", args=[pending.pk])
    assert client.post(decide, form).status_code == 302
    after_first = _footprint(pending)
    assert after_first[0] == "approved"

    second = client.post(decide, form | {"decision": "reject", "comment": "重复"}, follow=True)
    assert STALE in second.content.decode()
    assert _footprint(pending) == after_first
    assert RegistryRequest.objects.get(pk=pending.pk).reason == ""


def test_a_second_reviewer_with_the_page_open_cannot_reject_what_was_approved(
    client, agreement, college_reviewer, platform_admin
):
    page_url = reverse("reviews:agreement", args=[agreement.pk])
    seen_by_admin = _rendered_form(_page(client, platform_admin, page_url), "reject", "不符")
    client.force_login(college_reviewer)
    client.post(reverse("reviews:agreement_decide", args=[agreement.pk]), f.decision(agreement))
    before = _footprint(agreement)

    client.force_login(platform_admin)
    response = client.post(
        reverse("reviews:agreement_decide", args=[agreement.pk]), seen_by_admin, follow=True
    )
    assert STALE in response.content.decode()
    assert _footprint(agreement) == before == ("school_review", 2, ["school"], before[3])


def test_a_form_without_its_state_decides_nothing(client, agreement, college_reviewer):
    client.force_login(college_reviewer)
    response = client.post(
        reverse("reviews:agreement_decide", args=[agreement.pk]), {"decision": "approve"}
    )
    assert response.url == reverse("reviews:agreement", args=[agreement.pk])
    assert Agreement.objects.get(pk=agreement.pk).status == "college_review"


def test_a_registration_resubmitted_while_the_page_was_open_is_not_approved_unseen(
    client, student, college_reviewer, platform_admin
):
    item = _offline_in_college_review(student)
    page_url = reverse("reviews:registration", args=[item.pk])
    seen = _rendered_form(_page(client, college_reviewer, page_url))
    # Meanwhile it is returned, changed and submitted again: the same status, new content.
    reg.registration_review(
        registration=item, reviewer=platform_admin, decision="return", comment="单位名称有误"
    )
    changed = reg.registration_save_draft(
        student=student, path="offline", values={"unit_name": "乙"}, registration=item
    )
    reg.registration_submit(registration=changed, user=student.user)
    before = _footprint(item)
    assert before[0] == "college_review"

    response = client.post(reverse("reviews:registration_decide", args=[item.pk]), seen)
    assert response.url == page_url
    assert _footprint(item) == before


def test_the_service_refuses_a_stale_state_and_changes_nothing(agreement, college_reviewer):
    seen = decision_state(agreement)
    services.agreement_approve(agreement=agreement, reviewer=college_reviewer, expected_state=seen)
    before = _footprint(agreement)
    with pytest.raises(ValidationError) as refused:
        services.agreement_fail(
            agreement=agreement, reviewer=college_reviewer, reason="不符", expected_state=seen
        )
    assert refused.value.messages == [STALE]
    assert _footprint(agreement) == before


# --- the admin double-click ---------------------------------------------------------


def test_an_admin_double_click_on_a_college_stage_agreement_does_not_sign_it(
    client, agreement, platform_admin
):
    page_url = reverse("reviews:agreement", args=[agreement.pk])
    form = _rendered_form(_page(client, platform_admin, page_url))
    decide = reverse("reviews:agreement_decide", args=[agreement.pk])
    client.post(decide, form)
    second = client.post(decide, form, follow=True)
    assert STALE in second.content.decode()
    agreement.refresh_from_db()
    assert (agreement.status, agreement.number) == ("school_review", None)

    # Nor can the admin take the school's decision from a fresh page.
    page = _page(client, platform_admin, page_url)
    assert SAME_PERSON in page and 'name="state"' not in page
    assert client.post(decide, f.decision(agreement)).status_code == 403
    assert Agreement.objects.get(pk=agreement.pk).status == "school_review"


def test_an_admin_double_click_on_a_college_stage_registration_does_not_approve_it(
    client, student, platform_admin
):
    item = _offline_in_college_review(student)
    page_url = reverse("reviews:registration", args=[item.pk])
    form = _rendered_form(_page(client, platform_admin, page_url))
    decide = reverse("reviews:registration_decide", args=[item.pk])
    client.post(decide, form)
    second = client.post(decide, form, follow=True)
    assert STALE in second.content.decode()
    assert Registration.objects.get(pk=item.pk).status == "school_review"

    page = _page(client, platform_admin, page_url)
    assert SAME_PERSON in page and 'name="state"' not in page
    for decision, comment in (("approve", ""), ("return", "再看看"), ("reject", "不行")):
        data = f.decision(item, decision, comment)
        assert client.post(decide, data).status_code == 403
    assert Registration.objects.get(pk=item.pk).status == "school_review"


# --- the same person on both stages ------------------------------------------------


def test_the_college_approver_may_not_decide_the_school_stage_of_an_agreement(
    agreement, platform_admin, school_reviewer
):
    services.agreement_approve(agreement=agreement, reviewer=platform_admin)
    with pytest.raises(PermissionDenied, match=SAME_PERSON):
        services.agreement_approve(agreement=agreement, reviewer=platform_admin)
    with pytest.raises(PermissionDenied):
        services.agreement_fail(agreement=agreement, reviewer=platform_admin, reason="不符")
    assert services.agreement_approve(agreement=agreement, reviewer=school_reviewer).number


def test_the_college_approver_may_not_decide_the_school_stage_of_a_registration(
    client, student, platform_admin, school_reviewer
):
    item = _offline_in_college_review(student)
    reg.registration_review(registration=item, reviewer=platform_admin, decision="approve")
    with pytest.raises(PermissionDenied):
        reg.registration_review(registration=item, reviewer=platform_admin, decision="approve")
    reg.registration_review(registration=item, reviewer=school_reviewer, decision="approve")
    assert Registration.objects.get(pk=item.pk).status == "info_approved"


def test_the_rule_holds_again_for_the_stamped_scan_stage(student, platform_admin, college_reviewer):
    item = _offline_in_college_review(student)
    Registration.objects.filter(pk=item.pk).update(status="scan_college_review")
    reg.registration_review(registration=item, reviewer=platform_admin, decision="approve")
    assert Registration.objects.get(pk=item.pk).status == "scan_school_review"
    with pytest.raises(PermissionDenied):
        reg.registration_review(registration=item, reviewer=platform_admin, decision="approve")


def test_the_college_approver_may_not_decide_the_school_stage_of_a_termination(
    client, signed, student, employer_user, platform_admin, school_reviewer
):
    termination = _termination_in_college_review(signed, student, employer_user)
    page_url = reverse("reviews:agreement", args=[signed.pk])
    decide = reverse("reviews:agreement_decide", args=[signed.pk])
    form = _rendered_form(_page(client, platform_admin, page_url))
    assert client.post(decide, form).status_code == 302
    assert Termination.objects.get(pk=termination.pk).status == "school_review"

    page = _page(client, platform_admin, page_url)
    assert SAME_PERSON in page and 'name="state"' not in page
    assert client.post(decide, f.decision(termination)).status_code == 403
    with pytest.raises(PermissionDenied):
        services.termination_reject(termination=termination, reviewer=platform_admin, reason="否")
    assert Termination.objects.get(pk=termination.pk).status == "school_review"

    form = _rendered_form(_page(client, school_reviewer, page_url))
    assert client.post(decide, form).status_code == 302
    assert Agreement.objects.get(pk=signed.pk).status == "terminated"


# --- the queue's bulk approval ------------------------------------------------------


def _queue_values(client, user) -> dict[int, str]:
    """The queue's checkbox values as rendered, by item id."""
    page = _page(client, user, reverse("reviews:queue"))
    values = re.findall(r'name="task" value="([^"]*)"', page)
    tasks = {str(t.pk): t.object_id for t in ReviewTask.objects.all()}
    return {tasks[value.split(":")[0]]: value for value in values}


def test_a_stale_row_of_a_bulk_approval_is_reported_and_the_others_proceed(
    client, world, employer_user, college_reviewer, platform_admin
):
    made = []
    for _ in range(3):
        other = f.make_student(f.make_record(world.major_a1))
        invitation = f.make_invitation(employer_user.employer, other)
        made.append(services.invitation_accept(invitation=invitation, user=other.user))
    values = _queue_values(client, college_reviewer)
    assert set(values) == {a.pk for a in made}
    # Another reviewer decides the middle one while the queue is open.
    services.agreement_fail(agreement=made[1], reviewer=platform_admin, reason="不符")
    before = _footprint(made[1])[:3]
    student_notified = Notification.objects.filter(user=made[1].student.user).count()

    client.force_login(college_reviewer)
    response = client.post(
        reverse("reviews:bulk"),
        {"decision": "approve", "confirmed": "1", "task": [values[a.pk] for a in made]},
    )
    results = response.context["results"]
    assert [ok for _label, ok, _message in results] == [True, False, True]
    assert results[1][2] == STALE and STALE in response.content.decode()
    assert [Agreement.objects.get(pk=a.pk).status for a in made] == [
        "school_review",
        "failed",
        "school_review",
    ]
    assert _footprint(made[1])[:3] == before
    assert Notification.objects.filter(user=made[1].student.user).count() == student_notified


def test_a_bulk_row_approved_at_the_college_is_not_approved_again_at_the_school(
    client, agreement, platform_admin
):
    values = _queue_values(client, platform_admin)
    client.post(
        reverse("reviews:bulk"),
        {"decision": "approve", "confirmed": "1", "task": [values[agreement.pk]]},
    )
    response = client.post(
        reverse("reviews:bulk"),
        {"decision": "approve", "confirmed": "1", "task": [values[agreement.pk]]},
    )
    assert response.context["results"][0][1:] == (False, STALE)
    # A fresh queue offers the row, but the admin made the college decision.
    fresh = _queue_values(client, platform_admin)[agreement.pk]
    response = client.post(
        reverse("reviews:bulk"), {"decision": "approve", "confirmed": "1", "task": [fresh]}
    )
    assert response.context["results"][0][1:] == (False, SAME_PERSON)
    assert Agreement.objects.get(pk=agreement.pk).status == "school_review"


@pytest.mark.parametrize("value", ["²", "1²", "²:x", "-1:x", " 1:x", "1\x00:x", "9" * 40 + ":x"])
def test_bulk_values_without_an_ascii_id_are_not_found(client, college_reviewer, value):
    client.force_login(college_reviewer)
    response = client.post(
        reverse("reviews:bulk"), {"decision": "approve", "confirmed": "1", "task": [value]}
    )
    if "\x00" in value:  # refused before any view runs (destreg.lib.middleware.RejectNul…)
        assert response.status_code == 400
        return
    assert response.status_code == 200
    assert [ok for _label, ok, _message in response.context["results"]] == [False]


def test_a_bulk_value_without_a_state_approves_nothing(client, agreement, college_reviewer):
    task = ReviewTask.objects.get(object_id=agreement.pk)
    client.force_login(college_reviewer)
    response = client.post(
        reverse("reviews:bulk"), {"decision": "approve", "confirmed": "1", "task": [str(task.pk)]}
    )
    assert response.context["results"][0][1:] == (False, STALE)
    assert Agreement.objects.get(pk=agreement.pk).status == "college_review"


@pytest.mark.parametrize(
    ("value", "parsed"),
    [
        ("12:school_review@1", (12, "school_review@1")),
        ("12", (12, None)),
        ("12:", (12, "")),
        ("²:x", (None, None)),
        ("١٢:x", (None, None)),
        ("1" * 19 + ":x", (None, None)),
        ("", (None, None)),
    ],
)
def test_parse_bulk_value(value, parsed):
    assert parse_bulk_value(value) == parsed


# --- the permission functions --------------------------------------------------------


def test_decision_state_changes_with_every_review_step(agreement, college_reviewer):
    seen = decision_state(agreement)
    assert seen.startswith("college_review@")
    services.agreement_approve(agreement=agreement, reviewer=college_reviewer)
    agreement.refresh_from_db()
    assert decision_state(agreement).startswith("school_review@")
    assert decision_state(agreement) != seen
