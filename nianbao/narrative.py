"""What the narrative sections say: agency-wide figures stated in the text, and the text's clauses
for measuring what was copied from the year before.

Copying is measured on clauses (text between Chinese punctuation) with every number and space
taken out, so that changing only the year and the counts still counts as a copy; clauses that
several agencies print the same year are the template's boilerplate (computed from the corpus by
nianbao/across.py) and count neither way.
"""
from __future__ import annotations

import re
from functools import cache

import polars as pl

from nianbao.chinese import FIGURE_NUMERALS
from nianbao.template import squash, template

# Clause boundaries, as squash() leaves them (full-width comma, colon and semicolon become ASCII).
_CLAUSE_END = r"[,;:!?。、！？；，：()（）“”\"《》]"


@cache
def _figure_patterns() -> list[tuple[str, re.Pattern, list[str]]]:
    conf = template().spec.narrative_figures
    scope = "|".join(sorted(map(re.escape, conf.scope), key=len, reverse=True))
    start = rf"(?:^|{_CLAUSE_END}|20\d\d年度?)"
    return [(f.code, re.compile(rf"{start}(?:{scope})*{f.pattern}"), list(f.cells)) for f in conf.figures]


def stated_figures(text: str) -> list[tuple[str, float, list[str], str]]:
    """(figure code, the number stated, the table cells it sums, the words stating it) for each
    agency-wide figure in the text. A clause about a part (其中…, 区政府办…受理…) is not one. The
    number is a float, as the cells' are: any number of digits reads (inf beyond 1e308)."""
    s = squash(text)
    out = []
    for code, pattern, cells in _figure_patterns():
        for m in pattern.finditer(s):
            words = m.group(0).lstrip(",;:!?。、！？；，：()（）“”\"《》")
            out.append((code, float(m.group(1)), cells, words))
    return out


def clauses(text: pl.Expr) -> pl.Expr:
    """The clauses of a text, numbers and spaces removed (a list per row). Full-width forms are
    listed rather than normalised: NFKC over a national year's text costs more than all the rest."""
    norm = text.str.replace_all(rf"[\s0-9０-９{FIGURE_NUMERALS}.%％]+", "")
    return norm.str.replace_all(_CLAUSE_END + "+", "\x1f").str.split("\x1f")
