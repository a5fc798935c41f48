import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone
from django_fsm import can_proceed

from agreements.models import Agreement, Invitation, Termination
from agreements.online import services
from destreg.audit.models import AuditEvent
from students.models import RegistryRecord
from tests import factories as f


def _decide(client, user, agreement, decision, comment=""):
    client.force_login(user)
    url = reverse("reviews:agreement_decide", args=[agreement.pk])
    return client.post(url, f.decision(agreement, decision, comment))


def test_college_then_school_approval_signs_the_agreement(
    client, agreement, college_reviewer, school_reviewer, student
):
    assert _decide(client, college_reviewer, agreement, "approve").status_code == 302
    agreement.refresh_from_db()
    assert agreement.status == "school_review" and agreement.number is None

    assert _decide(client, school_reviewer, agreement, "approve").status_code == 302
    agreement.refresh_from_db()
    assert agreement.status == "signed"
    year = timezone.localdate(agreement.signed_at).year
    assert agreement.number == f"{year}{agreement.school.code}000001"
    record = RegistryRecord.objects.get(pk=student.record_id)
    assert record.destination.code == "10"
    actions = list(AuditEvent.objects.for_object(agreement).values_list("action", flat=True))
    assert actions == ["accept", "college_approve", "school_approve"]

    client.force_login(student.user)
    page = client.get(reverse("agreements:agreement", args=[agreement.pk])).content.decode()
    assert agreement.number in page


def test_numbers_follow_a_per_school_sequence(world, employer_user, college_reviewer,
                                              school_reviewer):  # fmt: skip
    numbers = []
    for _ in range(3):
        student = f.make_student(f.make_record(world.major_a1))
        invitation = f.make_invitation(employer_user.employer, student)
        agreement = services.invitation_accept(invitation=invitation, user=student.user)
        services.agreement_approve(agreement=agreement, reviewer=college_reviewer)
        numbers.append(
            services.agreement_approve(agreement=agreement, reviewer=school_reviewer).number
        )
    assert [n[-6:] for n in numbers] == ["000001", "000002", "000003"]


def test_not_approved_needs_a_reason_and_both_parties_see_it(
    client, agreement, college_reviewer, student, employer_user
):
    assert _decide(client, college_reviewer, agreement, "reject").status_code == 400
    assert Agreement.objects.get(pk=agreement.pk).status == "college_review"
    _decide(client, college_reviewer, agreement, "reject", "岗位信息与招聘公告不符")
    agreement.refresh_from_db()
    assert agreement.status == "failed"
    for user in (student.user, employer_user):
        client.force_login(user)
        page = client.get(reverse("agreements:agreement", args=[agreement.pk])).content.decode()
        assert "岗位信息与招聘公告不符" in page


def test_after_a_failure_a_new_invitation_can_be_signed(
    agreement, college_reviewer, student, employer_user
):
    services.agreement_fail(agreement=agreement, reviewer=college_reviewer, reason="不符")
    again = f.make_invitation(employer_user.employer, student)
    assert (
        services.invitation_accept(invitation=again, user=student.user).status == "college_review"
    )


def test_reviewers_only_act_on_their_stage_and_scope(
    client, agreement, school_reviewer, other_college_reviewer, other_school_reviewer
):
    # The school waits for the college.
    assert _decide(client, school_reviewer, agreement, "approve").status_code == 403
    # Another college and another school do not even see it.
    assert _decide(client, other_college_reviewer, agreement, "approve").status_code == 404
    assert _decide(client, other_school_reviewer, agreement, "approve").status_code == 404
    assert Agreement.objects.get(pk=agreement.pk).status == "college_review"


@pytest.mark.parametrize(
    ("who", "expected"),
    [
        ("anonymous", 302), ("student", 200), ("other_student", 404), ("employer_user", 200),
        ("other_employer_user", 404), ("college_reviewer", 200), ("other_college_reviewer", 404),
        ("school_reviewer", 200), ("other_school_reviewer", 404), ("platform_admin", 200),
    ],
)  # fmt: skip
def test_agreement_page_answers_each_role(client, request, agreement, who, expected):
    if who != "anonymous":
        user = request.getfixturevalue(who)
        client.force_login(getattr(user, "user", user))
    response = client.get(reverse("agreements:agreement", args=[agreement.pk]))
    assert response.status_code == expected


@pytest.mark.parametrize(
    ("who", "expected"),
    [
        ("anonymous", 302), ("student", 200), ("other_student", 404), ("employer_user", 200),
        ("other_employer_user", 404), ("school_reviewer", 403),
    ],
)  # fmt: skip
def test_invitation_page_answers_each_role(client, request, invitation, who, expected):
    if who != "anonymous":
        user = request.getfixturevalue(who)
        client.force_login(getattr(user, "user", user))
    response = client.get(reverse("agreements:invitation", args=[invitation.pk]))
    assert response.status_code == expected


def test_the_queue_lists_agreements_for_the_right_stage(
    client, agreement, college_reviewer, school_reviewer, other_college_reviewer,
    django_assert_max_num_queries,
):  # fmt: skip
    url = reverse("reviews:agreement", args=[agreement.pk])
    client.force_login(college_reviewer)
    with django_assert_max_num_queries(14):
        rows = client.get(reverse("reviews:queue")).context["rows"]
    assert [row_url for _task, row_url, _overdue in rows] == [url]
    for user in (school_reviewer, other_college_reviewer):
        client.force_login(user)
        assert client.get(reverse("reviews:queue")).context["rows"] == []


# Every (state, transition) pair of each state machine: allowed or refused.
AGREEMENT_TABLE = {
    "college_review": {"_college_approve", "_fail"},
    "school_review": {"_school_approve", "_fail"},
    "signed": {"_terminate"},
    "failed": set(),
    "terminated": set(),
}
INVITATION_TABLE = {
    "pending": {"_accept", "_decline", "_expire"},
    "accepted": set(), "declined": set(), "expired": set(),
}  # fmt: skip
TERMINATION_TABLE = {
    "awaiting_party": {"_agree", "_refuse"},
    "refused": set(),
    "college_review": {"_college_approve", "_reject"},
    "school_review": {"_school_approve", "_reject"},
    "approved": set(), "rejected": set(),
}  # fmt: skip


@pytest.mark.parametrize(
    ("model", "table"),
    [(Agreement, AGREEMENT_TABLE), (Invitation, INVITATION_TABLE),
     (Termination, TERMINATION_TABLE)],
)  # fmt: skip
def test_state_machines(model, table):
    actions = set().union(*table.values())
    for state, allowed in table.items():
        item = model(status=state)
        for action in actions:
            assert can_proceed(getattr(item, action)) is (action in allowed), (state, action)


def test_services_refuse_decided_agreements(signed, college_reviewer, school_reviewer):
    with pytest.raises(PermissionDenied):
        services.agreement_approve(agreement=signed, reviewer=school_reviewer)
    with pytest.raises((PermissionDenied, ValidationError)):
        services.agreement_fail(agreement=signed, reviewer=college_reviewer, reason="x")
