"""Media storage that fails cleanly: a full or broken disk leaves no partial file behind
and tells the user, in their language, that nothing was saved."""

import contextlib
import logging
import os

from django.core.exceptions import ValidationError
from django.core.files.storage import FileSystemStorage
from django.utils.translation import gettext_lazy as _

logger = logging.getLogger(__name__)


class StorageUnavailable(ValidationError):
    """The file could not be written (disk full, read-only, I/O error).

    A ValidationError, so every form that saves through a service shows it as the reason
    nothing was saved and keeps what was typed; the service's transaction rolls back.
    Raised outside a form (the PDF worker), it fails the task, which is retried later.
    """

    def __init__(self):
        super().__init__(
            _(
                "The file could not be stored because the server's storage is full or "
                "unavailable. Nothing was saved; please try again later."
            ),
            code="storage",
        )


class MediaStorage(FileSystemStorage):
    """FileSystemStorage that removes what it wrote when writing fails."""

    def _save(self, name, content):
        existed = self.exists(name)
        try:
            return super()._save(name, content)  # type: ignore[misc]  # not in django-stubs
        except OSError as error:
            logger.error("could not store %s in media: %s", name, error)
            if not existed:  # a file of ours, half-written
                with contextlib.suppress(OSError):
                    os.remove(self.path(name))
            raise StorageUnavailable() from error
