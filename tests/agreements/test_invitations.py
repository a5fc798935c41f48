from datetime import timedelta

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from agreements.models import Agreement, Invitation
from agreements.online import services
from destreg.accounts.models import Role
from destreg.audit.models import AuditEvent, Notification
from students.models import current_graduation_year
from tests import factories as f

INVITE = reverse("agreements:invite")


def _form(student, **overrides):
    data = {
        "name": student.real_name, "id_number": student.id_number, "job_category": "13",
        "position": "软件工程师", "work_location": "北京市海淀区", "probation_months": "3",
        "probation_salary": "9000", "salary": "12000", "penalty": "5000",
        "report_place": "北京市海淀区中关村大街1号", "report_deadline": "", "hukou": "employer",
        "supplement": "提供住宿", "answer_by": "",
    }  # fmt: skip
    return data | overrides


def test_a_verified_employer_invites_a_confirmed_graduate(client, employer_user, student):
    client.force_login(employer_user)
    response = client.post(INVITE, _form(student))
    assert response.status_code == 302
    invitation = Invitation.objects.get()
    assert (invitation.student, invitation.status, invitation.position) == (
        student,
        "pending",
        "软件工程师",
    )
    # Default validity: the school's setting (7 days), to the end of that day.
    days = (timezone.localdate(invitation.deadline) - timezone.localdate()).days
    assert days == student.record.school.invitation_validity_days == 7
    assert Notification.objects.filter(user=student.user).exists()
    assert AuditEvent.objects.for_object(invitation).filter(action="invite").exists()


@pytest.mark.parametrize("case", ["nobody", "wrong_name", "unconfirmed", "last_year"])
def test_the_error_never_reveals_whether_the_person_exists(client, world, employer_user, case):
    client.force_login(employer_user)
    if case == "nobody":
        data = _form(f.make_student(real_name="某人", confirmed=False), name="不存在")
        data["id_number"] = f.new_id_number()
    elif case == "wrong_name":
        data = _form(f.make_student(f.make_record(world.major_a1)), name="别人")
    elif case == "unconfirmed":
        data = _form(f.make_student(f.make_record(world.major_a1), confirmed=False))
    else:
        record = f.make_record(world.major_a1, graduation_year=current_graduation_year() - 1)
        data = _form(f.make_student(record))
    response = client.post(INVITE, data)
    assert response.status_code == 200
    assert response.context["form"].non_field_errors() == [
        "没有与该姓名和身份证号匹配、可以签约的应届毕业生。"
    ]
    assert not Invitation.objects.exists()


def test_an_unverified_employer_cannot_invite(client, reference_data, student):
    employer = f.make_employer()
    user = f.make_user(Role.EMPLOYER, employer=employer)
    client.force_login(user)
    assert client.get(INVITE).status_code == 403
    with pytest.raises(PermissionDenied):
        services.invitation_send(
            sender=user, name=student.real_name, id_number=student.id_number,
            terms={}, deadline=None,
        )  # fmt: skip


def test_the_form_keeps_input_and_checks_values(client, employer_user, student):
    client.force_login(employer_user)
    data = _form(student, probation_salary="20000", supplement="长" * 1001, answer_by="2000-01-01")
    response = client.post(INVITE, data)
    errors = response.context["form"].errors
    assert {"probation_salary", "supplement", "answer_by"} <= set(errors)
    assert "软件工程师" in response.content.decode()
    assert not Invitation.objects.exists()


def test_one_live_invitation_per_employer_and_student(employer_user, student, invitation):
    terms = {"job_category": invitation.job_category, "position": "x", "work_location": "y",
             "hukou": "none"}  # fmt: skip
    with pytest.raises(ValidationError):
        services.invitation_send(sender=employer_user, name=student.real_name,
                                 id_number=student.id_number, terms=terms)  # fmt: skip
    services.invitation_decline(invitation=invitation, user=student.user)
    again = services.invitation_send(sender=employer_user, name=student.real_name,
                                     id_number=student.id_number, terms=terms)  # fmt: skip
    assert again.status == "pending"


def test_accepting_creates_an_agreement_for_college_review(
    client, student, invitation, django_capture_on_commit_callbacks
):
    client.force_login(student.user)
    url = reverse("agreements:invitation_answer", args=[invitation.pk])
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, {"answer": "accept", "confirm": "1"})
    agreement = Agreement.objects.get()
    assert response.url == reverse("agreements:agreement", args=[agreement.pk])
    assert agreement.status == "college_review"
    assert (agreement.school, agreement.college) == (student.record.school, student.record.college)
    assert agreement.position == invitation.position
    assert Invitation.objects.get(pk=invitation.pk).status == "accepted"
    assert mail.outbox  # the employer is told by e-mail too


def test_declining(client, student, invitation):
    client.force_login(student.user)
    client.post(
        reverse("agreements:invitation_answer", args=[invitation.pk]),
        {"answer": "decline", "confirm": "1"},
    )
    assert Invitation.objects.get(pk=invitation.pk).status == "declined"
    assert not Agreement.objects.exists()


def test_after_accepting_other_invitations_can_only_be_viewed(
    client, student, invitation, other_employer_user
):
    second = f.make_invitation(other_employer_user.employer, student)
    services.invitation_accept(invitation=invitation, user=student.user)
    client.force_login(student.user)
    page = client.get(reverse("agreements:invitation", args=[second.pk]))
    assert page.status_code == 200
    assert not page.context["can_answer"]
    client.post(
        reverse("agreements:invitation_answer", args=[second.pk]),
        {"answer": "accept", "confirm": "1"},
    )
    assert Agreement.objects.count() == 1
    assert Invitation.objects.get(pk=second.pk).status == "pending"
    # Employers can still send invitations.
    f.make_invitation(f.make_employer(verified_at=timezone.now()), student)


def test_an_overdue_invitation_cannot_be_accepted_even_before_the_job_runs(student, invitation):
    Invitation.objects.filter(pk=invitation.pk).update(deadline=timezone.now() - timedelta(1))
    invitation = Invitation.objects.get(pk=invitation.pk)
    assert invitation.get_shown_status_display() == "已失效"
    with pytest.raises(PermissionDenied):
        services.invitation_accept(invitation=invitation, user=student.user)
    assert not Agreement.objects.exists()


def test_the_expiry_job(student, invitation, employer_user):
    Invitation.objects.filter(pk=invitation.pk).update(deadline=timezone.now() - timedelta(1))
    call_command("expire_invitations")
    assert Invitation.objects.get(pk=invitation.pk).status == "expired"
    assert Notification.objects.filter(user=employer_user).exists()
    assert services.invitations_expire() == 0


def test_students_need_the_first_login_check_to_answer(world, employer_user):
    record = f.make_record(world.major_a1)
    student = f.make_student(record, confirmed=False)
    invitation = f.make_invitation(employer_user.employer, student)
    with pytest.raises(PermissionDenied):
        services.invitation_accept(invitation=invitation, user=student.user)


def test_an_answer_must_be_explicit(client, student, invitation):
    client.force_login(student.user)
    url = reverse("agreements:invitation_answer", args=[invitation.pk])
    assert client.post(url, {}).status_code == 400
    assert Invitation.objects.get(pk=invitation.pk).status == "pending"


def test_the_sent_list_pages_by_twenty_newest_first(client, employer_user, world):
    students = [f.make_student(f.make_record(world.major_a1)) for _ in range(41)]
    for student in students:
        f.make_invitation(employer_user.employer, student, sent_by=employer_user)
    client.force_login(employer_user)
    first = client.get(reverse("agreements:sent"))
    assert len(first.context["items"]) == 20
    assert students[-1].real_name in first.content.decode()
    assert "?page=2" in first.content.decode()
    last = client.get(reverse("agreements:sent"), {"page": 3})
    assert [i.student for i in last.context["items"]] == [students[0]]
    assert client.get(reverse("agreements:sent"), {"page": "x"}).status_code == 200


def test_the_sent_list_links_each_answered_invitation_to_its_agreement(
    client, employer_user, agreement, other_student, django_assert_max_num_queries
):
    waiting = f.make_invitation(employer_user.employer, other_student, sent_by=employer_user)
    client.force_login(employer_user)
    client.get(reverse("agreements:sent"))
    with django_assert_max_num_queries(6):  # session, user, count, unit, rows, unread
        page = client.get(reverse("agreements:sent")).content.decode()
    assert reverse("agreements:agreement", args=[agreement.pk]) in page
    assert agreement.get_status_display() in page
    assert reverse("agreements:invitation", args=[waiting.pk]) in page


def test_the_students_invitation_list_takes_a_fixed_number_of_queries(
    client, student, employer_user, other_employer_user, django_assert_max_num_queries
):
    for unit in (employer_user.employer, other_employer_user.employer):
        f.make_invitation(unit, student)
    client.force_login(student.user)
    client.get(reverse("agreements:invitations"))
    with django_assert_max_num_queries(4):  # session, invitations, active agreement, unread
        page = client.get(reverse("agreements:invitations")).content.decode()
    assert employer_user.employer.name in page and other_employer_user.employer.name in page
