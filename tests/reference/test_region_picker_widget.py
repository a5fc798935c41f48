"""The RegionPicker widget: the plain select (what works without scripts) inside the
picker's wrapper, with the saved value selected, on every region field."""

import pytest
from django import forms
from django.urls import reverse

from agreements.registrations.forms import RegistrationForm
from destreg.reference.models import Region
from destreg.reference.regions import region_tree
from destreg.reference.widgets import RegionPicker
from employers.forms import EmployerRegistrationForm
from students.forms import ImportRequestForm, UpdateRequestForm


class PlaceForm(forms.Form):
    place = forms.ModelChoiceField(
        Region.objects.filter(level__gte=Region.Level.CITY), widget=RegionPicker()
    )


def test_it_renders_the_plain_select_with_the_saved_value_selected(reference_data):
    html = str(PlaceForm(initial={"place": "440305"})["place"])
    assert "data-region-picker" in html
    assert f'data-regions-url="{reverse("reference:regions")}?v={region_tree().version}"' in html
    assert '<select name="place"' in html
    assert '<option value="440305" selected>' in html
    assert html.count(" selected>") == 1
    assert 'src="/static/js/region-picker.js" defer' in html


def test_a_bound_form_shows_what_was_posted(reference_data):
    form = PlaceForm(data={"place": "110108"})
    assert form.is_valid()
    assert form.cleaned_data["place"].code == "110108"
    assert '<option value="110108" selected>' in str(form["place"])


def test_an_invalid_field_marks_the_wrapper_so_its_error_shows(reference_data):
    form = PlaceForm(data={"place": ""})
    assert not form.is_valid()
    html = str(form["place"].as_widget(attrs={"class": "form-select is-invalid"}))
    assert 'class="region-picker is-invalid"' in html


def test_the_labels_follow_the_language(reference_data):
    from django.utils import translation

    with translation.override("en"):
        english = str(PlaceForm()["place"])
    with translation.override("zh-hans"):
        chinese = str(PlaceForm()["place"])
    assert 'data-label-province="Province"' in english
    assert 'data-label-county="District or county"' in english
    assert 'data-label-province="省份"' in chinese
    assert 'data-label-county="区县"' in chinese


def test_every_region_field_uses_the_picker(world, student):
    fields = [
        EmployerRegistrationForm().fields["region"],
        ImportRequestForm(school=world.school_a).fields["origin_region"],
        UpdateRequestForm(record=student.record).fields["origin_region"],
        RegistrationForm(path="offline").fields["unit_region"],
        RegistrationForm(path="paper").fields["unit_region"],
    ]
    for field in fields:
        assert isinstance(field.widget, RegionPicker)


def test_editing_a_saved_registration_shows_its_region(client, student):
    from agreements.models import Registration

    client.force_login(student.user)
    response = client.post(
        reverse("agreements:registration_new", args=["offline"]),
        {"action": "draft", "unit_name": "深圳测试公司", "unit_region": "440305"},
    )
    assert response.status_code == 302
    item = Registration.objects.get(student=student)
    assert item.unit_region_id == "440305"
    page = client.get(reverse("agreements:registration_edit", args=[item.pk])).content.decode()
    assert "data-region-picker" in page
    assert '<option value="440305" selected>' in page


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_the_update_request_form_starts_from_the_records_region(student, language):
    from django.utils import translation

    with translation.override(language):
        html = str(UpdateRequestForm(record=student.record)["origin_region"])
    assert f'<option value="{student.record.origin_region_id}" selected>' in html
