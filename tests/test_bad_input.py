"""No input causes a 500: NUL is refused with a 400 before any view runs, and ids or
numbers in odd digits ('²', '１', '٣', 30 digits) are treated as absent.
The fuzzing over every list view's parameters is in tests/test_fuzzing.py."""

import pytest
from django.urls import reverse

from destreg.audit.models import ReviewTask
from destreg.lib.params import parse_id, parse_int
from employers.models import Employer
from reviews import queue as review_queue
from tests import factories as f

ODD_NUMBERS = ["²", "１", "٣", "1" * 30, "-1", "1.0", " 1", "0x1", ""]


@pytest.mark.parametrize("value", ODD_NUMBERS)
def test_only_ascii_digits_are_ids(value):
    assert parse_id(value) is None
    assert parse_int(value) is None


def test_ascii_ids_within_64_bits_are_read():
    assert parse_id("42") == 42
    assert parse_id("0") is None  # no row has id 0
    assert parse_int("0") == 0
    assert parse_int("9" * 18) == 10**18 - 1
    assert parse_int("2026", max_digits=4) == 2026
    assert parse_int("20261", max_digits=4) is None
    assert parse_id(None) is None and parse_id(7) is None


@pytest.mark.parametrize("value", ["²", "１", "٣", "1" * 30])
def test_an_odd_id_filter_is_ignored_not_a_500(client, agreement, college_reviewer, value):
    """/reviews/?college=² used to answer 500; now it shows the whole queue."""
    client.force_login(college_reviewer)
    for facet in ("college", "major", "education_level", "destination"):
        page = client.get(reverse("reviews:queue"), {facet: value})
        assert page.status_code == 200
        assert [task.object_id for task, *_ in page.context["rows"]] == [agreement.pk]


def test_a_wrong_id_still_filters(client, agreement, college_reviewer, world):
    client.force_login(college_reviewer)
    page = client.get(reverse("reviews:queue"), {"college": str(world.a2.pk)})
    assert page.context["rows"] == []


@pytest.mark.parametrize(
    "cursor",
    [
        "2026-01-01T00:00:00+00:00|²",
        "2026-01-01T00:00:00+00:00|" + "1" * 30,
        "9999-12-31T23:59:59-23:59|1",  # overflows when turned into UTC
        "0001-01-01T00:00:00+23:00|1",
        "2026-01-01T00:00:00|1",  # naive
        "２０２６-01-01T00:00:00+00:00|1",
        "2026-02-30T00:00:00+00:00|1",
    ],
)
def test_a_hand_edited_cursor_starts_at_the_top(client, agreement, college_reviewer, cursor):
    assert review_queue.parse_cursor(cursor) is None
    client.force_login(college_reviewer)
    page = client.get(reverse("reviews:queue"), {"after": cursor})
    assert page.status_code == 200
    assert len(page.context["rows"]) == 1


def test_a_cursor_we_wrote_is_read_back(agreement):
    task = ReviewTask.objects.get()
    cursor = f"{task.waiting_since.isoformat()}|{task.pk}"
    assert review_queue.parse_cursor(cursor) == (task.waiting_since, task.pk)


@pytest.mark.parametrize("value", ["²", "１", "1" * 30, "abc"])
def test_bulk_approve_reports_an_odd_task_id(client, agreement, college_reviewer, value):
    client.force_login(college_reviewer)
    page = client.post(
        reverse("reviews:bulk"), {"decision": "approve", "confirmed": "1", "task": value}
    )
    assert page.status_code == 200
    assert [result[:2] for result in page.context["results"]] == [(value, False)]
    assert ReviewTask.objects.get().object_id == agreement.pk  # nothing approved


@pytest.mark.parametrize("value", ["²", "1" * 30, "", "x", "1.5"])
def test_verifying_an_odd_employer_id_verifies_nothing(
    client, school_reviewer, reference_data, value
):
    waiting = f.make_employer()
    client.force_login(school_reviewer)
    page = client.post(reverse("reviews:employers"), {"employer": value, "checked": "on"})
    assert page.status_code in (302, 404)
    assert Employer.objects.get(pk=waiting.pk).verified_at is None


# --- NUL -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "params", [{"q": "\x00"}, {"stage": "a\x00"}, {"after": "\x00|1"}, {"x\x00": "1"}]
)
def test_nul_in_the_query_string_is_a_400(client, college_reviewer, params):
    client.force_login(college_reviewer)
    page = client.get(reverse("reviews:queue"), params)
    assert page.status_code == 400
    assert "请求无效" in page.content.decode()


def test_nul_in_a_form_field_is_a_400_and_saves_nothing(client, student):
    client.force_login(student.user)
    page = client.post(reverse("students:account"), {"mobile": "138\x00", "email": "a@b.cn"})
    assert page.status_code == 400
    student.refresh_from_db()
    assert student.mobile == "13800000000"


def test_nul_in_the_address_is_a_400(client, reference_data):
    assert client.get("/agreements/verify/abc%00def/").status_code == 400
    assert client.get("/agreements/return/abc%00def/").status_code == 400


def test_nul_in_a_header_is_a_400(client, reference_data):
    assert client.get("/login/", headers={"user-agent": "x\x00y"}).status_code == 400


def test_a_nul_cookie_is_ignored_as_if_absent(client, student):
    client.force_login(student.user)
    client.cookies["django_language"] = "en\x00"
    assert client.get(reverse("students:home")).status_code == 200
    client.cookies["sessionid"] = "abcdefgh\x00ijklmnop"  # PostgreSQL cannot even look it up
    page = client.get(reverse("students:home"))
    assert page.status_code == 302 and "/login/" in page.url
    del client.cookies["sessionid"]  # (the test client would look it up itself)


def test_a_pdf_whose_bytes_contain_nul_is_still_accepted(client, student):
    """The guard reads text fields only: a file's content may hold any byte."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    pdf = f.pdf_bytes()
    client.force_login(student.user)
    upload = SimpleUploadedFile("p.pdf", pdf + b"\x00" * 4, content_type="application/pdf")
    page = client.post(
        reverse("agreements:registration_new", args=["other"]),
        {"action": "draft", "kind": "freelance", "proof": upload},
    )
    assert page.status_code == 302
