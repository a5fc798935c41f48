"""Forms that fit the case: each other destination asks for its own fields and proofs (shown
as OTHER_KIND_FIELDS says, required as its evidence rule says), and the 四选一 chooser says
which paths are open before a form."""

import json
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import translation

from agreements.evidence import RULES_FILE
from agreements.models import OTHER_KINDS, Registration
from agreements.registrations import services as reg
from agreements.registrations.forms import (
    ONE_OF_FOR_KIND,
    OTHER_KIND_FIELDS,
    PATH_FIELDS,
    REQUIRED_FOR_KIND,
)
from students.destinations import path_openings
from students.models import DestinationClaim
from tests import factories as f

PDF = f.pdf_bytes()
USCC = "91110000100000000R"
# What a student of each type types in (files added by _complete).
TYPED = {
    "labour_contract": {"org_name": "某公司", "org_uscc": USCC, "start_date": "2026-07-01"},
    "other_employment": {"subtype": "聘用证明", "org_name": "某医院", "salary": "6000",
                         "unit_region": "110100"},
    "research_assistant": {"org_name": "示例大学某课题组", "role": "科研助理", "salary": "5000",
                           "unit_region": "110100"},
    "conscript": {"org_name": "海淀区征兵办"},
    "national_project": {"subtype": "西部计划", "org_name": "某县团委"},
    "local_project": {"subtype": "北京市大学生村官"},
    "entrepreneur": {"org_name": "某某工作室", "org_uscc": USCC},
    "freelance": {"subtype": "插画师", "salary": "4000", "unit_region": "310100"},
    "further_study": {"institution": "示例大学", "program": "计算机科学与技术",
                      "subtype": "研究生"},
    "study_abroad": {"country": "702", "institution": "新加坡国立大学", "program": "数据科学",
                     "institution_foreign": "National University of Singapore",
                     "program_foreign": "Data Science"},
}  # fmt: skip
NEW = reverse("agreements:registration_new", args=["other"])
# The seeded rules (agreements/data/evidence_rules.json), by destination code.
SEEDED = {rule["code"]: rule for rule in json.loads(RULES_FILE.read_text(encoding="utf-8"))}


def seeded_required(kind: str) -> list[str]:
    rule = SEEDED[OTHER_KINDS[kind][0]]
    wage = ["salary", "unit_region"] if rule.get("check_minimum_wage") else []
    return [*rule.get("required_fields", []), *wage, *rule.get("required_proofs", [])]


def _pdf(name="proof.pdf"):
    return SimpleUploadedFile(name, PDF, content_type="application/pdf")


def _complete(kind: str) -> dict:
    data = {"kind": kind, **TYPED[kind]}
    for name in ("proof", "extra_proof"):
        if name in OTHER_KIND_FIELDS[kind].asks:
            data[name] = _pdf(f"{name}.pdf")
    return data


def _post(client, student, data, url=NEW):
    client.force_login(student.user)
    return client.post(url, data | {"action": "submit"})


def test_the_table_names_every_type_and_only_fields_of_the_form():
    assert set(OTHER_KIND_FIELDS) == set(OTHER_KINDS)
    for kind, spec in OTHER_KIND_FIELDS.items():
        assert set(spec.asks) <= set(PATH_FIELDS["other"])
        assert set(spec.labels) <= set(spec.asks)
        rule = SEEDED[OTHER_KINDS[kind][0]]
        # The seeded rule asks for nothing the type does not show, and for a document.
        assert set(seeded_required(kind)) | set(rule.get("one_of", [])) <= set(spec.asks)
        assert "proof" in rule["required_proofs"]
        assert rule["source"]


@pytest.mark.parametrize("kind", list(OTHER_KIND_FIELDS))
def test_a_complete_form_of_each_type_is_saved(client, student, kind):
    response = _post(client, student, _complete(kind))
    assert response.status_code == 302, response.context["form"].errors
    item = Registration.objects.get()
    assert (item.kind, item.status) == (kind, "college_review")
    assert item.destination.code == OTHER_KINDS[kind][0]
    for name in ("proof", "extra_proof"):
        assert bool(getattr(item, name)) == (name in OTHER_KIND_FIELDS[kind].asks)


@pytest.mark.parametrize(
    ("kind", "missing"),
    [(kind, name) for kind in OTHER_KIND_FIELDS for name in seeded_required(kind)],
)
def test_each_missing_required_field_is_named_and_everything_typed_is_kept(
    client, student, kind, missing
):
    data = _complete(kind)
    del data[missing]
    with translation.override("zh-hans"):
        expected = str(REQUIRED_FOR_KIND)
        response = _post(client, student, data)
    assert expected != "This field is required for this destination type."  # translated
    form = response.context["form"]
    assert form.errors[missing] == [expected]
    assert set(form.errors) == {missing}
    page = response.content.decode()
    for name, value in TYPED[kind].items():
        if name == "country" != missing:  # a select: the chosen option
            assert re.search(rf'<option value="{value}" selected>', page), name
        elif name not in (missing, "unit_region"):  # unit_region, a select: below
            assert re.search(rf'name="{name}"[^>]*value="{re.escape(value)}"', page), name
    if "unit_region" in TYPED[kind] and missing != "unit_region":
        assert re.search(r'<option value="{}" selected>'.format(TYPED[kind]["unit_region"]), page)
    if missing != "proof":  # a file chosen in this post cannot be shown again: it says so
        assert 'id="files-again"' in page
    assert not Registration.objects.exists()


def test_entrepreneurs_give_a_credit_code_or_a_shop_address(client, student):
    data = _complete("entrepreneur")
    del data["org_uscc"]
    with translation.override("zh-hans"):
        expected = str(ONE_OF_FOR_KIND)
        response = _post(client, student, data)
    errors = response.context["form"].errors
    assert errors["org_uscc"] == errors["shop_url"] == [expected]

    data = _complete("entrepreneur") | {"org_uscc": "91110000100000000A"}  # bad check digit
    response = _post(client, student, data)
    assert response.context["form"].errors.as_data()["org_uscc"][0].code == "checksum"
    assert "shop_url" not in response.context["form"].errors

    data = _complete("entrepreneur")
    del data["org_uscc"]
    response = _post(client, student, data | {"shop_url": "shop.example.com/123"})
    assert response.status_code == 302, response.context["form"].errors
    assert Registration.objects.get().shop_url == "https://shop.example.com/123"


def test_the_chosen_types_fields_are_marked_required_and_the_table_is_in_the_page(client, student):
    client.force_login(student.user)
    page = client.get(NEW, {"kind": "further_study"}).content.decode()
    for name in ("institution", "program", "subtype"):
        tag = re.search(rf'<input[^>]*name="{name}"[^>]*>', page)[0]
        assert " required" in tag and 'aria-required="true"' in tag
    assert 'for="id_institution"' in page and "录取通知书" in page  # its own labels
    org = re.search(r'<input[^>]*name="org_name"[^>]*>', page)[0]
    assert " required" not in org
    assert 'id="kind-table"' in page and "destination-fields.js" in page
    # Every group but the common one says which types it is for (shown without the script).
    assert page.count('class="kind-group" data-kinds=') >= 5


def test_a_stored_proof_is_not_asked_again(client, student, college_reviewer):
    _post(client, student, _complete("freelance"))
    item = Registration.objects.get()
    reg.registration_review(
        registration=item, reviewer=college_reviewer, decision="return", comment="请补充"
    )
    url = reverse("agreements:registration_edit", args=[item.pk])
    typed = {"kind": "freelance", "subtype": "摄影", "salary": "4000", "unit_region": "310100"}
    response = _post(client, student, typed, url=url)
    assert response.status_code == 302, response.context["form"].errors
    item.refresh_from_db()
    assert item.proof and item.extra_proof and item.subtype == "摄影"


def test_a_refused_submission_keeps_what_was_typed_and_asks_for_the_file_again(
    client, student, employer_user
):
    # Another path holds the destination: 四选一 refuses the submission.
    invitation = f.make_invitation(employer_user.employer, student)
    from agreements.online import services

    services.invitation_accept(invitation=invitation, user=student.user)
    response = _post(client, student, _complete("further_study"))
    page = response.content.decode()
    assert response.status_code == 200
    assert 'id="files-again"' in page and 'id="path-refusal"' in page
    assert 'value="示例大学"' in page
    assert not Registration.objects.exists()


def test_an_invalid_paper_agreement_also_asks_for_the_file_again(client, student):
    url = reverse("agreements:registration_new", args=["paper"])
    response = _post(client, student, {"unit_name": "某单位", "proof": _pdf()}, url=url)
    page = response.content.decode()
    assert response.context["form"].errors and 'id="files-again"' in page
    assert 'value="某单位"' in page


def test_openings_follow_the_claim_rule(student, world):
    assert all(path_openings(student).values())

    DestinationClaim.objects.create(student=student, path="offline", object_id=1)
    openings = path_openings(student)
    assert not any(openings.values())
    assert "线下签约" in openings["online"].reason

    DestinationClaim.objects.all().delete()
    DestinationClaim.objects.create(student=student, path="other", object_id=1, approved=True)
    openings = path_openings(student)
    # An approved other destination may still be replaced by a signing, not by another.
    assert openings["online"] and openings["offline"] and openings["paper"]
    assert not openings["other"]

    unconfirmed = f.make_student(f.make_record(world.major_a1), confirmed=False)
    assert not any(path_openings(unconfirmed).values())


def test_the_chooser_shows_a_closed_path_with_its_reason(
    client, student, django_assert_max_num_queries
):
    DestinationClaim.objects.create(student=student, path="paper", object_id=1)
    client.force_login(student.user)
    with django_assert_max_num_queries(12):
        page = client.get(reverse("agreements:register")).content.decode()
    assert page.count("disabled") == 4
    assert 'id="closed-offline"' in page and "纸质三方" in page
    assert reverse("agreements:registration_new", args=["offline"]) not in page


def test_study_abroad_stores_the_country_code_and_both_names_and_shows_them(client, student):
    response = _post(client, student, _complete("study_abroad"))
    assert response.status_code == 302, response.context["form"].errors
    item = Registration.objects.get()
    country = item.country
    assert (country.table, country.code, country.name) == ("country", "702", "新加坡")
    assert (item.institution_foreign, item.program_foreign) == (
        "National University of Singapore",
        "Data Science",
    )
    with translation.override("zh-hans"):
        page = client.get(item.get_absolute_url()).content.decode()
    for shown in ("新加坡国立大学", "National University of Singapore", "Data Science", "新加坡"):
        assert shown in page
    # The edit form's round trip of every field: tests/agreements/test_registration_form.py.


def test_a_country_outside_the_table_is_refused(client, student):
    for value in ("新加坡", "156", "999"):  # a name, China itself, no such code
        response = _post(client, student, _complete("study_abroad") | {"country": value})
        assert response.status_code == 200
        assert "country" in response.context["form"].errors
    assert not Registration.objects.exists()
