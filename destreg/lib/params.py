"""Numbers and ids read from query strings, form values and files.

``str.isdigit()`` and ``int()`` accept far more than a browser's digits: ``'²'.isdigit()``
is true yet ``int('²')`` raises, and ``int('１')`` (full-width) and ``int('٣')``
(Arabic-Indic) succeed. A 30-digit id overflows SQLite's integers. Every view that reads
an id or a number itself, rather than through a form field, uses these, and treats
``None`` as "no such filter" or "no such item".
"""

from typing import Any

# Every id we hand out fits a signed 64-bit integer (at most 19 digits); 18 keeps any
# value parsed here below the limit without a comparison.
MAX_ID_DIGITS = 18


def parse_int(value: Any, *, max_digits: int = MAX_ID_DIGITS) -> int | None:
    """The non-negative integer spelled by ``value`` in ASCII digits only, or None."""
    if (
        isinstance(value, str)
        and 0 < len(value) <= max_digits
        and value.isascii()
        and value.isdigit()
    ):
        return int(value)
    return None


def parse_id(value: Any) -> int | None:
    """A database id (a positive integer) from a query string or form value, or None."""
    number = parse_int(value)
    return number if number else None
