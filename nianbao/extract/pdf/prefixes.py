"""A scanned table's text cell read only at its two ends when they tell which of the template's
texts it prints.

Most of a table's text is the template's own (本年制发件数, 一、本年新收政府信息公开申请数量,
未经复议直接起诉) and the recogniser's cost is the width of what it is given. A cell of one or two
text lines is about as many characters long as its lines' ink is wide over its height (a CJK
character is about square: `characters`); of the template's table texts, those of about that
length (Prefixes.length) are its candidates, and its first and last few characters (Prefixes.k)
tell most of them apart. A cell is read so (`plan`: its first line's start, its last line's end)
only when the two probes are well short of it (Prefixes.saving); it is given the candidate's text
as the template prints it when its start and its end read exactly as one candidate's (`name`;
variants of one label are one), else it is read whole: a text not the template's, a start several
candidates share, one a character misread, or an agency's label edited at its end (本年制发规范性
文件数) costs the probes, never a wrong label. Both ends and the length, as rowlabels.header tells
a tall header: what the start alone would name, an edited end (the text path's exact match would
not) would turn into the template's text.
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
    k: int = 4  # characters read at each end of a cell probed (本年新制 / 本年新公: the template's texts need four)
    saving: float = 0.65  # a cell is probed only when its two probes are at most this share of it
    pitch: float = 1.14  # a character's width over its ink's height (the line's, measured alike)


PREFIXES = Prefixes()


@functools.cache
def texts() -> dict[str, str]:
    """The texts the template prints in its tables' cells, squashed (each variant of a label): the
    text as the template prints it (a variant, its label's first). Section 三's row labels
    numbered, its columns, groups and notes; section 四's proceedings and outcomes; section 二's
    items, metrics (an amount's with its unit's note too), header and the rows it ignores."""
    t = template().spec
    pairs = [(label, label) for _, label in t.applications.columns] + [(x, x) for x in t.applications.notes]
    pairs += [((d.number or "") + label, d.printed) for d in t.applications.rows for label in d.labels]
    pairs += [(g, g) for d in t.applications.rows for g in d.group]
    pairs += [(label, label) for _, label in t.reviews_litigation.proceedings + t.reviews_litigation.outcomes]
    pairs += [
        (label, m.labels[0]) for m in t.active_disclosure.items + t.active_disclosure.metrics for label in m.labels
    ]
    pairs += [(x, x) for x in (t.active_disclosure.header, *t.active_disclosure.ignore)]
    # an amount's header with the note reports print after it (the matcher reads past a note)
    pairs += [(x, x) for m in t.active_disclosure.metrics if m.note for x in [m.labels[0] + m.note]]
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


def plan(lines: list[np.ndarray]) -> tuple[tuple[np.ndarray, np.ndarray], int] | None:
    """For a cell of one or two text lines: its first line's start and its last line's end to read
    (`k` characters each and a little white beside) and `k`; None when it is to be read whole."""
    if not 1 <= len(lines) <= 2:
        return None
    n = characters(lines)
    k = PREFIXES.k
    if 2 * k > PREFIXES.saving * n or not _candidates(n):
        return None
    start, end = _end(lines[0], k, first=True), _end(lines[-1], k, first=False)
    return None if start is None or end is None else ((start, end), k)


def _end(line: np.ndarray, k: int, first: bool) -> np.ndarray | None:
    """The line's first (last) `k` characters, cut in the white beside the next where there is
    some, with the white margin the line was given; None when the line is no longer than that."""
    w, h, x = _extent(line)
    pitch = PREFIXES.pitch * h
    if k * pitch + 0.5 * pitch >= w:
        return None
    at = x + k * pitch if first else x + w - k * pitch  # where the k characters end (begin)
    ink = scanprep.ink(line).any(axis=0)
    # a character cut in two beside the probe reads as anything: the cut stays in the white
    lo, hi = (
        (int(at - 0.15 * pitch), int(at + 0.35 * pitch)) if first else (int(at - 0.35 * pitch), int(at + 0.15 * pitch))
    )
    gaps = [c for c in range(max(lo, 0), min(hi, line.shape[1])) if not ink[c]]
    cut = min(gaps, key=lambda c: abs(c - at)) if gaps else int(at + (0.3 if first else -0.3) * pitch)
    side = line[:, : max(x - 1, 1)]  # the white margin the line was given, on its other side too
    return np.hstack([line[:, :cut], side]) if first else np.hstack([side, line[:, cut:]])


def name(start: str, end: str, k: int, lines: list[np.ndarray]) -> str | None:
    """The template's text, as printed, of the cell whose probes of `k` characters read `start`
    and `end`: the one candidate of its length whose first and last `k` characters these are; else
    None."""
    # a character cut in two beside a probe may read as anything, or as nothing
    head, tail = _bare(start)[:k], _bare(end)[-k:]
    if len(head) < k - 1 or len(tail) < k - 1:
        return None
    hits = {texts()[c] for c in _candidates(characters(lines)) if _bare(c).startswith(head) and _bare(c).endswith(tail)}
    return hits.pop() if len(hits) == 1 else None


def _bare(text: str) -> str:
    """Squashed, without 、 (which the recogniser loses from a probe's numbering: 四结转)."""
    return squash(text).replace("、", "")
