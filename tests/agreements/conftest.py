import pytest

from agreements import services
from tests import factories as f


@pytest.fixture
def invitation(employer_user, student):
    return f.make_invitation(employer_user.employer, student, sent_by=employer_user)


@pytest.fixture
def agreement(invitation, student):
    """An agreement awaiting the college's review."""
    return services.invitation_accept(invitation=invitation, user=student.user)


@pytest.fixture
def signed(agreement, college_reviewer, school_reviewer):
    services.agreement_approve(agreement=agreement, reviewer=college_reviewer)
    return services.agreement_approve(agreement=agreement, reviewer=school_reviewer)
