"""Reading a record id out of text that a person or a client typed.

`str.isdigit()` is true for "¹" and "٣" too, and `int()` then fails on some of them or yields a number no
column can hold: a search box answered 500. Every place that turns typed text into an id uses `parse_id`.
"""

from __future__ import annotations

import re

_ASCII_DIGITS = re.compile(r"[0-9]{1,19}")  # PostgreSQL's bigint (every id column) has 19 digits at most
MAX_ID = 2**63 - 1


def parse_id(text: str | int | None) -> int | None:
    """The positive id that `text` spells in ASCII digits, else None (never raises)."""
    if isinstance(text, int):
        return text if 0 < text <= MAX_ID else None
    if text is None or not _ASCII_DIGITS.fullmatch(text):
        return None
    value = int(text)
    return value if 0 < value <= MAX_ID else None
