from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from destreg.accounts.models import User
from employers.models import Employer
from tests import factories as f

URL = reverse("employers:register")


def _form(**overrides):
    data = {
        "username": "hr-demo", "password1": "Empl0yer-2026!", "password2": "Empl0yer-2026!",
        "name": "北京测试科技有限公司", "uscc": "91110000100000000R", "nature": "",
        "industry": "", "region": "110108", "address": "中关村大街1号", "contact_name": "刘经理",
        "contact_phone": "010-12345678", "contact_mobile": "13900001111",
        "contact_email": "hr@example.com",
        "business_licence": SimpleUploadedFile("licence.pdf", f.pdf_bytes()),
        "authorisation_letter": SimpleUploadedFile("letter.png", f.png_bytes()),
    }  # fmt: skip
    return data | overrides


def test_a_unit_registers_and_waits_for_verification(client, reference_data):
    from destreg.reference.models import Code

    nature = Code.objects.get(table="unit_nature", code="39").pk
    industry = Code.objects.get(table="industry", code="I").pk
    response = client.post(URL, _form(nature=nature, industry=industry))
    assert response.status_code == 302
    employer = Employer.objects.get()
    assert not employer.is_verified
    user = User.objects.get(username="hr-demo")
    assert (user.role, user.employer) == ("employer", employer)
    # Not yet allowed to invite.
    assert client.get(reverse("agreements:invite")).status_code == 403


def test_the_credit_code_is_checked_and_held_by_one_verified_unit(client, reference_data):
    response = client.post(URL, _form(uscc="91110000100000000A"))
    assert "uscc" in response.context["form"].errors
    f.make_employer(uscc="91110000100000000R", verified_at=timezone.now())
    response = client.post(URL, _form())
    assert "uscc" in response.context["form"].errors
    assert "已认证的单位" in response.content.decode()
    assert 'value="北京测试科技有限公司"' in response.content.decode()


def test_an_unverified_claim_does_not_lock_the_real_unit_out(client, reference_data):
    """Whoever registers a credit code first, unverified, cannot keep the real unit away."""
    from destreg.reference.models import Code

    squatter = f.make_employer(uscc="91110000100000000R", name="冒用单位")
    nature = Code.objects.get(table="unit_nature", code="39").pk
    industry = Code.objects.get(table="industry", code="I").pk
    response = client.post(URL, _form(nature=nature, industry=industry))
    assert response.status_code == 302
    real = Employer.objects.exclude(pk=squatter.pk).get()
    assert real.uscc == squatter.uscc and not real.is_verified


def test_school_staff_verify_units(client, school_reviewer, student):
    employer = f.make_employer(
        business_licence=SimpleUploadedFile("a.pdf", f.pdf_bytes()),
        authorisation_letter=SimpleUploadedFile("b.pdf", f.pdf_bytes()),
    )
    user = f.make_user("employer", employer=employer)
    url = reverse("reviews:employers")
    client.force_login(student.user)
    assert client.get(url).status_code == 403
    client.force_login(school_reviewer)
    assert employer.name in client.get(url).content.decode()
    client.post(url, {"employer": employer.pk, "checked": "on"})
    employer.refresh_from_db()
    assert employer.is_verified and employer.verified_by == school_reviewer
    client.force_login(user)
    assert client.get(reverse("agreements:invite")).status_code == 200
