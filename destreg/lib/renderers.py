"""The form renderer: Django's own widget templates, rendered by Jinja2.

Every ``<select>`` renders one template per option, so a form page spent most of its time
in the Django template engine drawing widgets (the invitation form: about 60%). Django ships
the same widget templates for Jinja2, which renders them several times faster, markup
unchanged. Widget templates that exist only for Django templates (the admin's) are still
found there. Page and crispy layout templates are not affected.
"""

from django.forms.renderers import DjangoTemplates, Jinja2
from django.template import TemplateDoesNotExist
from django.utils.functional import cached_property


class WidgetRenderer(Jinja2):
    @cached_property
    def fallback(self) -> DjangoTemplates:
        return DjangoTemplates()

    def get_template(self, template_name):
        try:
            return super().get_template(template_name)
        except TemplateDoesNotExist:
            return self.fallback.get_template(template_name)
