"""The review permission functions: stage first, then role, then the four-eyes rule
(whoever approved the college stage of an item does not decide its school stage)."""

import pytest

from agreements.online import services
from agreements.online.permissions import can_review_agreement, can_review_termination
from agreements.registrations import services as reg
from agreements.registrations.permissions import can_review_registration
from destreg.accounts.models import Role
from tests import factories as f

SAME_PERSON = "您已在学院审核阶段审核通过此事项，学校审核须由其他审核人完成。"
CAST = ["college_reviewer", "school_reviewer", "platform_admin", "other_admin"]


@pytest.fixture
def other_admin(reference_data):
    return f.make_user(Role.PLATFORM_ADMIN, is_staff=True)


def _answers(request, check, item) -> dict:
    return {who: check(request.getfixturevalue(who), item).allowed for who in CAST}


def _offline(student):
    draft = reg.registration_save_draft(student=student, path="offline", values={"unit_name": "甲"})
    return reg.registration_submit(registration=draft, user=student.user)


def test_an_agreement_at_the_college_stage(request, agreement):
    assert _answers(request, can_review_agreement, agreement) == {
        "college_reviewer": True,
        "school_reviewer": False,
        "platform_admin": True,
        "other_admin": True,
    }


def test_an_agreement_the_college_reviewer_passed(request, agreement, college_reviewer):
    agreement = services.agreement_approve(agreement=agreement, reviewer=college_reviewer)
    assert _answers(request, can_review_agreement, agreement) == {
        "college_reviewer": False,
        "school_reviewer": True,
        "platform_admin": True,
        "other_admin": True,
    }


def test_an_agreement_the_admin_passed(request, agreement, platform_admin):
    agreement = services.agreement_approve(agreement=agreement, reviewer=platform_admin)
    assert _answers(request, can_review_agreement, agreement) == {
        "college_reviewer": False,
        "school_reviewer": True,
        "platform_admin": False,
        "other_admin": True,
    }
    assert can_review_agreement(platform_admin, agreement).reason == SAME_PERSON


def test_a_college_reviewer_moved_to_the_school_office_does_not_decide_their_own_item(
    agreement, college_reviewer
):
    agreement = services.agreement_approve(agreement=agreement, reviewer=college_reviewer)
    college_reviewer.role, college_reviewer.college = Role.SCHOOL_REVIEWER, None
    college_reviewer.save()
    decision = can_review_agreement(college_reviewer, agreement)
    assert (decision.allowed, decision.reason) == (False, SAME_PERSON)


def test_a_registration_the_admin_passed(request, student, platform_admin):
    item = _offline(student)
    assert _answers(request, can_review_registration, item) == {
        "college_reviewer": True,
        "school_reviewer": False,
        "platform_admin": True,
        "other_admin": True,
    }
    item = reg.registration_review(registration=item, reviewer=platform_admin, decision="approve")
    assert _answers(request, can_review_registration, item) == {
        "college_reviewer": False,
        "school_reviewer": True,
        "platform_admin": False,
        "other_admin": True,
    }
    assert can_review_registration(platform_admin, item).reason == SAME_PERSON


def test_only_the_latest_college_approval_counts(
    student, platform_admin, other_admin, college_reviewer
):
    """Returned by the school and resubmitted, the item is passed by another college
    reviewer this time: the first round's approver may now take the school's decision."""
    item = reg.registration_review(
        registration=_offline(student), reviewer=platform_admin, decision="approve"
    )
    item = reg.registration_review(
        registration=item, reviewer=other_admin, decision="return", comment="补充"
    )
    item = reg.registration_submit(registration=item, user=student.user)
    item = reg.registration_review(registration=item, reviewer=college_reviewer, decision="approve")
    assert can_review_registration(platform_admin, item)
    assert not can_review_registration(college_reviewer, item)


def test_a_termination_the_admin_passed(
    request, signed, student, employer_user, platform_admin, college_reviewer
):
    termination = services.termination_request(agreement=signed, user=student.user, reason="考研")
    termination = services.termination_answer(
        termination=termination, user=employer_user, agree=True
    )
    assert _answers(request, can_review_termination, termination) == {
        "college_reviewer": True,
        "school_reviewer": False,
        "platform_admin": True,
        "other_admin": True,
    }
    # The agreement's own college approval (by college_reviewer) is not the termination's.
    termination = services.termination_approve(termination=termination, reviewer=platform_admin)
    assert _answers(request, can_review_termination, termination) == {
        "college_reviewer": False,
        "school_reviewer": True,
        "platform_admin": False,
        "other_admin": True,
    }
    assert can_review_termination(platform_admin, termination).reason == SAME_PERSON
