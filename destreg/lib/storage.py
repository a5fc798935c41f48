"""Media storage that fails cleanly: a full or broken disk leaves no partial file behind
and tells the user, in their language, that nothing was saved."""

import contextlib
import logging
import os
import uuid

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
    """FileSystemStorage that writes each file under a private temporary name and gives it
    its real name only once complete. A full or failing disk leaves nothing behind (the
    partial file is ours alone to remove), and nobody ever reads half a file. Needs a file
    system with hard links (local disks and NFS have them)."""

    def _save(self, name, content):
        partial = f"{name}.partial-{uuid.uuid4().hex}"
        try:
            written = super()._save(partial, content)  # type: ignore[misc]  # not in django-stubs
            while True:
                try:
                    os.link(self.path(written), self.path(name))  # refuses a taken name
                    break
                except FileExistsError:
                    name = self.get_available_name(name)
        except OSError as error:
            logger.error("could not store %s in media: %s", name, error)
            with contextlib.suppress(OSError):
                os.remove(self.path(partial))
            raise StorageUnavailable() from error
        os.remove(self.path(written))
        return name
