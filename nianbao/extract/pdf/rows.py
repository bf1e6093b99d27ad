"""What table rows look like on any page, drawn or scanned: shared by the born-digital and OCR paths."""

from __future__ import annotations

import re

VALUE = re.compile(r"^[\d.,\s+-]+$")
PAGE_NUMBER = re.compile(r"^[-—－\s]*\d+[-—－\s]*$")


def continues(last: list[str], first: list[str]) -> bool:
    """`first` (top of a page) is the rest of `last` (bottom of the page before): same columns,
    text only, and blank where `last` printed its values."""
    if len(last) != len(first):
        return False
    values = [i for i, c in enumerate(last) if c.strip() and VALUE.match(c)]
    return (
        bool(values)
        and all(not first[i].strip() for i in values)
        and not any(VALUE.match(c) for c in first if c.strip())
    )
