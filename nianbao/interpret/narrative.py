"""What the narrative sections say: agency-wide figures stated in the text, and the text's passages
for measuring what was copied from the year before.

Copying is measured on passages of a few characters (shingles) with every number and punctuation
taken out, so that changing the year and the counts, or editing a word here and there, still
leaves a copy; passages that several agencies print the same year are the template's boilerplate
(computed from the corpus by nianbao/check/across.py) and count neither way.
"""

from __future__ import annotations

import re
from functools import cache

import numpy as np
import polars as pl

from nianbao.model.chinese import COUNTING, FIGURE_NUMERALS
from nianbao.model.template import squash, template

# Clause boundaries, as squash() leaves them (full-width comma, colon and semicolon become ASCII).
_CLAUSE_END = r"[,;:!?。、！？；，：()（）“”\"《》]"
_NUMBERING = rf"(?:\(?[{COUNTING}]{{1,3}}\)|[{COUNTING}]{{1,3}}、|\(?\d{{1,2}}\)|\d{{1,2}}[.、])"


@cache
def _headings() -> str:
    """A sub-heading of the text (（二）依申请公开情况), as a regex on squashed text."""
    conf = template().spec.narrative_figures
    words = "|".join(sorted(map(re.escape, conf.headings), key=len, reverse=True))
    return rf"{_NUMBERING}?(?:{words})(?:情况|工作)?"


@cache
def _figure_patterns() -> list[tuple[str, re.Pattern, list[list[str]]]]:
    conf = template().spec.narrative_figures
    scope = "|".join(sorted(map(re.escape, conf.scope), key=len, reverse=True))
    # a figure opens its clause: after punctuation or a line's end, a sub-heading, or a year
    start = rf"(?:(?:^|{_CLAUSE_END})(?:{_headings()})?|20\d\d年度?)"
    return [
        (f.code, re.compile(rf"{start}(?:{scope})*{f.pattern}"), [list(f.cells), *map(list, f.or_cells)])
        for f in conf.figures
    ]


def _joined(text: str) -> str:
    """The text squashed, a line break kept as a clause end where it ends a sentence or a heading
    (（二）依申请公开 on its own line), not where it only wraps a sentence."""
    lines = [s for s in map(squash, text.splitlines()) if s]
    heading = re.compile(rf"{_headings()}|{_NUMBERING}[^,;:!?。！？；，：]{{1,20}}")
    return "".join(
        line + ("" if re.search(rf"{_CLAUSE_END}$", line) or not heading.fullmatch(line) else "。") for line in lines
    )


def stated_figures(text: str) -> list[tuple[str, float, list[list[str]], str]]:
    """(figure code, the number stated, the table cells it sums (alternatives: 受理 N 件 may count
    the requests carried over too), the words stating it) for each agency-wide figure in the text.
    A clause about a part (其中…, 区政府办…受理…) is not one. The number is a float, as the cells'
    are: any number of digits reads (inf beyond 1e308)."""
    s = _joined(text)
    out = []
    for code, pattern, cells in _figure_patterns():
        for m in pattern.finditer(s):
            words = m.group(0).lstrip(',;:!?。、！？；，：()（）“”"《》')
            out.append((code, float(m.group(1)), cells, words))
    return out


def passages(texts: pl.Series, size: int, sample: int) -> pl.DataFrame:
    """(row, passage) for each text of `texts` (a passage printed twice is listed twice): hashes of its passages of `size` characters, every
    one starting at any character (shingles), so that an edited character changes only the few
    passages that hold it. The text is its Han characters, numerals and everything else taken out
    (a copy with the year and the counts changed is still a copy). One passage in `sample` is kept,
    chosen by its hash, so the same passages are kept in every report: the share a text has in
    common with another is estimated at a `sample`th of the cost."""
    norm = texts.str.replace_all(rf"[^\p{{Han}}]|[{FIGURE_NUMERALS}]", "").fill_null("")
    out = []
    chunk = 20_000  # texts hashed at once: memory stays in tens of MiB whatever the corpus
    for start in range(0, len(norm), chunk):
        part = norm.slice(start, chunk)
        joined = np.frombuffer(part.str.join("\0").item().encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
        n = len(joined) - size + 1
        if n <= 0:
            continue
        h = np.zeros(n, dtype=np.uint64)
        for j in range(size):  # a polynomial hash of each window (uint64 wraps around)
            h = h * np.uint64(0x100000001B3) + joined[j : n + j]
        h ^= h >> np.uint64(33)  # mixed, so that keeping h % sample == 0 is a fair sample
        h *= np.uint64(0xFF51AFD7ED558CCD)
        h ^= h >> np.uint64(33)
        keep = h % np.uint64(sample) == 0
        for z in np.flatnonzero(joined == 0):  # no window spans two texts
            keep[max(0, z - size + 1) : z + 1] = False
        ends = np.cumsum(part.str.len_chars().to_numpy() + 1)
        rows = np.searchsorted(ends, np.nonzero(keep)[0], side="right") + start
        out.append(pl.DataFrame({"row": rows.astype(np.uint32), "passage": h[keep]}))
    if not out:
        return pl.DataFrame(schema={"row": pl.UInt32, "passage": pl.UInt64})
    return pl.concat(out)
