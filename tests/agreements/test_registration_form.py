"""The registration form round trip: an application loaded into its edit form (修改并提交) and
posted back as the page shows it changes nothing, for every path and every field."""

import re
from html.parser import HTMLParser

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from agreements.models import OTHER_KINDS, Registration
from agreements.registrations import services as reg
from agreements.registrations.forms import PATH_FIELDS
from tests import factories as f

PDF = f.pdf_bytes()
UNIT = {
    "unit_name": "北京测试科技有限公司", "unit_uscc": "91110000100000000R", "unit_nature": "39",
    "unit_industry": "I", "unit_region": "110108", "unit_address": "中关村大街1号",
    "contact_name": "刘经理", "contact_phone": "010-62000000", "contact_mobile": "13900001111",
    "contact_email": "hr@example.com",
}  # fmt: skip
FULL = {
    "offline": UNIT | {
        "job_category": "13", "position": "工程师", "work_location": "北京市海淀区",
        "probation_months": "3", "probation_salary": "8000", "salary": "10000",
        "penalty": "5000", "report_place": "北京市海淀区中关村大街1号",
        "report_deadline": "2026-07-15", "hukou": "employer", "supplement": "提供住宿",
    },
    "paper": {key: UNIT[key] for key in PATH_FIELDS["paper"] if key in UNIT} | {
        "paper_form": "beijing", "paper_number": "BJ2026-000123",
        "paper_signed_on": "2026-05-20",
    },
    "other": {
        "subtype": "研究生", "org_name": "某研究所", "org_uscc": "91110000100000000R",
        "role": "助理", "institution": "示例大学", "program": "计算机科学与技术",
        "country": "702", "institution_foreign": "National University of Singapore",
        "program_foreign": "Data Science", "start_date": "2026-09-01", "end_date": "2029-06-30",
        "shop_url": "https://shop.example.com/1", "salary": "6000", "unit_region": "110100",
    },
}  # fmt: skip
CASES = [("offline", ""), ("paper", ""), *[("other", kind) for kind in OTHER_KINDS]]
# Set by the services, not typed in the form: these may change when the application is
# submitted again.
MOVED_BY_SUBMIT = {"status", "submitted_at"}
FILE_FIELDS = {"proof", "extra_proof", "scan", "pdf"}


class _Form(HTMLParser):
    """What a browser posts back from the page's registration form as it is shown: each
    input's value (a date input shows only an ISO date, anything else as blank), each
    select's selected option (or its first one, as a browser does), each textarea's text.
    File inputs post nothing: no file is chosen again."""

    def __init__(self):
        super().__init__()
        self.values: dict[str, str] = {}
        self._select: str | None = None
        self._first_option: str | None = None
        self._textarea: str | None = None
        self._in_form = False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form" and a.get("method") == "post" and a.get("enctype"):
            self._in_form = True
        if not self._in_form:
            return
        name = a.get("name")
        if tag == "input" and name and a.get("type") not in ("file", "hidden", "submit"):
            value = a.get("value") or ""
            if a.get("type") == "date" and not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
                value = ""
            self.values[name] = value
        elif tag == "select" and name:
            self._select, self._first_option = name, None
        elif tag == "option" and self._select:
            value = a.get("value") or ""
            if self._first_option is None:
                self._first_option = value
                self.values.setdefault(self._select, value)
            if "selected" in a:
                self.values[self._select] = value
        elif tag == "textarea" and name:
            self._textarea = name
            self.values[name] = ""

    def handle_endtag(self, tag):
        if tag == "select":
            self._select = None
        elif tag == "textarea" and self._textarea:
            # A browser drops the newline right after <textarea>.
            self.values[self._textarea] = self.values[self._textarea].removeprefix("\n")
            self._textarea = None
        elif tag == "form":
            self._in_form = False

    def handle_data(self, data):
        if self._textarea:
            self.values[self._textarea] += data


def _shown_values(html: str) -> dict[str, str]:
    parser = _Form()
    parser.feed(html)
    return parser.values


def _stored(item: Registration) -> dict:
    item = Registration.objects.get(pk=item.pk)
    return {
        field.name: getattr(item, field.attname)
        if field.name not in FILE_FIELDS
        else getattr(item, field.name).name
        for field in Registration._meta.concrete_fields
    }


def _full(path: str, kind: str) -> dict:
    data = dict(FULL[path])
    if path == "other":
        data["kind"] = kind
    for name in ("proof", "extra_proof"):
        if name in PATH_FIELDS[path]:
            data[name] = SimpleUploadedFile(f"{name}.pdf", PDF, content_type="application/pdf")
    return data


@pytest.mark.parametrize(("path", "kind"), CASES)
def test_every_field_of_a_saved_draft_is_shown_in_its_edit_form(client, student, path, kind):
    data = _full(path, kind)
    assert set(data) == set(PATH_FIELDS[path])  # every field of the path is filled
    client.force_login(student.user)
    created = client.post(
        reverse("agreements:registration_new", args=[path]), data | {"action": "draft"}
    )
    assert created.status_code == 302, created.context["form"].errors
    item = Registration.objects.get(student=student)
    before = _stored(item)

    url = reverse("agreements:registration_edit", args=[item.pk])
    shown = _shown_values(client.get(url).content.decode())
    typed = {key: value for key, value in data.items() if key not in FILE_FIELDS}
    assert shown == typed
    assert client.post(url, shown | {"action": "draft"}).status_code == 302
    assert _stored(item) == before


@pytest.mark.parametrize(("path", "kind"), CASES)
def test_a_returned_application_is_submitted_again_as_its_edit_form_shows_it(
    client, student, college_reviewer, path, kind
):
    client.force_login(student.user)
    created = client.post(
        reverse("agreements:registration_new", args=[path]),
        _full(path, kind) | {"action": "submit"},
    )
    assert created.status_code == 302, created.context["form"].errors
    item = Registration.objects.get(student=student)
    reg.registration_review(
        registration=item, reviewer=college_reviewer, decision="return", comment="请核对"
    )
    before = _stored(item)
    assert before["status"] == "returned"

    url = reverse("agreements:registration_edit", args=[item.pk])
    shown = _shown_values(client.get(url).content.decode())
    response = client.post(url, shown | {"action": "submit"})
    assert response.status_code == 302, response.context["form"].errors
    after = _stored(item)
    assert after["status"] == "college_review"
    unchanged = set(before) - MOVED_BY_SUBMIT
    assert {k: after[k] for k in unchanged} == {k: before[k] for k in unchanged}
