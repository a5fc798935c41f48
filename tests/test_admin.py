import pytest
from django.urls import reverse

from tests import factories as f

ADMIN_PAGES = [
    "admin:agreements_agreement_changelist",
    "admin:agreements_invitation_changelist",
    "admin:agreements_unitsigningrequest_changelist",
    "admin:agreements_registration_changelist",
    "admin:agreements_termination_changelist",
    "admin:students_registryrecord_changelist",
    "admin:employers_employer_changelist",
    "admin:reference_code_changelist",
    "admin:reference_minimumwage_changelist",
    "admin:agreements_evidencerule_changelist",
    "admin:accounts_user_changelist",
    "admin:audit_auditevent_changelist",
    "admin:employers_apitoken_changelist",
    "admin:employers_apicall_changelist",
]


@pytest.mark.parametrize("name", ADMIN_PAGES)
def test_admin_changelists_open_for_platform_admins(client, platform_admin, signed, name):
    client.force_login(platform_admin)
    assert client.get(reverse(name)).status_code == 200


def test_the_admin_is_closed_to_reviewers(client, school_reviewer):
    client.force_login(school_reviewer)
    assert client.get(reverse("admin:index")).status_code == 302


# --- what the admin may change on the apps' records --------------------------------------

# Admin-only settings (with their own audited paths where it matters) stay editable; every
# other record of agreements, students, employers and reviews is changed through its
# services (the state-change door), so its admin edits nothing.
SETTINGS_FIELDS = {
    "agreements.EvidenceRule": {
        "destination", "required_fields", "required_proofs", "one_of", "required_with",
        "check_minimum_wage", "source",
    },
    "students.SchoolSignOn": {
        "school", "enabled", "issuer", "authorization_endpoint", "token_endpoint",
        "userinfo_endpoint", "jwks_endpoint", "sign_algo", "client_id", "new_client_secret",
        "student_no_claim", "scopes", "use_pkce",
    },
    "reviews.VerificationSettings": {
        "school", "share_percent", "share_growth_points", "unit_graduates",
        "shared_contact_units", "proof_graduates", "approval_seconds", "fast_approvals",
        "public_mail_domains",
    },
}  # fmt: skip

# (add, delete) as the platform admin has them; the rest cannot be added or deleted.
ADD_DELETE = {
    "agreements.EvidenceRule": (True, True),
    "students.SchoolSignOn": (True, True),
    "reviews.VerificationSettings": (True, True),
    "students.RegistryRecord": (True, True),  # through record_save / record_delete (tallies)
    "employers.Employer": (False, True),  # an employer with agreements is protected
}
APPS = ("agreements", "students", "employers", "reviews")


def _admin_of(model_label):
    from django.apps import apps
    from django.contrib import admin

    return admin.site._registry[apps.get_model(model_label)]


def _editable(model_admin, obj, user) -> set[str]:
    from django.test import RequestFactory

    request = RequestFactory().get("/")
    request.user = user
    form = model_admin.get_form(request, obj)
    return set(form.base_fields) - set(model_admin.get_readonly_fields(request, obj))


def _registered() -> list[str]:
    from django.contrib import admin

    return sorted(
        model._meta.label for model in admin.site._registry if model._meta.app_label in APPS
    )


@pytest.mark.parametrize("label", _registered())
def test_the_admin_edits_only_settings(label, signed, platform_admin):
    """A field that becomes editable again (or a new admin with editable fields) fails here:
    add it to SETTINGS_FIELDS only if it is an admin-only setting, not a record's owner,
    destination or status."""
    from django.test import RequestFactory

    model_admin = _admin_of(label)
    obj = (
        signed.student.record
        if label == "students.RegistryRecord"  # a graduate's record (bound to an account)
        else model_admin.model._default_manager.first() or model_admin.model()
    )
    assert _editable(model_admin, obj, platform_admin) == SETTINGS_FIELDS.get(label, set())
    request = RequestFactory().get("/")
    request.user = platform_admin
    may = (model_admin.has_add_permission(request), model_admin.has_delete_permission(request))
    assert may == ADD_DELETE.get(label, (False, False))


def test_an_unbound_registry_record_keeps_its_school_and_number(world, platform_admin):
    record = f.make_record(world.major_a1)
    editable = _editable(_admin_of("students.RegistryRecord"), record, platform_admin)
    assert "name" in editable  # a record nobody confirmed yet may still be corrected
    assert not editable & {"school", "student_no"}


def test_the_admin_cannot_rename_a_graduate_or_free_their_record(client, platform_admin, student):
    client.force_login(platform_admin)
    change = reverse("admin:students_student_change", args=[student.pk])
    client.post(change, {"real_name": "别人", "mobile": "13900000000"})
    assert client.post(reverse("admin:students_student_delete", args=[student.pk]), {
        "post": "yes"}).status_code == 403  # fmt: skip
    student.refresh_from_db()
    assert student.real_name != "别人" and student.record_id is not None


def test_the_admin_cannot_add_or_edit_registry_requests(client, platform_admin, student, world):
    from students.models import RegistryRequest

    item = RegistryRequest.objects.create(
        kind=RegistryRequest.Kind.UPDATE, student=student, school=world.school_a, data={}
    )
    client.force_login(platform_admin)
    assert client.get(reverse("admin:students_registryrequest_add")).status_code == 403
    change = reverse("admin:students_registryrequest_change", args=[item.pk])
    assert client.post(change, {"data": '{"name": "x"}'}).status_code == 403
    delete = reverse("admin:students_registryrequest_delete", args=[item.pk])
    assert client.post(delete, {"post": "yes"}).status_code == 403
    item.refresh_from_db()
    assert item.data == {}


def test_the_admin_cannot_rename_or_unmark_a_unit(client, platform_admin, employer_user):
    employer = employer_user.employer
    employer.placeholder = True
    employer.save(update_fields=["placeholder"])
    client.force_login(platform_admin)
    change = reverse("admin:employers_employer_change", args=[employer.pk])
    assert client.get(change).status_code == 200
    client.post(change, {"name": "别的单位", "uscc": "91110000000000000X", "placeholder": ""})
    employer.refresh_from_db()
    assert employer.name != "别的单位" and employer.placeholder
    assert client.get(reverse("admin:employers_employer_add")).status_code == 403


# --- reference rows the statistics count graduates under -----------------------------------


@pytest.mark.parametrize(
    ("label", "row", "field"),
    [
        ("reference.School", "school_a", "province"),
        ("reference.College", "a1", "school"),
        ("reference.Major", "major_a1", "college"),
    ],
)
def test_a_row_graduates_are_counted_under_keeps_its_parent(
    world, platform_admin, label, row, field
):
    model_admin = _admin_of(label)
    obj = getattr(world, row)
    assert field in _editable(model_admin, obj, platform_admin)  # nobody counted yet
    f.make_record(world.major_a1)  # a graduate (and the counters) under school A, A1, major A1
    assert field not in _editable(model_admin, obj, platform_admin)
    assert field in _editable(model_admin, model_admin.model(), platform_admin)  # a new row


def test_the_admin_says_why_a_college_keeps_its_school(client, platform_admin, world):
    from django.utils import translation

    from destreg.reference.admin import COUNTED_HELP

    f.make_record(world.major_a1)
    client.force_login(platform_admin)
    client.cookies["django_language"] = "en"
    with translation.override("en"):
        why = str(COUNTED_HELP)
    page = client.get(reverse("admin:reference_college_change", args=[world.a1.pk]))
    assert why in page.content.decode()
    client.post(
        reverse("admin:reference_college_change", args=[world.a1.pk]),
        {"school": world.school_b.pk, "code": world.a1.code, "name": world.a1.name},
    )
    world.a1.refresh_from_db()
    assert world.a1.school_id == world.school_a.pk
    # An unused college may still move.
    page = client.get(reverse("admin:reference_college_change", args=[world.a2.pk]))
    assert why not in page.content.decode()
