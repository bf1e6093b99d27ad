"""The format-blind representation every extractor produces and the matcher reads."""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Paragraph:
    text: str
    where: str  # e.g. "line 12" or "page 2"


@dataclass
class Table:
    """Rows of cell strings, merged cells expanded (a spanned position repeats nothing: "")."""

    rows: list[list[str]] = field(default_factory=list)
    where: list[str] = field(default_factory=list)  # one location per row, for messages
    # What the extractor could not settle, for the matcher to report as `extraction.<kind>`
    # warnings: (kind, message, cells named dataset:row/column).
    notes: list[tuple[str, str, list[str]]] = field(default_factory=list)


Block = Paragraph | Table


class Unreadable(Exception):
    """The document cannot yield template tables; the message is the reason operators see."""
