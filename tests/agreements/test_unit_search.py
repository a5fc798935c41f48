"""点击搜索 offers verified employers and the units already registered at the student's own
school; never a unit someone typed at another school, nor an unverified employer."""

import pytest
from django.urls import reverse
from django.utils import timezone

from agreements.models import Registration
from agreements.registrations import services as registrations
from tests import factories as f


def _approved_unit(student, name: str, uscc: str) -> Registration:
    item = registrations.registration_save_draft(
        student=student, path="paper", values={"unit_name": name, "unit_uscc": uscc}
    )
    Registration.objects.filter(pk=item.pk).update(
        status=Registration.Status.APPROVED, signed_at=timezone.now()
    )
    return item


def _names(client, query: str) -> list[str]:
    response = client.get(reverse("agreements:unit_search"), {"q": query})
    assert response.status_code == 200
    return [row["name"] for row in response.json()["results"]]


@pytest.fixture
def units(world, other_student):
    """One unit used at the student's school (A), one used only at school B."""
    at_b = f.make_student(f.make_record(world.major_b1))
    _approved_unit(other_student, "星河科技有限公司", "91110000000000001X")
    _approved_unit(at_b, "星河乙校专用单位", "91110000000000002X")


def test_units_used_at_the_students_own_school_are_offered(client, student, units):
    client.force_login(student.user)
    assert _names(client, "星河") == ["星河科技有限公司"]


def test_a_unit_typed_at_another_school_is_never_offered(client, student, units):
    client.force_login(student.user)
    assert _names(client, "乙校专用") == []


def test_only_verified_employers_are_offered(client, student):
    f.make_employer(name="云帆信息技术有限公司", verified_at=timezone.now())
    f.make_employer(name="云帆未审核公司")
    client.force_login(student.user)
    assert _names(client, "云帆") == ["云帆信息技术有限公司"]


def test_a_student_without_a_record_sees_verified_employers_only(client, units, reference_data):
    f.make_employer(name="星河集团", verified_at=timezone.now())
    unconfirmed = f.make_student(confirmed=False)
    client.force_login(unconfirmed.user)
    assert _names(client, "星河") == ["星河集团"]


def test_a_query_too_short_or_too_long_finds_nothing(client, student, units):
    client.force_login(student.user)
    assert _names(client, "星") == []
    assert _names(client, "星河" * 60) == []


def test_the_search_is_for_students(client, employer_user, college_reviewer, units):
    for user in (employer_user, college_reviewer):
        client.force_login(user)
        assert client.get(reverse("agreements:unit_search"), {"q": "星河"}).status_code == 403
