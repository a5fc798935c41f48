"""接受 and 拒绝 ask for confirmation first (one signing is final), without scripts: the
invitation page's buttons open a page saying what the answer does; only a POST with
``confirm=1`` gives it."""

from django.urls import reverse
from django.utils import timezone

from agreements.models import Agreement, Invitation
from agreements.online import services
from tests import factories as f


def _answer(invitation) -> str:
    return reverse("agreements:invitation_answer", args=[invitation.pk])


def test_the_invitation_page_asks_for_the_confirmation_page(client, student, invitation):
    client.force_login(student.user)
    page = client.get(reverse("agreements:invitation", args=[invitation.pk])).content.decode()
    form = page.split(f'action="{_answer(invitation)}"', 1)
    assert len(form) == 2 and 'method="get"' in form[0].rsplit("<form", 1)[1]
    assert 'name="answer" value="accept"' in form[1] and 'name="answer" value="decline"' in form[1]


def test_accepting_shows_what_it_does_and_changes_nothing(client, student, invitation):
    client.force_login(student.user)
    response = client.get(_answer(invitation), {"answer": "accept"})
    assert response.status_code == 200
    page = response.content.decode()
    assert invitation.employer.name in page and invitation.position in page
    assert "不能再接受其他签约邀请" in page  # binding: it blocks the other paths
    assert 'name="confirm" value="1"' in page and 'value="accept"' in page
    assert f'href="{reverse("agreements:invitation", args=[invitation.pk])}"' in page  # 取消
    assert Invitation.objects.get(pk=invitation.pk).status == "pending"
    assert not Agreement.objects.exists()


def test_declining_shows_what_it_does(client, student, invitation):
    client.force_login(student.user)
    page = client.get(_answer(invitation), {"answer": "decline"}).content.decode()
    assert "拒绝" in page and 'value="decline"' in page
    assert Invitation.objects.get(pk=invitation.pk).status == "pending"


def test_a_post_without_confirm_goes_to_the_confirmation_and_changes_nothing(
    client, student, invitation
):
    client.force_login(student.user)
    for answer in ("accept", "decline"):
        response = client.post(_answer(invitation), {"answer": answer})
        assert response.status_code == 302
        assert response.url == f"{_answer(invitation)}?answer={answer}"
    assert Invitation.objects.get(pk=invitation.pk).status == "pending"
    assert not Agreement.objects.exists()


def test_a_post_with_confirm_accepts(client, student, invitation):
    client.force_login(student.user)
    response = client.post(_answer(invitation), {"answer": "accept", "confirm": "1"})
    agreement = Agreement.objects.get()
    assert response.url == reverse("agreements:agreement", args=[agreement.pk])
    assert Invitation.objects.get(pk=invitation.pk).status == "accepted"


def test_a_post_with_confirm_declines(client, student, invitation):
    client.force_login(student.user)
    response = client.post(_answer(invitation), {"answer": "decline", "confirm": "1"})
    assert response.url == reverse("agreements:invitation", args=[invitation.pk])
    assert Invitation.objects.get(pk=invitation.pk).status == "declined"


def test_an_invitation_that_cannot_be_answered_has_no_confirmation(
    client, student, invitation, other_employer_user
):
    second = f.make_invitation(other_employer_user.employer, student)
    services.invitation_accept(invitation=invitation, user=student.user)
    client.force_login(student.user)
    response = client.get(_answer(second), {"answer": "accept"}, follow=True)
    assert response.redirect_chain[-1][0] == reverse("agreements:invitation", args=[second.pk])
    assert "其他签约邀请仅可查看" in response.content.decode()
    response = client.get(_answer(invitation), {"answer": "decline"})
    assert response.status_code == 302


def test_the_confirmation_asks_for_an_answer_and_answers_only_the_invited(
    client, student, other_student, invitation, employer_user
):
    client.force_login(student.user)
    assert client.get(_answer(invitation)).status_code == 400
    assert client.get(_answer(invitation), {"answer": "maybe"}).status_code == 400
    client.force_login(other_student.user)
    assert client.get(_answer(invitation), {"answer": "accept"}).status_code == 404
    client.force_login(employer_user)
    assert client.get(_answer(invitation), {"answer": "accept"}).status_code == 403
    client.logout()
    assert client.get(_answer(invitation), {"answer": "accept"}).status_code == 302
    assert Invitation.objects.get(pk=invitation.pk).answered_at is None
    assert invitation.deadline > timezone.now()


def test_accept_is_closed_while_another_path_is_in_progress_but_decline_is_not(
    client, student, invitation
):
    """四选一 read ahead: with an offline application in progress the page offers only
    拒绝 and says why; the accept confirmation refuses with the same reason."""
    from students.models import DestinationClaim

    DestinationClaim.objects.create(student=student, path="offline", object_id=1)
    client.force_login(student.user)
    page = client.get(reverse("agreements:invitation", args=[invitation.pk])).content.decode()
    assert 'value="accept"' not in page and 'value="decline"' in page
    assert 'id="accept-closed"' in page and "同一时间只能办理一份" in page
    response = client.get(_answer(invitation), {"answer": "accept"}, follow=True)
    assert response.redirect_chain[-1][0] == reverse("agreements:invitation", args=[invitation.pk])
    assert "同一时间只能办理一份" in response.content.decode()
    assert client.get(_answer(invitation), {"answer": "decline"}).status_code == 200
