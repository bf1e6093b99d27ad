"""The template matcher: format-blind blocks (paragraphs and tables) to contract codes.

It never sees the format. It reads rows of cell strings, finds the template's labels in them (as
defined in template.toml) and takes the cells beside them. Whatever it had to guess (a stray cell
dropped, a label matched approximately, a row missing) becomes an `extraction.*` finding. A cell the
report printed but that could not be read or placed is ours, not the report's: it is marked
`unread` (no value, and `cells.complete` leaves it alone) and named by an `extraction.unread_cell`
error with what was seen.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from nianbao.interpret.metadata import DATE, is_signer
from nianbao.model.chinese import HAN, UNITS
from nianbao.model.document import NARRATIVE_UNREAD, PAGE_TITLE, Block, Paragraph, Reading, Table, column_numbers
from nianbao.model.errors import Unreadable
from nianbao.model.findings import Finding
from nianbao.model.template import Label, find, find_approximate, split_numbering, squash, template

_NUMBER = re.compile(r"^[+-]?\d+(\.\d+)?$")
_PLACEHOLDERS = {"-", "—", "——", "－", "/", "／", "无", "\\", "*", "×", "--"}
NOT_PRINTED = "not printed"  # where a template cell stands that the report does not print (sections.complete)


@dataclass
class Cell:
    key: tuple[str, str]  # (row code, column code) in the dataset's terms
    raw: str | None  # the text as printed; None where the report printed no such cell
    where: str
    unread: bool = False  # printed, but the extractor or the matcher could not read or place it


@dataclass
class Matched:
    active_disclosure: list[Cell] = field(default_factory=list)
    applications: list[Cell] = field(default_factory=list)
    reviews_litigation: list[Cell] = field(default_factory=list)
    narratives: dict[str, str] = field(default_factory=dict)
    paragraphs: list[str] = field(default_factory=list)
    page_title: str | None = None  # the title the markup gives (HTML <title>), for the year
    findings: list[Finding] = field(default_factory=list)
    template_version: str = "unknown"


def value_text(raw: str | None) -> str:
    """The numeric reading of a cell: no separators, units or padding; '' when there is none."""
    s = squash(raw or "").replace(",", "")
    s = re.sub(rf"({UNITS})$", "", s)
    return s if _NUMBER.match(s) else ""


def is_value_like(raw: str) -> bool:
    s = squash(raw)
    return not s or s in _PLACEHOLDERS or bool(value_text(raw))


def match(blocks: list[Block]) -> Matched:
    t = template()
    out = Matched(
        paragraphs=[
            b.text for b in blocks if isinstance(b, Paragraph) and b.where not in (PAGE_TITLE, NARRATIVE_UNREAD)
        ],
        page_title=next((b.text for b in blocks if isinstance(b, Paragraph) and b.where == PAGE_TITLE), None),
    )
    rows = [(row, where) for b in blocks if isinstance(b, Table) for row, where in zip(b.rows, b.where)]
    notes = [note for b in blocks if isinstance(b, Table) for note in b.notes]
    for kind, message, cells, *observed in notes:
        if kind != "unread_cell":
            _warn(out, f"extraction.{kind}", message, cells, *observed)
    seen_codes: set[tuple[str, str]] = set()  # (section, code) for edition detection
    _active_disclosure(rows, out, seen_codes)
    _applications(rows, out, seen_codes)
    _reviews_litigation(rows, out)
    if not out.reviews_litigation:
        _reviews_by_proceeding(blocks, out)
    if not out.applications and not out.reviews_litigation:
        said = _Said(blocks)
        printed = [
            f"{table.section} ({seen!r})"
            for table in (_APPS, _RL)
            if (seen := said.section(table.dataset)) and seen not in said.pictures
        ]
        why = [" and ".join(printed) + " printed in a layout that could not be read"] if printed else []
        raise Unreadable(
            "no template tables found (" + "; ".join(why + said.pictures or ["sections 三 and 四 are missing"]) + ")"
        )
    for kind, message, cells, *observed in notes:  # cells the extractor saw but could not read
        if kind == "unread_cell":
            _unread(out, message, cells, *observed)
    _account(blocks, out)
    out.narratives = _narratives(blocks)
    editions = set()
    for section, code in seen_codes:
        versions = t.versions[section][code]
        if len(versions) == 1:
            editions |= versions
    out.template_version = "mixed" if len(editions) > 1 else (editions.pop() if editions else "unknown")
    return out


def _warn(out: Matched, rule: str, message: str, cells: list[str], observed: str | None = None):
    out.findings.append(Finding.of(rule, message, cells, observed=observed))


def _unread(out: Matched, message: str, names: list[str], observed: str | None = None):
    """Cells (named dataset:row/column) printed but not read: no value, and the blame is ours."""
    named = set(names)
    for dataset in ("applications", "reviews_litigation", "active_disclosure"):
        for cell in getattr(out, dataset):
            if f"{dataset}:{cell.key[0]}/{cell.key[1]}" in named:
                cell.raw, cell.unread = None, True
    out.findings.append(Finding.of("extraction.unread_cell", message, names, observed=observed))


def _ends(above: list[str], row: list[str]) -> bool:
    """A text layer's `row` that may hold the ends of the cells of the row `above` it, which a page
    break or a narrow column cut and the extractor left apart: numbers (or placeholders) alone, nor
    columns' numbers; or numbers each under a number of `above` beside text each under a label of
    `above` that names no template row alone (the cut label's tail, though joined it names none:
    a sub-row's label, 其中…, stands under a whole one)."""
    printed = [i for i, c in enumerate(row) if c.strip()]
    if not printed or any(isinstance(row[i], Reading) for i in printed) or column_numbers(row):
        return False
    texts = [i for i in printed if not is_value_like(row[i])]
    under = lambda i, number: (  # noqa: E731
        i < len(above) and above[i].strip() and is_value_like(above[i]) == number and not isinstance(above[i], Reading)
    )
    names = template().names_row
    return not texts or (
        len(texts) < len(printed)
        and all(under(i, i not in texts) for i in printed)
        and not any(names(above[i]) for i in texts)
    )


def _leftover(out: Matched, table: _Table, before: tuple | None, row: list[str], where: str):
    """A row no label names right under a row placed (`before`: its code, None for section 四's
    values, where it stands and its cells) that may hold the ends of its cells (_ends): the cells
    its numbers stand under are unread (ours), the pieces named, not dropped unsaid; the whole row
    where which cells they are cannot be told surely (_heads)."""
    if before is None or not _ends(before[2], row):
        return
    code, placed, above = before
    cells = [c for c in getattr(out, table.dataset) if c.where == placed and (code is None or c.key[0] == code)]
    name = f"{table.section} row {code}" if code else table.section
    _unread(
        out,
        f"{name} ({placed}): a row of numbers no label names stands right under it ({where}), perhaps the "
        f"ends of its numbers: not published",
        [f"{table.dataset}:{c.key[0]}/{c.key[1]}" for c in _heads(above, row, cells) or cells],
        " | ".join(c.strip() for c in row if c.strip()),
    )


def _heads(above: list[str], row: list[str], cells: list[Cell]) -> list[Cell] | None:
    """The `cells` placed from the row `above` that the numbers of `row` stand under, each told
    surely: the rows of one grid, a number under a value `above` prints once, which one cell
    holds. Else None."""
    if len(row) != len(above):
        return None
    heads = []
    for j, piece in enumerate(row):
        if not piece.strip() or not is_value_like(piece):
            continue  # (a label's tail)
        head = above[j].strip()
        held = [c for c in cells if c.raw == head]
        if not head or sum(a.strip() == head for a in above) != 1 or len(held) != 1:
            return None
        heads.append(held[0])
    return heads or None


def _fit(values: list[str], width: int) -> tuple[list[str | None], list[str], int]:
    """Cells after a label, fitted to the template's width.

    Blank cells at either end are padding (a label spanning two columns, a trailing tab) and go
    first; beyond that, the right-most `width` cells are kept. Returns the cells, the non-blank
    cells dropped, and how many cells were missing (padded with None).
    """
    vals = list(values)
    while len(vals) > width and not vals[0].strip():
        vals.pop(0)
    while len(vals) > width and not vals[-1].strip():
        vals.pop()
    dropped = vals[:-width] if len(vals) > width else []
    vals = vals[-width:] if len(vals) > width else vals
    missing = width - len(vals)
    return vals + [None] * missing, [d for d in dropped if d.strip()], missing


@dataclass(frozen=True)
class _Table:
    """One section's table as the matcher places it."""

    dataset: str
    # a row with fewer cells than columns: unread (三, 四); in 二 only when it prints a value (a row
    # that prints none left its cells blank: active_disclosure.complete reports them)
    short_unread: bool

    @property
    def section(self) -> str:
        """As findings name it: "section 三" (the number the template gives the dataset's section)."""
        return f"section {template().sections[self.dataset][0]}"


_AD = _Table("active_disclosure", short_unread=False)
_APPS = _Table("applications", short_unread=True)
_RL = _Table("reviews_litigation", short_unread=True)


def _place(
    out: Matched,
    table: _Table,
    row: str | None,
    keys: list[tuple[str, str | None]],
    values: list[str],
    where: str,
    aligned: list[str] | None = None,
):
    """A printed row's cells under `keys` (a key without a column code is a column not read): the
    `aligned` values where the header placed them, else `values` fitted to the width (_fit), the
    cells it dropped and those it could not place named one way for every section."""
    name = f"{table.section} row {row}" if row else table.section
    fitted, dropped, missing = (aligned, [], 0) if aligned is not None else _fit(values, len(keys))
    if dropped and any(isinstance(v, Reading) for v in values):
        # OCR's row wider than its columns (a part over a page break set out otherwise): fitted,
        # a blank may stand where a number was printed; not surely blank (the numbers face the sums)
        fitted = [Reading("", 0.0) if v is not None and not v.strip() else v for v in fitted]
    cells = getattr(out, table.dataset)
    for key, raw in zip(keys, fitted):
        if key[1] is not None:
            cells.append(Cell(key, raw.strip() if raw is not None else None, where))
    cell_name = lambda key: f"{table.dataset}:{key[0]}/{key[1]}"  # noqa: E731
    if dropped:
        _warn(
            out,
            "extraction.stray_cell",
            f"{name} ({where}) printed {len(values)} cells for {len(keys)} columns; "
            f"kept the right-most {len(keys)}, dropped {dropped}",
            [cell_name(keys[0])],
            observed=" | ".join(values),
        )
    if missing and (table.short_unread or any(v.strip() for v in values)):
        # which column each printed cell stands in is not known: none is guessed
        _unread(
            out,
            f"{name} ({where}): {len(keys) - missing} cells for {len(keys)} columns could not "
            f"be placed in their columns",
            [cell_name(k) for k in keys],
            " | ".join(v.strip() for v in values if v.strip()),
        )


def _active_disclosure(rows, out: Matched, seen: set):
    t = template()
    metrics: list[str | None] | None = None
    positions: list[int] = []  # the header cells' columns
    garbled = False  # a header cell OCR read that names no metric: the items under it tell it (_metrics_of)
    done: set[str] = set()
    read: list[tuple[str | None, tuple | None]] = []  # the item rows in order, as _by_sequence takes them
    placed = None  # the row before, placed by its label: (code, where, cells)
    for cells, where in rows:
        first = next((i for i, c in enumerate(cells) if c.strip()), None)
        if first is None:
            continue
        before, placed = placed, None
        head = squash(cells[first])
        if head == t.ad_header:
            metrics, positions, garbled = [], [], False
            for j, c in enumerate(cells[first + 1 :], first + 1):
                if not c.strip():
                    continue
                positions.append(j)
                lab = find(t.ad_metrics, c) or _ocr_approximate(t.ad_metrics, c)
                if lab is None:
                    _warn(
                        out,
                        "extraction.unknown_label",
                        f"section 二 header {c!r} ({where}) is not a template column",
                        [],
                        observed=c,
                    )
                    metrics.append(None)
                    garbled |= isinstance(c, Reading)
                else:
                    metrics.append(lab.code)
                    seen.add(("metrics", lab.code))
            continue
        item = _find_in_row(t.ad_items, cells) or next(
            ((i, lab) for i, c in enumerate(cells) if (lab := _ocr_approximate(t.ad_items, c)) is not None), None
        )
        if item is None:
            _leftover(out, _AD, before, cells, where)
            if metrics is not None and isinstance(cells[first], Reading) and not is_value_like(cells[first]):
                values = [c for c in cells[first + 1 :] if c.strip()]
                if values and all(is_value_like(c) for c in values):  # an item's label OCR garbled
                    read.append((None, (cells, first, list(metrics), positions, garbled, where)))
            continue
        idx, lab = item
        if metrics is None:
            _warn(out, "extraction.unknown_label", f"section 二 row {lab.code} ({where}) has no header row", [])
            continue
        read.append((lab.code, None))
        if lab.code in done:
            _warn(
                out,
                "extraction.duplicate_row",
                f"section 二 row {lab.code} printed twice; kept the first ({where})",
                [f"active_disclosure:{lab.code}"],
            )
            continue
        done.add(lab.code)
        seen.add(("items", lab.code))
        _ad_row(out, lab.code, cells, idx, _metrics_of(lab.code, metrics) if garbled else metrics, positions, where)
        placed = (lab.code, where, cells)
    editions = {
        e
        for _, m in seen
        if m in t.versions["metrics"] and len(t.versions["metrics"][m]) == 1
        for e in t.versions["metrics"][m]
    }
    orders = [
        [lab.code for lab in t.ad_items if e in t.versions["items"][lab.code]]
        for e in (editions if len(editions) == 1 else ("2019", "2021"))
    ]
    for code, (cells, idx, metrics, positions, garbled, where) in _by_sequence(read, done, orders):
        metrics = _metrics_of(code, metrics)
        if (
            code in done
            or None in metrics
            or not any(metrics == list(t.ad_printed[e].get(code, ())) for e in t.ad_printed)
        ):
            continue  # the header over it is not the item's: not its row
        done.add(code)
        seen.add(("items", code))
        _warn(
            out,
            "extraction.label_approximate",
            f"section 二 row {cells[idx].strip()!r} ({where}) placed as {code}: the only item of the template "
            f"between its neighbours",
            [f"active_disclosure:{code}"],
            observed=cells[idx].strip(),
        )
        _ad_row(out, code, cells, idx, metrics, positions, where)


def _metrics_of(item: str, metrics: list[str | None]) -> list[str | None]:
    """A header's metrics with those OCR garbled told by the item under it: the one edition's
    metrics of the item that are as many and agree with every metric read. Else as read."""
    t = template()
    fits = {
        tuple(ms)
        for e in t.ad_printed
        if (ms := t.ad_printed[e].get(item)) is not None
        and len(ms) == len(metrics)
        and all(m is None or m == told for m, told in zip(metrics, ms))
    }
    return list(fits.pop()) if len(fits) == 1 else metrics


def _ad_row(out: Matched, code: str, cells: list[str], idx: int, metrics, positions: list[int], where: str):
    aligned = _aligned(cells, idx, positions or None)
    if aligned is None and positions and len(positions) == len(metrics) and len(cells) > positions[-1]:
        aligned = _under_headers(cells, idx, positions)  # (a row narrower than its header: fitted)
    _place(out, _AD, code, [(code, m) for m in metrics], cells[idx + 1 :], where, aligned)


def _find_in_row(labels: list[Label], cells: list[str]) -> tuple[int, Label] | None:
    for i, c in enumerate(cells):
        if c.strip() and (lab := find(labels, c)) is not None:
            return i, lab
    return None


def _header_positions(row: list[str], labels: dict[str, str], positions: dict[str, int]) -> None:
    """Record the column index of each applicant header found in a row (first seen wins)."""
    for i, c in enumerate(row):
        code = labels.get(squash(c))
        if code is not None and code not in positions:
            positions[code] = i


def _aligned(row: list[str], label_at: int, positions: list[int] | None) -> list[str] | None:
    """The row's values under the header's columns, where the row agrees with the header: its label
    left of the first column, and nothing printed outside the header's columns. Else None (the
    values are then fitted by position: dumps often shift sub-item rows by a cell)."""
    if positions is None or label_at >= positions[0] or positions[-1] >= len(row):
        return None  # (a row narrower than the header: a table part without the header's columns)
    outside = [c for j, c in enumerate(row) if j > label_at and j not in positions]
    if any(c.strip() for c in outside):
        return None
    return [row[p] for p in positions]


def _under_headers(row: list[str], label_at: int, positions: list[int]) -> list[str] | None:
    """Section 二's values where each stands in or right of its header's column, at most one a
    header (a table read without rules gives a header and the number centred or right-aligned
    under it columns of their own). None when a value has no header left of it or shares one."""
    out = [""] * len(positions)
    for j, c in enumerate(row[label_at + 1 :], label_at + 1):
        if not c.strip():
            continue
        at = [i for i, p in enumerate(positions) if p <= j]
        if not at or out[at[-1]]:
            return None
        out[at[-1]] = c
    return out


def _applications(rows, out: Matched, seen: set):
    t = template()
    found: dict[str, str] = {}
    header_labels = {squash(label): code for code, label in t.spec.applications.columns}
    header: dict[str, int] = {}
    read: list[tuple[str | None, tuple | None]] = []  # the rows in order: code placed, or an OCR row unnamed
    placed = None  # the row before, placed by its label: (code, where, cells)
    for row, where in rows:
        before, placed = placed, None
        if len(header) < len(t.applicants):
            _header_positions(row, header_labels, header)
        positions = [header[a] for a in t.applicants] if len(header) == len(t.applicants) else None
        if positions is not None and positions != sorted(set(positions)):
            positions = None  # headers over several rows that do not line up: no column map
        hit = None
        for i in range(len(row) - 1, -1, -1):  # the last label in the row names it
            if row[i].strip() and (lab := find(t.app_rows, row[i])) is not None:
                hit = (i, lab)
                break
        if hit is not None and any(HAN.search(c) and not is_value_like(c) for c in row[hit[0] + 1 :]):
            # a label after the one read exactly (a group label such as （六）其他处理): the row's own,
            # misread (an OCR's dropped 、) or cut where it wrapped; read so, it names the row
            hit = _approximate_row(row, where, out, after=hit[0]) or _wrapped_row(row, where, out, after=hit[0]) or hit
            if hit[1].code == "other" and any(isinstance(c, Reading) for c in row):
                hit = None  # 2021's group label beside its first row's label OCR garbled: not 2019's row (_by_sequence)
        if hit is None:
            hit = _approximate_row(row, where, out) or _wrapped_row(row, where, out)
            if hit is None:
                values = _unlabelled(row, positions) if header else None
                if values is not None:
                    read.append((None, (values, where, positions is not None)))
                elif header and any(c.strip() and is_value_like(c) for c in row):
                    read.append((None, None))  # numbers no row of the template's: no row placed across them
                if values is None:
                    _leftover(out, _APPS, before, row, where)
                continue
        i, lab = hit
        if lab.code == "other" and not any(c.strip() for c in row[i + 1 :]):
            continue  # 2021's group label （六）其他处理 on a line of its own (centred over its rows)
        read.append((lab.code, None))
        if lab.code in found:
            _warn(
                out,
                "extraction.duplicate_row",
                f"section 三 row {lab.code} printed twice ({found[lab.code]}, {where}); kept the first",
                [f"applications:{lab.code}/total"],
            )
            continue
        found[lab.code] = where
        seen.add(("rows", lab.code))
        _place(
            out,
            _APPS,
            lab.code,
            [(lab.code, a) for a in t.applicants],
            row[i + 1 :],
            where,
            _aligned(row, i, positions),
        )
        placed = (lab.code, where, row)
    for code, (values, where, aligned) in _by_sequence(read, found, _app_orders(found)):
        found[code] = where
        seen.add(("rows", code))
        _warn(
            out,
            "extraction.label_approximate",
            f"section 三 row ({where}) whose label OCR could not read placed as {code}: the only row of the "
            f"template between its neighbours",
            [f"applications:{code}/total"],
            observed=" | ".join(v.strip() for v in values),
        )
        _place(out, _APPS, code, [(code, a) for a in t.applicants], values, where, values if aligned else None)


def _unlabelled(row: list[str], positions: list[int] | None) -> list[str] | None:
    """The values of a row OCR read whose label names no template row (garbled past recognition):
    a number, a printed blank or a few characters OCR misread under every applicant column, and
    nothing else right of its label. None for any other row (a heading, a text layer's row: its
    label is as printed)."""
    if not any(isinstance(c, Reading) and c.strip() for c in row):
        return None
    width = len(template().applicants)
    if positions is not None:
        if len(row) <= positions[-1] or any(
            c.strip() for j, c in enumerate(row) if j > positions[0] and j not in positions
        ):
            return None
        values = [row[p] for p in positions]
    else:
        last = max((j for j, c in enumerate(row) if HAN.search(c) and not is_value_like(c)), default=-1)
        values = row[last + 1 :]  # the right-most, as _fit keeps them, none dropped
        if len(values) < width or any(c.strip() for c in values[:-width]):
            return None
        values = values[-width:]
    # a cell OCR misread as letters (D for 0) is still a number's place: the trust step flags it
    if (
        any(not is_value_like(v) and (HAN.search(v) or len(squash(v)) > 6) for v in values)
        or sum(bool(v.strip()) for v in values) <= width // 2
    ):
        return None
    return values


def _app_orders(found) -> list[list[str]]:
    """Section 三's rows in the template's order, in the edition its rows `found` show (both when
    they show neither)."""
    t = template()
    versions = t.versions["rows"]
    editions = {e for c in found if len(versions[c]) == 1 for e in versions[c]}
    return [
        [lab.code for lab in t.app_rows if e in versions[lab.code]]
        for e in (editions if len(editions) == 1 else ("2019", "2021"))
    ]


def _by_sequence(
    read: list[tuple[str | None, tuple | None]], found, orders: list[list[str]]
) -> list[tuple[str, tuple]]:
    """Rows OCR read whose labels it garbled (`read`: the rows after section 三's header, each the
    code its label placed, or None and its values, or None and None for numbers that make no full
    row), placed by the template's order: a run of them between two rows placed by their labels
    takes the template's rows between those two when they are as many, none found, and the
    report's edition (its rows of （六）其他处理) leaves no doubt; so does a run right after the header
    up to the first row placed, and one right after a row placed whose followers to the template's
    end are as many. Anything else is left unplaced: never a guess (the sums must still confirm
    every value)."""
    out = []
    i = 0
    while i < len(read):
        if read[i][0] is not None or read[i][1] is None:
            i += 1
            continue
        j = i
        while j < len(read) and read[j][0] is None and read[j][1] is not None:
            j += 1
        run = [r for _, r in read[i:j]]
        before = read[i - 1][0] if i else "(header)"
        after = read[j][0] if j < len(read) else None  # None: numbers of no row, or the rows' end
        i = j
        if before is None or (before == "(header)" and after is None):
            continue
        gaps = set()
        for order in orders:
            if before not in (*order, "(header)") or (after is not None and after not in order):
                gaps.add(None)
                continue
            start = order.index(before) + 1 if before != "(header)" else 0
            gaps.add(tuple(order[start : order.index(after) if after is not None else len(order)]))
        (gap,) = gaps if len(gaps) == 1 else (None,)
        if gap is not None and len(gap) == len(run) and not any(c in found for c in gap):
            out += list(zip(gap, run))
    return out


# ---------------------------------------------------------------- every cell accounted for


def _account(blocks: list[Block], out: Matched) -> None:
    """Every cell of sections 二, 三 and 四 the report's edition has, accounted for (the contract's
    "Whose fault"): a cell not read is ours (`extraction.unread_cell`, one finding per section or
    row, naming why) when the report prints its section's heading or its labels, else it is not
    printed (a Cell at NOT_PRINTED, which the `sections.complete` rule reports)."""
    t = template()
    said = _Said(blocks)
    versions = t.versions["rows"]
    have = {c.key[0] for c in out.applications}
    only_2019 = any(versions[code] == {"2019"} for code in have)
    # section 二: an item printed is expected with the metrics of the edition its own header shows
    # (real reports mix them sub-table by sub-table); one not printed, when every edition has it or
    # the section is wholly 2019's, with the metrics of the section's edition
    printed: dict[str, set[str]] = {}
    for c in out.active_disclosure:
        printed.setdefault(c.key[0], set()).add(c.key[1])
    editions = [t.versions["metrics"][m] for ms in printed.values() for m in ms]
    metric_editions = set().union(*(e for e in editions if len(e) == 1))  # those only one edition prints
    edition = "2019" if metric_editions == {"2019"} or (not printed and only_2019) else "2021"
    if not have and edition == "2019":
        only_2019 = True
    groups = []
    for item in dict.fromkeys([*t.ad_printed["2021"], *t.ad_printed["2019"]]):
        if item in printed:
            sets = [t.ad_printed[e][item] for e in ("2021", "2019") if item in t.ad_printed[e]]
            metrics = next((ms for ms in sets if printed[item] <= set(ms)), ())
        elif item in t.ad_printed[edition] and (edition == "2019" or item in t.ad_printed["2019"]):
            metrics = t.ad_printed[edition][item]
        else:
            continue
        keys = [(item, m) for m in metrics if m not in printed.get(item, ())]
        if keys:
            groups.append((item, keys, [item]))  # metric labels are every sub-table's: only the item tells
    _missing(out, _AD, said, groups, whole=not printed)
    # section 三: rows of both editions always; those of one (2019's single （六）其他处理, 2021's
    # three) in the edition the report's own rows show
    rows = [c for c, v in versions.items() if len(v) == 2 or ("2019" if only_2019 else "2021") in v]
    _missing(
        out,
        _APPS,
        said,
        [(code, [(code, a) for a in t.applicants], [code]) for code in rows if code not in have],
        whole=not have,
    )
    # section 四: by proceeding
    rl = {c.key[0] for c in out.reviews_litigation}
    _missing(
        out, _RL, said, [(p, [(p, o) for o in t.outcomes], [p]) for p in t.proceedings if p not in rl], whole=not rl
    )


def _missing(
    out: Matched,
    table: _Table,
    said: _Said,
    rows: list[tuple[str | None, list[tuple[str, str]], list[str]]],
    whole: bool,
) -> None:
    """Cells of `rows` (row code, its missing keys, the codes whose labels print it) the matcher did
    not read: unread when their section (`whole`: none of it was read) or their row is printed,
    else at NOT_PRINTED."""
    if not rows:
        return
    cells = getattr(out, table.dataset)
    section_seen = said.section(table.dataset) if whole else None
    unread: list[tuple[str, str]] = []
    seen_as: list[str] = []
    for row, keys, codes in rows:
        seen = section_seen or said.labels(table.dataset, codes)
        for key in keys:
            cells.append(Cell(key, None, NOT_PRINTED if seen is None else "printed, not read"))
        if seen is not None:
            unread += keys
            seen_as.append(seen)
    if not unread:
        return
    names = [f"{table.dataset}:{r}/{c}" for r, c in unread]
    what = table.section if whole else f"{table.section} rows {', '.join(dict.fromkeys(r for r, _ in unread))}"
    why = "no table of it could be read" if whole else "they stand in no table that could be read"
    if seen_as[0] in said.pictures:  # nothing of it in the text: perhaps in the picture
        _unread(out, f"{what}: not in the text, and {seen_as[0]}", names, seen_as[0])
    else:
        _unread(out, f"{what}: printed ({seen_as[0]!r} is in the document) but {why}", names, seen_as[0])


class _Said:
    """What the document prints, to tell a section or row printed in a layout we could not read from
    one not printed at all: each paragraph and table cell (and its leading words, for a line that
    runs its label into numbers), compared with the template's headings and labels whole."""

    def __init__(self, blocks: list[Block]):
        texts = [b.text for b in blocks if isinstance(b, Paragraph)]
        texts += [c for b in blocks if isinstance(b, Table) for row in b.rows for c in row if c.strip()]
        self.texts = [text.strip() for text in texts]
        # pictures that could not be read (nianbao.extract.pictures): a section may be printed in one
        self.pictures = [
            message for b in blocks if isinstance(b, Table) for kind, message, *_ in b.notes if kind == "picture"
        ]

    def _words(self):
        """Each text, and the runs of words a label may be in a line of it: a line's label comes
        first or last before its numbers ("三、本年度办理结果 （一）予以公开 3 0 …")."""
        for text in self.texts:
            parts = text.split()
            n = len(parts)
            while n > 0 and is_value_like(parts[n - 1]):
                n -= 1
            spans = {(0, n), *((0, k) for k in range(1, min(n, 4))), *((k, n) for k in range(max(n - 4, 1), n))}
            for a, b in sorted(spans):
                if a < b:
                    yield text, " ".join(parts[a:b])

    def section(self, dataset: str) -> str | None:
        """A text that shows the section is printed: its heading, or a label of its own."""
        if heading := next((text for text in self.texts if _heading(text) == dataset), None):
            return heading
        return self.labels(dataset, None) or next(iter(self.pictures), None)

    def labels(self, dataset: str, codes: list[str] | None) -> str | None:
        """A text printing a label of `codes` (None: any of the section's own labels)."""
        t = template()
        if dataset == "active_disclosure":
            labels = [lab for lab in [*t.ad_items, *t.ad_metrics] if codes is None or lab.code in codes]
        elif dataset == "applications":
            labels = [lab for lab in t.app_rows if codes is None or lab.code in codes]
        elif codes is not None:  # a proceeding: its heading or label
            return next((text for text in self.texts if _proceeding(text) in codes), None)
        else:  # the outcomes and proceedings no other section prints (总计 and 行政复议 are generic)
            labels = [
                Label(code, (squash(text),))
                for code, text in [*t.spec.reviews_litigation.outcomes[:4], *t.spec.reviews_litigation.proceedings[1:]]
            ]
        found = next((text for text, words in self._words() if find(labels, words) is not None), None)
        found = found or next((text for text in self.texts if _begins(labels, text)), None)
        # a long label a dump broke and ran into its neighbours ("（四）无2.没有现成信息需要另"): its
        # first eight characters in a short line (a sentence of the narrative is no label)
        heads = {t[:8] for lab in labels for t in lab.texts if len(t) >= 8}
        return found or next(
            (text for text in self.texts if len(squash(text)) <= 40 and any(h in squash(text) for h in heads)), None
        )


def _begins(labels: list[Label], text: str) -> bool:
    """`text` begins with a label, or is the first line of a long one wrapped in its cell (a layout
    that broke it may have lost the rest): "1.申请人无正当理由逾期不补正、行政机关不再"; with its
    number, four characters are enough (a narrow column cut by a page break: "1.信访举报投")."""
    number, rest = split_numbering(text)
    return any(
        not lab.needs_number
        and (number is None or lab.number is None or number.rstrip(".、") == lab.number.rstrip(".、"))
        and any(
            rest.startswith(t) or (len(rest) >= (4 if number and lab.number else 8) and t.startswith(rest))
            for t in lab.texts
        )
        for lab in labels
    )


_OCR_CUTOFF = 0.8  # how like a label a row's label read by OCR must be


def _ocr_approximate(labels: list[Label], cell: str) -> Label | None:
    """A label OCR read (a Reading) but for a character or two (本年座止件数): its numbers still
    need a reading confident enough to stand alone (nianbao.interpret.trust)."""
    return find_approximate(labels, cell, _OCR_CUTOFF) if isinstance(cell, Reading) and cell.strip() else None


def _approximate_row(row: list[str], where: str, out: Matched, after: int = -1):
    t = template()
    for i in range(len(row) - 1, after, -1):
        c = row[i]
        if not HAN.search(c) or squash(split_numbering(c)[1]) in t.app_groups:
            continue
        # OCR misreads a character or two of a long label (申 as 中): a row placed wrongly breaks
        # the sums that must confirm every number read (nianbao.interpret.trust)
        lab = find_approximate(t.app_rows, c, _OCR_CUTOFF if isinstance(c, Reading) else 0.86)
        if lab is not None and any(is_value_like(v) and v.strip() for v in row[i + 1 :]):
            _warn(
                out,
                "extraction.label_approximate",
                f"section 三 label {c.strip()!r} ({where}) read as {lab.code} ({lab.texts[0]})",
                [f"applications:{lab.code}/total"],
                observed=c.strip(),
            )
            return i, lab
    return None


def _wrapped_row(row: list[str], where: str, out: Matched, after: int = -1):
    """A long label whose cell holds only its first lines (a layout that wrapped it lost the rest:
    "1.申请人无正当理由逾期不补正、行政机关不再"): the one label it begins, its number agreeing."""
    t = template()
    for i in range(len(row) - 1, after, -1):
        number, text = split_numbering(row[i])
        if len(text) < 12 or not any(is_value_like(v) and v.strip() for v in row[i + 1 :]):
            continue
        labels = [
            lab
            for lab in t.app_rows
            if not lab.needs_number
            and any(x.startswith(text) for x in lab.texts)
            and (number is None or lab.number is None or number.rstrip(".、") == lab.number.rstrip(".、"))
        ]
        if len(labels) == 1:
            lab = labels[0]
            _warn(
                out,
                "extraction.label_approximate",
                f"section 三 label {row[i].strip()!r} ({where}) read as {lab.code} ({lab.texts[0]}), whose beginning it is",
                [f"applications:{lab.code}/total"],
                observed=row[i].strip(),
            )
            return i, lab
    return None


def _reviews_litigation(rows, out: Matched):
    t = template()
    columns = [(p, o) for p in t.proceedings for o in t.outcomes]
    outcome_labels = {squash(label) for _, label in t.spec.reviews_litigation.outcomes}
    header: list[list[str]] | None = None  # rows from the 行政复议 header to the values
    for k, (row, where) in enumerate(rows):
        if header is None:
            if any(squash(c) == t.rl_header for c in row):
                header = [row]
            continue
        if column_numbers(row):
            continue
        if not (any(c.strip() for c in row) and all(is_value_like(c) for c in row)):
            header.append(row)
            continue
        # Columns under an outcome label carry the values; any other column is layout (a writer's
        # phantom grid column, a label spanning two), blank. Without 15 labelled columns, or with
        # a text layer's value printed outside them (a column of a table read without rules set
        # apart from its label), fit by position (OCR's specks there are left out: trust judges it).
        labelled = [i for i in range(max(map(len, header))) if _labels_column(header, i, outcome_labels)]
        outside = [c for i, c in enumerate(row) if i not in labelled and c.strip()]
        aligned = (
            [row[i] for i in labelled]
            if len(labelled) == len(columns)
            and labelled[-1] < len(row)
            and (not outside or any(isinstance(c, Reading) for c in row))
            else None
        )
        _place(out, _RL, None, columns, row, where, aligned)
        if k + 1 < len(rows):
            _leftover(out, _RL, (None, where, row), *rows[k + 1])
        return


def _proceeding(text: str) -> str | None:
    """The proceeding a short heading or label names: 行政复议, 行政诉讼（未经复议直接起诉）, （三）复议后起诉."""
    s = split_numbering(text)[1]
    if not s or len(s) > 20 or is_value_like(s):
        return None
    if "复议后起诉" in s:
        return "litigation_after_review"
    if "未经复议" in s or "直接起诉" in s:
        return "litigation_direct"
    return "review" if "行政复议" in s and "诉讼" not in s else None


def _reviews_by_proceeding(blocks: list[Block], out: Matched) -> None:
    """Section 四 printed a proceeding at a time: a small table of the five outcomes under a heading
    naming its proceeding (Markdown dumps: 行政复议 / 行政诉讼（未经复议直接起诉） / …), or one row per
    proceeding beside its label under one header of outcomes. Values are read only under a header
    row that names every outcome, each in its column; a proceeding not found is left to _account."""
    t = template()
    outcome = {squash(label): code for code, label in t.spec.reviews_litigation.outcomes}
    found: dict[str, tuple[list[str], str]] = {}
    current = None  # the proceeding the last heading named
    for b in blocks:
        if isinstance(b, Paragraph):
            current = _proceeding(b.text) or current
            continue
        header: dict[str, int] | None = None
        for row, where in zip(b.rows, b.where):
            cols = {outcome[squash(c)]: i for i, c in enumerate(row) if squash(c) in outcome}
            if sum(squash(c) in outcome for c in row) > len(t.outcomes):
                break  # the outcomes of several proceedings in one row: the whole table, not read here
            if len(cols) == len(t.outcomes):
                header = cols
                continue
            named = [(i, p) for i, c in enumerate(row) if (p := _proceeding(c))]
            if column_numbers(row):
                continue
            if header is None:
                current = named[-1][1] if named else current
                continue
            proceeding = named[-1][1] if named else current
            values = [row[header[o]] if header[o] < len(row) else "" for o in t.outcomes]
            outside = [c for i, c in enumerate(row) if i not in header.values() and not (named and i <= named[-1][0])]
            if (
                proceeding
                and proceeding not in found
                and all(is_value_like(v) for v in values)
                and any(v.strip() for v in values)
                and not any(c.strip() for c in outside)
            ):
                found[proceeding] = (values, where)
    for p in t.proceedings:
        if p in found:
            values, where = found[p]
            _place(out, _RL, None, [(p, o) for o in t.outcomes], values, where, values)


def _labels_column(header: list[list[str]], i: int, labels: set[str]) -> bool:
    """Whether column `i` of the header rows prints one of `labels`, in one cell or wrapped down
    the rows (结果维 / 持: a narrow column, read without rules, gives each line a row)."""
    parts = [squash(h[i]) for h in header if i < len(h)]
    return any(
        "".join(parts[a:b]) in labels for a in range(len(parts)) if parts[a] for b in range(a + 1, len(parts) + 1)
    )


def _heading(text: str) -> str | None:
    number, rest = split_numbering(text)
    if number is None or len(rest) > 40:
        return None
    for code, (_, label) in template().sections.items():
        if label in rest and len(rest) <= len(label) + 12:
            return code
    return None


def _narratives(blocks: list[Block]) -> dict[str, str]:
    if any(isinstance(b, Paragraph) and b.where == NARRATIVE_UNREAD for b in blocks):
        return {}  # a scan's: its headings read, its text not (pagetext.py); pieces would be wrong texts
    t = template()
    texts: dict[str, list[str]] = {}
    current = None
    for b in blocks:
        if isinstance(b, Table):
            current = None
            continue
        code = _heading(b.text)
        if code is not None:
            current = code if code in t.narrative_sections else None
            if current:
                texts.setdefault(current, [])
            continue
        if current:
            texts[current].append(b.text)
    last = texts.get(t.narrative_sections[-1])
    if last:  # the signature, date and page number after the last section are not its text
        while last and (squash(last[-1]).isdigit() or DATE.match(squash(last[-1]))):
            if DATE.match(squash(last.pop())) and len(last) > 1 and is_signer(last[-1]):
                last.pop()
    return {k: "\n".join(v).strip() for k, v in texts.items()}
