"""Employer verification: on evidence, by a named reviewer, for a scope that invitations obey."""

import io

import pytest
from django.contrib.admin.sites import site
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image
from pypdf import PdfReader

from agreements.models import Invitation
from agreements.online.permissions import can_invite_graduate_of
from destreg.accounts.models import Role, User
from destreg.audit.models import AuditEvent, Notification
from employers import services
from employers.models import Employer, EmployerVerification
from tests import factories as f
from tests.agreements.test_invitations import _form as invitation_form

REVIEW = reverse("reviews:employers")
INVITE = reverse("agreements:invite")
NO_MATCH = "没有与该姓名和身份证号匹配、可以签约的应届毕业生。"


def _pdf(name="document.pdf"):
    return SimpleUploadedFile(name, f.pdf_bytes())


def _unit(*, evidence: bool = True) -> Employer:
    """An unverified unit with one account, with or without its two documents."""
    files = {"business_licence": _pdf(), "authorisation_letter": _pdf()} if evidence else {}
    employer = f.make_employer(**files)
    f.make_user(Role.EMPLOYER, employer=employer)
    return employer


def _graduate_of(major):
    return f.make_student(f.make_record(major))


def _waiting(page) -> str:
    """The review page's list of units waiting, without messages or the verified list."""
    return page.content.decode().split("<h1", 1)[1].split('id="recent"')[0]


def _invite(client, unit: Employer, student):
    client.force_login(unit.users.get())
    return client.post(INVITE, invitation_form(student))


# --- registration: the evidence is required ---------------------------------------------------


def _registration(**overrides):
    from destreg.reference.models import Code

    data = {
        "username": "hr-demo", "password1": "Empl0yer-2026!", "password2": "Empl0yer-2026!",
        "name": "北京测试科技有限公司", "uscc": "91110000100000000R",
        "nature": Code.objects.get(table="unit_nature", code="39").pk,
        "industry": Code.objects.get(table="industry", code="I").pk, "region": "110108",
        "address": "中关村大街1号", "contact_name": "刘经理", "contact_phone": "010-12345678",
        "contact_mobile": "13900001111", "contact_email": "hr@example.com",
    }  # fmt: skip
    return data | overrides


def test_registration_requires_the_business_licence_and_the_authorisation_letter(
    client, reference_data
):
    response = client.post(reverse("employers:register"), _registration())
    errors = response.context["form"].errors
    assert {"business_licence", "authorisation_letter"} <= set(errors)
    assert not Employer.objects.exists()
    assert 'enctype="multipart/form-data"' in response.content.decode()


def test_registration_stores_both_documents_rebuilt_and_audits_them(client, reference_data):
    photo = io.BytesIO()
    exif = Image.Exif()
    exif[0x8825] = {1: "N", 2: (39.0, 54.0, 27.0)}
    Image.new("RGB", (30, 20), "white").save(photo, "JPEG", exif=exif.tobytes())
    response = client.post(
        reverse("employers:register"),
        _registration(
            business_licence=SimpleUploadedFile("执照.jpg", photo.getvalue()),
            authorisation_letter=_pdf("委托书.pdf"),
        ),
    )
    assert response.status_code == 302
    employer = Employer.objects.get()
    assert employer.has_evidence and not employer.is_verified
    with employer.business_licence.open("rb") as stored:
        assert not Image.open(io.BytesIO(stored.read())).getexif()  # the GPS did not survive
    event = AuditEvent.objects.for_object(employer).get(action="register")
    assert event.changes["business_licence"] == employer.business_licence.name


# --- verification records who, when, on what ------------------------------------------------


def test_a_school_reviewer_verifies_on_the_evidence_and_it_is_recorded(
    client, school_reviewer, world
):
    unit = _unit()
    client.force_login(school_reviewer)
    page = client.get(REVIEW).content.decode()
    assert reverse("employers:document", args=[unit.pk, "licence"]) in page
    assert reverse("employers:document", args=[unit.pk, "authorisation"]) in page
    assert "/media/" not in page

    response = client.post(REVIEW, {"employer": unit.pk, "checked": "on", "note": "执照已核对"})
    assert response.status_code == 302
    verification = EmployerVerification.objects.get()
    assert verification.employer == unit
    assert verification.school == world.school_a  # the reviewer's own school only
    assert verification.verified_by == school_reviewer
    assert verification.verified_at is not None and verification.note == "执照已核对"
    assert verification.business_licence.name == unit.business_licence.name
    assert verification.authorisation_letter.name == unit.authorisation_letter.name
    unit.refresh_from_db()
    assert unit.is_verified and unit.verified_by == school_reviewer
    event = AuditEvent.objects.for_object(unit).get(action="verify")
    assert (event.actor, event.comment) == (school_reviewer, "执照已核对")
    assert event.changes["scope"] == f"school:{world.school_a.pk}"
    assert event.changes["business_licence"] == unit.business_licence.name
    notice = Notification.objects.get(user=unit.users.get())
    assert world.school_a.name in notice.message
    assert unit.name not in _waiting(client.get(REVIEW))  # no longer waiting for A


def test_the_reviewer_must_confirm_having_checked_both_documents(client, school_reviewer):
    unit = _unit()
    client.force_login(school_reviewer)
    client.post(REVIEW, {"employer": unit.pk})
    assert not EmployerVerification.objects.exists()


def test_a_unit_without_its_documents_cannot_be_verified(client, school_reviewer):
    unit = _unit(evidence=False)
    client.force_login(school_reviewer)
    page = client.get(REVIEW).content.decode()
    assert unit.name in page and "等待上传材料" in page
    client.post(REVIEW, {"employer": unit.pk, "checked": "on"})
    assert not EmployerVerification.objects.exists()
    with pytest.raises(PermissionDenied):
        services.employer_verify(employer=unit, by=school_reviewer)


def test_a_later_replaced_document_does_not_change_what_was_reviewed(
    client, school_reviewer, other_school_reviewer
):
    unit = _unit()
    reviewed = unit.business_licence.name
    verification = services.employer_verify(employer=unit, by=school_reviewer)
    replacement = SimpleUploadedFile("new.pdf", f.pdf_bytes(pages=2))
    services.employer_upload_evidence(
        employer=unit, user=unit.users.get(), business_licence=replacement
    )
    unit.refresh_from_db()
    assert unit.business_licence.name != reviewed
    verification.refresh_from_db()
    assert verification.business_licence.name == reviewed
    later = services.employer_verify(employer=unit, by=other_school_reviewer)
    assert later.business_licence.name == unit.business_licence.name

    def pages(url):
        content = b"".join(client.get(url).streaming_content)
        return len(PdfReader(io.BytesIO(content)).pages)

    seen = reverse("employers:verification_document", args=[verification.pk, "licence"])
    client.force_login(school_reviewer)
    assert seen in client.get(REVIEW).content.decode()
    assert pages(seen) == 1  # what school A's reviewer verified on
    assert pages(reverse("employers:document", args=[unit.pk, "licence"])) == 2  # the current one


def test_only_school_reviewers_and_platform_admins_verify(
    client, student, college_reviewer, employer_user
):
    unit = _unit()
    for user in (student.user, college_reviewer, employer_user):
        client.force_login(user)
        assert client.post(REVIEW, {"employer": unit.pk, "checked": "on"}).status_code == 403
        with pytest.raises(PermissionDenied):
            services.employer_verify(employer=unit, by=user)
    assert not unit.verifications.exists()
    client.logout()
    assert client.get(REVIEW).status_code == 302  # to the login page


def test_each_school_verifies_for_itself_and_the_platform_for_all(
    client, school_reviewer, other_school_reviewer, platform_admin, world
):
    unit = _unit()
    services.employer_verify(employer=unit, by=school_reviewer)
    with pytest.raises(PermissionDenied):  # already covered for school A
        services.employer_verify(employer=unit, by=school_reviewer)
    client.force_login(other_school_reviewer)
    assert unit.name in _waiting(client.get(REVIEW))  # still waiting for school B
    client.force_login(platform_admin)
    assert unit.name in _waiting(client.get(REVIEW))  # and for the platform
    client.post(REVIEW, {"employer": unit.pk, "checked": "on"})
    assert unit.verifications.filter(school=None, verified_by=platform_admin).exists()
    for reviewer in (other_school_reviewer, platform_admin):
        client.force_login(reviewer)
        assert unit.name not in _waiting(client.get(REVIEW))


# --- scope enforced when inviting -------------------------------------------------------------


def test_a_school_a_verification_invites_a_graduates_only(client, school_reviewer, world):
    unit = _unit()
    services.employer_verify(employer=unit, by=school_reviewer)
    graduate_a, graduate_b = _graduate_of(world.major_a1), _graduate_of(world.major_b1)

    response = _invite(client, unit, graduate_b)
    assert response.status_code == 200
    assert response.context["form"].non_field_errors() == [NO_MATCH]  # as for nobody at all
    assert not Invitation.objects.exists()

    assert _invite(client, unit, graduate_a).status_code == 302
    assert Invitation.objects.get().student == graduate_a


def test_an_out_of_scope_graduate_gets_the_answer_an_unknown_one_gets(
    client, school_reviewer, world
):
    unit = _unit()
    services.employer_verify(employer=unit, by=school_reviewer)
    graduate_b = _graduate_of(world.major_b1)
    out_of_scope = _invite(client, unit, graduate_b)
    unknown = client.post(INVITE, invitation_form(graduate_b, id_number=f.new_id_number()))
    assert out_of_scope.status_code == unknown.status_code == 200
    assert (
        out_of_scope.context["form"].non_field_errors()
        == unknown.context["form"].non_field_errors()
    )


def test_a_platform_verification_invites_every_schools_graduates(client, platform_admin, world):
    unit = _unit()
    services.employer_verify(employer=unit, by=platform_admin)
    assert _invite(client, unit, _graduate_of(world.major_a1)).status_code == 302
    assert _invite(client, unit, _graduate_of(world.major_b1)).status_code == 302
    assert Invitation.objects.count() == 2


def test_verifications_by_two_schools_cover_both(school_reviewer, other_school_reviewer, world):
    unit = _unit()

    def may(school):  # a fresh user, as each request loads one
        user = User.objects.get(employer=unit)
        return bool(can_invite_graduate_of(user, school.pk if school else None))

    assert not may(world.school_a)
    services.employer_verify(employer=unit, by=school_reviewer)
    assert may(world.school_a) and not may(world.school_b)
    services.employer_verify(employer=unit, by=other_school_reviewer)
    assert may(world.school_a) and may(world.school_b)
    assert not may(None)


def test_the_portal_says_which_schools_the_unit_may_invite(
    client, school_reviewer, platform_admin, world
):
    unit = _unit()
    client.force_login(unit.users.get())
    assert "尚无" in client.get(reverse("employers:home")).content.decode()
    services.employer_verify(employer=unit, by=school_reviewer)
    page = client.get(reverse("employers:home")).content.decode()
    scope = page.split('id="invite-scope"')[1].split("</dd>")[0]
    assert world.school_a.name in scope and world.school_b.name not in scope
    services.employer_verify(employer=unit, by=platform_admin)
    page = client.get(reverse("employers:home")).content.decode()
    assert "所有学校" in page.split('id="invite-scope"')[1].split("</dd>")[0]


def test_units_verified_before_scopes_become_platform_wide(reference_data, school_reviewer):
    """The data migration: what was verified keeps working for every school."""
    from importlib import import_module

    from django.apps import apps
    from django.utils import timezone

    migration = import_module("employers.migrations.0002_verification_scope_and_evidence")
    old = _unit()
    Employer.objects.filter(pk=old.pk).update(
        verified_at=timezone.now(), verified_by=school_reviewer
    )
    never = _unit()
    migration.verified_units_become_platform_wide(apps, None)
    assert old.verifications.get().school is None
    assert old.verifications.get().verified_by == school_reviewer
    assert not never.verifications.exists()


# --- the admin's bulk action goes through the service -----------------------------------------


def test_the_admin_action_verifies_through_the_service(rf, platform_admin):
    ready, missing = _unit(), _unit(evidence=False)
    request = rf.post("/admin/employers/employer/")
    request.user = platform_admin
    request._messages = _Messages()
    admin = site._registry[Employer]
    admin.verify(request, Employer.objects.filter(pk__in=[ready.pk, missing.pk]))
    verification = ready.verifications.get()
    assert (verification.school, verification.verified_by) == (None, platform_admin)
    assert verification.business_licence.name == ready.business_licence.name
    event = AuditEvent.objects.for_object(ready).get(action="verify")
    assert event.actor == platform_admin
    assert Notification.objects.filter(user=ready.users.get()).exists()
    assert not missing.verifications.exists()
    missing.refresh_from_db()
    assert not missing.is_verified
    assert any(missing.name in text for text in request._messages.texts)


class _Messages:
    def __init__(self):
        self.texts: list[str] = []

    def add(self, level, message, extra_tags=""):
        self.texts.append(str(message))


# --- the documents: to the unit and its verifiers only ---------------------------------------


def test_the_documents_are_served_to_the_unit_and_reviewers_only(
    client,
    employer_user,
    student,
    college_reviewer,
    school_reviewer,
    other_school_reviewer,
    platform_admin,
):
    unit = _unit()
    url = reverse("employers:document", args=[unit.pk, "licence"])
    for user in (unit.users.get(), school_reviewer, other_school_reviewer, platform_admin):
        client.force_login(user)
        response = client.get(url)
        assert response.status_code == 200, user
        assert response["Content-Type"] == "application/pdf"
        assert response["X-Content-Type-Options"] == "nosniff"
    client.force_login(employer_user)  # another unit: as if it did not exist
    assert client.get(url).status_code == 404
    for user in (student.user, college_reviewer):
        client.force_login(user)
        assert client.get(url).status_code == 403
    client.logout()
    assert client.get(url).status_code == 302
    client.force_login(school_reviewer)
    assert client.get(reverse("employers:document", args=[unit.pk, "other"])).status_code == 404
    missing = _unit(evidence=False)
    assert (
        client.get(reverse("employers:document", args=[missing.pk, "licence"])).status_code == 404
    )


def test_a_verification_serves_both_documents_it_names_and_nothing_else(client, school_reviewer):
    verification = services.employer_verify(employer=_unit(), by=school_reviewer)
    client.force_login(school_reviewer)
    for which in ("licence", "authorisation"):
        url = reverse("employers:verification_document", args=[verification.pk, which])
        assert client.get(url).status_code == 200, which
    other = reverse("employers:verification_document", args=[verification.pk, "other"])
    assert client.get(other).status_code == 404


def test_a_unit_registered_before_uploads_adds_its_documents_from_the_portal(
    client, school_reviewer
):
    unit = _unit(evidence=False)
    client.force_login(unit.users.get())
    response = client.post(reverse("employers:upload_evidence"), {})
    assert response.status_code == 400
    scripted = f.pdf_bytes(change=lambda w: w.add_attachment("a.exe", b"MZ"))
    response = client.post(
        reverse("employers:upload_evidence"),
        {"business_licence": SimpleUploadedFile("a.pdf", scripted)},
    )
    assert (
        response.status_code == 400
        and "business_licence" in response.context["evidence_form"].errors
    )
    response = client.post(
        reverse("employers:upload_evidence"),
        {"business_licence": _pdf(), "authorisation_letter": _pdf()},
    )
    assert response.status_code == 302
    unit.refresh_from_db()
    assert unit.has_evidence
    assert AuditEvent.objects.for_object(unit).filter(action="upload_evidence").exists()
    services.employer_verify(employer=unit, by=school_reviewer)  # now it can be verified
    assert client.get(reverse("agreements:invite")).status_code == 200


def test_the_review_page_costs_the_same_queries_for_many_units(
    client, school_reviewer, django_assert_max_num_queries
):
    for _ in range(2):
        services.employer_verify(employer=_unit(), by=school_reviewer)
        _unit()
    client.force_login(school_reviewer)
    client.get(REVIEW)  # warm the per-process caches
    with django_assert_max_num_queries(12) as few:
        client.get(REVIEW)
    for _ in range(5):
        services.employer_verify(employer=_unit(), by=school_reviewer)
        _unit()
    with django_assert_max_num_queries(len(few.captured_queries)):
        page = client.get(REVIEW)
    assert page.content.decode().count("waiting-unit") == 7


# --- one credit code, several claims: only one is ever verified ------------------------------


def test_the_reviewer_sees_rival_claims_and_verifies_only_one(client, school_reviewer):
    squatter, real = _unit(), _unit()
    Employer.objects.filter(pk=real.pk).update(uscc=squatter.uscc)
    client.force_login(school_reviewer)
    page = _waiting(client.get(REVIEW))
    assert page.count("另有 1 个账号申请使用此统一社会信用代码") == 2

    services.employer_verify(employer=real, by=school_reviewer)

    page = _waiting(client.get(REVIEW))
    assert "其中一个已通过认证，本账号无法再认证" in page
    with pytest.raises(PermissionDenied):
        services.employer_verify(employer=squatter, by=school_reviewer)
    assert not Employer.objects.get(pk=squatter.pk).is_verified


def test_the_database_holds_one_verified_unit_per_credit_code(reference_data):
    from django.db import IntegrityError, transaction
    from django.utils import timezone

    first = f.make_employer(verified_at=timezone.now())
    second = f.make_employer()
    with pytest.raises(IntegrityError), transaction.atomic():
        Employer.objects.filter(pk=second.pk).update(uscc=first.uscc, verified_at=timezone.now())
