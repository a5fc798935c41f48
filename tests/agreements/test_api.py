"""The HR API through real HTTP: the app on pytest-django's live server, called with
``requests`` as a unit's HR system would call it."""

from datetime import timedelta

import pytest
import requests
import yaml
from django.utils import timezone

from agreements.models import Agreement, Invitation
from destreg.accounts.models import Role, UnitRole
from employers import services as employer_services
from employers.api_tokens import api_token_create, api_token_revoke
from employers.models import ApiCall, ApiToken
from tests import factories as f

TERMS = {
    "job_category": "13",
    "position": "软件工程师",
    "work_location": "北京市海淀区",
    "probation_months": 3,
    "probation_salary": 8000,
    "salary": 10000,
    "hukou": "employer",
}
GENERIC = "No current graduate who can sign matches this name and ID number."


def key_for(user, scope="write", days=30) -> str:
    return api_token_create(
        by=user, name=f"HR {scope}", scope=scope, expires_on=timezone.localdate() + timedelta(days)
    )[1]


@pytest.fixture
def api(live_server):
    """``api(method, path, key, **requests_kwargs)`` against the live server, in English."""

    def call(method, path, key=None, **kwargs):
        headers = kwargs.pop("headers", {})
        headers.setdefault("Cookie", "django_language=en")
        if key is not None:
            headers["Authorization"] = f"Bearer {key}"
        return requests.request(
            method, live_server.url + path, headers=headers, timeout=30, **kwargs
        )

    return call


def invite_row(student, **changes) -> dict:
    return {"name": student.real_name, "id_number": student.id_number, **TERMS, **changes}


# --- keys ------------------------------------------------------------------------------------


def test_a_key_made_in_the_portal_is_shown_once_stored_hashed_and_works(client, api, employer_user):
    client.force_login(employer_user)
    page = client.post(
        "/employers/api-tokens/",
        {
            "name": "HR system",
            "scope": "read",
            "expires_on": (timezone.localdate() + timedelta(days=30)).isoformat(),
        },
    )
    html = page.content.decode()
    key = html.split('id="new-key-value">')[1].split("<")[0]
    assert key.startswith("dra_") and len(key) > 40
    assert page["Cache-Control"] == "no-store"
    token = ApiToken.objects.get()
    assert token.digest == ApiToken.digest_of(key) and key not in str(
        ApiToken.objects.values().get()
    )
    assert key[4:16] == token.prefix
    again = client.get("/employers/api-tokens/").content.decode()
    assert key not in again and f"dra_{token.prefix}" in again  # the prefix, never the key

    answer = api("GET", "/api/v1/invitations/", key)
    assert answer.status_code == 200 and answer.json()["count"] == 0
    token.refresh_from_db()
    assert token.last_used_at is not None


@pytest.mark.parametrize(
    "header",
    ["Bearer dra_000000000000nope", "Bearer ", "Token abc", "Bearer a b", "Basic dXNlcjpwdw=="],
)
def test_a_bad_or_missing_key_is_401_in_json(api, employer_user, header):
    answer = api("GET", "/api/v1/invitations/", headers={"Authorization": header})
    assert answer.status_code == 401
    assert answer.headers["WWW-Authenticate"].startswith("Bearer")
    assert answer.json()["detail"]
    assert api("GET", "/api/v1/agreements/").status_code == 401


def test_expired_and_revoked_keys_are_refused(api, employer_user):
    expired = key_for(employer_user, "read")
    ApiToken.objects.filter(prefix=expired[4:16]).update(expires_at=timezone.now())
    answer = api("GET", "/api/v1/invitations/", expired)
    assert (answer.status_code, answer.json()["detail"]) == (401, "This API key has expired.")

    revoked = key_for(employer_user, "read")
    assert api("GET", "/api/v1/invitations/", revoked).status_code == 200
    api_token_revoke(by=employer_user, token=ApiToken.objects.get(prefix=revoked[4:16]))
    answer = api("GET", "/api/v1/invitations/", revoked)
    assert (answer.status_code, answer.json()["detail"]) == (401, "This API key has been revoked.")


@pytest.mark.parametrize("ending", ["remove", "demote"])
def test_a_key_stops_working_when_its_creator_leaves_or_is_demoted(api, employer_user, ending):
    other_admin = f.make_user(
        Role.EMPLOYER, employer=employer_user.employer, unit_role=UnitRole.ADMIN
    )
    key = key_for(employer_user, "read")
    assert api("GET", "/api/v1/agreements/", key).status_code == 200
    if ending == "remove":
        employer_services.colleague_remove(by=other_admin, colleague=employer_user)
    else:
        employer_services.colleague_set_role(
            by=other_admin, colleague=employer_user, unit_role=UnitRole.HR
        )
    answer = api("GET", "/api/v1/agreements/", key)
    assert answer.status_code == 401
    assert "no longer an administrator" in answer.json()["detail"]
    assert ApiToken.objects.get().state == "ended"
    # Promoted again, the key stays ended: the end was recorded.
    if ending == "demote":
        employer_services.colleague_set_role(
            by=other_admin, colleague=employer_user, unit_role=UnitRole.ADMIN
        )
        assert api("GET", "/api/v1/agreements/", key).status_code == 401


# --- scopes, rate limit, call log ----------------------------------------------------------


def test_a_read_key_cannot_send_invitations_a_write_key_can(api, employer_user, student):
    read = key_for(employer_user, "read")
    answer = api("POST", "/api/v1/invitations/", read, json=invite_row(student))
    assert answer.status_code == 403 and "only read" in answer.json()["detail"]
    answer = api("POST", "/api/v1/invitations/batch/", read, json=[invite_row(student)])
    assert answer.status_code == 403
    assert not Invitation.objects.exists()

    answer = api("POST", "/api/v1/invitations/", key_for(employer_user), json=invite_row(student))
    assert answer.status_code == 201, answer.text
    body = answer.json()
    assert body["status"] == "pending" and body["position"] == "软件工程师"
    assert body["graduate"] == {
        "name": student.real_name,
        "id_number_masked": student.id_number_masked,
    }
    assert student.id_number not in answer.text
    invitation = Invitation.objects.get()
    assert (invitation.sent_by, invitation.employer) == (employer_user, employer_user.employer)


def test_calls_beyond_the_rate_are_429_with_retry_after(api, employer_user, settings):
    settings.API_RATE_PER_MINUTE = 3
    key, other_key = key_for(employer_user, "read"), key_for(employer_user, "read")
    answers = [api("GET", "/api/v1/agreements/", key).status_code for _ in range(4)]
    assert answers == [200, 200, 200, 429]
    limited = api("GET", "/api/v1/agreements/", key)
    assert limited.status_code == 429 and 0 < int(limited.headers["Retry-After"]) <= 60
    assert api("GET", "/api/v1/agreements/", other_key).status_code == 200  # per key
    # Calls its scope refuses count too.
    answers = [api("POST", "/api/v1/invitations/", other_key, json={}).status_code for _ in "abc"]
    assert answers == [403, 403, 429]


def _from(address: str) -> dict:
    # As nginx (TRUSTED_PROXY_COUNT=1) passes on the address it saw.
    return {"Cookie": "django_language=en", "X-Forwarded-For": address}


def test_refused_calls_beyond_the_rate_are_429_with_retry_after_and_not_logged(
    api, employer_user, settings
):
    settings.API_RATE_PER_MINUTE = 3
    settings.TRUSTED_PROXY_COUNT = 1
    unknown = "dra_" + "0" * 12 + "x" * 43
    revoked = key_for(employer_user, "read")
    api_token_revoke(by=employer_user, token=ApiToken.objects.get())
    # Every kind of refusal counts against the address: no key, an unknown or a revoked one.
    answers = [
        api("GET", "/api/v1/agreements/", headers=_from("203.0.113.7")).status_code,
        api("GET", "/api/v1/agreements/", unknown, headers=_from("203.0.113.7")).status_code,
        api("GET", "/api/v1/agreements/", revoked, headers=_from("203.0.113.7")).status_code,
    ]
    assert answers == [401, 401, 401]
    for key in (None, unknown, revoked):
        limited = api("GET", "/api/v1/agreements/", key, headers=_from("203.0.113.7"))
        assert limited.status_code == 429 and 0 < int(limited.headers["Retry-After"]) <= 60
        assert limited.json()["detail"]
    assert ApiCall.objects.count() == 3  # the calls beyond the rate wrote nothing
    # Another address has a budget of its own.
    assert (
        api("GET", "/api/v1/agreements/", unknown, headers=_from("203.0.113.8")).status_code == 401
    )


def test_a_working_key_is_not_held_back_by_refused_calls(api, employer_user, settings):
    settings.API_RATE_PER_MINUTE = 2
    settings.TRUSTED_PROXY_COUNT = 1
    unknown = "dra_" + "0" * 12 + "x" * 43
    answers = [
        api("GET", "/api/v1/agreements/", unknown, headers=_from("203.0.113.7")).status_code
        for _ in range(3)
    ]
    assert answers == [401, 401, 429]
    key = key_for(employer_user, "read")
    assert api("GET", "/api/v1/agreements/", key, headers=_from("198.51.100.9")).status_code == 200
    # Only refusals are counted: even from the refused address, a working key is answered.
    assert api("GET", "/api/v1/agreements/", key, headers=_from("203.0.113.7")).status_code == 200


def test_a_forged_forwarded_for_does_not_reset_the_refused_calls_rate(api, settings):
    settings.API_RATE_PER_MINUTE = 2
    settings.TRUSTED_PROXY_COUNT = 0  # no proxy: the header is the client's own writing
    answers = [
        api("GET", "/api/v1/agreements/", headers=_from(f"198.51.100.{n}")).status_code
        for n in range(3)
    ]
    assert answers == [401, 401, 429]


def test_every_call_is_logged_with_the_keys_name(api, employer_user, student):
    read = key_for(employer_user, "read")
    api("GET", "/api/v1/invitations/?status=pending", read)
    api("POST", "/api/v1/invitations/", read, json=invite_row(student))
    api("GET", "/api/v1/invitations/", "dra_abcdefabcdefwrong")
    api("GET", "/api/v1/invitations/")
    calls = list(
        ApiCall.objects.order_by("id").values_list(
            "token_name", "prefix", "method", "path", "status"
        )
    )
    assert calls == [
        ("HR read", read[4:16], "GET", "/api/v1/invitations/?status=pending", 200),
        ("HR read", read[4:16], "POST", "/api/v1/invitations/", 403),
        ("", "abcdefabcdef", "GET", "/api/v1/invitations/", 401),
        ("", "", "GET", "/api/v1/invitations/", 401),
    ]


# --- invitations -----------------------------------------------------------------------------


@pytest.fixture
def school_a_unit(world):
    """A unit verified for school A's graduates only."""
    unit = f.make_employer()
    unit.verified_at = timezone.now()
    unit.save(update_fields=["verified_at"])
    unit.verifications.create(school=world.school_a, verified_at=timezone.now())
    return f.make_user(Role.EMPLOYER, employer=unit)


def test_nobody_and_another_schools_graduate_get_the_same_answer(api, school_a_unit, world):
    key = key_for(school_a_unit)
    elsewhere = f.make_student(f.make_record(world.major_b1, name="乙同学"))
    nobody = {"name": "查无此人", "id_number": f.new_id_number()}
    answers = [
        api("POST", "/api/v1/invitations/", key, json={**invite_row(elsewhere), **who})
        for who in ({}, nobody)
    ]
    assert [a.status_code for a in answers] == [400, 400]
    assert answers[0].json() == answers[1].json() == {"errors": {"non_field_errors": [GENERIC]}}
    batch = api(
        "POST",
        "/api/v1/invitations/batch/",
        key,
        json=[invite_row(elsewhere), {**invite_row(elsewhere), **nobody}],
    )
    rows = batch.json()["results"]
    assert rows[0]["errors"] == rows[1]["errors"] == {"non_field_errors": [GENERIC]}
    assert not Invitation.objects.exists()


def test_a_batch_answers_row_by_row_and_keeps_the_good_rows(api, employer_user, student, world):
    second = f.make_student(f.make_record(world.major_a2, name="李娜"))
    rows = [
        invite_row(student),
        invite_row(student),  # already invited: refused, the first stays
        {**invite_row(second), "salary": 5000},  # probation salary above the salary
        "not an object",
        {
            **invite_row(second),
            "answer_by": (timezone.localdate() + timedelta(days=10)).isoformat(),
        },
    ]
    answer = api("POST", "/api/v1/invitations/batch/", key_for(employer_user), json=rows)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert (body["sent"], body["refused"]) == (2, 3)
    results = body["results"]
    assert [r["ok"] for r in results] == [True, False, False, False, True]
    assert results[1]["errors"] == {
        "non_field_errors": ["You already have a live invitation to this graduate."]
    }
    assert results[2]["errors"] == {
        "probation_salary": ["The probation salary exceeds the salary."]
    }
    assert results[4]["invitation"]["deadline"].startswith(
        (timezone.localdate() + timedelta(days=10)).isoformat()
    )
    assert set(Invitation.objects.values_list("student", flat=True)) == {student.pk, second.pk}


def test_a_batch_has_at_most_200_rows(api, employer_user, student):
    answer = api(
        "POST",
        "/api/v1/invitations/batch/",
        key_for(employer_user),
        json=[invite_row(student)] * 201,
    )
    assert answer.status_code == 400 and "200" in answer.json()["detail"]
    answer = api("POST", "/api/v1/invitations/batch/", key_for(employer_user), json={"a": 1})
    assert answer.status_code == 400
    assert not Invitation.objects.exists()


def test_bad_input_is_answered_per_field(api, employer_user, student):
    answer = api(
        "POST",
        "/api/v1/invitations/",
        key_for(employer_user),
        json={**invite_row(student), "id_number": "123", "job_category": "zz", "hukou": None},
    )
    assert answer.status_code == 400
    assert set(answer.json()["errors"]) == {"id_number", "job_category", "hukou"}
    answer = api(
        "POST",
        "/api/v1/invitations/",
        key_for(employer_user),
        data="{not json",
        headers={"Content-Type": "application/json"},
    )
    assert answer.status_code == 400


def test_lists_filter_by_status_and_page(api, employer_user, student, other_student):
    f.make_invitation(employer_user.employer, student, sent_by=employer_user)
    f.make_invitation(
        employer_user.employer,
        other_student,
        sent_by=employer_user,
        deadline=timezone.now() - timedelta(minutes=1),
    )
    key = key_for(employer_user, "read")
    pending = api("GET", "/api/v1/invitations/?status=pending", key).json()
    expired = api("GET", "/api/v1/invitations/?status=expired", key).json()
    assert [i["graduate"]["name"] for i in pending["results"]] == [student.real_name]
    assert [i["graduate"]["name"] for i in expired["results"]] == [other_student.real_name]
    assert api("GET", "/api/v1/invitations/?status=nonsense", key).status_code == 400
    assert api("GET", "/api/v1/invitations/?page=9", key).status_code == 404


# --- agreements ------------------------------------------------------------------------------


def test_a_signed_agreement_its_pdf_and_verification(api, employer_user, signed):
    key = key_for(employer_user, "read")
    signed.refresh_from_db()
    assert signed.pdf, "the PDF task runs on commit"
    listed = api("GET", "/api/v1/agreements/?status=signed", key).json()
    assert [a["number"] for a in listed["results"]] == [signed.number]
    detail = api("GET", f"/api/v1/agreements/{signed.pk}/", key).json()
    assert detail["status"] == "signed" and detail["invitation_id"] == signed.invitation_id
    assert detail["verification_url"].endswith(f"/agreements/verify/{signed.verify_token}/")

    pdf_path = detail["pdf_url"][detail["pdf_url"].index("/api/") :]
    pdf = api("GET", pdf_path, key, headers={"Accept": "application/pdf"})
    assert pdf.status_code == 200 and pdf.headers["Content-Type"] == "application/pdf"
    assert pdf.content == signed.pdf.open("rb").read()

    facts = api("GET", f"/api/v1/agreements/{signed.pk}/verification/", key).json()
    assert facts["state"] == "valid" and facts["number"] == signed.number
    assert facts["graduate"] == signed.student.real_name[0] + "*" * (
        len(signed.student.real_name) - 1
    )
    assert facts["content_sha256"] == signed.content_sha256
    public = requests.get(facts["verification_url"], timeout=30)
    assert public.status_code == 200 and signed.number in public.text


def test_an_agreement_not_signed_has_no_pdf_nor_verification(api, employer_user, agreement):
    key = key_for(employer_user, "read")
    detail = api("GET", f"/api/v1/agreements/{agreement.pk}/", key).json()
    assert detail["status"] == "college_review" and detail["pdf_url"] is None
    assert api("GET", f"/api/v1/agreements/{agreement.pk}/pdf/", key).status_code == 409
    assert api("GET", f"/api/v1/agreements/{agreement.pk}/verification/", key).status_code == 409


def test_a_pdf_not_made_yet_is_202_with_retry_after(api, employer_user, signed):
    Agreement.objects.filter(pk=signed.pk).update(pdf="", pdf_queued_at=timezone.now())
    answer = api("GET", f"/api/v1/agreements/{signed.pk}/pdf/", key_for(employer_user, "read"))
    assert answer.status_code == 202 and answer.headers["Retry-After"] == "60"


# --- another unit ----------------------------------------------------------------------------


def test_another_units_key_sees_nothing_of_this_unit(
    api, employer_user, other_employer_user, signed, student
):
    invitation = signed.invitation
    own, other = key_for(employer_user, "read"), key_for(other_employer_user)
    for path in (
        f"/api/v1/invitations/{invitation.pk}/",
        f"/api/v1/agreements/{signed.pk}/",
        f"/api/v1/agreements/{signed.pk}/pdf/",
        f"/api/v1/agreements/{signed.pk}/verification/",
    ):
        assert api("GET", path, own).status_code == 200, path
        answer = api("GET", path, other)
        assert answer.status_code == 404, path
        assert signed.number not in answer.text and student.real_name not in answer.text
    for path in ("/api/v1/invitations/", "/api/v1/agreements/"):
        assert api("GET", path, own).json()["count"] == 1
        assert api("GET", path, other).json() == {
            "count": 0,
            "next": None,
            "previous": None,
            "results": [],
        }
    assert api("GET", "/api/v1/invitations/999999/", own).status_code == 404


# --- the schema ------------------------------------------------------------------------------


def test_the_schema_is_openapi_3_and_lists_every_endpoint(api):
    answer = api("GET", "/api/schema/")
    assert answer.status_code == 200
    schema = yaml.safe_load(answer.text)
    assert schema["openapi"].startswith("3.")
    assert {(path, method) for path, item in schema["paths"].items() for method in item} == {
        ("/api/v1/invitations/", "get"),
        ("/api/v1/invitations/", "post"),
        ("/api/v1/invitations/batch/", "post"),
        ("/api/v1/invitations/{id}/", "get"),
        ("/api/v1/agreements/", "get"),
        ("/api/v1/agreements/{id}/", "get"),
        ("/api/v1/agreements/{id}/pdf/", "get"),
        ("/api/v1/agreements/{id}/verification/", "get"),
    }
    assert schema["components"]["securitySchemes"]["apiKey"]["scheme"] == "bearer"
    assert api("GET", "/api/schema/?format=json").json()["openapi"] == schema["openapi"]
    page = api("GET", "/api/docs/")
    assert page.status_code == 200 and "/api/v1/invitations/batch/" in page.text
    assert "script-src 'self'" in page.headers["Content-Security-Policy"]
