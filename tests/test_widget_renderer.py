"""The form renderer draws Django's widgets with Jinja2 (destreg/lib/renderers.py): the
markup must be what Django's own templates draw (blank lines between tags aside), and the
admin's widgets, which exist only as Django templates, must still render."""

import inspect
import re

import pytest
from django import forms
from django.forms.renderers import DjangoTemplates
from django.urls import reverse

from agreements import forms as agreement_forms
from destreg.lib.renderers import WidgetRenderer
from employers import forms as employer_forms
from reviews import forms as review_forms
from students import forms as student_forms


def project_forms():
    for module in (agreement_forms, employer_forms, review_forms, student_forms):
        for _name, form_class in inspect.getmembers(module, inspect.isclass):
            if issubclass(form_class, forms.BaseForm) and form_class.__module__ == module.__name__:
                yield form_class


def markup(html: str) -> str:
    return re.sub(r">\s+<", "><", html.strip())


@pytest.mark.parametrize("form_class", list(project_forms()), ids=lambda cls: cls.__name__)
def test_every_widget_renders_as_django_templates_would(world, student, form_class):
    arguments = {"school": world.school_a, "record": student.record, "path": "other"}
    parameters = inspect.signature(form_class).parameters
    form = form_class(**{name: value for name, value in arguments.items() if name in parameters})
    assert isinstance(form.renderer, WidgetRenderer)
    for field in form:
        fast = field.as_widget()
        form.renderer = DjangoTemplates()
        assert markup(field.as_widget()) == markup(fast), field.name
        form.renderer = WidgetRenderer()


def test_the_admins_own_widgets_still_render(client, platform_admin, world):
    client.force_login(platform_admin)
    page = client.get(reverse("admin:reference_major_change", args=[world.major_a1.pk]))
    assert page.status_code == 200
    assert 'class="related-widget-wrapper"' in page.content.decode()
