"""其他去向 in the browser: the chosen type's fields only (static/js/destination-fields.js),
a missing proof refused with everything kept, the complete form saved; then the 四选一
chooser shows the paths closed, each with its reason."""

import pytest

from agreements.models import Registration
from tests import factories as f
from tests.browser.conftest import login

pytestmark = pytest.mark.browser
PDF = f.pdf_bytes()


def test_further_study_asks_for_its_own_fields_and_the_chooser_then_closes(
    page, live_server, student, shoot
):
    login(page, live_server, student.user.username)
    page.goto(f"{live_server.url}/agreements/register/")
    chooser = page.locator('[data-path="other"]')
    chooser.locator("select[name=kind]").select_option("further_study")
    with page.expect_navigation():
        chooser.locator("button").click()

    form = page.locator("main form[method=post]")
    institution = form.locator("input[name=institution]")
    # Only 升学's fields show, marked required as the server requires them.
    assert institution.is_visible() and institution.get_attribute("aria-required") == "true"
    assert not form.locator("input[name=org_name]").is_visible()
    assert not form.locator("input[name=shop_url]").is_visible()
    assert not form.locator("input[name=extra_proof]").is_visible()
    assert form.locator('label[for="id_institution"] .asteriskField').count() == 1
    # Another type shows its own fields (and back).
    form.locator("select[name=kind]").select_option("entrepreneur")
    assert form.locator("input[name=shop_url]").is_visible()
    assert not institution.is_visible()
    assert form.locator("input[name=org_name]").get_attribute("aria-required") == "true"
    form.locator("select[name=kind]").select_option("further_study")
    assert institution.is_visible()
    assert form.locator("input[name=org_name]").get_attribute("aria-required") is None
    shoot(page, "further-study", phone=True)

    institution.fill("示例大学")
    form.locator("input[name=program]").fill("计算机科学与技术")
    form.locator("input[name=subtype]").fill("研究生")
    with page.expect_navigation():
        form.locator("button[name=action][value=submit]").click()
    # The proof is missing: said on that field, everything typed kept, the type's fields only.
    assert page.locator("#id_proof.is-invalid").count() == 1
    assert page.locator("input[name=institution]").input_value() == "示例大学"
    assert page.locator("input[name=program]").input_value() == "计算机科学与技术"
    assert page.locator("input[name=subtype]").input_value() == "研究生"
    assert not page.locator("input[name=org_name]").is_visible()
    assert not Registration.objects.exists()
    shoot(page, "missing-proof", phone=True)

    page.locator("input[name=proof]").set_input_files(
        {"name": "录取通知书.pdf", "mimeType": "application/pdf", "buffer": PDF}
    )
    with page.expect_navigation():
        page.locator("button[name=action][value=submit]").click()
    item = Registration.objects.get()
    assert page.url.endswith(f"/agreements/registrations/{item.pk}/")
    assert (item.kind, item.institution, item.status) == (
        "further_study",
        "示例大学",
        "college_review",
    )
    assert item.proof

    # 四选一: every path is now closed, and says why.
    page.goto(f"{live_server.url}/agreements/register/")
    for path in ("online", "offline", "paper", "other"):
        card = page.locator(f'[data-path="{path}"]')
        assert card.locator("button[disabled]").count() == 1
        assert "其他去向" in card.locator(f"#closed-{path}").inner_text()
    shoot(page, "chooser-closed", phone=True)


def test_a_research_assistants_pay_is_held_against_the_minimum_wage(
    page, live_server, student, shoot
):
    """Below the province's figure the form says what the minimum is, where and since when;
    in a province without a figure the pay is not checked, and the page says so."""
    from datetime import date

    from destreg.reference.models import MinimumWage, Region

    MinimumWage.objects.create(
        province=Region.objects.get(code="440000"),
        monthly_amount=1720,
        effective_from=date(2025, 3, 1),
        source="test figure",
    )
    login(page, live_server, student.user.username)
    page.goto(f"{live_server.url}/agreements/register/other/new/?kind=research_assistant")
    form = page.locator("main form[method=post]")
    assert form.locator("input[name=salary]").get_attribute("aria-required") == "true"
    assert not form.locator("input[name=extra_proof]").is_visible()
    form.locator("input[name=org_name]").fill("示例大学某课题组")
    form.locator("input[name=salary]").fill("1500")
    picker = form.locator("[data-region-picker]")
    picker.get_by_label("省份").select_option(label="广东省")
    picker.get_by_label("地市").select_option(label="深圳市")
    form.locator("input[name=proof]").set_input_files(
        {"name": "合同.pdf", "mimeType": "application/pdf", "buffer": PDF}
    )
    with page.expect_navigation():
        form.locator("button[name=action][value=submit]").click()
    error = page.locator("#id_salary.is-invalid ~ .invalid-feedback, .invalid-feedback").first
    assert "1720元/月" in error.inner_text() and "广东省" in error.inner_text()
    assert not Registration.objects.exists()
    shoot(page, "below-minimum-wage", phone=True)

    # Beijing has no figure on record: submitted, and the page says the pay was not checked.
    page.locator("input[name=salary]").fill("1500")
    picker = page.locator("[data-region-picker]")
    picker.get_by_label("省份").select_option(label="北京市")
    picker.get_by_label("地市").select_option(index=1)
    page.locator("input[name=proof]").set_input_files(
        {"name": "合同.pdf", "mimeType": "application/pdf", "buffer": PDF}
    )
    with page.expect_navigation():
        page.locator("button[name=action][value=submit]").click()
    assert "该省份暂无最低工资标准数据，未核对" in page.locator("#wage-check").inner_text()
    shoot(page, "minimum-wage-not-checked", phone=True)


def test_study_abroad_asks_the_country_and_the_foreign_names(page, live_server, student, shoot):
    login(page, live_server, student.user.username)
    page.goto(f"{live_server.url}/agreements/register/other/new/?kind=study_abroad")
    form = page.locator("main form[method=post]")
    country = form.locator("select[name=country]")
    foreign = form.locator("input[name=institution_foreign]")
    assert country.is_visible() and country.get_attribute("aria-required") == "true"
    assert foreign.is_visible() and foreign.get_attribute("aria-required") == "true"
    assert "外文名称" in form.locator('label[for="id_institution_foreign"]').inner_text()
    # 升学 (80) asks neither.
    form.locator("select[name=kind]").select_option("further_study")
    assert not country.is_visible() and not foreign.is_visible()
    form.locator("select[name=kind]").select_option("study_abroad")

    form.locator("input[name=institution]").fill("新加坡国立大学")
    form.locator("input[name=program]").fill("数据科学")
    country.select_option(label="新加坡")
    foreign.fill("National University of Singapore")
    form.locator("input[name=program_foreign]").fill("Data Science")
    form.locator("input[name=proof]").set_input_files(
        {"name": "录取通知书.pdf", "mimeType": "application/pdf", "buffer": PDF}
    )
    shoot(page, "study-abroad", phone=True)
    with page.expect_navigation():
        form.locator("button[name=action][value=submit]").click()
    item = Registration.objects.get()
    assert (item.kind, item.country.code, item.institution_foreign, item.program_foreign) == (
        "study_abroad",
        "702",
        "National University of Singapore",
        "Data Science",
    )
    assert "National University of Singapore · Data Science" in page.locator("main").inner_text()
    shoot(page, "study-abroad-submitted", phone=True)
