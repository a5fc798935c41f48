"""Terms templates: a unit saves the terms it offers often and starts invitations from them."""

from datetime import timedelta

from django.urls import reverse
from django.utils import timezone

from agreements.models import Invitation, TermTemplate
from tests.agreements.test_invitations import _form as invitation_form

TEMPLATES = reverse("agreements:term_templates")
NEW = reverse("agreements:term_template_new")
INVITE = reverse("agreements:invite")


def _template_form(**overrides):
    data = {
        "name": "2027届校招·软件工程师", "job_category": "13", "position": "软件工程师",
        "work_location": "北京市海淀区", "probation_months": "3", "probation_salary": "9000",
        "salary": "12000", "penalty": "", "report_place": "", "report_deadline": "",
        "hukou": "employer", "supplement": "提供住宿", "validity_days": "14",
    }  # fmt: skip
    return data | overrides


def test_a_unit_saves_a_template_and_invites_from_it(client, employer_user, student):
    client.force_login(employer_user)
    assert client.post(NEW, _template_form()).status_code == 302
    template = TermTemplate.objects.get()
    assert (template.employer, template.position, template.salary, template.updated_by) == (
        employer_user.employer, "软件工程师", 12000, employer_user
    )  # fmt: skip
    assert "2027届校招·软件工程师" in client.get(TEMPLATES).content.decode()

    page = client.get(INVITE, {"template": template.pk}).content.decode()
    assert 'value="软件工程师"' in page and 'value="12000"' in page and "提供住宿" in page
    answer_by = (timezone.localdate() + timedelta(days=14)).isoformat()
    assert f'value="{answer_by}"' in page  # the template's days to answer

    # What the unit then sends is what the form holds (changed or not).
    response = client.post(INVITE, invitation_form(student, salary="13000", answer_by=answer_by))
    assert response.status_code == 302
    invitation = Invitation.objects.get()
    assert (invitation.position, invitation.salary) == ("软件工程师", 13000)


def test_bad_terms_keep_what_was_typed(client, employer_user):
    client.force_login(employer_user)
    response = client.post(NEW, _template_form(probation_salary="20000", validity_days="120"))
    assert response.status_code == 400
    form = response.context["form"]
    assert set(form.errors) == {"probation_salary", "validity_days"}
    assert 'value="2027届校招·软件工程师"' in response.content.decode()
    assert not TermTemplate.objects.exists()


def test_a_name_is_used_once_per_unit(client, employer_user, other_employer_user):
    client.force_login(employer_user)
    client.post(NEW, _template_form())
    response = client.post(NEW, _template_form(position="另一个岗位"))
    assert response.status_code == 400
    assert "本单位已有同名模板" in response.content.decode()
    client.force_login(other_employer_user)  # another unit may use the same name
    assert client.post(NEW, _template_form()).status_code == 302
    assert TermTemplate.objects.count() == 2


def test_editing_and_deleting(client, employer_user):
    client.force_login(employer_user)
    client.post(NEW, _template_form())
    template = TermTemplate.objects.get()
    edit = reverse("agreements:term_template_edit", args=[template.pk])
    page = client.get(edit).content.decode()
    assert 'value="2027届校招·软件工程师"' in page and '<option value="13" selected' in page
    assert client.post(edit, _template_form(salary="15000")).status_code == 302
    assert TermTemplate.objects.get().salary == 15000
    client.post(reverse("agreements:term_template_delete", args=[template.pk]))
    assert not TermTemplate.objects.exists()


def test_another_units_templates_are_out_of_reach(
    client, employer_user, other_employer_user, student
):
    client.force_login(employer_user)
    client.post(NEW, _template_form())
    template = TermTemplate.objects.get()
    client.force_login(other_employer_user)
    assert "2027届校招" not in client.get(TEMPLATES).content.decode()
    for url in (
        reverse("agreements:term_template_edit", args=[template.pk]),
        reverse("agreements:term_template_delete", args=[template.pk]),
    ):
        assert client.post(url, _template_form(salary="1")).status_code == 404
    assert client.get(INVITE, {"template": template.pk}).status_code == 404
    assert TermTemplate.objects.get().salary == 12000
    client.force_login(student.user)
    assert client.get(TEMPLATES).status_code == 403
