"""A scanned table's text cell read only as far as its first characters tell which of the
template's texts it prints.

Most of a table's text is the template's own (本年制发件数, 一、本年新收政府信息公开申请数量,
未经复议直接起诉) and the recogniser's cost is the width of what it is given. A cell of one or two
text lines is about as many characters long as its lines' ink is wide over its height (a CJK
character is about square: `characters`); of the template's table texts, those of about that
length (Prefixes.length) are its candidates, and its first few characters (Prefixes.k) tell most
of them apart. A cell is read so (`plan`) only when that is well short of it (Prefixes.saving);
it is given the candidate's text as the template prints it when its start reads exactly as one
candidate's (`name`; variants of one label are one), else it is read whole: a text not the
template's, a start several candidates share, or one a character misread, costs a probe, never a
wrong label.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from nianbao.extract.pdf import scanprep
from nianbao.model.template import squash, template


@dataclass(frozen=True)
class Prefixes:
    # a candidate's characters between these shares of the characters a cell's ink is wide
    # (measured on headings: 0.79-0.96 on scans and photos)
    length: tuple[float, float] = (0.7, 1.15)
    k: int = 4  # characters read of a cell probed (本年新制 / 本年新公: the template's texts need four)
    saving: float = 0.65  # a cell is probed only when its probe is at most this share of it
    pitch: float = 1.14  # a character's width over its ink's height (the line's, measured alike)


PREFIXES = Prefixes()


@functools.cache
def texts() -> dict[str, str]:
    """The texts the template prints in its tables' cells, squashed (each variant of a label): the
    text as the template prints it (a variant, its label's first). Section 三's row labels
    numbered, its columns, groups and notes; section 四's proceedings and outcomes; section 二's
    items, metrics, header and the rows it ignores."""
    t = template().spec
    pairs = [(label, label) for _, label in t.applications.columns] + [(x, x) for x in t.applications.notes]
    pairs += [((d.number or "") + label, d.printed) for d in t.applications.rows for label in d.labels]
    pairs += [(g, g) for d in t.applications.rows for g in d.group]
    pairs += [(label, label) for _, label in t.reviews_litigation.proceedings + t.reviews_litigation.outcomes]
    pairs += [
        (label, m.labels[0]) for m in t.active_disclosure.items + t.active_disclosure.metrics for label in m.labels
    ]
    pairs += [(x, x) for x in (t.active_disclosure.header, *t.active_disclosure.ignore)]
    return {squash(x): printed for x, printed in pairs}


def characters(lines: list[np.ndarray]) -> float:
    """About how many characters a cell's text lines (as ocr._cell_lines crops them) print."""
    return sum(w / h for w, h, _ in map(_extent, lines))


def _extent(line: np.ndarray) -> tuple[int, int, int]:
    """A line image's ink: its width, its height, and the column it starts at."""
    ink = scanprep.ink(line)
    rows, cols = np.flatnonzero(ink.any(axis=1)), np.flatnonzero(ink.any(axis=0))
    if not len(rows):
        return 0, 1, 0
    return int(cols[-1] - cols[0] + 1), int(rows[-1] - rows[0] + 1), int(cols[0])


def _candidates(n: float) -> list[str]:
    lo, hi = PREFIXES.length
    return [s for s in texts() if lo * n <= len(s) <= hi * n]


def plan(lines: list[np.ndarray]) -> tuple[np.ndarray, int] | None:
    """For a cell of one or two text lines: its first line's start to read (its first `k`
    characters and a little white after) and `k`; None when it is to be read whole."""
    if not 1 <= len(lines) <= 2:
        return None
    n = characters(lines)
    k = PREFIXES.k
    if k > PREFIXES.saving * n or not _candidates(n):
        return None
    line = lines[0]
    w, h, x = _extent(line)
    pitch = PREFIXES.pitch * h
    end = x + k * pitch
    if end + 0.5 * pitch >= x + w:
        return None  # the first line is no longer than the probe
    # cut in the white between the k-th character and the next where there is some
    ink = scanprep.ink(line).any(axis=0)
    lo, hi = int(end - 0.15 * pitch), int(end + 0.35 * pitch)
    gaps = [c for c in range(lo, min(hi, line.shape[1])) if not ink[c]]
    cut = min(gaps, key=lambda c: abs(c - end)) if gaps else int(end + 0.3 * pitch)
    side = line[:, : max(x - 1, 1)]  # the white margin the line was given, on its right too
    return np.hstack([line[:, :cut], side]), k


def name(start: str, k: int, lines: list[np.ndarray]) -> str | None:
    """The template's text, as printed, of the cell whose probe of `k` characters read `start`:
    the one candidate of its length whose first `k` characters these are; else None."""
    s = _bare(start)[:k]  # a character cut in two after the k-th may read as anything
    if len(s) < k - 1:
        return None
    hits = {texts()[c] for c in _candidates(characters(lines)) if _bare(c).startswith(s)}
    return hits.pop() if len(hits) == 1 else None


def _bare(text: str) -> str:
    """Squashed, without 、 (which the recogniser loses from a probe's numbering: 四结转)."""
    return squash(text).replace("、", "")
