"""``makemessages`` that reads the Jinja2 page templates.

Django's own command reads templates as Django templates, so it would find none of the
``_("…")`` calls and ``{% trans %}`` blocks in ``templates/``. For those files, this one
hands xgettext the calls Jinja2 itself extracts, each on its template line.
"""

from pathlib import Path

from django.core.management.commands import makemessages
from django.template import engines
from django.utils.functional import cached_property


def python_calls(source: str) -> str:
    """The template's translation calls as Python, one template line per line."""
    env = engines["jinja2"].env  # type: ignore[attr-defined]  # the Jinja2 engine's
    lines = [""] * (source.count("\n") + 1)
    for lineno, function, message in env.extract_translations(source):
        arguments = message if isinstance(message, tuple) else (message,)
        lines[lineno - 1] += f"{function}({', '.join(map(repr, arguments))}); "
    return "\n".join(lines)


class BuildFile(makemessages.BuildFile):
    @cached_property
    def is_jinja2(self) -> bool:
        path = Path(self.path).resolve()
        directories = engines["jinja2"].template_dirs
        return any(path.is_relative_to(Path(directory).resolve()) for directory in directories)

    def preprocess(self):
        if not (self.is_templatized and self.is_jinja2):
            return super().preprocess()
        source = Path(self.path).read_text(encoding="utf-8")
        Path(self.work_path).write_text(python_calls(source), encoding="utf-8")


class Command(makemessages.Command):
    build_file_class = BuildFile
