"""Which of a scanned table's long labels OCR need not read: section 三's row labels follow from
the template's row order once the rows around them are read.

Section 三's labels (本年新收政府信息公开申请数量, 属于国家秘密, ...) are most of the recogniser's
work on a scan, and the template prints them in a known order. A row of a ruled grid is a label
cell with its values to the right. A run of rows whose labels are not read is placed when the rows
on either side of it are read and named exactly by the template (anchors), the template's order
(in the one edition whose rows fit) has as many rows between those two as the run has, none of
them read elsewhere in the table, and every group label spanning a row (（三）不予公开, read: a
cell over several rows) is one of that row's own. The labels of such a run are written as the
template prints them. Anything else (a run at the table's edge, an anchor that names no template
row, counts that differ, a group label that is not the row's) is read: never a guess. The values
are always read; the sums must still confirm every one (nianbao.interpret.trust).

A header or group cell printed over three lines or more (结果维持 a character a line, 三、本年度办理结果)
is told the same way as such a label: by its first and last lines and its length, when exactly one
of the texts the template prints in its tables' headers begins and ends so (`header`), or one
row's label (`row_label`: a label two characters a line, not beside a row of values). A label the
page break cut is told the same way as a piece of one: its start at the table's last row
(`piece`: the one row whose label begins with its first line and holds its last, as long as its
lines make it), naming that row, and its end atop the next page's table, the label's end from its
first line on; so neither is read whole (section 三's narrow label column wraps a label over up
to 19 lines).
"""

from __future__ import annotations

import difflib
import functools
from dataclasses import dataclass

from nianbao.extract.pdf import _CELL_VALUE
from nianbao.model.template import find, split_numbering, squash, template


@dataclass(frozen=True)
class Shapes:
    # a cell whose text lines are together wider than this many times their height may be a label left unread
    long: float = 3.5


SHAPES = Shapes()


@dataclass
class Cell:
    rows: tuple[int, int]  # the grid rows it spans: first, past the last
    cols: tuple[int, int]
    text: str | None  # None: not read (yet)
    inked: bool = True  # False: a cell with no ink at all (a group's label printed on the page before)
    lines: int = 1  # its text lines
    glimpse: tuple[str, str] | None = None  # its first and last lines read (a label wrapped over many)


def may_wait(rows: tuple[int, int], lines: list) -> bool:
    """Whether a cell (its grid rows, its text lines' images) may be left unread at first: one row
    high and wide with text, as a label is and a number never."""
    return rows[1] - rows[0] == 1 and sum(line.shape[1] / line.shape[0] for line in lines) > SHAPES.long


def settle(cells: list[Cell]) -> tuple[list[int], list[int], dict[int, str]]:
    """The cells to read next (indexes into `cells`), and those of them of which only the first and
    last lines are (a label wrapped over three lines or more, at a run's end); when there are none,
    the text of each cell left unread, by the template's order."""
    rows = _value_rows(cells)
    labelled = {i for _, i in rows}
    last = max((c.rows[1] for c in cells), default=0)
    want = [i for i, c in enumerate(cells) if c.text is None and i not in labelled]
    named, fills = {}, {}
    for _, i in rows:
        if cells[i].text is not None:
            named[i] = _code(cells[i].text)
        elif cells[i].glimpse is not None:
            named[i] = _glimpsed(*cells[i].glimpse, cells[i].lines)
            if named[i] is not None:
                fills[i] = _printed(named[i])
            elif cells[i].rows[1] == last and (cut := piece(*cells[i].glimpse, cells[i].lines, head=True)):
                named[i], fills[i] = cut  # the label's start, the page break cut off its end
            else:
                want.append(i)  # its ends name no template row: read whole
    k = 0
    while k < len(rows):
        if rows[k][1] in named:
            k += 1
            continue
        end = k
        while end < len(rows) and rows[end][1] not in named:
            end += 1
        run = rows[k:end]
        before = named.get(rows[k - 1][1]) if k else None
        after = named.get(rows[end][1]) if end < len(rows) else None
        if any(
            named[rows[j][1]] is None and cells[rows[j][1]].text is None for j in (k - 1, end) if 0 <= j < len(rows)
        ):
            pass  # beside a label whose ends named no row, read whole now: the run waits for it
        elif before is None or after is None:  # the table's edge, or a row no template row: the run's end read
            want += [run[0][1]] if before is None else []
            want += [run[-1][1]] if after is None else []
        elif (gap := _gap(before, after, len(run), set(named.values()))) and all(
            _in_groups(cells, r, i, code) for (r, i), code in zip(run, gap)
        ):
            fills.update({i: _printed(code) for (_, i), code in zip(run, gap)})
        else:
            want += [i for _, i in run]
        k = end
    want = sorted(set(want))
    glimpse = [i for i in want if i in labelled and cells[i].glimpse is None and cells[i].lines >= 3]
    return want, glimpse, ({} if want else fills)


def _glimpsed(first: str, last: str, lines: int) -> str | None:
    """The template row whose label as printed begins with `first`, ends with `last` and is as
    long as `lines` lines as full as the first make it (a tenth and a half either way); None
    when no one row is."""
    f, t = squash(first), squash(last)
    if len(f) < 3 or not t:
        return None
    hits = set()
    for d in template().spec.applications.rows:
        for label in d.labels:
            printed = squash((d.number or "") + label)
            middle = len(printed) - len(f) - len(t)
            if printed.startswith(f) and printed.endswith(t) and 0.5 <= middle / ((lines - 2) * len(f)) <= 1.5:
                hits.add(d.code)
    return hits.pop() if len(hits) == 1 else None


def piece(first: str, last: str, lines: int, head: bool) -> tuple[str, str] | None:
    """The row, and the piece of its label as printed, of a label wrapped over `lines` lines (three
    or more) that the page break cut: its start at the bottom of a page (`head`), else its end atop
    the next. The one row whose label begins with `first` (`head`; else holds it) and holds `last`
    (else ends with it), its piece from `first` to `last` shorter than the label and as long as
    `lines` lines as full as the first make it (a half either way, as `_glimpsed` asks); a row's
    first label's piece where its variants' differ. None when no one piece fits, or for a start no
    one row (an end's piece is one text whichever row's: 息公开申请 ends two). The joined pieces
    name the row as its whole label does: a start named so is a prefix of the one row whose label
    both its ends fit, never another's."""
    f, t = squash(first), squash(last)
    if len(f) < 2 or not t or lines < 3:
        return None
    hits: dict[str, list[set[str]]] = {}
    for d in template().spec.applications.rows:
        for k, label in enumerate(d.labels):
            printed = squash((d.number or "") + label)
            if head:
                ends = [
                    q + len(t)
                    for q in range(len(f), len(printed))
                    if printed.startswith(f, 0) and printed.startswith(t, q)
                ]
                cuts = {printed[:e] for e in ends if e < len(printed)}
            else:
                starts = [q for q in range(1, len(printed)) if printed.startswith(f, q)] if printed.endswith(t) else []
                cuts = {printed[q:] for q in starts}
            cuts = {c for c in cuts if 0.5 <= (len(c) - len(f) - len(t)) / ((lines - 2) * len(f)) <= 1.5}
            if cuts:
                hits.setdefault(d.code, [set(), set()])[k > 0].update(cuts)
    texts = {code: own or variants for code, (own, variants) in hits.items()}
    said = set().union(*texts.values())
    if len(said) != 1 or (head and len(texts) != 1):
        return None  # (an end's piece is one text whichever row's: the start names the row)
    return next(iter(texts)), said.pop()


def row_label(first: str, last: str, lines: int) -> str | None:
    """The label, as the template prints it, of the one section 三 row whose label begins with
    `first`, ends with `last` and is as long as `lines` lines make it (`_glimpsed`); else None."""
    code = _glimpsed(first, last, lines)
    return None if code is None else _printed(code)


def header(first: str, last: str, lines: int) -> str | None:
    """The one text the template prints in a table's header or group cells (section 三's columns
    and groups, section 四's proceedings and outcomes, section 二's items and metrics), as it prints
    it, that begins with `first`, ends with `last` and fills `lines` lines (each of the middle ones
    a character or more, none more than the longer end's; 、 aside, which the recogniser loses
    from 三、 read alone); None when none or several do."""
    f, t = _bare(first), _bare(last)
    if not f or not t or lines < 3:
        return None
    most = max(len(f), len(t))
    hits = {
        printed
        for text, printed in ((_bare(x), p) for x, p in _headers().items())
        if text.startswith(f) and text.endswith(t) and lines - 2 <= len(text) - len(f) - len(t) <= (lines - 2) * most
    }
    return hits.pop() if len(hits) == 1 else None


def _bare(text: str) -> str:
    return squash(text).replace("、", "")


@functools.cache
def _headers() -> dict[str, str]:
    """The template's header and group texts, squashed: as printed."""
    t = template().spec
    texts = [label for _, label in t.applications.columns]
    texts += [g for d in t.applications.rows for g in d.group] + list(t.applications.notes)
    texts += [label for _, label in t.reviews_litigation.proceedings + t.reviews_litigation.outcomes]
    texts += [label for m in t.active_disclosure.items + t.active_disclosure.metrics for label in m.labels]
    texts += [t.active_disclosure.header, *t.pages.table_words]
    return {squash(x): x for x in texts}


def _value_rows(cells: list[Cell]) -> list[tuple[int, int]]:
    """(grid row, its label cell) for each row holding values: the label is the cell starting in
    that row with at least two cells right of it, all read as values (a number, a printed blank,
    nothing; one not blank), and nothing left of it but labels over several rows (groups; at the
    table's first or last row, one the page break cut to that row)."""
    by_row: dict[int, list[int]] = {}
    for i, c in enumerate(cells):
        by_row.setdefault(c.rows[0], []).append(i)
    first, last = min(by_row, default=0), max((c.rows[1] for c in cells), default=0)
    # a group's label the page break cut to one row, at the table's edge
    cut = lambda c: c.rows[0] == first or c.rows[1] == last  # noqa: E731
    out = []
    for r in sorted(by_row):
        members = sorted(by_row[r], key=lambda i: cells[i].cols[0])
        for k, i in enumerate(members):
            left, right = members[:k], members[k + 1 :]
            if any(cells[j].rows[1] - cells[j].rows[0] == 1 and not cut(cells[j]) for j in left):
                break
            if (
                len(right) >= 2
                and all(cells[j].text is not None and _value(cells[j].text) for j in right)
                and any(cells[j].text.strip() for j in right)
            ):
                out.append((r, i))
                break
    return out


def _value(text: str) -> bool:
    return not text.strip() or bool(_CELL_VALUE.fullmatch(text.strip()))


def _code(text: str) -> str | None:
    label = find(template().app_rows, text) if text.strip() else None
    return label.code if label else None


def _gap(before: str, after: str, n: int, named: set) -> tuple[str, ...] | None:
    """The template's rows between rows `before` and `after`, when one edition's order has `n`
    of them (and no other edition another `n`), none of them already named in the table."""
    gaps = set()
    for order in _orders():
        if before in order and after in order and order.index(before) < order.index(after):
            gap = order[order.index(before) + 1 : order.index(after)]
            if len(gap) == n:
                gaps.add(gap)
    if len(gaps) != 1:
        return None
    (gap,) = gaps
    return None if named & set(gap) else gap


@functools.cache
def _orders() -> tuple[tuple[str, ...], ...]:
    rows = template().spec.applications.rows
    return tuple(tuple(d.code for d in rows if e in d.versions) for e in ("2019", "2021"))


@functools.cache
def _rows() -> dict:
    """The template's section 三 rows by code."""
    return {d.code: d for d in template().spec.applications.rows}


def _printed(code: str) -> str:
    return _rows()[code].printed


@functools.cache
def _groups() -> tuple[str, ...]:
    """Every group label the template prints, without its numbering."""
    return tuple(sorted({split_numbering(g)[1] for d in template().spec.applications.rows for g in d.group}))


def _in_groups(cells: list[Cell], r: int, label: int, code: str) -> bool:
    """Whether every cell over several rows left of row `r`'s label and spanning it reads as a group
    label of row `code` (one misread a character or two still tells which group it is)."""
    own = {split_numbering(g)[1] for g in _rows()[code].group}
    for c in cells:
        if c.rows[0] <= r < c.rows[1] and c.rows[1] - c.rows[0] > 1 and c.cols[1] <= cells[label].cols[0]:
            if not c.inked:
                continue
            if c.text is None:
                return False
            text = split_numbering(c.text)[1]
            best = max(_groups(), key=lambda g: difflib.SequenceMatcher(None, text, g).ratio())
            if difflib.SequenceMatcher(None, text, best).ratio() < 0.75 or best not in own:
                return False
    return True


def leaves(cells: list[Cell]) -> list[tuple[list[int], int]]:
    """For each run of rows of values, the header cells right above its first row, one over each
    value's columns, left to right: the leaves of its header (自然人 … 总计, 结果维持 … 总计);
    with the grid row its header starts at (the row after the values above, else the table's
    first). The value columns are those of rows whose last cells from the first read as a value,
    three or more read, at least half, read as nothing but values; a row of values is one whose cells in those columns, three or more, are its last,
    none read as anything but a value, at least half of them read; a run, such rows one under
    another with their values in the same columns. A run not every one of whose columns has
    such a cell over it gives none."""
    by_row: dict[int, list[int]] = {}
    for i, c in enumerate(cells):
        by_row.setdefault(c.rows[0], []).append(i)
    rows = {r: sorted(members, key=lambda i: cells[i].cols[0]) for r, members in by_row.items()}
    valued = lambda i: cells[i].text is not None and _value(cells[i].text)  # noqa: E731
    columns: set[int] = set()
    for members in rows.values():
        k = len(members)
        while k and (cells[members[k - 1]].text is None or valued(members[k - 1])):
            k -= 1
        while k < len(members) and cells[members[k]].text is None:
            k += 1  # a label not read yet is no value
        read = [i for i in members[k:] if cells[i].text is not None]
        if len(read) >= 3 and 2 * len(read) >= len(members) - k and any(cells[i].text.strip() for i in read):
            columns |= {col for i in members[k:] for col in range(*cells[i].cols)}
    spans: dict[int, tuple] = {}  # grid row: its values' columns
    for r, members in rows.items():
        values = [i for i in members if set(range(*cells[i].cols)) <= columns]
        read = [i for i in values if cells[i].text is not None]
        if (
            len(values) >= 3
            and values == members[len(members) - len(values) :]
            and all(valued(i) for i in read)
            and 2 * len(read) >= len(values)
            and any(cells[i].text.strip() for i in read)
        ):
            spans[r] = tuple(cells[i].cols for i in values)
    out = []
    for r in sorted(spans):
        if spans.get(r - 1) == spans[r]:
            continue  # not a run's first row
        over = {c.cols: i for i, c in enumerate(cells) if c.rows[1] == r}
        if all(s in over for s in spans[r]):
            out.append(([over[s] for s in spans[r]], max((v + 1 for v in spans if v < r), default=0)))
    return out


def place_leaves(cells: list[Cell], run: list[int], top: int) -> dict[int, str]:
    """The template's texts, as printed, of a header's leaves `run` (as `leaves` gives them, its
    header starting at grid row `top`) not read: when its first and last read as the first and
    last of exactly one of the template's header sequences as long as it (`_sequences`), every
    leaf read between as that sequence's, and every other header cell over them lies over one
    of the sequence's repeats (a proceeding's outcomes) or within one, and over no other column;
    else none (they are read). Then too "" for the cells over the leaves not read that print
    nothing the matcher reads (the sequence's `quiet` leaves on; from its first, the header's
    corner left of them too): they are not read."""
    from nianbao.extract.pdf.prefixes import texts

    said = [texts().get(squash(cells[i].text)) if cells[i].text is not None else None for i in run]
    if (
        said[0] is None
        or said[-1] is None
        or any(c.text is not None and s is None for c, s in zip(map(cells.__getitem__, run), said))
    ):
        return {}
    fits = [
        (seq, period, quiet)
        for seq, period, quiet in _sequences()
        if len(seq) == len(run) and all(s is None or s == t for s, t in zip(said, seq))
    ]
    if len(fits) != 1:
        return {}
    ((seq, period, quiet),) = fits
    unused = {}  # the cells over the leaves from the quiet ones on, not read
    first, last, bottom = cells[run[0]].cols[0], cells[run[-1]].cols[1], cells[run[0]].rows[1]
    caption = set(captions(cells))  # across the whole table: it heads the table, not the leaves
    for i, c in enumerate(cells):
        if i in run or i in caption or c.rows[0] < top or c.rows[1] > bottom or c.cols[0] >= last:
            continue  # not over the leaves
        if c.cols[1] <= first:  # the header's corner, left of the leaves
            if not quiet and c.text is None:
                unused[i] = ""
            continue
        if c.cols[0] < first or c.cols[1] > last:
            return {}  # over the leaves and beyond them: not the template's header
        under = [k for k, j in enumerate(run) if c.cols[0] <= cells[j].cols[0] and cells[j].cols[1] <= c.cols[1]]
        if not under:
            return {}  # within a leaf's columns: not the template's header
        within = under[0] // period == under[-1] // period
        if not within and (under[0] % period or (under[-1] + 1) % period):
            return {}
        if under[0] >= quiet and c.text is None:
            unused[i] = ""
    return {i: seq[k] for k, i in enumerate(run) if cells[i].text is None} | unused


def captions(cells: list[Cell]) -> list[int]:
    """Section 二's captions (第二十条第（一）项 …): cells one grid row high across the table's every
    column, right above a row whose first cell reads as the template's section 二 header (信息内容).
    Nothing of them is used (the matcher passes over them: the template's `ignore`), so OCR need
    not read them."""
    if not cells:
        return []
    left, right = min(c.cols[0] for c in cells), max(c.cols[1] for c in cells)
    heads = {
        c.rows[0] for c in cells if c.cols[0] == left and c.text is not None and squash(c.text) == template().ad_header
    }
    return [
        i for i, c in enumerate(cells) if c.rows[1] - c.rows[0] == 1 and c.cols == (left, right) and c.rows[1] in heads
    ]


@functools.cache
def _sequences() -> tuple[tuple[tuple[str, ...], int, int], ...]:
    """The texts the template prints over a table's value columns, left to right, each with the
    length of its repeat and the first leaf over which (and on) the cells above print nothing the
    matcher reads (quiet; the sequence's length: none): section 三's applicants, the template's
    notes over them and in the corner (申请人情况, 法人或其他组织, （本列数据的勾稽关系…）:
    match._applications finds the columns by the applicants' labels); section 四's outcomes, once
    per proceeding, the proceedings past the first over the template's three
    (match._reviews_litigation places the values by position, finding the table by its first,
    行政复议; under fewer, a proceeding's heading may name them); section 二's metrics of each item
    of each edition."""
    t = template().spec
    outcomes = tuple(label for _, label in t.reviews_litigation.outcomes)
    applicants = tuple(label for _, label in t.applications.columns)
    out = {(applicants, len(applicants), 0)}
    every = len(t.reviews_litigation.proceedings)
    out |= {
        (outcomes * k, len(outcomes), len(outcomes) if k == every else k * len(outcomes)) for k in range(1, every + 1)
    }
    metrics = {m.code: m.labels[0] for m in t.active_disclosure.metrics}
    out |= {
        (tuple(metrics[c] for c in codes), len(codes), len(codes))
        for edition in t.active_disclosure.printed.values()
        for codes in edition.values()
    }
    return tuple(sorted(out))
