"""Which OCR readings may be published: decided after matching, where the template's sums are known.

A number read from a scan is kept only when its reading is confident AND the sums of the
template it takes part in (row totals, the 勾稽关系 balance, handled_total, section 四's totals:
the `sum` rules of template.toml, each judged only where all its cells were read) confirm it: at
least one holds, and each that does not holds a suspect of its own, a cell that no sum confirms or
that was read without confidence. A misread digit (0/8, 1/7, 5/6, 3/8) breaks every sum it is in,
so it is the suspect, and its row's and column's other cells, confirmed elsewhere, stay published.
A second misread cancelling it in one sum (25 printed under natural persons and in the row's
total, both read 15) leaves the other sums (the columns') broken with no suspect: both flagged.
Section 二's cells are in no sum: they need a far more confident reading instead. Any doubt
makes the cell `extraction.unread_cell` (error level: the report cannot be checked, the fault is
ours) with the reading in `observed`, and its value null. A sum the report itself gets wrong
therefore reads as unread cells too: from a scan we cannot tell the agency's slip from our
misreading, so we do not accuse it.
"""
from __future__ import annotations

from decimal import Decimal, InvalidOperation

from nianbao.document import Block, Table
from nianbao.findings import Finding
from nianbao.match import Cell, Matched, value_text
from nianbao.schema import CELL_KEYS
from nianbao.template import SumRule, squash, template

CONFIDENT = 0.5  # the least character probability for a reading that a sum confirms
CONFIDENT_ALONE = 0.97  # for a reading no sum can confirm (section 二)
_NOTHING = {"", "-", "—", "——", "－", "/", "／", "无", "\\", "--"}  # printed for no number: 0 in a sum
_DASHES = "-—－一_~―‐–"  # a dash as a scan reads it (一 too: in a cell of numbers it is a dash)
_SECTION = {"active_disclosure": "二", "applications": "三", "reviews_litigation": "四"}


def check(blocks: list[Block], matched: Matched) -> Matched:
    """Untrusted OCR cells of `matched` emptied and reported; an `extraction.ocr` warning on a
    report read by OCR. Nothing changes for a document read from its own text."""
    tables = [b for b in blocks if isinstance(b, Table) and b.confidence is not None]
    if not tables:
        return matched
    t = template()
    if not matched.reviews_litigation:  # section 四 not found: on a scan, unread rather than not printed
        matched.reviews_litigation = [Cell((p, o), None, "not found") for p in t.proceedings for o in t.outcomes]
    cells = {(d, c.key): c for d in CELL_KEYS for c in getattr(matched, d)}
    numbers = {k: _number(c.raw) for k, c in cells.items()}
    # a cell that lost its Reading on the way through the matcher has no confidence: never trusted
    confident = {k: getattr(c.raw, "confidence", 0.0) >= CONFIDENT for k, c in cells.items()}
    sums: dict[tuple, dict[str, list[tuple[list, bool | None]]]] = {}  # cell -> its sums by direction
    for left, right, direction in _sums(cells):
        values = [numbers.get(m) for m in left + right]
        # a sum with a cell unread (or not found) can neither confirm nor accuse: None
        holds = sum(values[:len(left)]) == sum(values[len(left):]) if None not in values else None
        for m in left + right:
            sums.setdefault(m, {}).setdefault(direction, []).append((left + right, holds))
    # a suspect: a cell no sum confirms, or read without confidence; a sum it breaks accuses only it
    suspect = {k for k, by in sums.items() if not confident[k] or not any(h for s in by.values() for _, h in s)}
    summed = {r.dataset for r in t.rules if isinstance(r, SumRule)}
    doubted = 0
    for k, cell in cells.items():
        name = f"{k[0]}:{k[1][0]}/{k[1][1]}"
        if cell.raw is None:  # a row not found: on a scan, more likely unread than not printed
            doubted += 1
            cell.unread = True
            matched.findings.append(Finding(
                "extraction.unread_cell", "error", f"section {_SECTION[k[0]]} cell {name} was not found in the scan",
                [name], "a reading the template's sums confirm", None))
            continue
        reading, confidence = str(cell.raw), getattr(cell.raw, "confidence", 0.0)
        checks = sums.get(k)
        # confirmed along each direction it sums in (its row's total, its column's): a sum breaking
        # holds another suspect; one that cannot be judged confirms nothing
        trusted = (k not in suspect and all(any(h or (h is False and any(m in suspect for m in members if m != k))
                                                for members, h in s) for s in checks.values())) if checks else \
            k[0] not in summed and confidence >= CONFIDENT_ALONE
        if trusted and numbers[k] is not None:
            cell.raw = reading
            continue
        doubted += 1
        cell.raw, cell.unread = None, True  # ours, not the report's blank: cells.complete leaves it alone
        why = ("no sum of the template confirms it" if not checks else "the reading is not confident"
               if not confident[k] else "no sum it is in adds up as read" if k in suspect else
               "its row's or its column's sums do not confirm it (a cell of them unread, or none to blame)")
        matched.findings.append(Finding(
            "extraction.unread_cell", "error",
            f"section {_SECTION[k[0]]} cell {name} ({cell.where}) read by OCR as {reading!r} with confidence "
            f"{confidence:.2f}; not published: {why}", [name], "a reading the template's sums confirm", reading))
    pages = sorted({w for t in tables for w in t.where}, key=lambda w: int(w.split()[-1]))
    matched.findings.append(Finding(
        "extraction.ocr", "warning",
        f"a scan, read by OCR ({', '.join(pages)}); {doubted} of {len(cells)} cells not trusted", []))
    return matched


def _number(raw: str | None) -> Decimal | None:
    """A cell's number for the sums: a placeholder or blank counts 0, anything else unread None."""
    if raw is None:
        return None
    if squash(raw) in _NOTHING or not squash(raw).strip(_DASHES):
        return Decimal(0)
    s = value_text(raw)
    try:
        return Decimal(s) if s else None
    except InvalidOperation:
        return None


def _sums(cells) -> list[tuple[list, list, str]]:
    """Each instance of the template's sum rules as (left cells, right cells, direction): the
    direction is the rule's `per`, so a row's total and a column's sums are told apart."""
    t = template()
    out = []
    for rule in t.rules:
        if not isinstance(rule, SumRule):
            continue
        dataset, along, per = rule.dataset, rule.along, rule.per
        first = CELL_KEYS[dataset][0] == along  # the rule's codes name the first part of a cell's key
        for p in sorted({k[1 if first else 0] for d, k in cells if d == dataset}):
            key = (lambda code: (dataset, (code, p))) if first else (lambda code: (dataset, (p, code)))
            # "@result" means the result rows the report prints; a row it does not print is absent
            left, right = rule.sides(printed={c for c in t.result_rows if key(c) in cells})
            out.append(([key(c) for c in left], [key(c) for c in right], per))
    return out
