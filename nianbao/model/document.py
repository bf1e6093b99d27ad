"""The format-blind representation every extractor produces and the matcher reads."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from nianbao.model.template import squash

# A Word bookmark as text dumps of .docx print it ("[bookmark: _Toc1]"): markup, never text.
BOOKMARK = re.compile(r"\[bookmark: [^\]]*\]")


@dataclass
class Paragraph:
    text: str
    where: str  # e.g. "line 12" or "page 2"; PAGE_TITLE for the title a page's markup gives


PAGE_TITLE = "page title"  # an HTML page's <title>: metadata, not the report's text
NARRATIVE_UNREAD = "narrative unread"  # a scan's mark (its Paragraph's text empty): its narrative was not read


@dataclass
class Table:
    """Rows of cell strings, merged cells expanded (a spanned position repeats nothing: "")."""

    rows: list[list[str]] = field(default_factory=list)
    where: list[str] = field(default_factory=list)  # one location per row, for messages
    # What the extractor could not settle, for the matcher to report as `extraction.<kind>`
    # warnings: (kind, message, cells named dataset:row/column).
    notes: list[tuple[str, str, list[str]]] = field(default_factory=list)
    # OCR only: each cell's reading confidence (0..1), same shape as `rows`; None when the text
    # came from the document itself. nianbao.interpret.trust decides after matching which readings to keep.
    confidence: list[list[float]] | None = None


@dataclass(frozen=True)
class Confidence:
    """The least character probability for an OCR reading to be trusted (nianbao.interpret.trust;
    OCR reads a line again when its first reading falls under them)."""

    summed: float = 0.5  # for a reading that a sum confirms
    alone: float = 0.97  # for a reading no sum can confirm (section 二)


CONFIDENCE = Confidence()


class Reading(str):
    """An OCR'd cell's text that carries its confidence through the format-blind matcher (which
    only ever sees strings) to the trust step after it."""

    def __new__(cls, text: str, confidence: float):
        self = super().__new__(cls, text)
        self.confidence = confidence
        return self

    def __getnewargs__(self):
        return str(self), self.confidence

    def strip(self, chars=None) -> "Reading":
        return Reading(str.strip(self, chars), self.confidence)

    # pieces of a cell joined (a wrapped label, a number's tail) are as sure as the least sure
    def __add__(self, other: str) -> "Reading":
        return Reading(str(self) + other, min(self.confidence, getattr(other, "confidence", 1.0)))

    def __radd__(self, other: str) -> "Reading":
        return Reading(other + str(self), min(self.confidence, getattr(other, "confidence", 1.0)))


class Joined(str):
    """A number a table without rules printed in pieces on two lines (a tail wrapped in its narrow
    column, or carried atop the next page), joined by the extractor from where the pieces stand:
    a guess the template's sums must not refute (nianbao.interpret.trust) before a broken sum
    may blame the report for it."""

    def strip(self, chars=None) -> "Joined":
        return Joined(str.strip(self, chars))

    def __add__(self, other: str) -> "Joined":
        return Joined(str(self) + other)

    def __radd__(self, other: str) -> "Joined":
        return Joined(other + str(self))


def column_numbers(row: list[str]) -> bool:
    """A row that numbers the columns (1 2 3 4 5 …) under a header, as dumps and some forms print:
    never a row of values (1 + 2 + 3 + 4 is not 5: it would break its own total)."""
    values = [squash(c) for c in row if c.strip()]
    return len(values) >= 3 and values == [str(i) for i in range(1, len(values) + 1)]


Block = Paragraph | Table
