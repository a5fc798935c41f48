"""Random, oversized and malformed values posted to every form and given to every list
view's query parameters: never a 500, and a form that answers with errors has saved nothing.
Run on SQLite and on PostgreSQL (which refuses NUL in text)."""

from urllib.parse import quote

import pytest
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agreements.models import Invitation, Registration, Termination
from destreg.accounts.models import User
from employers.models import Employer
from reviews.models import AnnualReport
from reviews.queue import FACETS
from students.models import RegistryRequest, Student
from tests import factories as f

# Unicode edge cases, huge strings, numbers that are negative or huge, dates in odd shapes.
VALUES = st.one_of(
    st.text(max_size=40),
    st.sampled_from(["长" * 5000, "a" * 100_000, "1" * 400]),
    st.sampled_from(
        [
            "",
            " ",
            "\x00",
            "‮RTL",
            "𠀀𪚥䶮",
            "<script>alert(1)</script>",
            "' OR 1=1 --",
            "-1",
            "-99999999999",
            "1e309",
            "NaN",
            "2026-02-30",
            "0000-00-00",
            "9999-12-31",
            "110101199801010001",
            "91110000100000000R",
            "13800000000",
            # digits that str.isdigit() and int() accept but a browser never sends as an id
            "²",
            "１",
            "１２３",
            "٣",
            "1" * 30,
            "9" * 19,
            "a\x00b",
            "\x00" * 3,
            # review-queue cursors, well-formed and not
            "2026-01-01T00:00:00+00:00|²",
            "2026-01-01T00:00:00+00:00|" + "1" * 30,
            "9999-12-31T23:59:59-23:59|1",
            "0001-01-01T00:00:00+23:00|1",
            "2026-01-01T00:00:00|1",
        ]
    ),
    st.integers(min_value=-(10**12), max_value=10**12).map(str),
)
FUZZ = settings(
    max_examples=25,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

FORMS = {
    # url name (kwargs), who posts, fields, models that must not change on a rejected form
    "students:signup": (
        {},
        None,
        ["username", "real_name", "id_number", "mobile", "email", "password1", "password2"],
        [Student, User],
    ),
    "students:account": ({}, "student", ["mobile", "email"], []),
    "students:update_request": (
        {},
        "student",
        ["ethnicity", "political_status", "origin_region", "urban_rural", "study_mode", "note"],
        [RegistryRequest],
    ),
    "employers:register": (
        {},
        None,
        [
            "username",
            "password1",
            "password2",
            "name",
            "uscc",
            "nature",
            "industry",
            "region",
            "address",
            "contact_name",
            "contact_phone",
            "contact_mobile",
            "contact_email",
        ],
        [Employer, User],
    ),
    "agreements:invite": (
        {},
        "employer_user",
        [
            "name",
            "id_number",
            "job_category",
            "position",
            "work_location",
            "probation_months",
            "probation_salary",
            "salary",
            "penalty",
            "report_place",
            "report_deadline",
            "hukou",
            "supplement",
            "answer_by",
        ],
        [Invitation],
    ),
    "agreements:registration_new": (
        {"path": "offline"},
        "student",
        [
            "action",
            "unit_name",
            "unit_uscc",
            "unit_nature",
            "unit_region",
            "contact_mobile",
            "contact_email",
            "job_category",
            "salary",
            "probation_salary",
            "hukou",
            "report_deadline",
            "supplement",
        ],
        [Registration],
    ),
    "reviews:annual_reports": ({}, "school_reviewer", ["year"], [AnnualReport]),
    "agreements:registration_new:other": (
        {"path": "other"},
        "student",
        ["action", "kind", "subtype", "org_name", "org_uscc", "start_date", "end_date"],
        [Registration],
    ),
}


@pytest.mark.parametrize("form", sorted(FORMS))
def test_no_form_answers_500_or_half_saves(client, request, form, reference_data):
    kwargs, who, fields, watched = FORMS[form]
    url = reverse(form.split(":other")[0], kwargs=kwargs)
    if who:
        user = request.getfixturevalue(who)
        client.force_login(getattr(user, "user", user))

    @FUZZ
    @given(st.fixed_dictionaries(dict.fromkeys(fields, VALUES)))
    def post(data):
        before = [model.objects.count() for model in watched]
        response = client.post(url, data)
        assert response.status_code < 500
        if response.status_code in (200, 400):  # the form came back with its errors
            assert [model.objects.count() for model in watched] == before

    post()


def test_decisions_and_terminations_survive_garbage(client, signed, student, college_reviewer):
    client.force_login(student.user)

    @FUZZ
    @given(st.fixed_dictionaries({"reason": VALUES, "agree": VALUES, "answer": VALUES}))
    def post(data):
        before = Termination.objects.count()
        response = client.post(reverse("agreements:terminate", args=[signed.pk]), data)
        assert response.status_code < 500
        if response.status_code == 400:
            assert Termination.objects.count() == before

    post()
    client.force_login(college_reviewer)

    @FUZZ
    @given(st.fixed_dictionaries({"decision": VALUES, "comment": VALUES, "task": VALUES}))
    def review(data):
        assert client.post(reverse("reviews:bulk"), data).status_code < 500
        assert client.get(reverse("reviews:queue"), data).status_code < 500

    review()


LIST_VIEWS = {
    # url name[#variant]: (who, query parameters the view reads; each also gets junk ones)
    "home": (None, []),
    "reviews:queue": ("college_reviewer", [*FACETS, "waiting", "q", "after"]),
    "reviews:queue#school": ("school_reviewer", [*FACETS, "waiting", "q", "after"]),
    "reviews:queue#admin": ("platform_admin", [*FACETS, "waiting", "q", "after"]),
    "reviews:statistics": ("college_reviewer", ["refresh"]),
    "reviews:employers": ("school_reviewer", ["page"]),
    "reviews:registry_import": ("school_reviewer", []),
    "reviews:export": ("college_reviewer", ["download"]),
    "reviews:annual_reports": ("school_reviewer", []),
    "reviews:annual_report": ("school_reviewer", ["download"]),
    "reviews:agreement": ("college_reviewer", ["next"]),
    "reviews:records": ("college_reviewer", ["q"]),
    "reviews:held_changes": ("school_reviewer", ["page"]),
    "reviews:verification_samples": ("school_reviewer", []),
    "reviews:verification_tasks": ("college_reviewer", []),
    "reviews:verification": ("school_reviewer", []),
    "reviews:verification_graduates": ("college_reviewer", ["flag"]),
    "account_security": ("student", ["next"]),
    "agreements:sent": ("employer_user", ["page"]),
    "agreements:invitations": ("student", ["page"]),
    "agreements:unit_search": ("student", ["q"]),
    "agreements:register": ("student", []),
    "agreements:mine": ("student", []),
    "agreements:registration_new": ("student", ["kind"]),
    "audit:notifications": ("student", ["page"]),
    "students:home": ("student", []),
    "students:import_request": ("unconfirmed_student", ["school"]),
    "employers:home": ("employer_user", []),
}


@pytest.fixture
def unconfirmed_student(reference_data):
    return f.make_student(confirmed=False)


def _list_url(name: str, agreement, reviewer) -> str:
    name = name.split("#")[0]
    if name == "reviews:export":
        job = f.make_export(reviewer, fmt="csv")
        return reverse(name, args=[job.pk])
    if name == "reviews:annual_report":
        report = AnnualReport.objects.create(school=reviewer.school, year=2026, status="done")
        return reverse(name, args=[report.pk])
    if name == "reviews:agreement":
        return reverse(name, args=[agreement.pk])
    if name == "agreements:registration_new":
        return reverse(name, args=["other"])
    return reverse(name)


@pytest.mark.parametrize("view", sorted(LIST_VIEWS))
def test_no_list_view_answers_500_to_any_query(client, request, view, agreement, college_reviewer):
    """With one item waiting in the queue, so filters and cursors run against a row."""
    who, params = LIST_VIEWS[view]
    if who:
        user = request.getfixturevalue(who)
        client.force_login(getattr(user, "user", user))
    url = _list_url(view, agreement, college_reviewer)
    junk = st.dictionaries(st.sampled_from(["x", "id", "pk", "\x00", "²"]), VALUES, max_size=2)

    @FUZZ
    @given(st.fixed_dictionaries(dict.fromkeys(params, VALUES)), junk)
    def get(data, extra):
        response = client.get(url, {**extra, **data})
        assert response.status_code < 500, (data, extra)
        if any("\x00" in key + value for key, value in {**extra, **data}.items()):
            assert response.status_code == 400

    get()


def test_no_token_page_answers_500(client, reference_data):
    """The public pages behind e-mailed and printed links take their token from the path."""

    @FUZZ
    @given(VALUES.filter(lambda value: value.strip("./") != ""))
    def get(token):
        for name in ("verify", "return"):
            response = client.get(f"/agreements/{name}/{quote(token, safe='')}/")
            assert response.status_code < 500, token

    get()
