"""Evidence rules as data (agreements/evidence.py): the seeded rule of each destination code is
enforced by the form and by the services; an admin's edit of a rule changes both."""

from datetime import date

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import translation

from agreements.evidence import EvidenceRule, requirements_for
from agreements.models import Registration
from agreements.registrations import services as reg
from destreg.reference.models import Code, CodeTable, MinimumWage, Region
from tests import factories as f

PDF = f.pdf_bytes()
NEW_OTHER = reverse("agreements:registration_new", args=["other"])
NEW_PAPER = reverse("agreements:registration_new", args=["paper"])
PAPER = {
    "unit_name": "某单位", "unit_uscc": "91110000100000000R", "unit_nature": "39",
    "unit_industry": "I", "unit_region": "110108", "paper_form": "beijing",
    "paper_number": "BJ2026-0001", "paper_signed_on": "2026-05-01",
}  # fmt: skip


def _pdf(name="proof.pdf"):
    return SimpleUploadedFile(name, PDF, content_type="application/pdf")


def _post(client, student, url, data):
    client.force_login(student.user)
    return client.post(url, data | {"action": "submit"})


def _rule(code: str) -> EvidenceRule:
    return EvidenceRule.objects.get(destination__code=code, destination__table="destination")


def _draft(student, **values) -> Registration:
    return reg.registration_save_draft(student=student, path="other", values=values)


def test_every_other_destination_code_and_the_signed_one_have_a_seeded_rule_with_its_source(
    reference_data,
):
    codes = set(EvidenceRule.objects.values_list("destination__code", flat=True))
    assert codes == {"10", "11", "12", "27", "46", "50", "51", "75", "76", "80", "85"}
    assert all(rule.source for rule in EvidenceRule.objects.all())
    # Freelance: the signed statement and proof of income; a minimum-wage check.
    freelance = _rule("76")
    assert freelance.required_proofs == ["proof", "extra_proof"] and freelance.check_minimum_wage
    assert _rule("27").check_minimum_wage and _rule("12").check_minimum_wage
    assert not _rule("80").check_minimum_wage


def test_a_sub_code_without_its_own_rule_follows_its_parent(reference_data):
    assert requirements_for("502") == requirements_for("50")
    assert "subtype" in requirements_for("502").required


def test_the_service_refuses_a_submission_the_form_would_refuse(student):
    """A client that skips the form (or an old page's script) cannot submit without proofs."""
    item = _draft(student, kind="freelance", subtype="插画师", proof=_pdf())
    with pytest.raises(ValidationError) as refused, translation.override("en"):
        reg.registration_submit(registration=item, user=student.user)
    assert refused.value.messages == [
        "Required for this destination: Second proof document, Monthly pay (yuan), Work place."
    ]
    item.refresh_from_db()
    assert item.status == "draft"


def test_the_service_refuses_a_pay_below_the_minimum_wage(student, reference_data):
    beijing = Region.objects.get(code="110000")
    MinimumWage.objects.create(
        province=beijing, monthly_amount=2540, effective_from=date(2025, 9, 1), source="test"
    )
    item = _draft(
        student,
        kind="research_assistant",
        org_name="课题组",
        salary=2000,
        unit_region=Region.objects.get(code="110108"),
        proof=_pdf(),
    )
    with pytest.raises(ValidationError) as refused:
        reg.registration_submit(registration=item, user=student.user)
    assert "2540" in " ".join(refused.value.messages)


def test_an_admin_edit_of_a_rule_changes_what_the_form_requires(client, student):
    rule = _rule("85")
    rule.required_fields = ["country", "institution", "program"]
    rule.save()
    data = {"kind": "study_abroad", "country": "702", "institution": "新加坡国立大学",
            "proof": _pdf()}  # fmt: skip
    response = _post(client, student, NEW_OTHER, data)
    assert set(response.context["form"].errors) == {"program"}
    page = client.get(NEW_OTHER, {"kind": "study_abroad"}).content.decode()
    assert '"required": ["country", "institution", "program", "proof"]' in page

    rule.required_fields, rule.required_proofs = ["country"], []
    rule.save()
    response = _post(client, student, NEW_OTHER, {"kind": "study_abroad", "country": "702"})
    assert response.status_code == 302, response.context["form"].errors
    assert Registration.objects.get().status == "college_review"


def test_a_rule_may_require_a_field_the_type_did_not_ask_for(client, student):
    rule = _rule("46")
    rule.required_fields = ["start_date", "role"]  # 应征义务兵 did not ask for the role
    rule.save()
    client.force_login(student.user)
    page = client.get(NEW_OTHER, {"kind": "conscript"}).content.decode()
    assert 'name="role"' in page and '"asks": ["org_name", "role", "start_date", "proof"]' in page
    response = _post(client, student, NEW_OTHER, {"kind": "conscript", "proof": _pdf()})
    assert set(response.context["form"].errors) == {"role", "start_date"}


def test_an_online_shop_needs_its_income_records(client, student):
    data = {"kind": "entrepreneur", "org_name": "某网店", "shop_url": "shop.example.com/1",
            "proof": _pdf()}  # fmt: skip
    response = _post(client, student, NEW_OTHER, data)
    assert set(response.context["form"].errors) == {"extra_proof"}
    response = _post(client, student, NEW_OTHER, data | {"proof": _pdf(), "extra_proof": _pdf()})
    assert response.status_code == 302, response.context["form"].errors

    # With a business licence instead, no income records are asked (another student: the
    # first one's path is held now).
    other = f.make_student(f.make_record(student.record.major))
    response = _post(client, other, NEW_OTHER, {
        "kind": "entrepreneur", "org_name": "某公司", "org_uscc": "91110000100000000R",
        "proof": _pdf()})  # fmt: skip
    assert response.status_code == 302, response.context["form"].errors


def test_a_paper_agreement_needs_its_scan_by_the_rule_of_code_10(client, student):
    response = _post(client, student, NEW_PAPER, PAPER)
    assert set(response.context["form"].errors) == {"proof"}
    rule = _rule("10")
    rule.required_proofs = ["scan"]  # the offline scan only: the paper path's proof optional
    rule.save()
    response = _post(client, student, NEW_PAPER, PAPER)
    assert response.status_code == 302, response.context["form"].errors


def test_the_stamped_scan_is_required_by_the_service(client, student, college_reviewer,
                                                     school_reviewer):  # fmt: skip
    item = Registration.objects.create(
        student=student,
        school=student.record.school,
        college=student.record.college,
        path="offline",
        destination=Code.objects.get(table=CodeTable.DESTINATION, code="10"),
    )
    Registration.objects.filter(pk=item.pk).update(status="info_approved")
    item.refresh_from_db()
    with pytest.raises(ValidationError) as refused, translation.override("en"):
        reg.registration_upload_scan(registration=item, scan=None, user=student.user)
    assert refused.value.messages == ["Required for this destination: Stamped agreement scan."]
    item.refresh_from_db()
    assert item.status == "info_approved"


def test_the_admin_offers_only_known_field_names(client, platform_admin):
    client.force_login(platform_admin)
    rule = _rule("76")
    url = reverse("admin:agreements_evidencerule_change", args=[rule.pk])
    page = client.get(url).content.decode()
    assert 'value="extra_proof"' in page and "checked" in page
    response = client.post(
        url,
        {
            "destination": rule.destination_id,
            "required_proofs": ["proof", "secret_field"],
            "required_with": "{}",
            "source": rule.source,
        },
    )
    assert response.status_code == 200  # refused: shown again with the error
    rule.refresh_from_db()
    assert rule.required_proofs == ["proof", "extra_proof"]
    with pytest.raises(ValidationError):
        EvidenceRule(
            destination=Code.objects.get(table="destination", code="70"),
            required_fields=["password"],
            source="x",
        ).full_clean()
