"""The API's lists cost the same number of queries for 1 item as for many."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from agreements.online import services
from employers.api_tokens import api_token_create
from tests import factories as f


def _queries(client, path, key) -> int:
    with CaptureQueriesContext(connection) as captured:
        answer = client.get(path, headers={"Authorization": f"Bearer {key}"})
    assert answer.status_code == 200
    return len(captured)


@pytest.mark.parametrize("path", ["/api/v1/invitations/", "/api/v1/agreements/"])
def test_a_list_costs_the_same_for_one_item_as_for_six(client, employer_user, world, path):
    key = api_token_create(
        by=employer_user, name="k", scope="read", expires_on=timezone.localdate() + timedelta(9)
    )[1]

    def add():
        student = f.make_student(f.make_record(world.major_a1))
        invitation = f.make_invitation(employer_user.employer, student, sent_by=employer_user)
        services.invitation_accept(invitation=invitation, user=student.user)

    add()
    client.get(path, headers={"Authorization": f"Bearer {key}"})  # last_used_at written
    one = _queries(client, path, key)
    for _ in range(5):
        add()
    assert _queries(client, path, key) == one <= 5
