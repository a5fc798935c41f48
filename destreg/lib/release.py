"""Which release of the code is running, for the shared cache's keys.

The shared cache outlives a deploy, and what one release wrote there (pickled model rows,
dicts of figures) may not fit the next one's code. Every key carries the release
(``KEY_PREFIX`` in settings), so a new release never reads what an old one wrote; the old
entries simply expire.

``RELEASE`` may be set in the environment (a tag, a commit); left unset, it is a digest of
the code that is running, so it changes with every deploy without anyone remembering to
change it, and is the same on every app server running the same code.
"""

import hashlib
import re
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

# Everything whose change may change what is cached or how it unpickles: the app's Python
# code and the pinned libraries (Django's own model classes are pickled with the rows).
CODE_FOLDERS = ("destreg", "students", "employers", "agreements", "reviews")
LOCK_FILE = "requirements.lock"

# Cache keys must stay short and safe for any backend: no spaces, no control characters.
VALID_RELEASE = re.compile(r"[A-Za-z0-9._-]{1,40}")


def code_digest(root: Path) -> str:
    """12 hex digits that change whenever a Python file of the app or the lock file does.

    Reads every ``*.py`` under the app's folders (about 1 MB, a few milliseconds)."""
    digest = hashlib.sha256()
    files = [path for folder in CODE_FOLDERS for path in (root / folder).rglob("*.py")]
    files.append(root / LOCK_FILE)
    for path in sorted(files):
        if not path.is_file():
            continue
        digest.update(path.relative_to(root).as_posix().encode())
        digest.update(b"\0")
        digest.update(path.read_bytes())
        digest.update(b"\0")
    return digest.hexdigest()[:12]


def release(value: str, root: Path) -> str:
    """``value`` (the RELEASE variable) if set, checked; otherwise the code's digest."""
    if not value:
        return code_digest(root)
    if not VALID_RELEASE.fullmatch(value):
        raise ImproperlyConfigured(
            f"RELEASE must be 1-40 letters, digits, dots, dashes or underscores, got {value!r}"
        )
    return value
