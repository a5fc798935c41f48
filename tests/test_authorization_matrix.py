"""Every view that takes an object, requested by each member of the cast.

The list of views comes from the URL configuration: a new view with a URL
parameter fails ``test_every_object_view_is_in_the_matrix`` until it has a row.
Columns: owner student, another student, the invited employer, another employer,
the reviewer of the right college, of another college, the school reviewer, a
reviewer of another school, anonymous. 405 means "exists, but only for POST".
"""

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from agreements.models import (
    InvitationBatch,
    Registration,
    ReturnLink,
    Termination,
    TerminationLink,
    TermTemplate,
    UnitSigningRequest,
)
from agreements.online import services
from agreements.registrations import services as registrations
from agreements.webhooks import services as webhooks
from agreements.webhooks.models import WebhookDelivery
from destreg.accounts.models import User
from destreg.audit.models import Notification
from employers import services as employer_services
from employers.api_tokens import api_token_create, api_token_revoke
from employers.models import ApiToken, ColleagueInvitation
from reviews import verification as sampling
from reviews.models import AnnualReport, VerificationItem
from reviews.services import snapshot_take
from students import services as student_services
from students.coercion import coercion_report_file
from students.models import HeldRegistryChange, RegistryImportJob, SchoolSignOn
from tests import factories as f

ROLES = [
    "student",
    "other_student",
    "employer_user",
    "other_employer_user",
    "college_reviewer",
    "other_college_reviewer",
    "school_reviewer",
    "other_school_reviewer",
    "anonymous",
]
# Django's own password-reset link is not an object view of ours.
EXCLUDED = {"password_reset_confirm"}
PDF = b"%PDF-1.7\n%%EOF\n"

MATRIX = {
    # name: (object, URL kwargs builder, [expected status per role in ROLES order])
    "students:request_detail": ("request", [200, 404, 403, 403, 403, 403, 403, 403, 302]),
    "reviews:registry_request": ("request", [403, 403, 403, 403, 403, 403, 200, 404, 302]),
    "reviews:registry_decide": ("request", [403, 403, 403, 403, 405, 405, 405, 405, 302]),
    "reviews:agreement": ("agreement", [403, 403, 403, 403, 200, 404, 200, 404, 302]),
    "reviews:agreement_decide": ("agreement", [403, 403, 403, 403, 405, 405, 405, 405, 302]),
    "reviews:termination": ("termination", [403, 403, 403, 403, 302, 404, 302, 404, 302]),
    "reviews:registration": ("registration", [403, 403, 403, 403, 200, 404, 200, 404, 302]),
    "reviews:registration_decide": ("registration", [403, 403, 403, 403, 405, 405, 405, 405, 302]),
    "reviews:export": ("export", [403, 403, 403, 403, 200, 404, 404, 404, 302]),
    # The school's annual report: its school reviewers only.
    "reviews:annual_report": ("annual_report", [403, 403, 403, 403, 403, 403, 200, 404, 302]),
    # A snapshot: its school's reviewers (a college's: their college's rows), nobody else.
    "reviews:snapshot_changes": ("snapshot", [403, 403, 403, 403, 200, 200, 200, 404, 302]),
    "reviews:snapshot_changes_csv": ("snapshot", [403, 403, 403, 403, 200, 200, 200, 404, 302]),
    "reviews:registry_import_job": ("import", [403, 403, 403, 403, 403, 403, 200, 404, 302]),
    "reviews:held_change_decide": ("held", [403, 403, 403, 403, 403, 403, 405, 405, 302]),
    # 就业核查: a sample is the school reviewers'; a sampled graduate also its verifier's
    # (the college reviewer of the right college here).
    "reviews:verification_sample": ("sample", [403, 403, 403, 403, 403, 403, 200, 404, 302]),
    "reviews:verification_item": ("sampled", [403, 403, 403, 403, 200, 404, 200, 404, 302]),
    "reviews:record": ("record", [403, 403, 403, 403, 200, 404, 200, 404, 302]),
    "reviews:record_activation": ("record", [403, 403, 403, 403, 405, 405, 405, 405, 302]),
    "reviews:record_unbind": ("record", [403, 403, 403, 403, 405, 405, 405, 405, 302]),
    "agreements:invitation": ("invitation", [200, 404, 200, 404, 403, 403, 403, 403, 302]),
    "agreements:invitation_answer": ("invitation", [400, 404, 403, 403, 403, 403, 403, 403, 302]),
    "agreements:agreement": ("agreement", [200, 404, 200, 404, 200, 404, 200, 404, 302]),
    "agreements:terminate": ("agreement", [405, 405, 405, 405, 403, 403, 403, 403, 302]),
    "agreements:termination_answer": ("termination", [405, 405, 405, 405, 403, 403, 403, 403, 302]),
    "agreements:termination_document": (
        "termination",
        [200, 404, 200, 404, 200, 404, 200, 404, 302],
    ),
    "agreements:download": ("agreement", [202, 404, 202, 404, 202, 404, 202, 404, 302]),
    "agreements:verify": ("token", [200, 200, 200, 200, 200, 200, 200, 200, 200]),
    "agreements:registration": ("registration", [200, 404, 403, 403, 200, 404, 200, 404, 302]),
    "agreements:registration_edit": ("registration", [403, 404, 403, 403, 403, 403, 403, 403, 302]),
    "agreements:registration_discard": (
        "registration",
        [405, 405, 403, 403, 403, 403, 403, 403, 302],
    ),
    "agreements:registration_withdraw": (
        "registration",
        [405, 405, 403, 403, 403, 403, 403, 403, 302],
    ),
    "agreements:registration_scan": ("registration", [405, 405, 403, 403, 403, 403, 403, 403, 302]),
    "agreements:registration_return_link": (
        "registration",
        [405, 405, 403, 403, 403, 403, 403, 403, 302],
    ),
    "agreements:registration_pdf": ("registration", [403, 404, 403, 403, 403, 404, 403, 404, 302]),
    "agreements:registration_file": ("file", [200, 404, 403, 403, 200, 404, 200, 404, 302]),
    "agreements:registration_new": ("path", [200, 200, 403, 403, 403, 403, 403, 403, 302]),
    "agreements:return": ("return_token", [200, 200, 200, 200, 200, 200, 200, 200, 200]),
    # 申请解约 / 作废申请 of registrations (POST only); the unit's one-time link needs no account.
    "agreements:registration_terminate": (
        "registration",
        [405, 405, 405, 405, 403, 403, 403, 403, 302],
    ),
    "agreements:registration_void": ("registration", [405, 405, 403, 403, 403, 403, 403, 403, 302]),
    "agreements:registration_change_answer": (
        "termination",
        [405, 405, 405, 405, 403, 403, 403, 403, 302],
    ),
    "agreements:change_withdraw": ("termination", [405, 405, 405, 405, 403, 403, 403, 403, 302]),
    "agreements:change_document": ("termination", [200, 404, 200, 404, 200, 404, 200, 404, 302]),
    "agreements:termination_link": (
        "termination_token",
        [200, 200, 200, 200, 200, 200, 200, 200, 200],
    ),
    # 扫码签约: the graduate's own request; the QR code exists only in the session that made
    # or renewed the link (so here, 404 for its owner too); the unit's link needs no account.
    "agreements:unit_request": ("unit_request", [200, 404, 403, 403, 403, 403, 403, 403, 302]),
    "agreements:unit_request_qr": (
        "unit_request",
        [404, 404, 403, 403, 403, 403, 403, 403, 302],
    ),
    "agreements:unit_request_cancel": (
        "unit_request",
        [405, 405, 403, 403, 403, 403, 403, 403, 302],
    ),
    "agreements:unit_request_resend": (
        "unit_request",
        [405, 405, 403, 403, 403, 403, 403, 403, 302],
    ),
    "agreements:unit_sign": ("unit_token", [200, 200, 200, 200, 200, 200, 200, 200, 200]),
    # any school's reviewer may verify any unit, so may open its documents
    "employers:document": ("unit_document", [403, 403, 200, 404, 403, 403, 200, 200, 302]),
    "employers:verification_document": (
        "verification_document",
        [403, 403, 200, 404, 403, 403, 200, 200, 302],
    ),
    # A unit's terms templates: its own users only (another unit: as if none existed).
    "agreements:term_template_edit": (
        "term_template",
        [403, 403, 200, 404, 403, 403, 403, 403, 302],
    ),
    "agreements:term_template_delete": (
        "term_template",
        [403, 403, 405, 405, 403, 403, 403, 403, 302],
    ),
    # A unit's webhooks: its own users (another unit: as if none existed); changes POST only.
    "agreements:webhook": ("webhook", [403, 403, 200, 404, 403, 403, 403, 403, 302]),
    "agreements:webhook_edit": ("webhook", [403, 403, 200, 404, 403, 403, 403, 403, 302]),
    "agreements:webhook_delete": ("webhook", [403, 403, 405, 405, 403, 403, 403, 403, 302]),
    "agreements:webhook_rotate": ("webhook", [403, 403, 405, 405, 403, 403, 403, 403, 302]),
    "agreements:webhook_test": ("webhook", [403, 403, 405, 405, 403, 403, 403, 403, 302]),
    "agreements:webhook_resend": (
        "webhook_delivery",
        [403, 403, 405, 405, 403, 403, 403, 403, 302],
    ),
    # A unit's batch invitations: its colleagues only (another unit: as if none existed).
    "agreements:batch": ("batch", [403, 403, 200, 404, 403, 403, 403, 403, 302]),
    "agreements:batch_send": ("batch", [403, 403, 405, 405, 403, 403, 403, 403, 302]),
    "agreements:batch_result": ("batch", [403, 403, 200, 404, 403, 403, 403, 403, 302]),
    # A unit's colleagues (POST only): its administrators; the join link needs no account.
    "employers:colleague_role": ("colleague", [403, 403, 405, 405, 403, 403, 403, 403, 302]),
    "employers:colleague_remove": ("colleague", [403, 403, 405, 405, 403, 403, 403, 403, 302]),
    "employers:colleague_invitation_revoke": (
        "colleague_invitation",
        [403, 403, 405, 405, 403, 403, 403, 403, 302],
    ),
    # Provincial and Ministry staff only (tests/reviews/test_oversight.py tries them).
    "reviews:oversight_province": ("province_code", [403, 403, 403, 403, 403, 403, 403, 403, 302]),
    "reviews:oversight_school": ("school", [403, 403, 403, 403, 403, 403, 403, 403, 302]),
    "reviews:oversight_college": ("college", [403, 403, 403, 403, 403, 403, 403, 403, 302]),
    "employers:join": ("colleague_token", [200, 200, 200, 200, 200, 200, 200, 200, 200]),
    # 这不是我本人的意愿: only the graduate the link was made for; the reports' handling (POST)
    "students:not_my_will": ("report_token", [200, 404, 404, 404, 404, 404, 404, 404, 302]),
    "reviews:report_handle": ("report", [403, 403, 403, 403, 405, 405, 405, 405, 302]),
    # Anyone may start a school's sign-on: a redirect to its provider.
    "sso:login": ("school_code", [302, 302, 302, 302, 302, 302, 302, 302, 302]),
    # A unit's API keys: revoked by its administrators (POST only).
    "employers:api_token_revoke": ("api_token", [403, 403, 405, 405, 403, 403, 403, 403, 302]),
    # The HR API answers API keys only: a signed-in session is no key (API_MATRIX below).
    "api:invitation": ("invitation", [401] * 9),
    "api:agreement": ("agreement", [401] * 9),
    "api:agreement_pdf": ("agreement", [401] * 9),
    "api:agreement_verification": ("agreement", [401] * 9),
}


def _object_views():
    def walk(patterns, namespace=""):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                if pattern.namespace == "admin":
                    continue  # the Django admin has its own permission system
                yield from walk(
                    pattern.url_patterns,
                    namespace + (f"{pattern.namespace}:" if pattern.namespace else ""),
                )
            elif isinstance(pattern, URLPattern) and pattern.name and pattern.pattern.converters:
                yield namespace + pattern.name

    return {name for name in walk(get_resolver().url_patterns) if name not in EXCLUDED}


def test_every_object_view_is_in_the_matrix():
    assert _object_views() == set(MATRIX)


def _unit_request(student, token: str) -> UnitSigningRequest:
    return UnitSigningRequest.objects.create(
        student=student,
        unit_name="未注册单位",
        unit_uscc="91110000100000000R",
        contact_name="王经理",
        contact_email="hr@example.com",
        token_digest=UnitSigningRequest.digest(token),
        expires_at=timezone.now() + timedelta(days=1),
        last_sent_at=timezone.now(),
    )


@pytest.fixture
def objects(student, other_student, employer_user, college_reviewer, school_reviewer, signed):
    request = student_services.registry_request_submit(
        student=student, kind="update", school=student.record.school, data={"ethnicity": "03"}
    )
    termination = services.termination_request(
        agreement=signed,
        user=student.user,
        reason="r",
        document=SimpleUploadedFile("d.pdf", PDF),
    )
    invitation = services.invitation_send(
        sender=employer_user,
        name=student.real_name,
        id_number=student.id_number,
        terms={
            "job_category": signed.job_category,
            "position": "p",
            "work_location": "w",
            "hukou": "none",
        },
    )
    registration = registrations.registration_save_draft(
        student=student,
        path="paper",
        values={"unit_name": "单位", "proof": SimpleUploadedFile("p.pdf", PDF)},
    )
    Registration.objects.filter(pk=registration.pk).update(status="college_review")
    offline = registrations.registration_save_draft(
        student=other_student, path="offline", values={"unit_name": "单位"}
    )
    link = ReturnLink.objects.create(
        registration=offline, email="hr@example.com", expires_at=timezone.now() + timedelta(days=1)
    )
    Registration.objects.filter(pk=offline.pk).update(status="info_approved")
    paper = registrations.registration_save_draft(
        student=other_student, path="paper", values={"unit_name": "单位"}
    )
    Registration.objects.filter(pk=paper.pk).update(status="approved")
    termination_link = TerminationLink.objects.create(
        registration=paper, email="hr@example.com", expires_at=timezone.now() + timedelta(days=1)
    )
    sample = sampling.sample_draw(by=school_reviewer, percentage=100, seed=1)
    sampled = sample.items.get(student=student)
    # Assigned as the pages' access is checked here (``college_reviewer`` approved the
    # agreement, so the service would not assign them: tests/reviews/test_verification.py).
    VerificationItem.objects.filter(pk=sampled.pk).update(
        verifier=college_reviewer, assigned_at=timezone.now()
    )
    report_url = (
        Notification.objects.filter(user=student.user).exclude(report_url="").first().report_url
    )
    report_token = report_url.rstrip("/").rsplit("/", 1)[1]
    report = coercion_report_file(user=student.user, token=report_token, text="不是我")
    unit = employer_user.employer
    unit.business_licence = SimpleUploadedFile("l.pdf", PDF)
    unit.save(update_fields=["business_licence"])
    verification = unit.verifications.get()
    verification.business_licence = unit.business_licence.name
    verification.save(update_fields=["business_licence"])
    endpoint, _secret = webhooks.webhook_endpoint_create(
        user=employer_user, url="https://hr.example.com/hooks", events=["invitation.accepted"]
    )
    delivery = WebhookDelivery.objects.create(endpoint=endpoint, event="webhook.test")
    unit_request = _unit_request(student, "t" * 43)
    free = f.make_student(f.make_record(student.record.major))  # free to sign: the link works
    _unit_request(free, "u" * 43)
    return {
        "request": {"pk": request.pk},
        "unit_request": {"pk": unit_request.pk},
        "unit_token": {"token": "u" * 43},
        "agreement": {"pk": signed.pk},
        "termination": {"pk": Termination.objects.get(pk=termination.pk).pk},
        "registration": {"pk": registration.pk},
        "file": {"pk": registration.pk, "which": "proof"},
        "export": {"pk": f.make_export(college_reviewer, fmt="csv").pk},
        "annual_report": {
            "pk": AnnualReport.objects.create(
                school=student.record.school, year=2026, requested_by=school_reviewer
            ).pk
        },
        "snapshot": {
            "pk": snapshot_take(
                school=student.record.school,
                year=student.record.graduation_year,
                cutoff=timezone.localdate() - timedelta(days=1),
            ).pk
        },
        "import": {
            "pk": RegistryImportJob.objects.create(
                school=student.record.school, user=school_reviewer, filename="a.csv"
            ).pk
        },
        "held": {
            "pk": HeldRegistryChange.objects.create(
                record=student.record, name="改名", id_number_cipher="", id_number_digest=""
            ).pk
        },
        "invitation": {"pk": invitation.pk},
        "token": {"token": signed.verify_token},
        "path": {"path": "paper"},
        "return_token": {"token": link.token},
        "termination_token": {"token": termination_link.token},
        "record": {"pk": student.record_id},
        "sample": {"pk": sample.pk},
        "sampled": {"pk": sampled.pk},
        "unit_document": {"pk": unit.pk, "which": "licence"},
        "verification_document": {"pk": verification.pk, "which": "licence"},
        "report_token": {"token": report_token},
        "report": {"pk": report.pk},
        "school_code": {"code": _sign_on(student.record.school).school.code},
        "province_code": {"code": "110000"},
        "school": {"pk": student.record.school_id},
        "college": {"pk": student.record.college_id},
        "colleague": {
            "pk": User.objects.create_user(
                "hr-colleague", role="employer", employer=unit, unit_role="hr"
            ).pk
        },
        "colleague_token": {
            "token": employer_services.colleague_invite(
                by=employer_user, email="c@example.com", unit_role="hr"
            )
        },
        "colleague_invitation": {"pk": ColleagueInvitation.objects.get().pk},
        "webhook": {"pk": endpoint.pk},
        "webhook_delivery": {"pk": delivery.pk},
        "batch": {
            "pk": InvitationBatch.objects.create(
                employer=unit, created_by=employer_user, template_name="t", filename="a.csv"
            ).pk
        },
        "api_token": {"pk": _api_key(employer_user)[0].pk},
        "term_template": {
            "pk": TermTemplate.objects.create(
                employer=unit,
                name="t",
                job_category=signed.job_category,
                position="p",
                work_location="w",
                hukou="none",
                updated_by=employer_user,
            ).pk
        },
    }


def _api_key(user, scope: str = "read") -> tuple[ApiToken, str]:
    return api_token_create(
        by=user, name=scope, scope=scope, expires_on=timezone.localdate() + timedelta(days=9)
    )


def _sign_on(school) -> SchoolSignOn:
    idp = "https://idp.example.edu.cn"
    sign_on = SchoolSignOn(
        school=school,
        enabled=True,
        issuer=idp,
        authorization_endpoint=f"{idp}/authorize",
        token_endpoint=f"{idp}/token",
        userinfo_endpoint=f"{idp}/userinfo",
        jwks_endpoint=f"{idp}/jwks",
        client_id="destreg",
    )
    sign_on.save()
    return sign_on


@pytest.mark.parametrize("name", sorted(MATRIX))
def test_each_role_gets_the_expected_answer(client, request, objects, name):
    kind, expected = MATRIX[name]
    url = reverse(name, kwargs=objects[kind])
    answers = []
    for role in ROLES:
        client.logout()
        if role != "anonymous":
            user = request.getfixturevalue(role)
            client.force_login(getattr(user, "user", user))
        answers.append(client.get(url).status_code)
    assert answers == expected, dict(zip(ROLES, answers, strict=True))


# --- the HR API, called with API keys ---------------------------------------------------------

KEYS = ["own_read", "own_write", "other_read", "other_write", "own_revoked", "own_expired", "none"]
API_MATRIX = {
    # name: (object, [expected status per key in KEYS order])
    "api:invitation": ("invitation", [200, 200, 404, 404, 401, 401, 401]),
    "api:agreement": ("agreement", [200, 200, 404, 404, 401, 401, 401]),
    # signed, its PDF still being made here (tasks run on commit)
    "api:agreement_pdf": ("agreement", [202, 202, 404, 404, 401, 401, 401]),
    "api:agreement_verification": ("agreement", [200, 200, 404, 404, 401, 401, 401]),
}


def test_every_api_object_view_is_in_the_api_matrix():
    assert {name for name in _object_views() if name.startswith("api:")} == set(API_MATRIX)


@pytest.fixture
def api_keys(employer_user, other_employer_user):
    keys = {
        "own_read": _api_key(employer_user)[1],
        "own_write": _api_key(employer_user, "write")[1],
        "other_read": _api_key(other_employer_user)[1],
        "other_write": _api_key(other_employer_user, "write")[1],
    }
    revoked, keys["own_revoked"] = _api_key(employer_user)
    api_token_revoke(by=employer_user, token=revoked)
    expired, keys["own_expired"] = _api_key(employer_user)
    ApiToken.objects.filter(pk=expired.pk).update(expires_at=timezone.now())
    return keys


@pytest.mark.parametrize("name", sorted(API_MATRIX))
def test_each_api_key_gets_the_expected_answer(client, objects, api_keys, name):
    kind, expected = API_MATRIX[name]
    url = reverse(name, kwargs=objects[kind])
    answers = []
    for holder in KEYS:
        headers = {"Authorization": f"Bearer {api_keys[holder]}"} if holder != "none" else {}
        answers.append(client.get(url, headers=headers).status_code)
    assert answers == expected, dict(zip(KEYS, answers, strict=True))


@pytest.mark.parametrize("name", ["api:invitations", "api:agreements"])
def test_another_units_key_lists_nothing(client, objects, api_keys, name):
    counts = [
        client.get(reverse(name), headers={"Authorization": f"Bearer {api_keys[k]}"}).json()[
            "count"
        ]
        for k in ("own_read", "other_read")
    ]
    assert counts[0] >= 1 and counts[1] == 0
