"""Writes that a concurrent writer may beat to a unique value; a filter on many ids."""

from collections.abc import Iterable, Iterator
from contextlib import contextmanager

from django.db import IntegrityError, transaction
from django.db.models import F, Lookup
from django.db.models.lookups import In


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


class AnyOf(Lookup):
    """``column = ANY(%s)`` with the values as ONE array parameter on PostgreSQL (``IN``
    elsewhere). ``filter(student_id__in=ids)`` with thousands of ids builds, sends and
    parses one parameter per id each time, which costs more than the query itself when
    a loop runs it per chunk (the export, the import)."""

    lookup_name = "any_of"
    prepare_rhs = False

    def as_sql(self, compiler, connection):
        if connection.vendor != "postgresql":
            return In(self.lhs, self.rhs).as_sql(compiler, connection)
        lhs, lhs_params = self.process_lhs(compiler, connection)
        return f"{lhs} = ANY(%s)", [*lhs_params, list(self.rhs)]


def any_of(column: str, values: Iterable) -> AnyOf:
    """A filter: ``column`` (a field name) is one of ``values``. Use in ``.filter()``."""
    return AnyOf(F(column), list(values))
