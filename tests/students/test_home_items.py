"""The graduate's home page lists what is in progress, most urgent first: each item shows
with what to do next, and leaves the page as soon as it is dealt with, although the page is
kept in the shared cache (students/home.py, destreg/invalidation.py)."""

from datetime import timedelta
from types import SimpleNamespace

from django.conf import settings
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from agreements.models import Invitation, Registration
from agreements.online import services as online
from agreements.registrations import services as registrations
from students import home as home_module
from students import services as student_services
from students.home import Home, OpenItem, home_cache_key
from tests import factories as f

HOME = reverse("students:home")
TERMS = {"job_category": "13", "position": "软件工程师", "work_location": "北京", "hukou": "none"}


def home(client) -> str:
    response = client.get(HOME)
    assert response.status_code == 200
    return response.content.decode()


def warm(client, student) -> str:
    """Sign in and visit with the page cached (see tests/students/test_home_cache.py)."""
    client.force_login(student.user)
    cache.delete(home_cache_key(student.pk))
    page = home(client)
    assert isinstance(cache.get(home_cache_key(student.pk)), Home)
    return page


def to_do(client) -> str:
    """The "what to do next" list of the home page ('' when there is none)."""
    page = home(client)
    if 'id="to-do"' not in page:
        return ""
    return page.split('id="to-do"', 1)[1].split("</ol>", 1)[0]


def waiting(client) -> str:
    page = home(client)
    if 'id="waiting"' not in page:
        return ""
    return page.split('id="waiting"', 1)[1].split("</ul>", 1)[0]


def _invite(employer_user, student, **fields) -> Invitation:
    terms = TERMS | {"job_category": f.code("job_category", "13")}
    return online.invitation_send(
        sender=employer_user,
        name=student.real_name,
        id_number=student.id_number,
        terms=terms,
        **fields,
    )


def _offline(student, **values) -> Registration:
    item = registrations.registration_save_draft(
        student=student,
        path="offline",
        values={"unit_name": "北京测试科技有限公司", "contact_email": "hr@example.com"} | values,
    )
    return registrations.registration_submit(registration=item, user=student.user)


def _review(item, reviewer, decision="approve", comment=""):
    return registrations.registration_review(
        registration=Registration.objects.get(pk=item.pk),
        reviewer=reviewer,
        decision=decision,
        comment=comment,
    )


def test_an_invitation_shows_with_its_time_left_until_it_is_declined(
    client, student, employer_user
):
    assert 'id="open-items"' not in warm(client, student)
    invitation = _invite(employer_user, student)
    items = to_do(client)
    answer = reverse("agreements:invitation", args=[invitation.pk])
    assert answer in items and "软件工程师" in items and employer_user.employer.name in items
    assert "还剩 7 天" in items  # to the end of the 7th day

    online.invitation_decline(invitation=invitation, user=student.user)
    assert answer not in home(client)


def test_an_accepted_invitation_leaves_the_list_and_its_agreement_waits_for_review(
    client, student, invitation
):
    assert reverse("agreements:invitation", args=[invitation.pk]) in warm(client, student)
    agreement = online.invitation_accept(invitation=invitation, user=student.user)
    assert to_do(client) == ""
    assert reverse("agreements:agreement", args=[agreement.pk]) in waiting(client)
    assert "待学院审核" in waiting(client)


def test_an_invitation_past_its_deadline_leaves_the_list_before_and_after_the_job(
    client, student, invitation, monkeypatch
):
    url = reverse("agreements:invitation", args=[invitation.pk])
    assert url in warm(client, student)
    # The deadline passes with nothing written: the cached item is left out when read.
    later = invitation.deadline + timedelta(minutes=1)
    monkeypatch.setattr(home_module, "timezone", SimpleNamespace(now=lambda: later))
    assert isinstance(cache.get(home_cache_key(student.pk)), Home)
    assert url not in home(client)
    monkeypatch.undo()
    Invitation.objects.filter(pk=invitation.pk).update(deadline=timezone.now() - timedelta(1))
    call_command("expire_invitations")  # through the door: forgets the page
    assert url not in home(client)


def test_other_invitations_are_no_to_do_once_an_agreement_is_under_review(
    client, student, invitation, other_employer_user
):
    second = f.make_invitation(other_employer_user.employer, student)
    online.invitation_accept(invitation=invitation, user=student.user)
    warm(client, student)
    assert reverse("agreements:invitation", args=[second.pk]) not in home(client)


def test_a_returned_application_shows_the_comment_and_a_link_to_edit_until_resubmitted(
    client, student, college_reviewer
):
    item = _offline(student)
    warm(client, student)
    assert reverse("agreements:registration", args=[item.pk]) in waiting(client)
    _review(item, college_reviewer, "return", "岗位名称不完整")
    items = to_do(client)
    edit = reverse("agreements:registration_edit", args=[item.pk])
    assert edit in items and "退回修改" in items and "岗位名称不完整" in items

    registrations.registration_submit(registration=item, user=student.user)
    assert edit not in home(client)
    assert reverse("agreements:registration", args=[item.pk]) in waiting(client)


def test_an_offline_agreement_waiting_for_its_stamp_shows_until_the_scan_is_returned(
    client, student, college_reviewer, school_reviewer
):
    item = _offline(student)
    _review(item, college_reviewer)
    warm(client, student)
    _review(item, school_reviewer)  # 就业协议审核通过: print, stamp, return
    items = to_do(client)
    assert reverse("agreements:registration", args=[item.pk]) in items
    assert "本人回传协议书" in items and "用人单位协助回传协议书" in items

    scan = SimpleUploadedFile("scan.pdf", f.pdf_bytes(), content_type="application/pdf")
    registrations.registration_upload_scan(
        registration=Registration.objects.get(pk=item.pk), scan=scan, user=student.user
    )
    assert to_do(client) == ""
    assert reverse("agreements:registration", args=[item.pk]) in waiting(client)


def test_a_returned_scan_shows_the_comment_until_it_is_returned_again(
    client, student, college_reviewer, school_reviewer
):
    item = _offline(student)
    _review(item, college_reviewer)
    _review(item, school_reviewer)
    scan = SimpleUploadedFile("scan.pdf", f.pdf_bytes(), content_type="application/pdf")
    registrations.registration_upload_scan(registration=item, scan=scan, user=student.user)
    warm(client, student)
    _review(item, college_reviewer, "return", "盖章不清晰")
    items = to_do(client)
    assert "盖章不清晰" in items and reverse("agreements:registration", args=[item.pk]) in items

    scan = SimpleUploadedFile("again.pdf", f.pdf_bytes(), content_type="application/pdf")
    registrations.registration_upload_scan(
        registration=Registration.objects.get(pk=item.pk), scan=scan, user=student.user
    )
    assert to_do(client) == ""


def test_a_termination_to_answer_shows_until_it_is_answered(client, student, signed, employer_user):
    warm(client, student)
    termination = online.termination_request(agreement=signed, user=employer_user, reason="撤岗")
    items = to_do(client)
    assert reverse("agreements:agreement", args=[signed.pk]) in items
    assert "申请解约" in items and "撤岗" in items

    online.termination_answer(termination=termination, user=student.user, agree=True)
    assert to_do(client) == ""
    assert "申请解约" in waiting(client)  # the college reviews it next


def test_an_agreement_under_review_waits_until_it_is_signed(
    client, student, agreement, college_reviewer, school_reviewer
):
    url = reverse("agreements:agreement", args=[agreement.pk])
    warm(client, student)
    assert url in waiting(client)
    online.agreement_approve(agreement=agreement, reviewer=college_reviewer)
    assert "待学校审核" in waiting(client)
    online.agreement_approve(agreement=agreement, reviewer=school_reviewer)
    assert 'id="open-items"' not in home(client)


def test_a_registry_request_waits_until_it_is_decided(client, student, school_reviewer):
    warm(client, student)
    request = student_services.registry_request_submit(
        student=student, kind="update", school=student.record.school, data={"ethnicity": "03"}
    )
    assert reverse("students:request_detail", args=[request.pk]) in waiting(client)
    student_services.registry_request_approve(request=request, reviewer=school_reviewer)
    assert 'id="open-items"' not in home(client)


def test_a_draft_and_a_registry_request_show(client, student):
    warm(client, student)
    draft = registrations.registration_save_draft(
        student=student, path="paper", values={"unit_name": "单位"}
    )
    request = student_services.registry_request_submit(
        student=student, kind="update", school=student.record.school, data={"ethnicity": "03"}
    )
    assert reverse("agreements:registration_edit", args=[draft.pk]) in to_do(client)
    assert reverse("students:request_detail", args=[request.pk]) in waiting(client)
    registrations.registration_discard(registration=draft, user=student.user)
    assert reverse("agreements:registration_edit", args=[draft.pk]) not in home(client)


def test_the_most_urgent_comes_first(
    client, student, employer_user, other_employer_user, college_reviewer
):
    item = _offline(student)
    _review(item, college_reviewer, "return", "补充材料")
    later = _invite(employer_user, student, deadline=timezone.now() + timedelta(days=5))
    sooner = _invite(other_employer_user, student, deadline=timezone.now() + timedelta(hours=5))
    warm(client, student)
    items = to_do(client)
    positions = [
        items.index(reverse("agreements:invitation", args=[sooner.pk])),
        items.index(reverse("agreements:invitation", args=[later.pk])),
        items.index(reverse("agreements:registration_edit", args=[item.pk])),
    ]
    assert positions == sorted(positions)
    # Less than a day left: marked urgent.
    assert "text-bg-danger" in items.split(reverse("agreements:invitation", args=[later.pk]))[0]


def test_the_cached_items_are_shown_in_each_readers_language(client, student, invitation):
    warm(client, student)
    assert "待办事项" in home(client) and "待答复的签约邀请" in home(client)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    page = home(client)
    assert "What to do next" in page and "Signing invitation to answer" in page
    # Both pages came from the one cached entry (the cache pickles it).
    assert isinstance(cache.get(home_cache_key(student.pk)), Home)


def test_the_second_visit_reads_none_of_the_items(client, student, invitation, college_reviewer):
    _review(_offline(student), college_reviewer, "return", "补充材料")
    warm(client, student)
    with CaptureQueriesContext(connection) as queries:
        page = home(client)
    assert reverse("agreements:invitation", args=[invitation.pk]) in page
    tables = " ".join(query["sql"] for query in queries)
    for table in ("invitation", "registration", "termination", "agreements_agreement"):
        assert table not in tables


def test_items_sort_by_rank_then_deadline():
    now = timezone.now()
    items = [
        OpenItem(rank=9, title="w", url="/w"),
        OpenItem(rank=0, title="b", url="/b", deadline=now + timedelta(days=2)),
        OpenItem(rank=0, title="a", url="/a", deadline=now + timedelta(days=1)),
        OpenItem(rank=2, title="c", url="/c", since=now),
    ]
    assert [i.title for i in sorted(items, key=OpenItem.sort_key)] == ["a", "b", "c", "w"]


def test_reading_the_items_takes_a_fixed_number_of_queries(
    client, student, employer_user, college_reviewer
):
    def uncached_visit() -> int:
        cache.delete(home_cache_key(student.pk))
        with CaptureQueriesContext(connection) as queries:
            home(client)
        return len(queries)

    warm(client, student)
    f.make_invitation(employer_user.employer, student)
    _review(_offline(student), college_reviewer, "return", "补充材料")
    one = uncached_visit()
    for _ in range(3):
        f.make_invitation(f.make_employer(verified_at=timezone.now()), student)
    registrations.registration_save_draft(student=student, path="paper", values={})
    items = to_do(client)
    assert items.count('href="/agreements/invitations/') == 4
    assert items.count('href="/agreements/registrations/') == 2
    assert uncached_visit() == one


def test_a_termination_the_unit_asks_for_shows_until_the_student_answers(
    client, student, employer_user, college_reviewer, school_reviewer
):
    from agreements.registrations import changes
    from tests.agreements.test_registration_changes import approved

    uscc = employer_user.employer.uscc
    paper = approved(student, "paper", college_reviewer, school_reviewer, unit_uscc=uscc)
    warm(client, student)
    termination = changes.registration_termination_request(
        registration=paper, user=employer_user, reason="岗位取消"
    )
    items = to_do(client)
    assert reverse("agreements:registration", args=[paper.pk]) in items
    assert "岗位取消" in items and "申请解约" in items

    changes.registration_termination_answer(termination=termination, user=student.user, agree=True)
    assert to_do(client) == ""
    assert "申请解约" in waiting(client)  # the college reviews it next
