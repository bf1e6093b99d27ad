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

from nianbao.chinese import HAN
from nianbao.document import Block, Paragraph, Table, Unreadable
from nianbao.findings import Finding
from nianbao.metadata import DATE, is_signer
from nianbao.template import Label, find, find_approximate, split_numbering, squash, template

_NUMBER = re.compile(r"^[+-]?\d+(\.\d+)?$")
_PLACEHOLDERS = {"-", "—", "——", "－", "/", "／", "无", "\\", "*", "×", "--"}


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
    findings: list[Finding] = field(default_factory=list)
    template_version: str = "unknown"


def value_text(raw: str | None) -> str:
    """The numeric reading of a cell: no separators, units or padding; '' when there is none."""
    s = squash(raw or "").replace(",", "")
    s = re.sub(r"(万元|元|件|个|项|次|条)$", "", s)
    return s if _NUMBER.match(s) else ""


def is_value_like(raw: str) -> bool:
    s = squash(raw)
    return not s or s in _PLACEHOLDERS or bool(value_text(raw))


def match(blocks: list[Block]) -> Matched:
    t = template()
    out = Matched(paragraphs=[b.text for b in blocks if isinstance(b, Paragraph)])
    rows = [(row, where) for b in blocks if isinstance(b, Table) for row, where in zip(b.rows, b.where)]
    notes = [note for b in blocks if isinstance(b, Table) for note in b.notes]
    for kind, message, cells, *observed in notes:
        if kind != "unread_cell":
            _warn(out, f"extraction.{kind}", message, cells, *observed)
    seen_codes: set[tuple[str, str]] = set()  # (section, code) for edition detection
    _active_disclosure(rows, out, seen_codes)
    _applications(rows, out, seen_codes)
    _reviews_litigation(rows, out)
    if not out.applications and not out.reviews_litigation:
        raise Unreadable("no template tables found (sections 三 and 四 are missing)")
    for kind, message, cells, *observed in notes:  # cells the extractor saw but could not read
        if kind == "unread_cell":
            _unread(out, message, cells, *observed)
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
    for dataset in ("applications", "reviews_litigation", "active_disclosure"):
        for cell in getattr(out, dataset):
            if f"{dataset}:{cell.key[0]}/{cell.key[1]}" in names:
                cell.raw, cell.unread = None, True
    out.findings.append(Finding.of("extraction.unread_cell", message, names, observed=observed))


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
    short_unread: bool  # a row with fewer cells than columns: unread (三, 四), or blanks its rule reports (二)

    @property
    def section(self) -> str:
        """As findings name it: "section 三" (the number the template gives the dataset's section)."""
        return f"section {template().sections[self.dataset][0]}"


_AD = _Table("active_disclosure", short_unread=False)
_APPS = _Table("applications", short_unread=True)
_RL = _Table("reviews_litigation", short_unread=True)


def _place(out: Matched, table: _Table, row: str | None, keys: list[tuple[str, str | None]], values: list[str],
           where: str, aligned: list[str] | None = None):
    """A printed row's cells under `keys` (a key without a column code is a column not read): the
    `aligned` values where the header placed them, else `values` fitted to the width (_fit), the
    cells it dropped and those it could not place named one way for every section."""
    name = f"{table.section} row {row}" if row else table.section
    fitted, dropped, missing = (aligned, [], 0) if aligned is not None else _fit(values, len(keys))
    cells = getattr(out, table.dataset)
    for key, raw in zip(keys, fitted):
        if key[1] is not None:
            cells.append(Cell(key, raw.strip() if raw is not None else None, where))
    cell_name = lambda key: f"{table.dataset}:{key[0]}/{key[1]}"  # noqa: E731
    if dropped:
        _warn(out, "extraction.stray_cell",
              f"{name} ({where}) printed {len(values)} cells for {len(keys)} columns; "
              f"kept the right-most {len(keys)}, dropped {dropped}",
              [cell_name(keys[0])], observed=" | ".join(values))
    if missing and table.short_unread:  # which column each printed cell stands in is not known: none is guessed
        _unread(out, f"{name} ({where}): {len(keys) - missing} cells for {len(keys)} columns could not "
                f"be placed in their columns", [cell_name(k) for k in keys],
                " | ".join(v.strip() for v in values if v.strip()))


def _active_disclosure(rows, out: Matched, seen: set):
    t = template()
    metrics: list[str] | None = None
    positions: list[int] = []  # the header cells' columns
    done: set[str] = set()
    for cells, where in rows:
        first = next((i for i, c in enumerate(cells) if c.strip()), None)
        if first is None:
            continue
        head = squash(cells[first])
        if head == t.ad_header:
            metrics, positions = [], []
            for j, c in enumerate(cells[first + 1:], first + 1):
                if not c.strip():
                    continue
                positions.append(j)
                lab = find(t.ad_metrics, c)
                if lab is None:
                    _warn(out, "extraction.unknown_label", f"section 二 header {c!r} ({where}) is not a template column",
                          [], observed=c)
                    metrics.append(None)
                else:
                    metrics.append(lab.code)
                    seen.add(("metrics", lab.code))
            continue
        item = _find_in_row(t.ad_items, cells)
        if item is None:
            continue
        idx, lab = item
        if metrics is None:
            _warn(out, "extraction.unknown_label", f"section 二 row {lab.code} ({where}) has no header row", [])
            continue
        if lab.code in done:
            _warn(out, "extraction.duplicate_row", f"section 二 row {lab.code} printed twice; kept the first ({where})",
                  [f"active_disclosure:{lab.code}"])
            continue
        done.add(lab.code)
        seen.add(("items", lab.code))
        aligned = _aligned(cells, idx, positions or None)
        if aligned is None and positions and len(positions) == len(metrics):
            aligned = _under_headers(cells, idx, positions)
        _place(out, _AD, lab.code, [(lab.code, m) for m in metrics], cells[idx + 1:], where, aligned)


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
    for j, c in enumerate(row[label_at + 1:], label_at + 1):
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
    for row, where in rows:
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
        if hit is not None and any(HAN.search(c) and not is_value_like(c) for c in row[hit[0] + 1:]):
            # a label after the one read exactly (a group label such as （六）其他处理): the row's own,
            # misread (an OCR's dropped 、); read approximately, it names the row
            hit = _approximate_row(row, where, out, after=hit[0]) or hit
        if hit is None:
            hit = _approximate_row(row, where, out)
            if hit is None:
                continue
        i, lab = hit
        if lab.code == "other" and not any(c.strip() for c in row[i + 1:]):
            continue  # 2021's group label （六）其他处理 on a line of its own (centred over its rows)
        if lab.code in found:
            _warn(out, "extraction.duplicate_row",
                  f"section 三 row {lab.code} printed twice ({found[lab.code]}, {where}); kept the first",
                  [f"applications:{lab.code}/total"])
            continue
        found[lab.code] = where
        seen.add(("rows", lab.code))
        _place(out, _APPS, lab.code, [(lab.code, a) for a in t.applicants], row[i + 1:], where,
               _aligned(row, i, positions))
    if not found:
        return
    # Rows the report should print but does not: their cells exist, empty, so the rules see them.
    # Rows of one edition only (2019's single （六）其他处理, 2021's three) are expected in the
    # edition the report's own rows show; rows of both editions always.
    rows = t.versions["rows"]
    only_2019 = any(len(rows[code]) == 1 and "2019" in rows[code] for code in found)
    expected = [c for c, v in rows.items() if len(v) == 2 or (("2019" if only_2019 else "2021") in v)]
    printed = _rows_in_text(out.paragraphs)
    for code in expected:
        if code not in found:
            for col in t.applicants:
                out.applications.append(Cell((code, col), None, "not printed"))
            if code in printed:  # printed as a line of text beside no table we could read: ours
                _unread(out, f"section 三 row {code} is printed as text outside any table that could be read",
                        [f"applications:{code}/{col}" for col in t.applicants], printed[code])
            else:
                _warn(out, "extraction.missing_row", f"section 三 row {code} was not found",
                      [f"applications:{code}/total"])


def _rows_in_text(paragraphs: list[str]) -> dict[str, str]:
    """Section 三 rows printed as lines of text (a label, then only numbers and placeholders, two
    at least): a table an extractor could not make out. Row code -> the line."""
    t = template()
    out: dict[str, str] = {}
    for text in paragraphs:
        parts = text.split()
        n = len(parts)
        while n > 0 and is_value_like(parts[n - 1]):
            n -= 1
        if len(parts) - n < 2:
            continue
        for k in range(n):
            lab = find(t.app_rows, " ".join(parts[k:n]))
            if lab is not None:
                out.setdefault(lab.code, text)
                break
    return out


def _approximate_row(row: list[str], where: str, out: Matched, after: int = -1):
    t = template()
    for i in range(len(row) - 1, after, -1):
        c = row[i]
        if not HAN.search(c) or squash(split_numbering(c)[1]) in t.app_groups:
            continue
        lab = find_approximate(t.app_rows, c)
        if lab is not None and any(is_value_like(v) and v.strip() for v in row[i + 1:]):
            _warn(out, "extraction.label_approximate",
                  f"section 三 label {c.strip()!r} ({where}) read as {lab.code} ({lab.texts[0]})",
                  [f"applications:{lab.code}/total"], observed=c.strip())
            return i, lab
    return None


def _reviews_litigation(rows, out: Matched):
    t = template()
    columns = [(p, o) for p in t.proceedings for o in t.outcomes]
    outcome_labels = {squash(label) for _, label in t.spec.reviews_litigation.outcomes}
    header: list[list[str]] | None = None  # rows from the 行政复议 header to the values
    for row, where in rows:
        if header is None:
            if any(squash(c) == t.rl_header for c in row):
                header = [row]
            continue
        if not (any(c.strip() for c in row) and all(is_value_like(c) for c in row)):
            header.append(row)
            continue
        # Columns under an outcome label carry the values; any other column is layout (a writer's
        # phantom grid column, a label spanning two). Without 15 labelled columns, fit by position.
        labelled = sorted({i for h in header for i, c in enumerate(h) if squash(c) in outcome_labels})
        aligned = [row[i] for i in labelled] if len(labelled) == len(columns) and labelled[-1] < len(row) else None
        _place(out, _RL, None, columns, row, where, aligned)
        return


def _heading(text: str) -> str | None:
    number, rest = split_numbering(text)
    if number is None or len(rest) > 40:
        return None
    for code, (_, label) in template().sections.items():
        if label in rest and len(rest) <= len(label) + 12:
            return code
    return None


def _narratives(blocks: list[Block]) -> dict[str, str]:
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
