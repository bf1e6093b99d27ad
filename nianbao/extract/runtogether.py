"""Crawler text renderings of HTML reports, in which every table cell runs into the next.

A crawler that keeps only a page's text prints a 表三 row as `一、本年新收政府信息公开申请数量21710000218`
(217,1,0,0,0,0,218), and the next row's numbering straight after the last cell (`…00000002.其他…`).
`recover` finds the template's labels in order, takes the digits between them and cuts each run
with the template's own sum relations (template.toml [[rules]]) where they admit exactly one
reading. Where several readings remain it raises Unreadable naming the row: a wrong cut would pass
every later check, so it is never guessed. Whitespace the crawler kept ("200 000121") is a cut.

Section 二 has no sum relation, only a cell count: a row that admits several readings keeps its
cells blank, with a note the matcher reports as an `extraction.ambiguous_cells` warning, instead of
failing the whole report (sections 三 and 四, which the sums do settle, stay usable).
"""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_left
from dataclasses import dataclass
from itertools import product

from nianbao.model.chinese import numeral
from nianbao.model.document import Block, Paragraph, Table
from nianbao.model.errors import Unreadable
from nianbao.model.template import Label, SumRule, squash, template

# The crawler's own header lines, and the site furniture around the report's text.
_HEADER = re.compile(r"^(标题|发布时间|文号|发布机构|栏目|原文链接|本地目录)\s*[:：]\s*(.*)$")
_NOISE = re.compile(r"^(页面链接与图片详见.*|=+\s*正文\s*=+)$")
_BREADCRUMB = re.compile(r"\s*当前位置[:：].*?(?:-->|相关链接[:：](?:\s*-->)?)")
_TRAILER = re.compile(r"\s*附件下载\s*$")

_COUNT = re.compile(r"0|[1-9]\d*")  # no leading zeros: "05" is "0" and "5"


@dataclass(frozen=True)
class Limits:
    readings: int = 10_000  # readings (or combinations of readings) beyond this are not worth enumerating


LIMITS = Limits()
_PATTERNS = {
    "count": _COUNT,
    "signed_count": re.compile(r"0|-?[1-9]\d*"),
    "amount": re.compile(r"(0|[1-9]\d*)(\.\d+)?"),
}


def looks_run_together(text: str) -> bool:
    """Section 三 labels followed straight (spaces at most) by runs of 7+ digits: cells without separators.

    Every report has all-zero rows; printed with separators they never make a run of 7 digits.
    """
    s = unicodedata.normalize("NFKC", text)  # whole-text: a detector needs no map back to the original
    hits = 0
    for lab in template().app_rows:
        if any(re.search(re.escape(t) + r"(?:\([^()\n]*\))?[ ]*\d{7,}", s) for t in lab.texts):
            hits += 1
    return hits >= 3


def recover(text: str) -> list[Block]:
    t = template()
    title, title_line, start = _crawler_header(text)
    page = _Page(text, start)
    body = _BREADCRUMB.match(page.s, start)
    a = body.end() if body else start
    trailer = _TRAILER.search(page.s)
    b = trailer.start() if trailer else len(page.s)

    heads: dict[str, tuple[int, int]] = {}  # section code -> span of its printed heading
    cursor = a
    for code in ("overview", "active_disclosure", "applications", "problems", "other_matters"):
        num, head = t.sections[code]
        if hit := page.find(num + "、" + head, cursor, b):
            heads[code] = hit
            cursor = hit[1]

    blocks: list[Block] = [Paragraph(title, f"line {title_line}")] if title else []
    order = sorted(heads.items(), key=lambda kv: kv[1][0])
    blocks += page.paragraphs(a, order[0][1][0] if order else b)
    for n, (code, (h0, h1)) in enumerate(order):
        end = order[n + 1][1][0] if n + 1 < len(order) else b  # the next heading found
        blocks.append(Paragraph(page.text(h0, h1), page.where(h0)))
        if code == "active_disclosure":
            rows, where, notes = _section_two(page, h1, end)
            blocks += [Table(rows, where, notes)] if rows else []
        elif code == "applications":  # 四's heading is not searched for: 2022 prints "行政法复议"
            rows, where, four = _section_three(page, h1, end)
            blocks += [Table(rows, where)] if rows else []
            blocks += _section_four(page, four, end)
        else:
            blocks += page.paragraphs(h1, end)
    return blocks


# ------------------------------------------------------------------------------------- the page


def _norm(ch: str) -> str:
    return ch if ch.isspace() else squash(ch)


def _crawler_header(text: str) -> tuple[str | None, int, int]:
    """The title from the crawler's 标题: line (its line number), and where the report's text starts."""
    title, title_line, pos = None, 0, 0
    for n, line in enumerate(text.splitlines(keepends=True), 1):
        bare = line.strip()
        if (m := _HEADER.match(bare)) and m.group(1) == "标题" and not title:
            title, title_line = m.group(2).strip() or None, n
        elif not m and bare and not _NOISE.match(bare):
            break
        pos += len(line)
    return title, title_line, pos


class _Page:
    """The text normalised a character at a time (NFKC, one kind of quote), so labels match the
    template's squashed texts while every position still maps back to the original text."""

    def __init__(self, text: str, start: int):
        self.raw = text
        chars, self.at = [], []
        for i, ch in enumerate(text):
            if i < start:  # the crawler header: kept out of every search
                ch = " "
            for n in _norm(ch) or " ":
                chars.append(n)
                self.at.append(i)
        self.at.append(len(text))
        self.s = "".join(chars)
        self.c_at = [i for i, ch in enumerate(self.s) if not ch.isspace()]
        self.c = "".join(self.s[i] for i in self.c_at)  # without whitespace ("本年度办 理结果")

    def find(self, needle: str, start: int, end: int) -> tuple[int, int] | None:
        k = self.c.find(needle, bisect_left(self.c_at, start), bisect_left(self.c_at, end))
        return (self.c_at[k], self.c_at[k + len(needle) - 1] + 1) if k >= 0 and needle else None

    def at_(self, needle: str, pos: int, end: int) -> int | None:
        """The end of `needle` when it starts at `pos` (leading whitespace skipped)."""
        k = bisect_left(self.c_at, pos)
        if needle and self.c.startswith(needle, k) and k + len(needle) <= bisect_left(self.c_at, end):
            return self.c_at[k + len(needle) - 1] + 1
        return None

    def skip_note(self, pos: int, end: int) -> int:
        """Past a bracketed note after a label: 部分公开（区分处理的，只计这一情形，不计其他情形）."""
        k = bisect_left(self.c_at, pos)
        if k < len(self.c) and self.c[k] == "(" and (close := self.c.find(")", k)) >= 0 and self.c_at[close] < end:
            return self.c_at[close] + 1
        return pos

    def run(self, pos: int, end: int, chars: str) -> tuple[str, int]:
        """The cells printed from `pos`: characters of `chars` and the whitespace between them."""
        stop = pos
        while stop < end and (self.s[stop] in chars or self.s[stop].isspace()):
            stop += 1
        return self.s[pos:stop].strip(), stop

    def text(self, a: int, b: int) -> str:
        return self.raw[self.at[a] : self.at[b]].strip()

    def where(self, a: int) -> str:
        return f"line {self.raw.count(chr(10), 0, self.at[a]) + 1}"

    def paragraphs(self, a: int, b: int) -> list[Paragraph]:
        out, pos = [], self.at[a]
        for line in self.raw[self.at[a] : self.at[b]].split("\n"):
            if line.strip():
                out.append(Paragraph(line.strip(), f"line {self.raw.count(chr(10), 0, pos) + 1}"))
            pos += len(line) + 1
        return out


# ---------------------------------------------------------------------------- cutting digit runs


def _cuts(run: str, n: int, valid, checks=(), limit: int | None = None) -> list[tuple[str, ...]]:
    """The ways to cut `run` into n cells: whitespace is always a cut, cell i passes valid(i, cell),
    and each check (left, right cell indices, sum(left) == sum(right)) holds once its cells are cut."""
    chunks = run.split()
    flat = "".join(chunks)
    forced, total = [], 0
    for c in chunks:
        total += len(c)
        forced.append(total)
    out: list[tuple[str, ...]] = []
    limit = LIMITS.readings if limit is None else limit

    def go(pos: int, cells: list[str]):
        if len(out) >= limit:
            return
        if len(cells) == n:
            if pos == len(flat):
                out.append(tuple(cells))
            return
        after = [f for f in forced if f > pos]
        for stop in range(pos + 1, (after[0] if after else pos) + 1):
            rest = n - len(cells) - 1  # every chunk left needs a cell, every cell a character
            if not (sum(f > stop for f in forced) <= rest <= len(flat) - stop):
                continue
            cell = flat[pos:stop]
            if not valid(len(cells), cell):
                continue
            cells.append(cell)
            i = len(cells) - 1
            if all(_holds(cells, left, right) for left, right in checks if max(left + right) == i):
                go(stop, cells)
            cells.pop()

    go(0, [])
    return out


def _holds(cells, left, right) -> bool:
    return sum(int(cells[i]) for i in left) == sum(int(cells[i]) for i in right)


def _count(_i: int, cell: str) -> bool:
    return bool(_COUNT.fullmatch(cell))


def _read(run: str, n: int, checks) -> tuple[list[tuple[str, ...]], bool]:
    """The readings of a run, and whether the sums were needed (False: one cut exists at all,
    so the report's own arithmetic, right or wrong, is what it printed)."""
    if len(_cuts(run, n, _count, limit=2)) == 1:
        return _cuts(run, n, _count), False
    return _cuts(run, n, _count, checks), True


# ------------------------------------------------------------------------------------ section 二


def _section_two(page: _Page, a: int, b: int) -> tuple[list[list[str]], list[str], list]:
    """Sub-tables: 信息内容 + metric headers, then item rows cut into as many cells as headers."""
    t = template()
    longest = lambda labels: sorted(((x, lab) for lab in labels for x in lab.texts), key=lambda p: -len(p[0]))
    metrics, items = longest(t.ad_metrics), longest(t.ad_items)
    captions = [(x, None) for x in sorted(t.ad_ignore, key=len, reverse=True)]  # 第二十条第（一）项
    rows: list[list[str]] = []
    wheres: list[str] = []
    notes: list[tuple[str, str, list[str]]] = []
    kinds: list[str] | None = None
    codes: list[str] = []
    pos = a
    while pos < b:
        if page.s[pos].isspace():
            pos += 1
        elif (e := page.at_(t.ad_header, pos, b)) is not None:
            header, kinds, codes, pos = [t.ad_header], [], [], e
            while (hit := _label_at(page, metrics, pos, b)) is not None:
                lab, e = hit
                e2 = page.skip_note(e, b)  # 本年收费金额（单位：万元）
                header.append(squash(page.s[pos:e2]))
                kinds.append(t.metric_kind[lab.code])
                codes.append(lab.code)
                pos = e2
            rows.append(header)
            wheres.append(page.where(pos))
        elif (hit := _label_at(page, captions, pos, b)) is not None:
            pos = hit[1]
        elif kinds is not None and (hit := _label_at(page, items, pos, b)) is not None:
            lab, e = hit
            label = squash(page.s[pos:e])
            run, pos = page.run(e, b, "0123456789.-")
            if (unit := page.at_("万元", pos, b) or page.at_("元", pos, b)) is not None:
                pos = unit
            found = _cuts(run, len(kinds), lambda i, c: bool(_PATTERNS[kinds[i]].fullmatch(c)))
            cells = list(found[0]) if len(found) == 1 else [""] * len(kinds)
            rows.append([label, *cells])
            wheres.append(page.where(e))
            if len(found) != 1:
                notes.append(
                    (
                        "ambiguous_cells",
                        f"section 二 row {lab.code} ({page.where(e)}): {_readings(len(found))}"
                        f" of {run!r}; its cells are left blank rather than guessed",
                        [f"active_disclosure:{lab.code}/{m}" for m in codes],
                    )
                )
        else:
            pos += 1  # text the template does not know (a stray character) is passed over
    return rows, wheres, notes


def _label_at(
    page: _Page, labels: list[tuple[str, Label | None]], pos: int, end: int
) -> tuple[Label | None, int] | None:
    for text, lab in labels:
        if (e := page.at_(text, pos, end)) is not None:
            return lab, e
    return None


def _readings(n: int) -> str:
    return "no reading" if n == 0 else f"{n}+ readings" if n >= LIMITS.readings else f"{n} readings"


# ------------------------------------------------------------------------------------ section 三


def _section_three(page: _Page, a: int, b: int) -> tuple[list[list[str]], list[str], int]:
    """Rows found by their labels in template order; returns the rows and where the last row's cells end."""
    t = template()
    found: list[tuple[Label, int, int]] = []
    cursor = a
    for lab in t.app_rows:  # a row the edition does not print is simply not found
        if hit := _find_row(page, lab, cursor, b):
            found.append((lab, *hit))
            cursor = hit[1]
    runs, end = {}, a
    for i, (lab, _, e) in enumerate(found):
        # the cells stop where the next row's numbering starts: in "00000002.其他…" the 2 is the next row's
        stop = found[i + 1][1] if i + 1 < len(found) else b
        runs[lab.code], end = page.run(page.skip_note(e, stop), stop, "0123456789")
    cells = _settle(runs)
    rows = [[squash(page.s[s0:e0]), *cells[lab.code]] for lab, s0, e0 in found]
    return rows, [page.where(s0) for _, s0, _ in found], end


def _number_spellings(lab: Label) -> list[str]:
    """How reports print the template's numbering: (1) as （一） or (1), 1、 as 一、, 1. as 1、."""
    if lab.number is None:
        return [""]
    n = int(re.sub(r"\D", "", lab.number))
    cn = numeral(n) if 1 <= n <= 10 else str(n)
    if lab.number.startswith("("):
        spellings = [f"({cn})", f"({n})"]
    elif lab.number.endswith("、"):
        spellings = [f"{cn}、", f"{n}、", f"{n}."]
    else:
        spellings = [f"{n}.", f"{n}、"]
    return spellings if lab.needs_number else [*spellings, ""]


def _find_row(page: _Page, lab: Label, a: int, b: int) -> tuple[int, int] | None:
    """The first printing of a row label in [a, b), its numbering included when printed."""
    hits = [h for num in _number_spellings(lab) for text in lab.texts if (h := page.find(num + text, a, b))]
    return min(hits) if hits else None


def _settle(runs: dict[str, str]) -> dict[str, tuple[str, ...]]:
    """Each row's cells: its own sum (总计 = the six applicant columns) first, then the column sums."""
    t = template()
    rules = [r for r in t.rules if isinstance(r, SumRule) and r.dataset == "applications"]
    col = {c: i for i, c in enumerate(t.applicants)}
    checks = [tuple([col[c] for c in side] for side in r.sides()) for r in rules if r.along == "applicant"]
    fixed: dict[str, tuple[str, ...]] = {}
    open_: dict[str, list[tuple[str, ...]]] = {}
    for code, run in runs.items():
        if not run:
            fixed[code] = ()  # a label without cells: the matcher records them missing
            continue
        found, summed = _read(run, len(t.applicants), checks)
        if len(found) == 1:
            fixed[code] = found[0]
        elif not found:
            raise Unreadable(
                f"section 三 row {code}: no reading of {run!r} as {len(t.applicants)} cells"
                + (" whose 总计 is the sum of the others" if summed else "")
            )
        elif len(found) >= LIMITS.readings:
            raise Unreadable(f"section 三 row {code}: {_readings(len(found))} of {run!r}")
        else:
            open_[code] = found
    if open_:
        fixed.update(_by_columns(fixed, open_, runs, [r for r in rules if r.along == "row"]))
    return fixed


def _by_columns(fixed, open_, runs, rules) -> dict[str, tuple[str, ...]]:
    """The one combination of the open rows' readings that every column relation accepts."""
    t = template()
    codes = list(open_)
    size = 1
    for c in codes:
        size *= len(open_[c])
    if size > LIMITS.readings:
        raise Unreadable(
            f"section 三 row {codes[0]}: {len(open_[codes[0]])} readings of {runs[codes[0]]!r}"
            f" and {len(codes) - 1} more rows with several"
        )
    # Only columns where the readings differ can tell them apart; checking the others would let
    # an unrelated arithmetic error in the report reject every reading.
    cols = [i for i in range(len(t.applicants)) if any(len({r[i] for r in open_[c]}) > 1 for c in codes)]
    good = []
    for combo in product(*(open_[c] for c in codes)):
        values = {**fixed, **dict(zip(codes, combo))}
        if all(_column_holds(rule, values, i) for rule in rules for i in cols):
            good.append(combo)
    for k, code in enumerate(codes):
        options = {combo[k] for combo in good}
        if not options:
            raise Unreadable(
                f"section 三 row {code}: {len(open_[code])} readings of {runs[code]!r},"
                " none consistent with the column sums"
            )
        if len(options) > 1:
            raise Unreadable(f"section 三 row {code}: {len(options)} readings of {runs[code]!r}")
    return dict(zip(codes, good[0]))


def _column_holds(rule: SumRule, values: dict[str, tuple[str, ...]], i: int) -> bool:
    left, right = rule.sides(printed=values)
    if any(len(values.get(c, ())) <= i for c in left + right):
        return True  # a row not printed, or printed without cells, cannot be checked
    return sum(int(values[c][i]) for c in left) == sum(int(values[c][i]) for c in right)


# ------------------------------------------------------------------------------------ section 四


def _section_four(page: _Page, a: int, b: int) -> list[Block]:
    """The heading, the column headers, then the 15 values that end the section."""
    t = template()
    k = b
    while k > a and (page.s[k - 1].isdigit() or page.s[k - 1].isspace()):
        k -= 1
    run = page.s[k:b].strip()
    head = page.find("情况", a, min(k, a + 60))  # 四、政府信息公开行政(法)复议、行政诉讼情况
    h = head[1] if head else k
    blocks: list[Block] = [Paragraph(page.text(a, h), page.where(a))] if page.text(a, h) else []
    if not run or t.rl_header not in squash(page.s[h:k]):
        return blocks
    width = len(t.outcomes)
    checks = [
        tuple([p * width + t.outcomes.index(o) for o in side] for side in r.sides())
        for r in t.rules
        if isinstance(r, SumRule) and r.dataset == "reviews_litigation"
        for p in range(len(t.proceedings))
    ]
    found, summed = _read(run, width * len(t.proceedings), checks)
    if len(found) != 1:
        raise Unreadable(
            f"section 四: {_readings(len(found))} of {run!r}"
            + (" whose 总计 are the sums of their parts" if summed and not found else "")
        )
    header = [label for _, label in t.spec.reviews_litigation.proceedings]
    return blocks + [Table([header, list(found[0])], [page.where(h), page.where(k)])]
