import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils.translation import gettext

from destreg.audit.models import AuditEvent
from destreg.reference.models import CodeTable
from students import binding, services
from students.models import RegistryRecord, RegistryRequest
from tests import factories as f


@pytest.fixture
def newcomer(world):
    """A graduate with an account but no registry record."""
    return f.make_student(real_name="新同学", confirmed=False)


def _import_form(world, **overrides):
    data = {
        "student_no": "2022999",
        "gender": "2",
        "ethnicity": "01",
        "political_status": "03",
        "college": world.a1.pk,
        "major": world.major_a1.pk,
        "education_level": "31",
        "study_mode": "1",
        "enrolment_date": "2022-09-01",
        "graduation_date": "2026-06-30",
        "origin_region": "110108",
        "urban_rural": "1",
        "note": "转专业后学籍未同步",
    }
    return data | overrides


def test_import_request_is_created_and_approval_creates_the_record(
    client, world, newcomer, school_reviewer
):
    client.force_login(newcomer.user)
    url = reverse("students:import_request") + f"?school={world.school_a.pk}"
    response = client.post(url, _import_form(world))
    assert response.status_code == 302
    request = RegistryRequest.objects.get()
    assert (request.kind, request.school, request.status) == ("import", world.school_a, "submitted")

    client.force_login(school_reviewer)
    decide = reverse("reviews:registry_decide", args=[request.pk])
    assert client.post(decide, f.decision(request)).status_code == 302

    newcomer.refresh_from_db()
    assert newcomer.is_confirmed
    record = newcomer.record
    assert (record.student_no, record.name, record.school) == ("2022999", "新同学", world.school_a)
    assert record.id_number == newcomer.id_number
    assert record.ethnicity.code == "01"
    # The national export's 出生日期, read from the ID number.
    assert record.birth_date.strftime("%Y%m%d") == newcomer.id_number[6:14]


def test_import_form_keeps_input_and_checks_the_major_belongs_to_the_college(
    client, world, newcomer
):
    client.force_login(newcomer.user)
    url = reverse("students:import_request") + f"?school={world.school_a.pk}"
    response = client.post(url, _import_form(world, college=world.a2.pk))
    assert response.status_code == 200
    assert response.context["form"].errors["major"]
    assert 'value="2022999"' in response.content.decode()
    assert not RegistryRequest.objects.exists()


def test_import_form_only_offers_the_chosen_schools_colleges(client, world, newcomer):
    client.force_login(newcomer.user)
    url = reverse("students:import_request") + f"?school={world.school_a.pk}"
    response = client.post(url, _import_form(world, college=world.b1.pk, major=world.major_b1.pk))
    assert "college" in response.context["form"].errors


def test_only_one_open_request_of_a_kind(world, newcomer):
    data = {"student_no": "1"}
    services.registry_request_submit(
        student=newcomer, kind="import", school=world.school_a, data=data
    )
    with pytest.raises(ValidationError):
        services.registry_request_submit(
            student=newcomer, kind="import", school=world.school_a, data=data
        )


def test_update_request_applies_corrections_and_keeps_old_values(client, student, school_reviewer):
    client.force_login(student.user)
    form = {
        "ethnicity": "03",
        "political_status": "01",
        "origin_region": "110108",
        "urban_rural": "",
        "study_mode": "",
        "note": "入党后未更新",
    }
    assert client.post(reverse("students:update_request"), form).status_code == 302
    request = RegistryRequest.objects.get(kind="update")
    assert request.data == {"ethnicity": "03", "political_status": "01"}
    assert request.school == student.record.school

    services.registry_request_approve(request=request, reviewer=school_reviewer)
    record = RegistryRecord.objects.get(pk=student.record_id)
    assert (record.ethnicity.code, record.political_status.code) == ("03", "01")
    request.refresh_from_db()
    assert request.previous == {"ethnicity": "01", "political_status": "03"}
    event = AuditEvent.objects.for_object(record).get(action="registry_update")
    assert event.changes["old"] == {"ethnicity": "01", "political_status": "03"}
    assert event.actor == school_reviewer


def test_update_request_without_changes_is_refused(client, student):
    client.force_login(student.user)
    form = {"ethnicity": "01", "political_status": "03", "origin_region": "110108", "note": "x"}
    response = client.post(reverse("students:update_request"), form)
    assert response.status_code == 200
    assert response.context["form"].non_field_errors()
    assert not RegistryRequest.objects.exists()


def test_reject_needs_a_reason_and_the_student_sees_it(client, student, school_reviewer):
    request = services.registry_request_submit(
        student=student, kind="update", school=student.record.school, data={"ethnicity": "03"}
    )
    client.force_login(school_reviewer)
    decide = reverse("reviews:registry_decide", args=[request.pk])
    response = client.post(decide, f.decision(request, "reject"))
    assert response.status_code == 400
    request.refresh_from_db()
    assert request.status == "submitted"

    client.post(decide, f.decision(request, "reject", "请提供入党证明"))
    request.refresh_from_db()
    assert request.status == "rejected"
    assert student.record.ethnicity.code == "01"

    client.force_login(student.user)
    page = client.get(reverse("students:request_detail", args=[request.pk])).content.decode()
    assert "请提供入党证明" in page


def test_a_decided_request_cannot_be_decided_again(student, school_reviewer):
    request = services.registry_request_submit(
        student=student, kind="update", school=student.record.school, data={"ethnicity": "03"}
    )
    services.registry_request_reject(request=request, reviewer=school_reviewer, reason="no")
    with pytest.raises(PermissionDenied):
        services.registry_request_approve(request=request, reviewer=school_reviewer)


# (state, reviewer) → allowed: the table of who may decide a registry request.
@pytest.mark.parametrize(
    ("status", "who", "allowed"),
    [
        ("submitted", "school_reviewer", True),
        ("submitted", "platform_admin", True),
        ("submitted", "college_reviewer", False),
        ("submitted", "other_school_reviewer", False),
        ("submitted", "student", False),
        ("approved", "school_reviewer", False),
        ("rejected", "school_reviewer", False),
    ],
)
def test_who_may_decide(request, student, status, who, allowed):
    from students.permissions import can_review_registry_request

    item = services.registry_request_submit(
        student=student, kind="update", school=student.record.school, data={"ethnicity": "03"}
    )
    RegistryRequest.objects.filter(pk=item.pk).update(status=status)
    item = RegistryRequest.objects.get(pk=item.pk)
    user = request.getfixturevalue(who)
    user = user.user if hasattr(user, "user") else user
    assert bool(can_review_registry_request(user, item)) is allowed


def test_code_tables_used_by_forms_are_active_codes(world):
    from students.forms import UpdateRequestForm

    form = UpdateRequestForm(record=f.make_record(world.major_a1))
    assert form.fields["ethnicity"].queryset.filter(table=CodeTable.ETHNICITY).count() == 58


def test_an_import_request_is_withdrawn_when_the_registry_matches(world, school_reviewer):
    record = f.make_record(world.major_a1, name="后来者")
    student = f.make_student(record, confirmed=False)
    request = services.registry_request_submit(
        student=student, kind="import", school=world.school_a, data={"student_no": "X1"}
    )
    binding.registry_bind(student=student, record=record, method="code", actor=student.user)
    assert RegistryRequest.objects.get(pk=request.pk).status == "rejected"
    with pytest.raises(PermissionDenied):
        services.registry_request_approve(request=request, reviewer=school_reviewer)
    student.refresh_from_db()
    assert student.record == record


def test_the_home_page_lists_requests_in_a_fixed_number_of_queries(
    client, student, school_reviewer, django_assert_max_num_queries
):
    for ethnicity in ("03", "04", "05"):
        request = services.registry_request_submit(
            student=student,
            kind="update",
            school=student.record.school,
            data={"ethnicity": ethnicity},
        )
        services.registry_request_reject(request=request, reviewer=school_reviewer, reason="不符")
    client.force_login(student.user)
    client.get(reverse("students:home"))
    # The reviews just now keep the page out of the cache for a few seconds, so this reads:
    # session, record, requests, unread count, and the open items (invitations, agreements
    # and their terminations, registrations and theirs).
    with django_assert_max_num_queries(9):
        page = client.get(reverse("students:home")).content.decode()
    assert page.count(reverse("students:request_detail", args=[request.pk])) == 1
    assert page.count("badge text-bg-danger") == 3


def test_an_import_is_refused_when_another_account_confirmed_the_id_number_on_an_older_record(
    client, world, newcomer, school_reviewer
):
    """The unique clash on the account surfaces as the service's refusal; nothing is written."""
    from students.models import current_graduation_year

    older = f.make_record(
        world.major_a1,
        id_number=newcomer.id_number,
        graduation_year=current_graduation_year() - 1,
    )
    f.make_student(older)  # confirmed: holds the ID number
    client.force_login(newcomer.user)
    url = reverse("students:import_request") + f"?school={world.school_a.pk}"
    assert client.post(url, _import_form(world)).status_code == 302
    request = RegistryRequest.objects.get()
    with pytest.raises(ValidationError) as refused:
        services.registry_request_approve(request=request, reviewer=school_reviewer)
    assert refused.value.messages == [
        gettext("Another account has confirmed a registry record with this ID number.")
    ]
    newcomer.refresh_from_db()
    assert not newcomer.is_confirmed
    assert RegistryRecord.objects.count() == 1  # only the older record
    assert RegistryRequest.objects.get().status == "submitted"


def test_both_request_forms_offer_submit_and_cancel(client, world, student, newcomer):
    home = reverse("students:home")
    for user, url in (
        (newcomer.user, reverse("students:import_request") + f"?school={world.school_a.pk}"),
        (student.user, reverse("students:update_request")),
    ):
        client.force_login(user)
        page = client.get(url).content.decode()
        assert "csrfmiddlewaretoken" in page and 'name="note"' in page, url
        assert ">提交</button>" in page and f'href="{home}">取消</a>' in page, url
