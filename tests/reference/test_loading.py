import pytest

from destreg.reference.loading import load_codes, load_regions
from destreg.reference.models import Code, CodeTable, Region


@pytest.mark.django_db
def test_it_loads_official_codes_from_the_data_files():
    assert Code.objects.get(table=CodeTable.DESTINATION, code="10").name == "签就业协议形式就业"
    assert Code.objects.get(table=CodeTable.UNIT_NATURE, code="31").name == "国有企业"
    assert Code.objects.of(CodeTable.ETHNICITY).count() == 58
    assert Code.objects.get(table=CodeTable.ETHNICITY, code="56").name == "基诺族"
    assert Code.objects.get(table=CodeTable.POLITICAL_STATUS, code="13").name == "群众"


@pytest.mark.django_db
def test_regions_come_from_stdnum_with_current_names_and_parents():
    county = Region.objects.get(code="440305")
    assert county.name == "南山区"
    assert county.full_name == "广东省深圳市南山区"
    assert county.parent.code == "440300"
    assert county.parent.parent.code == "440000"
    # Abolished divisions are not offered: 崇文区 merged into 东城区 in 2010.
    assert not Region.objects.filter(code="110103").exists()


@pytest.mark.django_db
def test_loading_again_updates_in_place():
    Code.objects.filter(table=CodeTable.ETHNICITY, code="01").update(name="wrong")
    before = Code.objects.count(), Region.objects.count()
    load_codes()
    load_regions()
    assert Code.objects.get(table=CodeTable.ETHNICITY, code="01").name == "汉族"
    assert (Code.objects.count(), Region.objects.count()) == before
