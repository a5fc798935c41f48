"""The region picker in the browser: province → city → county with the mouse and with the
keyboard alone, the saved region shown at all three levels, and the plain select when
scripts are off. The form posts the same field (name and value) in every case."""

import pytest

from agreements.models import Registration
from tests.browser.conftest import DESKTOP, TIMEOUT_MS, login

pytestmark = pytest.mark.browser

PICKER = "[data-region-picker]"


def _levels(page, field: str) -> list[str]:
    return [page.locator(f"#id_{field}_{level}").input_value() for level in LEVELS]


LEVELS = ("province", "city", "county")


def _posted(page, field: str) -> str:
    """The value the form would post for ``field``, as the browser builds it."""
    return page.evaluate(
        "(name) => new FormData(document.querySelector('main form[method=post]')).getAll(name)",
        field,
    )


def test_a_student_picks_province_city_county_and_sees_it_again(page, live_server, student, shoot):
    login(page, live_server, student.user.username)
    page.goto(f"{live_server.url}/agreements/register/offline/new/")
    picker = page.locator(PICKER)
    province = picker.get_by_label("省份")
    city, county = picker.get_by_label("地市"), picker.get_by_label("区县")
    assert city.is_disabled() and county.is_disabled()  # nothing to choose before a province
    province.select_option(label="广东省")
    city.select_option(label="深圳市")
    county.select_option(label="南山区")
    assert _posted(page, "unit_region") == ["440305"]
    assert page.locator("select[name=unit_region]").is_hidden()
    # The field's own label names the group and leads to its first select.
    labels = page.locator('label[for="id_unit_region_province"]')
    assert labels.count() == 2  # the field's and the level's
    labels.first.click()
    assert page.evaluate("document.activeElement.id") == "id_unit_region_province"

    page.locator("input[name=unit_name]").fill("深圳测试科技有限公司")
    with page.expect_navigation():
        page.locator("button[name=action][value=draft]").click()
    item = Registration.objects.get(student=student)
    assert item.unit_region_id == "440305"

    page.goto(f"{live_server.url}/agreements/registrations/{item.pk}/edit/")
    page.locator("#id_unit_region_county").wait_for()
    assert _levels(page, "unit_region") == ["440000", "440300", "440305"]
    shoot(page, "saved-region", phone=True)

    # A city without counties is a value of its own (东莞市 has no county level).
    province.select_option(label="广东省")
    city.select_option(label="东莞市")
    assert county.is_disabled()
    assert _posted(page, "unit_region") == ["441900"]
    # Going back up clears what was below.
    province.select_option(value="")
    assert _posted(page, "unit_region") == [""]
    assert city.is_disabled() and county.is_disabled()


def test_the_picker_works_with_the_keyboard_alone(page, live_server, reference_data, shoot):
    page.goto(f"{live_server.url}/employers/register/")
    page.locator("#id_region_province").wait_for()
    page.locator("select[name=industry]").focus()
    page.keyboard.press("Tab")  # the hidden plain select is skipped
    assert page.evaluate("document.activeElement.id") == "id_region_province"
    page.keyboard.press("ArrowDown")  # 北京市
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "id_region_city"
    page.keyboard.press("ArrowDown")  # 市辖区
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "id_region_county"
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")  # 西城区
    assert _levels(page, "region") == ["110000", "110100", "110102"]
    assert _posted(page, "region") == ["110102"]
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.name") == "address"
    shoot(page, "keyboard", phone=True)


def test_without_scripts_the_plain_select_posts_the_same_field(browser, live_server, student):
    context = browser.new_context(viewport=DESKTOP, locale="zh-CN", java_script_enabled=False)
    context.set_default_timeout(TIMEOUT_MS)
    try:
        page = context.new_page()
        login(page, live_server, student.user.username)
        page.goto(f"{live_server.url}/agreements/register/offline/new/")
        assert page.locator("#id_unit_region_province").count() == 0
        plain = page.locator("select[name=unit_region]")
        assert plain.is_visible()
        plain.select_option("440305")
        page.locator("input[name=unit_name]").fill("深圳测试科技有限公司")
        with page.expect_navigation():
            page.locator("button[name=action][value=draft]").click()
        assert Registration.objects.get(student=student).unit_region_id == "440305"
    finally:
        context.close()


def test_in_english_the_levels_and_the_code_names_are_english(
    page, live_server, reference_data, shoot
):
    page.context.add_cookies([{"name": "django_language", "value": "en", "url": live_server.url}])
    page.goto(f"{live_server.url}/employers/register/")
    picker = page.locator(PICKER)
    picker.get_by_label("Province").select_option(label="上海市")  # regions: Chinese only
    picker.get_by_label("City").select_option(label="市辖区")
    picker.get_by_label("District or county").select_option(label="徐汇区")
    assert _posted(page, "region") == ["310104"]
    nature = page.locator("select[name=nature]")
    nature.select_option(label="State-owned enterprise")
    assert "国有企业" not in nature.inner_text()
    shoot(page, "english", phone=True)
