"""The school's electronic seal, uploaded in the admin: only genuine small PNG or JPEG images,
stored re-encoded; a school's own staff may change their school's seal and nothing else."""

import io

import pytest
from django.contrib.auth.models import Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image, PngImagePlugin

from destreg.accounts.models import Role
from destreg.audit.models import AuditAction, AuditEvent
from destreg.reference.models import School
from tests import factories as f


def _change_url(school) -> str:
    return reverse("admin:reference_school_change", args=[school.pk])


def _form(school, seal) -> dict:
    """The change form as the admin posts it, unchanged but for the seal."""
    data = {
        name: getattr(school, name) or ""
        for name in [
            "code", "name", "address", "postcode", "contact_name", "contact_phone",
            "contact_email", "invitation_validity_days", "review_sla_days", "agreement_clauses",
        ]
    }  # fmt: skip
    data |= {"reporting_cutoff": "", "seal": seal}
    data |= {"colleges-TOTAL_FORMS": "0", "colleges-INITIAL_FORMS": "0"}
    return data


def _upload(content: bytes, name: str = "seal.png") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="image/png")


def _png_with_text(text: str = "someone@example.com", size=(300, 300)) -> bytes:
    image = Image.new("RGBA", size, (0, 0, 0, 0))
    info = PngImagePlugin.PngInfo()
    info.add_text("Author", text)
    buffer = io.BytesIO()
    image.save(buffer, "PNG", pnginfo=info)
    return buffer.getvalue()


def _gif() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (50, 50), "red").save(buffer, "GIF")
    return buffer.getvalue()


@pytest.fixture
def school_staff(world):
    """A school reviewer of school A whom the platform let into the admin to keep the seal."""
    user = f.make_user(Role.SCHOOL_REVIEWER, school=world.school_a, is_staff=True)
    user.user_permissions.add(
        Permission.objects.get(codename="view_school"),
        Permission.objects.get(codename="change_school"),
    )
    return user


def test_a_platform_admin_uploads_a_seal_stored_rebuilt(client, platform_admin):
    school = f.make_school()
    client.force_login(platform_admin)
    response = client.post(_change_url(school), _form(school, _upload(_png_with_text())))
    assert response.status_code == 302, response.context["adminform"].form.errors
    school.refresh_from_db()
    assert school.seal.name.startswith("seals/") and school.seal.name.endswith(".png")
    assert "seal" not in school.seal.name.removeprefix("seals/")  # the uploader's name is gone
    with school.seal.open("rb") as handle:
        stored = Image.open(io.BytesIO(handle.read()))
        stored.load()
    assert stored.format == "PNG" and stored.size == (300, 300)
    assert "Author" not in stored.info  # text chunks dropped
    # The page shows the stored seal itself; uploads have no public media URL to link to.
    page = client.get(_change_url(school)).content.decode()
    assert 'src="data:image/png;base64,' in page and "/media/seals/" not in page


@pytest.mark.parametrize(
    ("name", "content", "code"),
    [
        ("seal.png", _gif(), "type"),  # a real image, of another kind
        ("seal.png", _png_with_text("<script>alert(1)</script>"), "polyglot"),
        ("seal.png", f.png_bytes((3000, 10)), "dimensions"),
        ("seal.png", f.png_bytes((8, 8)) + b"\x00" * (1024 * 1024), "size"),
        # Not images at all: the image field's own check.
        ("seal.png", f.png_bytes((8, 8))[:-20], "invalid_image"),
        ("seal.png", b"<html><body>hello</body></html>", "invalid_image"),
        ("seal.pdf", f.pdf_bytes(), "invalid_image"),
    ],
)
def test_it_refuses_anything_but_a_small_real_png_or_jpeg(
    client, platform_admin, name, content, code
):
    school = f.make_school()
    client.force_login(platform_admin)
    response = client.post(_change_url(school), _form(school, _upload(content, name)))
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors.as_data()["seal"]
    assert [error.code for error in errors] == [code]
    school.refresh_from_db()
    assert not school.seal


def test_a_jpeg_seal_is_accepted(client, platform_admin):
    school = f.make_school()
    client.force_login(platform_admin)
    client.post(_change_url(school), _form(school, _upload(f.jpeg_bytes((200, 200)), "s.jpg")))
    school.refresh_from_db()
    assert school.seal.name.endswith(".jpg")


def test_school_staff_change_their_own_schools_seal_and_nothing_else(client, world, school_staff):
    school = world.school_a
    client.force_login(school_staff)
    page = client.get(_change_url(school))
    assert page.status_code == 200
    assert list(page.context["adminform"].form.fields) == ["seal"]
    data = _form(school, _upload(f.seal_png())) | {"name": "改名大学", "code": "11111"}
    assert client.post(_change_url(school), data).status_code == 302
    school.refresh_from_db()
    assert school.seal and school.name == "甲大学" and school.code != "11111"
    (event,) = AuditEvent.objects.for_object(school)
    assert event.action == AuditAction.CHANGE_SEAL and event.actor == school_staff
    assert event.changes == {"seal": school.seal.name}


def test_school_staff_see_nothing_of_another_school(client, world, school_staff):
    other = world.school_b
    client.force_login(school_staff)
    changelist = client.get(reverse("admin:reference_school_changelist"))
    assert list(changelist.context["cl"].result_list) == [world.school_a]
    assert other.name not in changelist.content.decode()
    page = client.get(_change_url(other))
    assert page.status_code == 302  # the admin's "does not exist", as for a missing id
    client.post(_change_url(other), _form(other, _upload(f.seal_png())))
    assert not School.objects.get(pk=other.pk).seal
    assert client.get(reverse("admin:reference_school_add")).status_code == 403
    delete = reverse("admin:reference_school_delete", args=[world.school_a.pk])
    assert client.post(delete, {"post": "yes"}).status_code == 403
    assert School.objects.filter(pk=world.school_a.pk).exists()


def test_a_college_reviewer_let_into_the_admin_cannot_change_the_seal(client, world):
    user = f.make_user(
        Role.COLLEGE_REVIEWER, school=world.school_a, college=world.a1, is_staff=True
    )
    user.user_permissions.add(Permission.objects.get(codename="change_school"))
    client.force_login(user)
    assert client.get(_change_url(world.school_a)).status_code == 302  # "does not exist"
    client.post(_change_url(world.school_a), _form(world.school_a, _upload(f.seal_png())))
    assert not School.objects.get(pk=world.school_a.pk).seal


def test_the_model_refuses_a_bad_seal_whatever_form_sets_it(world):
    """The rule lives on the model: a seal set outside the admin form is checked too."""
    from django.core.exceptions import ValidationError

    school = world.school_a
    school.seal = SimpleUploadedFile("seal.png", _gif())
    with pytest.raises(ValidationError) as refused:
        school.full_clean()
    assert [e.code for e in refused.value.error_dict["seal"]] == ["type"]
    school.seal = SimpleUploadedFile("seal.png", f.seal_png())
    school.full_clean()  # a genuine PNG passes
