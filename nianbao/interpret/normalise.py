"""Matched cells and metadata to tidy rows of the contract's datasets (see schema.py)."""

from __future__ import annotations

import math
from decimal import Decimal, InvalidOperation

from nianbao.interpret.match import Matched, value_text
from nianbao.model.schema import CELL_KEYS, value_bound

_Q = Decimal("0.000001")


def number(raw: str | None) -> Decimal | None:
    s = value_text(raw)
    if not s:
        return None
    try:
        return Decimal(s)
    except InvalidOperation:
        return None


def _count(n: Decimal) -> int | None:
    return int(n) if n == n.to_integral_value() else None


def _amount(n: Decimal) -> Decimal:
    return n.quantize(_Q)


def cell_rows(report_id: str, year: int | None, matched: Matched) -> dict[str, list[dict]]:
    """Rows of the four cell datasets; `number` is the parsed value the rules check (±inf where
    the number is beyond what the dataset's `value` column holds: its `value` is null) and `unread`
    marks a cell the extractor could not read (neither is published)."""
    out: dict[str, list[dict]] = {}
    for dataset, convert in (("active_disclosure", _amount), ("applications", _count), ("reviews_litigation", _count)):
        a, b = CELL_KEYS[dataset]
        limit = value_bound(dataset)[0] - _Q / 2  # rounded to the column's scale, it stays below the bound
        rows = []
        for cell in getattr(matched, dataset):
            n = number(cell.raw)
            fits = n is not None and abs(n) < limit
            rows.append(
                {
                    "report_id": report_id,
                    "year": year,
                    a: cell.key[0],
                    b: cell.key[1],
                    "value": convert(n) if fits else None,
                    "raw": cell.raw,
                    "number": None if n is None else float(n) if fits else math.copysign(math.inf, n),
                    "where": cell.where,
                    "unread": cell.unread,
                }
            )
        out[dataset] = rows
    out["narratives"] = [
        {"report_id": report_id, "year": year, "section": s, "text": t} for s, t in matched.narratives.items()
    ]
    return out
