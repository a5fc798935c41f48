"""Registry requests and imports are the school employment office's business (one rule)."""

import pytest
from django.utils.translation import gettext

from students.models import RegistryImportJob, RegistryRequest
from students.permissions import can_view_import_job, can_view_registry_request

REFUSALS = {
    "request": "Registry requests are reviewed by the school employment office.",
    "import": "Registry imports are run by the school employment office.",
}


@pytest.fixture
def items(world, student):
    return {
        "request": (
            can_view_registry_request,
            RegistryRequest(student=student, school=world.school_a),
        ),
        "import": (can_view_import_job, RegistryImportJob(school=world.school_a)),
    }


@pytest.mark.parametrize("kind", ["request", "import"])
def test_the_school_office_and_admins_may_colleges_are_told_strangers_get_404(
    kind,
    items,
    school_reviewer,
    platform_admin,
    college_reviewer,
    other_school_reviewer,
    employer_user,
):
    may, item = items[kind]
    assert may(school_reviewer, item)
    assert may(platform_admin, item)
    told = may(college_reviewer, item)
    assert not told and told.visible and told.reason == gettext(REFUSALS[kind])
    for stranger in (other_school_reviewer, employer_user):
        refused = may(stranger, item)
        assert not refused and not refused.visible, stranger


def test_a_student_sees_only_their_own_request(world, student, other_student):
    request = RegistryRequest(student=student, school=world.school_a)
    assert can_view_registry_request(student.user, request)
    assert not can_view_registry_request(other_student.user, request).visible
