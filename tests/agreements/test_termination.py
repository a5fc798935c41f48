import pytest
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from agreements.models import Agreement, Termination
from agreements.online import services
from students.models import RegistryRecord
from tests import factories as f

PDF = f.pdf_bytes()


def _request(client, user, agreement, **extra):
    client.force_login(user)
    data = {"reason": "已考取研究生"} | extra
    return client.post(reverse("agreements:terminate", args=[agreement.pk]), data)


def test_the_whole_termination(client, signed, student, employer_user, college_reviewer,
                               school_reviewer):  # fmt: skip
    upload = SimpleUploadedFile("录取通知书.pdf", PDF, content_type="application/pdf")
    assert _request(client, student.user, signed, document=upload).status_code == 302
    termination = Termination.objects.get()
    assert (termination.status, termination.requested_by) == ("awaiting_party", "student")
    assert termination.document.name.startswith("documents/termination/")
    assert "录取" not in termination.document.name  # the uploader's name never reaches disk

    client.force_login(employer_user)
    client.post(reverse("agreements:termination_answer", args=[termination.pk]), {"agree": "1"})
    for reviewer in (college_reviewer, school_reviewer):
        client.force_login(reviewer)
        response = client.post(reverse("reviews:agreement_decide", args=[signed.pk]),
                               f.decision(termination))  # fmt: skip
        assert response.status_code == 302
    assert Termination.objects.get().status == "approved"
    assert Agreement.objects.get(pk=signed.pk).status == "terminated"
    assert RegistryRecord.objects.get(pk=student.record_id).destination is None
    # The student may sign again.
    again = f.make_invitation(employer_user.employer, student)
    assert services.invitation_accept(invitation=again, user=student.user)


def test_the_document_is_served_only_to_those_who_see_the_agreement(
    client, signed, student, other_student
):
    upload = SimpleUploadedFile("proof.pdf", PDF, content_type="application/pdf")
    services.termination_request(agreement=signed, user=student.user, reason="r", document=upload)
    url = reverse("agreements:termination_document", args=[Termination.objects.get().pk])
    client.force_login(student.user)
    response = client.get(url)
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert b"".join(response.streaming_content) == PDF
    client.force_login(other_student.user)
    assert client.get(url).status_code == 404


def test_the_other_party_can_refuse(client, signed, student, employer_user):
    termination = services.termination_request(agreement=signed, user=employer_user, reason="r")
    with pytest.raises(PermissionDenied):  # the requester does not answer their own request
        services.termination_answer(termination=termination, user=employer_user, agree=True)
    services.termination_answer(termination=termination, user=student.user, agree=False)
    assert Termination.objects.get().status == "refused"
    assert Agreement.objects.get(pk=signed.pk).status == "signed"


def test_a_rejected_termination_leaves_the_agreement_in_force(
    signed, student, employer_user, college_reviewer
):
    termination = services.termination_request(agreement=signed, user=student.user, reason="r")
    services.termination_answer(termination=termination, user=employer_user, agree=True)
    services.termination_reject(
        termination=termination, reviewer=college_reviewer, reason="理由不足"
    )
    assert Termination.objects.get().status == "rejected"
    assert Agreement.objects.get(pk=signed.pk).status == "signed"


def test_only_signed_agreements_and_one_request_at_a_time(agreement, signed, student):
    services.termination_request(agreement=signed, user=student.user, reason="r")
    with pytest.raises(PermissionDenied):
        services.termination_request(agreement=signed, user=student.user, reason="again")


def test_reviewers_and_strangers_cannot_request(signed, college_reviewer, other_student):
    with pytest.raises(PermissionDenied):
        services.termination_request(agreement=signed, user=college_reviewer, reason="r")


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("virus.pdf", b"MZ\x90\x00\x03 renamed executable"),
        ("page.png", b"<html><script>alert(1)</script>"),
        ("big.pdf", b"%PDF-" + b"0" * (10 * 1024 * 1024)),
    ],
)
def test_bad_files_are_refused_and_the_reason_is_kept(client, signed, student, name, content):
    upload = SimpleUploadedFile(name, content)
    response = _request(client, student.user, signed, document=upload, reason="保留这段理由")
    assert response.status_code == 400
    assert response.context["termination_form"].errors["document"]
    assert "保留这段理由" in response.content.decode()
    assert not Termination.objects.exists()
