"""Code-table values in the language of the page: Chinese by default, English names in
the English interface; official documents stay Chinese."""

import csv

import pytest
from django import forms
from django.urls import reverse
from django.utils import translation

from destreg.reference.loading import DATA_DIR, english_names, load_codes
from destreg.reference.models import Code, CodeTable

# GB 3304 order (codes 01 … 56).
ETHNIC_GROUPS_EN = [
    "Han", "Mongolian", "Hui", "Tibetan", "Uygur", "Miao", "Yi", "Zhuang", "Bouyei", "Korean",
    "Manchu", "Dong", "Yao", "Bai", "Tujia", "Hani", "Kazak", "Dai", "Li", "Lisu", "Va", "She",
    "Gaoshan", "Lahu", "Shui", "Dongxiang", "Naxi", "Jingpo", "Kirgiz", "Tu", "Daur", "Mulam",
    "Qiang", "Blang", "Salar", "Maonan", "Gelao", "Xibe", "Achang", "Pumi", "Tajik", "Nu",
    "Uzbek", "Russian", "Ewenki", "De'ang", "Bonan", "Yugur", "Jing", "Tatar", "Derung",
    "Oroqen", "Hezhen", "Monba", "Lhoba", "Jino",
]  # fmt: skip


def code(table, value) -> Code:
    return Code.objects.get(table=table, code=value)


def test_every_code_of_every_table_has_an_english_name(reference_data):
    for table in CodeTable:
        with (DATA_DIR / f"{table.value}.csv").open(encoding="utf-8", newline="") as handle:
            for row in csv.DictReader(handle):
                name_en = row["name_en"]
                assert name_en and name_en == name_en.strip(), (table, row["code"])
    # The database has them: the migration filled them in (the test database is migrated).
    assert not Code.objects.filter(name_en="").exists()


def test_the_56_ethnic_groups_have_their_english_names_in_code_order(reference_data):
    groups = Code.objects.of(CodeTable.ETHNICITY).exclude(code__in=["97", "98"]).order_by("code")
    assert [g.name_en for g in groups] == ETHNIC_GROUPS_EN
    assert len(set(ETHNIC_GROUPS_EN)) == 56
    assert code(CodeTable.ETHNICITY, "04").name == "藏族"


@pytest.mark.parametrize(
    ("table", "value", "chinese", "english"),
    [
        (CodeTable.UNIT_NATURE, "31", "国有企业", "State-owned enterprise"),
        (CodeTable.EDUCATION_LEVEL, "31", "本科生毕业", "Bachelor's graduate"),
        (CodeTable.ETHNICITY, "10", "朝鲜族", "Korean"),
        (CodeTable.POLITICAL_STATUS, "03", "共青团员",
         "Member of the Communist Youth League of China"),
        (CodeTable.DESTINATION, "80", "升学", "Further study"),
        (CodeTable.INDUSTRY, "I", "信息传输、软件和信息技术服务业",
         "Information transmission, software and information technology services"),
        (CodeTable.JOB_CATEGORY, "13", "工程技术人员", "Engineering and technical personnel"),
    ],
)  # fmt: skip
def test_a_code_shows_in_the_active_language(reference_data, table, value, chinese, english):
    item = code(table, value)
    with translation.override("zh-hans"):
        assert str(item) == item.display_name == chinese
    with translation.override("en"):
        assert str(item) == item.display_name == english
    assert item.name == chinese  # the official value itself never changes


def test_without_an_english_name_the_chinese_one_shows(reference_data):
    item = code(CodeTable.URBAN_RURAL, "1")
    item.name_en = ""
    with translation.override("en"):
        assert str(item) == "城镇"


def test_select_options_follow_the_language(reference_data):
    class NatureForm(forms.Form):
        nature = forms.ModelChoiceField(
            Code.objects.of(CodeTable.UNIT_NATURE), to_field_name="code"
        )

    with translation.override("en"):
        english = str(NatureForm()["nature"])
    with translation.override("zh-hans"):
        chinese = str(NatureForm()["nature"])
    assert '<option value="31">State-owned enterprise</option>' in english
    assert '<option value="31">国有企业</option>' in chinese


def test_pages_follow_the_language_cookie(client, employer_user, settings):
    client.force_login(employer_user)
    url = reverse("employers:home")
    assert "其他企业" in client.get(url).content.decode()  # unit nature 39, Chinese by default
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    page = client.get(url).content.decode()
    assert "Other enterprise" in page and "其他企业" not in page


def test_loading_fills_english_names_and_keeps_the_chinese(reference_data):
    Code.objects.filter(table=CodeTable.ETHNICITY, code="04").update(name_en="")
    load_codes()
    item = code(CodeTable.ETHNICITY, "04")
    assert (item.name, item.name_en) == ("藏族", "Tibetan")
    assert english_names()[("industry", "J")] == "Finance"


def test_the_agreement_stays_chinese_when_queued_from_an_english_page(signed):
    from agreements.pdf import canonical_content

    with translation.override("zh-hans"):
        chinese = canonical_content(signed)
    with translation.override("en"):
        assert canonical_content(signed) == chinese
        assert translation.get_language() == "en"  # the override ends with the call
    assert chinese["employer"]["nature"] == "其他企业"
    assert chinese["student"]["ethnicity"] == str(signed.student.record.ethnicity.name)


def test_the_export_stays_chinese_in_english(student):
    import io

    from reviews.exporting import write_csv
    from students.models import RegistryRecord

    def export() -> str:
        handle = io.BytesIO()
        write_csv(RegistryRecord.objects.all(), handle, progress=lambda n: None)
        return handle.getvalue().decode("utf-8-sig")

    with translation.override("zh-hans"):
        chinese = export()
    with translation.override("en"):
        assert export() == chinese
    assert student.record.ethnicity.name in chinese
