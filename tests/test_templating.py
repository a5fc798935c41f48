"""Pages, e-mails and the agreement PDF are Django templates: they must show values
localized, escape what users typed, translate, and ``manage.py makemessages`` must find
every message they show."""

import ast
import datetime
import re
from gettext import GNUTranslations
from pathlib import Path

import pytest
from django.conf import settings
from django.template import engines
from django.urls import reverse
from django.utils import translation
from django.utils.safestring import mark_safe
from django.utils.translation.template import templatize

TEMPLATES = Path(settings.BASE_DIR) / "templates"
TEMPLATE_NAMES = sorted(str(path.relative_to(TEMPLATES)) for path in TEMPLATES.rglob("*.*"))


def render(source: str, **context) -> str:
    return engines["django"].from_string(source).render(context)


@pytest.mark.parametrize("name", TEMPLATE_NAMES)
def test_every_template_compiles(name):
    engines["django"].get_template(name)


def test_values_are_localized_and_in_the_current_time_zone():
    signed = datetime.datetime(2026, 6, 30, 16, 30, tzinfo=datetime.UTC)
    with translation.override("zh-hans"):
        assert render('{{ at|date:"Y-m-d H:i" }}', at=signed) == "2026-07-01 00:30"
        assert render("{{ at }}", at=signed) == "2026年7月1日 00:30"
        assert render("{{ day }}", day=datetime.date(2026, 7, 1)) == "2026年7月1日"
    with translation.override("en"):
        assert render("{{ day }}", day=datetime.date(2026, 7, 1)) == "July 1, 2026"


def test_missing_values_render_empty():
    assert render("[{{ nothing }}][{{ nothing.at.all }}][{{ user.student.name }}]") == "[][][]"
    assert render('{{ value|default:"—" }}', value="") == "—"
    assert render("[{{ record.get_gender_display }}]", record=None) == "[]"
    assert render('[{{ record.signed_at|date:"Y-m-d" }}]', record=None) == "[]"


def test_translations_escape_what_the_user_typed():
    with translation.override("zh-hans"):
        assert render('{% load i18n %}{% translate "Sign in" %}') == "登录"
        html = render(
            "{% load i18n %}{% blocktranslate with name=name %}Hello, {{ name }}"
            "{% endblocktranslate %}",
            name="<b>小明</b>",
        )
    assert html == "&lt;b&gt;小明&lt;/b&gt;，您好"
    assert render("{{ text }}", text="<script>") == "&lt;script&gt;"
    assert render("{{ html }}", html=mark_safe("<em>ok</em>")) == "<em>ok</em>"


def test_badge_colours_the_state_and_escapes_the_label():
    assert render("{% load destreg %}{% badge 'signed' label %}", label="<签约成功>") == (
        '<span class="badge text-bg-success">&lt;签约成功&gt;</span>'
    )
    pending = render("{% load destreg %}{% badge 'college_review' '学院审核中' %}")
    assert "text-bg-warning" in pending


def test_get_looks_a_key_up_or_renders_empty():
    source = "{% load destreg %}[{{ states|get:7 }}][{{ states|get:8 }}][{{ nothing|get:7 }}]"
    assert render(source, states={7: "college_review"}) == "[college_review][][]"


def test_a_page_carries_one_csrf_token_in_all_its_forms(client, student):
    client.force_login(student.user)
    html = client.get(reverse("students:home")).content.decode()
    tokens = re.findall(r'name="csrfmiddlewaretoken" value="([^"]+)"', html)
    assert len(tokens) >= 2  # the language switch and signing out
    assert len(set(tokens)) == 1


def template_messages(name: str) -> set[str]:
    """The msgids ``makemessages`` reads from a template (Django's own templatize)."""
    source = (TEMPLATES / name).read_text(encoding="utf-8")
    python = templatize(source, origin=name)
    calls = re.findall(r"\b(?:gettext|ngettext)\(u?('(?:[^'\\]|\\.)*')", python)
    return {ast.literal_eval(quoted) for quoted in calls}


def translated_messages() -> set[str]:
    """The msgids of locale/zh_Hans with a translation (not fuzzy)."""
    po = Path(settings.BASE_DIR) / "locale/zh_Hans/LC_MESSAGES/django.po"
    messages = set()
    for entry in po.read_text(encoding="utf-8").split("\n\n"):
        if "#, fuzzy" in entry:
            continue
        fields: dict[str, str] = {}
        key = ""
        for line in entry.splitlines():
            match = re.match(r'(msgid|msgid_plural|msgstr(?:\[0\])?) (".*")$', line)
            if match:
                key = match.group(1)
                fields[key] = ast.literal_eval(match.group(2))
            elif line.startswith('"') and key:
                fields[key] += ast.literal_eval(line)
        translation_ = fields.get("msgstr", fields.get("msgstr[0]", ""))
        if fields.get("msgid") and translation_:
            messages.add(fields["msgid"])
    return messages


def test_every_template_message_is_in_the_catalogue():
    """makemessages reads the templates as Django templates: every message a template shows
    is in locale/zh_Hans and translated."""
    translated = translated_messages()
    found = set().union(*(template_messages(name) for name in TEMPLATE_NAMES))
    assert len(found) > 300
    assert found - translated == set()


def test_the_error_pages_render_without_a_request(rf):
    from django.views.defaults import server_error

    with translation.override("zh-hans"):
        response = server_error(rf.get("/"))
    assert response.status_code == 500
    assert "系统暂时出错" in response.content.decode()


def test_the_compiled_catalogue_has_every_translation_of_the_source():
    """locale/zh_Hans's .mo is compiled from its .po as committed: a merge that leaves the .po
    newer (or unreadable to msgfmt) shows the English text in a Chinese page."""
    mo = Path(settings.BASE_DIR) / "locale/zh_Hans/LC_MESSAGES/django.mo"
    with mo.open("rb") as file:
        catalogue = GNUTranslations(file)._catalog  # type: ignore[attr-defined]
    compiled = {key if isinstance(key, str) else key[0] for key in catalogue}
    assert translated_messages() - compiled == set()
