"""Which OCR readings may be published: decided after matching, where the template's sums are known.

A number read from a scan is kept only when its reading is confident AND the sums of the
template it takes part in (row totals, the 勾稽关系 balance, handled_total, section 四's totals:
the `sum` rules of template.toml) confirm it: at least one holds, and each that does not holds a suspect of its own, a cell that no sum confirms or
that was read without confidence. A misread digit (0/8, 1/7, 5/6, 3/8) breaks every sum it is in,
so it is the suspect, and its row's and column's other cells, confirmed elsewhere, stay published.
A second misread cancelling it in one sum (25 printed under natural persons and in the row's
total, both read 15) leaves the other sums (the columns') broken with no suspect: both flagged.
A cell read as no number does not leave its sums unjudged: the others of a sum tell its value
(never published) for its other sums to be judged with.
Section 二's cells are in no sum: they need a far more confident reading instead. Any doubt
makes the cell `extraction.unread_cell` (error level: the report cannot be checked, the fault is
ours) with the reading in `observed`, and its value null. A sum the report itself gets wrong
therefore reads as unread cells too: from a scan we cannot tell the agency's slip from our
misreading, so we do not accuse it.
A text layer's cells are as printed, but for the numbers an unruled table printed in pieces on two
lines that the extractor joined (Joined): one that breaks a sum while none confirms it is ours too.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from nianbao.interpret.match import NOT_PRINTED, Matched, value_text
from nianbao.interpret.normalise import number
from nianbao.model.chinese import DASHES
from nianbao.model.document import CONFIDENCE, Block, Joined, Table
from nianbao.model.findings import Finding
from nianbao.model.schema import CELL_KEYS
from nianbao.model.template import SumRule, squash, template

_NOTHING = {"", "-", "—", "——", "－", "/", "／", "无", "\\", "--"}  # printed for no number: 0 in a sum


def check(blocks: list[Block], matched: Matched) -> Matched:
    """Untrusted OCR cells of `matched` emptied and reported; an `extraction.ocr` warning on a
    report read by OCR. For a document read from its own text, only its refuted joins (_joins)."""
    tables = [b for b in blocks if isinstance(b, Table) and b.confidence is not None]
    if not tables:
        return _joins(matched)
    t = template()
    # a section or row not found in a scan is more likely unread than not printed: ours, not sections.complete
    for c in (c for d in CELL_KEYS for c in getattr(matched, d) if c.where == NOT_PRINTED):
        c.where = "not found"
    cells = {(d, c.key): c for d in CELL_KEYS for c in getattr(matched, d)}
    numbers = {k: _number(c.raw) for k, c in cells.items()}
    # a cell that lost its Reading on the way through the matcher has no confidence: never trusted
    confidence = {k: getattr(c.raw, "confidence", 0.0) for k, c in cells.items()}
    sums = _sums(cells)
    trusted, judged = _confirmed(sums, numbers, confidence)
    summed = {r.dataset for r in t.rules if isinstance(r, SumRule)}
    doubted = 0
    for k, cell in cells.items():
        name = f"{k[0]}:{k[1][0]}/{k[1][1]}"
        if cell.raw is None:  # a row not found: on a scan, more likely unread than not printed
            doubted += 1
            cell.unread = True
            matched.findings.append(
                Finding.of(
                    "extraction.unread_cell",
                    f"section {t.sections[k[0]][0]} cell {name} was not found in the scan",
                    [name],
                    "a reading the template's sums confirm",
                    None,
                )
            )
            continue
        reading = str(cell.raw)
        checks = judged.get(k)  # why no sum confirms it ('' when one does); None when in none
        # section 二's cells are in no sum: a far more confident reading instead
        ok = k in trusted if checks is not None else k[0] not in summed and confidence[k] >= CONFIDENCE.alone
        if ok and numbers[k] is not None:
            cell.raw = reading
            continue
        doubted += 1
        cell.raw, cell.unread = None, True  # ours, not the report's blank: cells.complete leaves it alone
        why = "no sum of the template confirms it" if checks is None else checks
        matched.findings.append(
            Finding.of(
                "extraction.unread_cell",
                f"section {t.sections[k[0]][0]} cell {name} ({cell.where}) read by OCR as {reading!r} with confidence "
                f"{confidence[k]:.2f}; not published: {why}",
                [name],
                "a reading the template's sums confirm",
                reading,
            )
        )
    pages = sorted({w for t in tables for w in t.where}, key=lambda w: int(w.split()[-1]))
    matched.findings.append(
        Finding.of(
            "extraction.ocr",
            f"a scan, read by OCR ({', '.join(pages)}); {doubted} of {len(cells)} cells not trusted",
            [],
        )
    )
    return matched


def _joins(matched: Matched) -> Matched:
    """A number the extractor joined from pieces on two lines (a Joined: a tail wrapped in its
    narrow column, or carried atop the next page) that no sum it is in confirms while one breaks
    as read: ours (extraction.unread_cell, its value null), not the report's fault, since the
    pieces may have been two cells. A sum confirms it by holding; one with a blank, a
    placeholder or an unread cell tells nothing (the rules leave such sums unjudged too)."""
    cells = {(d, c.key): c for d in CELL_KEYS for c in getattr(matched, d)}
    joined = [k for k, c in cells.items() if isinstance(c.raw, Joined)]
    if not joined:
        return matched
    numbers = {k: None if c.unread else number(c.raw) for k, c in cells.items()}
    holds: dict[tuple, list[bool]] = {}
    for left, right, _ in _sums(cells):
        values = [numbers.get(m) for m in left + right]
        if None not in values:
            for m in left + right:
                holds.setdefault(m, []).append(sum(values[: len(left)]) == sum(values[len(left) :]))
    t = template()
    for k in joined:
        cell, name = cells[k], f"{k[0]}:{k[1][0]}/{k[1][1]}"
        if any(holds.get(k, [True])):
            cell.raw = str(cell.raw)  # a plain string on to the warehouse
            continue
        matched.findings.append(
            Finding.of(
                "extraction.unread_cell",
                f"section {t.sections[k[0]][0]} cell {name} ({cell.where}) printed in pieces on two lines, read "
                f"joined as {str(cell.raw)!r}: not published, no sum it is in adds up with it (the pieces may be "
                f"two cells)",
                [name],
                "a number the template's sums confirm",
                str(cell.raw),
            )
        )
        cell.raw, cell.unread = None, True
    return matched


def _number(raw: str | None) -> Decimal | None:
    """A cell's number for the sums: a placeholder or blank counts 0, anything else unread None."""
    if raw is None:
        return None
    if squash(raw) in _NOTHING or not squash(raw).strip(DASHES):
        return Decimal(0)
    s = value_text(raw)
    try:
        return Decimal(s) if s else None
    except InvalidOperation:
        return None


def _confirmed(sums: list[tuple[list, list, str]], numbers: dict, confidence: dict) -> tuple[set, dict]:
    """The cells the sums confirm, and for every cell in a sum why it is not ("" when it is).

    A confident reading is confirmed along a direction (its row's total, its column's sums) by a
    sum of that direction that holds, or that breaks holding a suspect of its own (a cell read
    without confidence, or that no sum confirms); it is trusted when confirmed along every
    direction it sums in. A cell read as no number ('Z' for a ／, a row not found) would leave
    every sum it is in unjudged, and so its whole row and column unconfirmed: the sums it is the
    only unknown of tell its value instead, round after round (a told value lets another sum tell
    the next), and that value stands in for it in its other sums, never in the one that told it.
    Sums telling different values tell nothing. The told value is never published (it was not
    read): it only lets the cells around it be judged."""
    members = [left + right for left, right, _ in sums]
    where: dict[tuple, dict[str, list[int]]] = {}  # cell -> its sums by direction
    for i, (_, _, direction) in enumerate(sums):
        for m in members[i]:
            where.setdefault(m, {}).setdefault(direction, []).append(i)
    sure = lambda k: numbers.get(k) is not None and confidence.get(k, 0.0) >= CONFIDENCE.summed

    def settle(told: dict) -> dict:
        """Each cell's directions confirmed; a suspect's none."""

        def value(m, i, k):  # m's value in sum i, judging k: k's own reading, a told value for the others
            return told[m][0] if m != k and m in told and told[m][1] - {i} else numbers.get(m)

        def holds(i, k) -> bool | None:  # None: a cell of it unread, it neither confirms nor accuses
            values = [value(m, i, k) for m in members[i]]
            n = len(sums[i][0])
            return None if None in values else sum(values[:n]) == sum(values[n:])

        status = {(i, k): holds(i, k) for k, by in where.items() for ids in by.values() for i in ids}
        suspect = {
            k for k, by in where.items() if not sure(k) or not any(status[i, k] for ids in by.values() for i in ids)
        }
        # a broken sum confirms k when another cell of it, read (not told), is a suspect to blame
        blamed = lambda i, k: any(m != k and m in suspect and not (m in told and told[m][1] - {i}) for m in members[i])
        return {
            k: set()
            if k in suspect
            else {
                d for d, ids in by.items() if any(status[i, k] or (status[i, k] is False and blamed(i, k)) for i in ids)
            }
            for k, by in where.items()
        }

    def tell(told: dict) -> dict:
        """Values the sums tell for cells read as no number: from each sum where it is the only
        one, the others as read or told; with the sums that tell it (none if they disagree)."""
        out: dict = {}
        clash = set()
        for i, (left, right, _) in enumerate(sums):
            known = lambda m: told[m][0] if m in told and told[m][1] - {i} else numbers.get(m)
            for m in members[i]:
                if numbers.get(m) is not None or any(known(x) is None for x in members[i] if x != m):
                    continue
                v = sum(known(x) for x in right if x != m) - sum(known(x) for x in left if x != m)
                v = v if m in left else -v
                if v < 0 or m in out and out[m][0] != v:
                    clash.add(m)
                else:
                    out[m] = (v, out.get(m, (v, set()))[1] | {i})
        return {m: t for m, t in out.items() if m not in clash}

    told: dict = {}
    for _ in range(20):
        again = tell(told)
        if again == told:
            break
        told = again
    else:
        told = {}  # no fixpoint (never seen): the sums as read alone
    confirmed = settle(told)
    trusted = {k for k, ds in confirmed.items() if sure(k) and ds == where[k].keys()}
    why = {
        k: ""
        if k in trusted
        else (f"it is no number (its sums make it {told[k][0]})" if k in told else "it is no number")
        if numbers.get(k) is None
        else "the reading is not confident"
        if not sure(k)
        else "no sum it is in adds up as read"
        if not confirmed[k]
        else "its row's or its column's sums do not confirm it (a cell of them unread, or none to blame)"
        for k in where
    }
    return trusted, why


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
