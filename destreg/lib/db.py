"""Writes that a concurrent writer may beat to a unique value."""

from collections.abc import Iterator
from contextlib import contextmanager

from django.db import IntegrityError, transaction


@contextmanager
def refused_on_clash(refusal: Exception) -> Iterator[None]:
    """Run the block in a savepoint. When it breaks a unique constraint (someone wrote the
    same value since the caller checked), raise ``refusal`` instead of the IntegrityError;
    the caller's own transaction stays usable, so it can still roll back or go on."""
    try:
        with transaction.atomic():
            yield
    except IntegrityError:
        raise refusal from None
