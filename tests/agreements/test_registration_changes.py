"""申请解约 of approved offline and paper agreements, 作废申请 of an approved other destination,
and the reporting cut-off that sends such requests straight to the school."""

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from agreements.models import Registration, Termination, TerminationLink
from agreements.online import services as online
from agreements.registrations import changes
from agreements.registrations import services as reg
from destreg.audit.models import AuditAction, AuditEvent, ReviewTask
from students.models import DestinationClaim, RegistryRecord
from tests import factories as f

PDF = f.pdf_bytes()


def _pdf(name="解约函.pdf"):
    return SimpleUploadedFile(name, PDF, content_type="application/pdf")


def _review(item, reviewer, decision="approve", comment=""):
    return reg.registration_review(
        registration=item, reviewer=reviewer, decision=decision, comment=comment
    )


def approved(student, path, college_reviewer, school_reviewer, **values):
    """A registration of ``path`` taken through every review: 签约成功 / approved."""
    defaults = {
        "offline": {"unit_name": "北京测试科技有限公司", "unit_uscc": "91110000100000000R",
                    "contact_email": "hr@example.com", "position": "工程师"},
        "paper": {"unit_name": "纸质协议单位", "unit_uscc": "91110000100000000R",
                  "paper_number": "P-1"},
        "other": {"kind": "further_study", "subtype": "研究生", "institution": "示例大学",
                  "program": "计算机"},
    }[path]  # fmt: skip
    if path != "offline":  # the evidence rule's proof (offline: the stamped scan, below)
        defaults["proof"] = _pdf("proof.pdf")
    item = reg.registration_save_draft(student=student, path=path, values=defaults | values)
    reg.registration_submit(registration=item, user=student.user)
    _review(item, college_reviewer)
    item = _review(item, school_reviewer)
    if path == "offline":
        reg.registration_upload_scan(registration=item, scan=_pdf("scan.pdf"), user=student.user)
        _review(item, college_reviewer)
        item = _review(item, school_reviewer)
    item.refresh_from_db()
    assert item.status == "approved"
    return item


@pytest.fixture
def offline(student, college_reviewer, school_reviewer):
    """An approved offline e-agreement with a unit that has no account here."""
    return approved(student, "offline", college_reviewer, school_reviewer)


@pytest.fixture
def linked(student, employer_user, college_reviewer, school_reviewer):
    """An approved paper agreement with the unit of ``employer_user`` (by its credit code)."""
    uscc = employer_user.employer.uscc
    return approved(student, "paper", college_reviewer, school_reviewer, unit_uscc=uscc)


@pytest.fixture
def other(student, college_reviewer, school_reviewer):
    return approved(student, "other", college_reviewer, school_reviewer)


def _graduate(world):
    """Another graduate of the student's college (one destination each)."""
    return f.make_student(f.make_record(world.major_a1))


def _decide(termination, reviewer, decision="approve", comment=""):
    if decision == "approve":
        return changes.change_approve(termination=termination, reviewer=reviewer, comment=comment)
    return changes.change_reject(termination=termination, reviewer=reviewer, reason=comment)


def _can_register_again(student, path="paper"):
    values = {"kind": "conscript"} if path == "other" else {}
    values["proof"] = _pdf("proof.pdf")  # what the evidence rule asks of either
    again = reg.registration_save_draft(student=student, path=path, values=values)
    reg.registration_submit(registration=again, user=student.user)
    return Registration.objects.get(pk=again.pk).status == "college_review"


# --- services ------------------------------------------------------------------


def test_the_student_asks_the_unit_agrees_on_its_portal_and_the_claim_is_released(
    linked, student, employer_user, college_reviewer, school_reviewer
):
    termination = changes.registration_termination_request(
        registration=linked, user=student.user, reason="已考取研究生", document=_pdf()
    )
    assert (termination.status, termination.requested_by) == ("awaiting_party", "student")
    assert termination.document.name.startswith("documents/")
    assert not TerminationLink.objects.exists()  # the unit has an account: no link
    with pytest.raises(PermissionDenied):  # the requester does not answer their own request
        changes.registration_termination_answer(
            termination=termination, user=student.user, agree=True
        )
    changes.registration_termination_answer(termination=termination, user=employer_user, agree=True)
    termination.refresh_from_db()
    assert (termination.status, termination.after_cutoff) == ("college_review", False)
    task = ReviewTask.objects.get(object_id=termination.pk, kind="termination")
    assert (task.stage, task.after_cutoff) == ("college", False)

    _decide(termination, college_reviewer)
    with pytest.raises(PermissionDenied):  # four eyes: another reviewer decides the school's
        _decide(termination, college_reviewer)
    _decide(termination, school_reviewer)
    linked.refresh_from_db()
    assert linked.status == "terminated"
    assert linked.get_status_display() == "已解约"
    assert not DestinationClaim.objects.filter(student=student).exists()
    assert RegistryRecord.objects.get(pk=student.record_id).destination is None
    assert not ReviewTask.objects.exists()
    assert _can_register_again(student)


def test_a_unit_without_an_account_answers_once_through_its_link(
    offline, student, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        termination = changes.registration_termination_request(
            registration=offline, user=student.user, reason="个人原因"
        )
    link = TerminationLink.objects.get()
    assert (link.email, link.termination) == ("hr@example.com", termination)
    assert mailoutbox[-1].to == ["hr@example.com"] and link.token in mailoutbox[-1].body
    assert (
        AuditEvent.objects.for_object(offline)
        .filter(action=AuditAction.SEND_TERMINATION_LINK)
        .exists()
    )
    changes.registration_termination_answer(termination=termination, link=link, agree=False)
    termination.refresh_from_db()
    assert termination.status == "refused"
    with pytest.raises(ValidationError):  # the link works once
        changes.registration_termination_answer(termination=termination, link=link, agree=True)
    offline.refresh_from_db()
    assert offline.status == "approved"


def test_the_student_gives_the_unit_address_when_the_registration_has_none(
    student, college_reviewer, school_reviewer
):
    item = approved(student, "paper", college_reviewer, school_reviewer)
    with pytest.raises(ValidationError):
        changes.registration_termination_request(registration=item, user=student.user, reason="r")
    changes.registration_termination_request(
        registration=item, user=student.user, reason="r", unit_email="unit@example.com"
    )
    assert TerminationLink.objects.get().email == "unit@example.com"


def test_the_unit_asks_on_its_portal_and_the_student_agrees(
    linked, student, employer_user, other_employer_user
):
    with pytest.raises(PermissionDenied):  # another unit
        changes.registration_termination_request(
            registration=linked, user=other_employer_user, reason="r"
        )
    termination = changes.registration_termination_request(
        registration=linked, user=employer_user, reason="岗位取消"
    )
    assert termination.requested_by == "employer"
    with pytest.raises(PermissionDenied):
        changes.registration_termination_answer(
            termination=termination, user=employer_user, agree=True
        )
    changes.registration_termination_answer(termination=termination, user=student.user, agree=True)
    assert Termination.objects.get().status == "college_review"


def test_a_unit_without_an_account_asks_through_a_link_it_requested(
    offline, student, mailoutbox, django_capture_on_commit_callbacks
):
    assert changes.termination_link_send(registration=offline, email="x@example.com") is None
    with django_capture_on_commit_callbacks(execute=True):
        link = changes.termination_link_send(registration=offline, email="HR@example.com")
    assert link is not None and link.termination is None
    assert mailoutbox[-1].to == ["hr@example.com"] and link.token in mailoutbox[-1].body
    termination = changes.registration_termination_request(
        registration=offline, link=link, reason="单位撤销"
    )
    assert (termination.requested_by, termination.status) == ("employer", "awaiting_party")
    with pytest.raises(ValidationError):  # spent
        changes.registration_termination_request(registration=offline, link=link, reason="r")


def test_asking_for_the_link_again_sends_nothing_within_ten_minutes(
    offline, mailoutbox, django_capture_on_commit_callbacks
):
    """The public request page must not become a way to flood the unit's mailbox."""
    with django_capture_on_commit_callbacks(execute=True):
        first = changes.termination_link_send(registration=offline, email="hr@example.com")
        again = changes.termination_link_send(registration=offline, email="hr@example.com")
    assert first is not None and again is None
    assert len(mailoutbox) == 1
    TerminationLink.objects.update(created_at=timezone.now() - timedelta(minutes=11))
    with django_capture_on_commit_callbacks(execute=True):
        assert changes.termination_link_send(registration=offline, email="hr@example.com")
    assert len(mailoutbox) == 2


def test_a_void_request_frees_the_path(other, student, college_reviewer, school_reviewer):
    with pytest.raises(PermissionDenied):  # an other destination is voided, not terminated
        changes.registration_termination_request(registration=other, user=student.user, reason="r")
    termination = changes.void_request(registration=other, user=student.user, reason="升学未成")
    assert (termination.status, termination.is_void_request) == ("college_review", True)
    assert ReviewTask.objects.get(object_id=termination.pk).kind == "void_request"
    with pytest.raises(PermissionDenied):  # one request at a time
        changes.void_request(registration=other, user=student.user, reason="again")
    _decide(termination, college_reviewer)
    _decide(termination, school_reviewer)
    other.refresh_from_db()
    assert other.status == "voided" and other.get_status_display() == "已作废"
    assert not DestinationClaim.objects.filter(student=student).exists()
    assert _can_register_again(student, "other")


def test_a_rejected_request_leaves_the_destination_in_force(
    other, student, college_reviewer, school_reviewer
):
    termination = changes.void_request(registration=other, user=student.user, reason="r")
    with pytest.raises(ValidationError):  # a reason is required
        _decide(termination, college_reviewer, "reject")
    _decide(termination, college_reviewer, "reject", "材料不足")
    other.refresh_from_db()
    assert (other.status, Termination.objects.get().status) == ("approved", "rejected")
    assert DestinationClaim.objects.get(student=student).approved
    with pytest.raises(ValidationError):  # the path is still taken
        _can_register_again(student, "other")


def test_who_may_ask_answer_and_review(
    linked, student, other_student, employer_user, other_employer_user, world,
    college_reviewer, other_college_reviewer, school_reviewer, other_school_reviewer,
):  # fmt: skip
    third, fourth = _graduate(world), _graduate(world)
    other = approved(third, "other", college_reviewer, school_reviewer)
    offline = approved(fourth, "offline", college_reviewer, school_reviewer)
    for stranger in (other_student.user, college_reviewer, school_reviewer):
        with pytest.raises(PermissionDenied):
            changes.registration_termination_request(registration=linked, user=stranger, reason="r")
    with pytest.raises(PermissionDenied):
        changes.void_request(registration=other, user=other_student.user, reason="r")
    with pytest.raises(PermissionDenied):  # an offline agreement is terminated, not voided
        changes.void_request(registration=offline, user=fourth.user, reason="r")
    termination = changes.registration_termination_request(
        registration=linked, user=student.user, reason="r"
    )
    for stranger in (other_student.user, other_employer_user, college_reviewer):
        with pytest.raises(PermissionDenied):
            changes.registration_termination_answer(
                termination=termination, user=stranger, agree=True
            )
    changes.registration_termination_answer(termination=termination, user=employer_user, agree=True)
    for stranger in (other_college_reviewer, other_school_reviewer, school_reviewer):
        with pytest.raises(PermissionDenied):  # another college, another school, not yet
            _decide(termination, stranger)
    _decide(termination, college_reviewer)
    with pytest.raises(PermissionDenied):
        _decide(termination, other_school_reviewer)


def test_after_the_cut_off_requests_go_straight_to_the_school(
    signed, student, employer_user, world, college_reviewer, school_reviewer
):
    third, fourth = _graduate(world), _graduate(world)
    other = approved(third, "other", college_reviewer, school_reviewer)
    uscc = employer_user.employer.uscc
    linked = approved(fourth, "paper", college_reviewer, school_reviewer, unit_uscc=uscc)
    world.school_a.reporting_cutoff = timezone.localdate() - timedelta(days=1)
    world.school_a.save(update_fields=["reporting_cutoff"])
    void = changes.void_request(registration=other, user=third.user, reason="r")
    assert (void.status, void.after_cutoff) == ("school_review", True)
    task = ReviewTask.objects.get(object_id=void.pk)
    assert (task.stage, task.after_cutoff) == ("school", True)
    with pytest.raises(PermissionDenied):  # the college has no say any more
        _decide(void, college_reviewer)
    _decide(void, school_reviewer)
    assert Registration.objects.get(pk=other.pk).status == "voided"

    termination = changes.registration_termination_request(
        registration=linked, user=fourth.user, reason="r"
    )
    changes.registration_termination_answer(termination=termination, user=employer_user, agree=True)
    termination.refresh_from_db()
    assert (termination.status, termination.after_cutoff) == ("school_review", True)

    # Online terminations too.
    online_termination = online.termination_request(agreement=signed, user=student.user, reason="r")
    online.termination_answer(termination=online_termination, user=employer_user, agree=True)
    online_termination.refresh_from_db()
    assert (online_termination.status, online_termination.after_cutoff) == ("school_review", True)
    assert ReviewTask.objects.get(object_id=online_termination.pk, kind="termination").after_cutoff


def test_before_the_cut_off_the_college_reviews(other, student, world):
    world.school_a.reporting_cutoff = timezone.localdate()  # the cut-off day itself counts
    world.school_a.save(update_fields=["reporting_cutoff"])
    void = changes.void_request(registration=other, user=student.user, reason="r")
    assert (void.status, void.after_cutoff) == ("college_review", False)


# --- views -----------------------------------------------------------------------


def test_the_student_asks_and_answers_on_the_registration_page(
    client, linked, student, other_student, employer_user
):
    url = reverse("agreements:registration", args=[linked.pk])
    client.force_login(student.user)
    page = client.get(url).content.decode()
    assert "申请解约" in page and 'name="unit_email"' not in page  # the unit has an account
    terminate = reverse("agreements:registration_terminate", args=[linked.pk])
    response = client.post(terminate, {"reason": ""})
    assert response.status_code == 400 and "is-invalid" in response.content.decode()
    response = client.post(terminate, {"reason": "已考取研究生", "document": _pdf()})
    assert response.status_code == 302
    termination = Termination.objects.get()
    page = client.get(url).content.decode()
    assert "已考取研究生" in page and "解约函" in page
    assert (
        client.get(reverse("agreements:change_document", args=[termination.pk])).status_code == 200
    )

    client.force_login(other_student.user)
    assert client.post(terminate, {"reason": "r"}).status_code == 404
    assert (
        client.get(reverse("agreements:change_document", args=[termination.pk])).status_code == 404
    )
    answer = reverse("agreements:registration_change_answer", args=[termination.pk])
    assert client.post(answer, {"agree": "1"}).status_code == 404

    client.force_login(employer_user)
    assert (
        client.get(reverse("agreements:change_document", args=[termination.pk])).status_code == 200
    )
    assert client.get(answer).status_code == 405
    assert client.post(answer, {"agree": "1"}).status_code == 302
    assert Termination.objects.get().status == "college_review"


def test_the_unit_portal_lists_its_agreements_and_applies(
    client, linked, employer_user, other_employer_user, django_assert_max_num_queries
):
    url = reverse("agreements:unit_registrations")
    assert client.get(url).status_code == 302  # login first
    client.force_login(employer_user)
    with django_assert_max_num_queries(12):
        page = client.get(url).content.decode()
    assert linked.student.real_name in page and "申请解约" in page
    home = client.get(reverse("employers:home")).content.decode()
    assert url in home
    terminate = reverse("agreements:registration_terminate", args=[linked.pk])
    assert client.post(terminate, {"reason": ""}).status_code == 400
    assert client.post(terminate, {"reason": "岗位取消"}).status_code == 302
    assert Termination.objects.get().requested_by == "employer"

    client.force_login(other_employer_user)
    assert linked.student.real_name not in client.get(url).content.decode()
    assert client.post(terminate, {"reason": "r"}).status_code == 404


def test_the_void_request_page_and_post(client, other, student):
    client.force_login(student.user)
    page = client.get(reverse("agreements:registration", args=[other.pk])).content.decode()
    assert "作废申请" in page
    url = reverse("agreements:registration_void", args=[other.pk])
    assert client.get(url).status_code == 405
    assert client.post(url, {"reason": ""}).status_code == 400
    assert client.post(url, {"reason": "升学未成"}).status_code == 302
    assert Termination.objects.get().status == "college_review"


def test_the_link_pages(client, offline, student, django_capture_on_commit_callbacks):
    ask = reverse("agreements:termination_link_request")
    assert client.get(ask).status_code == 200
    offline.refresh_from_db()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(ask, {"number": offline.number, "email": "hr@example.com"})
    assert "一次性链接" in response.content.decode()
    link = TerminationLink.objects.get()
    url = reverse("agreements:termination_link", args=[link.token])
    assert client.get(url).status_code == 200
    assert client.post(url, {"reason": ""}).status_code == 400
    assert client.post(url, {"reason": "单位撤销", "document": _pdf()}).status_code == 200
    assert Termination.objects.get().requested_by == "employer"
    assert client.get(url).status_code == 404  # used once
    # A wrong address gets the same answer and no link.
    response = client.post(ask, {"number": offline.number, "email": "nobody@example.com"})
    assert "一次性链接" in response.content.decode()
    assert TerminationLink.objects.count() == 1


def test_reviewers_find_and_decide_requests_in_the_queue(
    client, other, student, college_reviewer, school_reviewer, world
):
    termination = changes.void_request(registration=other, user=student.user, reason="升学未成")
    client.force_login(college_reviewer)
    queue = client.get(reverse("reviews:queue")).content.decode()
    assert "作废申请" in queue and student.real_name in queue
    detail = client.get(reverse("reviews:termination", args=[termination.pk]))
    assert detail.url == reverse("reviews:registration", args=[other.pk])
    page = client.get(detail.url).content.decode()
    assert "升学未成" in page and 'value="return"' not in page  # no 退回修改 for a request
    decide = reverse("reviews:registration_decide", args=[other.pk])
    assert client.post(decide, f.decision(termination)).status_code == 302
    client.force_login(school_reviewer)
    assert client.post(decide, f.decision(termination, "reject", "")).status_code == 400
    assert client.post(decide, f.decision(termination)).status_code == 302
    assert Registration.objects.get(pk=other.pk).status == "voided"


def test_the_agreement_page_marks_an_online_termination_after_the_cut_off(
    client, signed, student, employer_user, school_reviewer, world
):
    world.school_a.reporting_cutoff = timezone.localdate() - timedelta(days=1)
    world.school_a.save(update_fields=["reporting_cutoff"])
    termination = online.termination_request(agreement=signed, user=student.user, reason="r")
    online.termination_answer(termination=termination, user=employer_user, agree=True)
    client.force_login(school_reviewer)
    page = client.get(reverse("reviews:agreement", args=[signed.pk])).content.decode()
    assert 'id="after-cutoff"' in page and 'name="decision"' in page


def test_the_queue_marks_changes_after_the_cut_off(client, other, student, school_reviewer, world):
    world.school_a.reporting_cutoff = timezone.localdate() - timedelta(days=3)
    world.school_a.save(update_fields=["reporting_cutoff"])
    changes.void_request(registration=other, user=student.user, reason="r")
    client.force_login(school_reviewer)
    assert "截止后" in client.get(reverse("reviews:queue")).content.decode()
    page = client.get(reverse("reviews:registration", args=[other.pk])).content.decode()
    assert 'id="after-cutoff"' in page


def test_the_verification_page_shows_a_terminated_agreement(
    client, offline, student, college_reviewer, school_reviewer
):
    Registration.objects.filter(pk=offline.pk).update(pdf="agreements/x.pdf")
    termination = changes.registration_termination_request(
        registration=offline, user=student.user, reason="r"
    )
    link = TerminationLink.objects.get()
    changes.registration_termination_answer(termination=termination, link=link, agree=True)
    _decide(termination, college_reviewer)
    _decide(termination, school_reviewer)
    page = client.get(reverse("agreements:verify", args=[offline.verify_token])).content.decode()
    assert "已解约" in page
    client.force_login(student.user)
    page = client.get(reverse("agreements:registration", args=[offline.pk])).content.decode()
    assert "已解约" in page and 'id="change-ended"' in page
    assert reverse("agreements:register") in page
    # The unit's consent through its link shows in the registration's history.
    assert (
        AuditEvent.objects.for_object(offline).filter(action=AuditAction.AGREE_TERMINATION).exists()
    )


def test_the_cut_off_is_set_in_the_admin(client, platform_admin, world):
    client.force_login(platform_admin)
    url = reverse("admin:reference_school_change", args=[world.school_a.pk])
    assert 'name="reporting_cutoff"' in client.get(url).content.decode()
