"""A college reviewer working through the queue: filter, approve and open next, bulk approve."""

import pytest

from agreements.models import Agreement
from agreements.online import services
from tests import factories as f
from tests.browser.conftest import login

pytestmark = pytest.mark.browser


def test_a_reviewer_works_through_the_queue(
    page, live_server, world, employer_user, college_reviewer, shoot
):
    made = []
    for _ in range(4):
        student = f.make_student(f.make_record(world.major_a1))
        invitation = f.make_invitation(employer_user.employer, student)
        made.append(services.invitation_accept(invitation=invitation, user=student.user))

    login(page, live_server, college_reviewer.username)
    page.goto(f"{live_server.url}/reviews/")
    shoot(page, "queue", phone=True)
    assert page.locator("main tbody tr").count() == 4
    with page.expect_navigation():
        page.locator('main a[href^="?kind=online"]').click()  # the kind facet
    assert page.locator("main tbody tr").count() == 4

    # Open the oldest, approve it and land on the next one.
    with page.expect_navigation():
        page.locator("main tbody tr").first.locator("a.btn").click()
    assert page.url.endswith(f"/reviews/agreements/{made[0].pk}/")
    with page.expect_navigation():
        page.locator('button[formaction$="?next=1"]').click()
    assert page.url.endswith(f"/reviews/agreements/{made[1].pk}/")
    shoot(page, "detail", phone=True)

    # Back to the queue: select the rest and approve them in one go.
    page.goto(f"{live_server.url}/reviews/")
    assert page.locator("main tbody tr").count() == 3
    for box in page.locator("main tbody input[name=task]").all():
        box.check()
    with page.expect_navigation():
        page.locator('form[action$="/bulk-approve/"] button.btn-outline-success').click()
    assert page.locator("main .text-success").count() == 3
    statuses = set(
        Agreement.objects.filter(pk__in=[a.pk for a in made]).values_list("status", flat=True)
    )
    assert statuses == {"school_review"}
    shoot(page, "after-bulk")
