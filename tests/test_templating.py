"""Pages are Jinja2 templates (destreg/lib/templating.py): they must show values, translate
and escape as the Django templates they replaced did, and makemessages must read them."""

import datetime
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.template import engines
from django.urls import clear_script_prefix, reverse, set_script_prefix
from django.utils import translation
from django.utils.safestring import mark_safe

from destreg.management.commands.makemessages import python_calls

TEMPLATES = Path(settings.BASE_DIR) / "templates"


def render(source: str, **context) -> str:
    return engines["jinja2"].from_string(source).render(context)


@pytest.mark.parametrize(
    "name", sorted(str(path.relative_to(TEMPLATES)) for path in TEMPLATES.rglob("*.*"))
)
def test_every_template_compiles(name):
    engines["jinja2"].get_template(name)


def test_values_are_localized_and_in_the_current_time_zone():
    signed = datetime.datetime(2026, 6, 30, 16, 30, tzinfo=datetime.UTC)
    with translation.override("zh-hans"):
        assert render("{{ at|date('Y-m-d H:i') }}", at=signed) == "2026-07-01 00:30"
        assert render("{{ at }}", at=signed) == "2026年7月1日 00:30"
        assert render("{{ day }}", day=datetime.date(2026, 7, 1)) == "2026年7月1日"
    with translation.override("en"):
        assert render("{{ day }}", day=datetime.date(2026, 7, 1)) == "July 1, 2026"


def test_missing_values_render_empty_as_in_django_templates():
    assert render("[{{ nothing }}][{{ nothing.at.all }}][{{ user.student.name }}]") == "[][][]"
    assert render("{{ value|default('—', true) }}", value="") == "—"


def test_translations_escape_what_the_user_typed():
    with translation.override("zh-hans"):
        assert render("{{ _('Sign in') }}") == "登录"
        html = render("{% trans name=name %}Hello, {{ name }}{% endtrans %}", name="<b>小明</b>")
    assert html == "&lt;b&gt;小明&lt;/b&gt;，您好"
    assert render("{{ text }}", text="<script>") == "&lt;script&gt;"
    assert render("{{ html }}", html=mark_safe("<em>ok</em>")) == "<em>ok</em>"


def test_badge_colours_the_state_and_escapes_the_label():
    assert render("{{ badge('signed', label) }}", label="<签约成功>") == (
        '<span class="badge text-bg-success">&lt;签约成功&gt;</span>'
    )
    assert "text-bg-warning" in render("{{ badge('college_review', '学院审核中') }}")


def test_urls_follow_the_script_prefix():
    assert render("{{ url('students:home') }}") == reverse("students:home")
    assert render("{{ url('agreements:agreement', 7) }}") == reverse(
        "agreements:agreement", args=[7]
    )
    link = render("{{ url('password_reset_confirm', uidb64='MQ', token='set-password') }}")
    assert link == reverse(
        "password_reset_confirm", kwargs={"uidb64": "MQ", "token": "set-password"}
    )
    set_script_prefix("/destreg/")
    try:
        assert render("{{ url('students:home') }}") == "/destreg/students/"
    finally:
        clear_script_prefix()
    assert render("{{ url('students:home') }}") == "/students/"


def test_a_page_carries_one_csrf_token_in_all_its_forms(client, student):
    client.force_login(student.user)
    html = client.get(reverse("students:home")).content.decode()
    tokens = re.findall(r'name="csrfmiddlewaretoken" value="([^"]+)"', html)
    assert len(tokens) >= 2  # the language switch and signing out
    assert len(set(tokens)) == 1


def test_makemessages_finds_every_kind_of_message_on_its_line():
    source = (
        "<h1>{{ _('Sign in') }}</h1>\n"
        "<p>{% trans name=user %}Hello, {{ name }}{% endtrans %}</p>\n"
        "{% trans count=n %}one day{% pluralize %}{{ count }} days{% endtrans %}\n"
    )
    lines = python_calls(source).split("\n")
    assert len(lines) == 4
    assert lines[0] == "_('Sign in'); "
    assert lines[1] == "gettext('Hello, %(name)s'); "
    assert lines[2] == "ngettext('one day', '%(count)s days', None); "


def test_calling_a_method_of_nothing_renders_empty():
    assert render("[{{ record.get_gender_display() }}]", record=None) == "[]"
    assert render("[{{ record.signed_at|date('Y-m-d') }}]", record=None) == "[]"
    assert render("[{{ nothing|timesince }}][{{ nothing|stringformat('.1f') }}]") == "[][]"
    assert render("[{{ request.get_full_path() }}]") == "[]"


def test_the_error_pages_render_without_a_request(rf):
    from django.views.defaults import server_error

    with translation.override("zh-hans"):
        response = server_error(rf.get("/"))
    assert response.status_code == 500
    assert "系统暂时出错" in response.content.decode()
