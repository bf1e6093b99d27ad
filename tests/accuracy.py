"""Cell-exact accuracy of extraction + matching on generated reports, per format and variant.

    python tests/accuracy.py [--n N] [--seed S] [--jobs J] [--dump DIR] [--complete]

Each document is written from random, template-consistent values (sections 二, 三 and 四 add up
as the template's rules say) printed awkwardly: thousands separators, full-width digits,
placeholders ("—", "/", "无", ...), blank cells, large numbers. Every format and variant the
extractors claim to read is written (tests/corpus.py, tests/fixtures/make_pdf.py), read back with
nianbao.interpret.match.match(nianbao.extract.extract(data, fmt)) and every cell's raw text compared with
the value printed. Prints one line per variant (documents, cells, cells exact, reports exact,
documents with extraction findings) and the first mismatches; exits 1 when any variant is
below 100% (those read by OCR, BY_OCR: when any cell is wrong). --known-gaps adds the variants not read exactly yet (see KNOWN_GAPS). --dump writes the documents that mismatched to DIR for a look.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
for _p in (HERE, HERE / "fixtures"):
    if str(_p) not in sys.path:
        sys.path.insert(0, str(_p))

import cms  # noqa: E402
import corpus  # noqa: E402
import landscape  # noqa: E402
import make_pdf  # noqa: E402
import markdown  # noqa: E402
import pictures  # noqa: E402
import scan  # noqa: E402
import typeset  # noqa: E402

from nianbao.extract import extract, office  # noqa: E402
from nianbao.interpret import trust  # noqa: E402
from nianbao.interpret.match import match  # noqa: E402
from nianbao.interpret.normalise import number  # noqa: E402
from nianbao.model.template import template  # noqa: E402

DATASETS = ("active_disclosure", "applications", "reviews_litigation")
PLACEHOLDERS = ("—", "——", "-", "－", "/", "／", "无", "--")
FULL_WIDTH = str.maketrans("0123456789", "０１２３４５６７８９")
SUFFIX = {"txt": ".txt", "docx": ".docx", "html": ".html", "pdf": ".pdf", "doc": ".doc", "wps": ".wps"}


# ---------------------------------------------------------------- random reports


def _count(rng: random.Random, big: bool = False) -> int:
    r = rng.random()
    if r < 0.45:
        return 0
    if r < 0.85:
        return rng.randint(1, 30)
    if r < 0.97:
        return rng.randint(31, 999)
    return rng.randint(1000, 2_000_000 if big else 20_000)


def _print(n: int | float, rng: random.Random, decimals: int = 0, number: bool = False) -> str:
    """How a report might print `n`: mostly plainly, sometimes awkwardly (a zero as a placeholder or
    blank, unless `number`: then "0", the same draws made, every other cell as it was)."""
    if n == 0:
        r = rng.random()
        if r < 0.07:
            placeholder = rng.choice(PLACEHOLDERS)
            return "0" if number else placeholder
        if r < 0.12:
            return "0" if number else ""
    text = f"{n:.{decimals}f}"
    if n >= 1000 and rng.random() < 0.5:
        text = f"{n:,.{decimals}f}"
    if rng.random() < 0.08:
        text = text.translate(FULL_WIDTH)
    return text


def random_report(rng: random.Random, ad_groups=corpus.AD_GROUPS, complete: bool = False) -> corpus.Report:
    """Random values, consistent with the template's sums, printed as `_print` does; section 二
    in the 2021 template's groups or `ad_groups` (corpus.AD_GROUPS_2019). `complete`: every cell of
    sections 三 and 四 a number (cells.complete holds: a valid report, as most of a real year's are);
    else some zeros there are blank or a placeholder (every report invalid)."""
    t = template()
    rep = corpus.Report()
    for _, items, metrics in ad_groups:
        for item in items:
            for metric in metrics:
                if metric == "items_change":  # 本年增/减: a change, printed with its sign
                    n = rng.randint(-9, 9) if rng.random() < 0.6 else 0
                    rep.active_disclosure[(item, metric)] = f"{n:+d}" if n and rng.random() < 0.5 else str(n)
                elif metric in ("amount_10k_yuan", "procurement_amount"):
                    decimals = rng.choice([0, 1, 2, 4])
                    amount = 0 if rng.random() < 0.4 else round(rng.uniform(0, 3000), decimals)
                    rep.active_disclosure[(item, metric)] = _print(amount, rng, decimals)
                else:
                    rep.active_disclosure[(item, metric)] = _print(_count(rng, big=item == "licensing"), rng)
    # section 三: results per applicant column, then the rows the template's 勾稽关系 fixes
    applicants = t.applicants[:-1]
    rows = [d["code"] for d in corpus.app_rows_2021()]
    results = [c for c in rows if c not in ("new", "carried_over", "handled_total", "carried_forward")]
    numbers: dict[str, list[int]] = {c: [_count(rng) for _ in applicants] for c in results}
    numbers["handled_total"] = [sum(numbers[c][i] for c in results) for i in range(len(applicants))]
    numbers["carried_forward"] = [_count(rng) if rng.random() < 0.3 else 0 for _ in applicants]
    numbers["carried_over"] = [
        rng.randint(0, h + f) if rng.random() < 0.3 else 0
        for h, f in zip(numbers["handled_total"], numbers["carried_forward"])
    ]
    numbers["new"] = [
        h + f - o for h, f, o in zip(numbers["handled_total"], numbers["carried_forward"], numbers["carried_over"])
    ]
    for code in rows:
        values = numbers[code] + [sum(numbers[code])]
        for col, n in zip(t.applicants, values):
            rep.applications[(code, col)] = _print(n, rng, number=complete)
    # section 四: per proceeding, four outcomes and their total
    for p in t.proceedings:
        outcomes = [_count(rng) if rng.random() < 0.5 else 0 for _ in t.outcomes[:-1]]
        for o, n in zip(t.outcomes, outcomes + [sum(outcomes)]):
            rep.reviews_litigation[(p, o)] = _print(n, rng, number=complete)
    if not any(rep.reviews_litigation.values()):  # a blank values row is no row at all: print a 0
        rep.reviews_litigation[(t.proceedings[0], t.outcomes[-1])] = "0"
    rep.narratives = corpus.report().narratives
    return rep


# ---------------------------------------------------------------- formats and variants


def _app_split(rng: random.Random) -> int:
    """A row of the applications table to break it before (past its three header rows)."""
    return rng.randint(4, len(corpus.app_rows_2021()) + 2)


def _txt(style: str):
    def write(layout, rng):
        return corpus.write_txt(layout, style).encode(rng.choice(["utf-8", "utf-8-sig", "gb18030"]))

    return write


def _gbk_html(layout, rng):
    page = corpus.write_html(layout, word=rng.random() < 0.5, charset=rng.choice(["gbk", "GB2312", "utf-8", None]))
    return page.encode("gbk")


VARIANTS = {
    "txt/grid": ("txt", _txt("grid")),
    "txt/cells": ("txt", _txt("cells")),
    "txt/pipe": ("txt", _txt("pipe")),
    "docx/plain": ("docx", lambda layout, rng: corpus.write_docx(layout)),
    "docx/split": ("docx", lambda layout, rng: corpus.write_docx(layout, split_at=_app_split(rng))),
    "docx/nested": ("docx", lambda layout, rng: corpus.write_docx(layout, nested=True)),
    "html/plain": ("html", lambda layout, rng: corpus.write_html(layout).encode("utf-8")),
    "html/word": ("html", lambda layout, rng: corpus.write_html(layout, word=True).encode("utf-8")),
    "html/split": (
        "html",
        lambda layout, rng: corpus.write_html(layout, split_at=_app_split(rng), word=rng.random() < 0.5).encode(
            "utf-8"
        ),
    ),
    "html/chrome": (
        "html",
        lambda layout, rng: corpus.write_html(
            layout, chrome=True, nested=rng.random() < 0.5, word=rng.random() < 0.5
        ).encode("utf-8"),
    ),
    "html/gbk": ("html", _gbk_html),
    "pdf/plain": ("pdf", lambda layout, rng: make_pdf.from_layout(layout)),
    "pdf/wps": ("pdf", lambda layout, rng: make_pdf.from_layout(layout, wps=True)),
    "pdf/split": (
        "pdf",
        lambda layout, rng: make_pdf.from_layout(layout, split_at=_app_split(rng), wps=rng.random() < 0.5),
    ),
    "pdf/unruled": (
        "pdf",
        lambda layout, rng: make_pdf.from_layout(
            layout, rules="none", wps=rng.random() < 0.5, split_at=_app_split(rng) if rng.random() < 0.5 else None
        ),
    ),
    "txt/grid-trailing": ("txt", lambda layout, rng: corpus.write_txt(layout, "grid", trailing_tabs=1).encode()),
}


def _typeset(kind: str, rules: str):
    """reportlab with a real CJK font; numbers left, centred or right-aligned, labels at the top or
    centred in their (merged) rows, tables broken over pages or not."""

    def write(layout, rng):
        return typeset.from_layout(
            layout,
            kind,
            rules=rules,
            align=rng.choice(["left", "centre", "right"]),
            valign=rng.choice(["top", "middle"]),
            wps=rng.random() < 0.3,
            split_at=_app_split(rng) if rng.random() < 0.4 else None,
        )

    return write


VARIANTS.update(
    {
        "docx/2019": ("docx", lambda layout, rng: corpus.write_docx(layout)),
        "pdf/2019-ruled": ("pdf", lambda layout, rng: make_pdf.from_layout(layout, wps=rng.random() < 0.5)),
        "pdf/2019-unruled": ("pdf", _typeset("cid", "none")),
        "pdf/cid-ruled": ("pdf", _typeset("cid", "grid")),
        # a text layer that lies (every glyph mapped to a handful of characters), the text in /ActualText
        "pdf/lie-actualtext": (
            "pdf",
            lambda layout, rng: make_pdf.from_layout(
                layout,
                rules=rng.choice(["grid", "none"]),
                split_at=_app_split(rng) if rng.random() < 0.4 else None,
                render=lambda pages: make_pdf.build(pages, lie="actualtext"),
            ),
        ),
        "pdf/cid-unruled": ("pdf", _typeset("cid", "none")),
        "pdf/cid-3line": ("pdf", _typeset("cid", "three")),
    }
)
if typeset.has_ttf():  # Debian's fonts-wqy-microhei (make fonts)
    VARIANTS.update(
        {"pdf/ttf-unruled": ("pdf", _typeset("ttf", "none")), "pdf/ttf-3line": ("pdf", _typeset("ttf", "three"))}
    )


def _landscape(rules: str):
    """Sections 三 and 四 on landscape pages, turned one of the ways PDFs carry them (landscape.TURNS)."""

    def write(layout, rng):
        return landscape.from_layout(
            layout,
            rng.choice(landscape.TURNS),
            rules=rules,
            align=rng.choice(["left", "centre", "right"]),
            valign=rng.choice(["top", "middle"]),
        )

    return write


VARIANTS.update(
    {"pdf/landscape-ruled": ("pdf", _landscape("grid")), "pdf/landscape-unruled": ("pdf", _landscape("none"))}
)

if office.soffice():  # .doc and .wps (DOC-compatible) need LibreOffice both to write and to read
    VARIANTS["doc/plain"] = ("doc", lambda layout, rng: corpus.to_doc(corpus.write_docx(layout)))
    VARIANTS["wps/plain"] = ("wps", lambda layout, rng: corpus.to_doc(corpus.write_docx(layout)))
    # Word's layout engine's closest stand-in: the DOCX corpus printed to PDF by LibreOffice
    VARIANTS["pdf/lo-ruled"] = ("pdf", lambda layout, rng: typeset.from_docx(corpus.write_docx(layout, ruled=True)))
    # borderless: numbers wrapped in their narrow columns (13962 as 1396 over 2), tails atop the next page
    VARIANTS["pdf/lo-unruled"] = ("pdf", lambda layout, rng: typeset.from_docx(corpus.write_docx(layout)))
    # sections 三 and 四 a landscape section of the DOCX, ruled or not
    VARIANTS["pdf/lo-landscape"] = (
        "pdf",
        lambda layout, rng: typeset.from_docx(corpus.write_docx(layout, ruled=rng.random() < 0.5, landscape=True)),
    )


# Layouts written from the report itself (Markdown's small tables need its cells): (format, write(rep,
# rng)), where write may print the report's values in other forms (with a unit) and says so in `rep`.
def _with_units(rep: corpus.Report, rng: random.Random) -> None:
    """Counts printed with their unit (13 2件 3件 …) or their digits spaced (1 234), as some reports do."""
    for dataset in ("applications", "reviews_litigation"):
        cells = getattr(rep, dataset)
        for k, v in cells.items():
            if v[:1].isdigit() and rng.random() < 0.5:
                cells[k] = v.replace(",", " ") if "," in v else v + "件"


def _units_pdf(rep, rng):
    _with_units(rep, rng)
    return _typeset("cid", rng.choice(["none", "three"]))(corpus.layout(rep), rng)


FROM_REPORT = {
    "txt/markdown": ("txt", lambda rep, rng: markdown.write(rep, "grid").encode("utf-8")),
    "txt/markdown-split": ("txt", lambda rep, rng: markdown.write(rep, "split").encode("utf-8")),
    "txt/markdown-rows": ("txt", lambda rep, rng: markdown.write(rep, "rows").encode("utf-8")),
    "html/divs": ("html", lambda rep, rng: cms.div_page(corpus.layout(rep), rng.choice(["css", "grid", "aria"]))),
    "pdf/cid-unruled-units": ("pdf", _units_pdf),
}
VARIANTS.update({v: (fmt, None) for v, (fmt, _) in FROM_REPORT.items()})

# variants printing section 二 in the 2019 template's blocks (with 2021's sections 三 and 四)
SECTION_TWO_2019 = {"docx/2019", "pdf/2019-ruled", "pdf/2019-unruled"}
# documents per variant, where fewer than --n keep `make accuracy` within minutes (LibreOffice: ~2 s each)
FEWER = {
    "pdf/lo-ruled": 10,
    "pdf/lo-unruled": 10,
    "pdf/lo-landscape": 10,
    "pdf/mixed": 5,
    "pdf/lie-garbage": 5,
    "pdf/lie-private": 5,
    "pdf/outlines": 5,
    "pdf/outlines-mixed": 5,
    **{v: 20 for v in VARIANTS if v.startswith(("pdf/cid-", "pdf/ttf-", "pdf/2019-", "pdf/lie-", "pdf/landscape-"))},
}


# Variants the extractors do not read cell-exact yet, run only when asked (--variant / --known-gaps).
KNOWN_GAPS: dict = {}
# Born-digital PDFs read in part by OCR, counted as scans are (tests/accuracy_scans.py): a cell
# flagged unread is not wrong, a number is exact when it is the number printed (OCR reads
# full-width digits as ASCII). Not cell-exact (OCR's readings of lone digits are seldom confident
# enough), so kept apart from VARIANTS, which tests/command/test_accuracy.py and the benchmarks run.
BY_OCR: dict = {}
if typeset.has_ttf():
    # a text layer that lies with no /ActualText to fall back on (its embedded font's ToUnicode map
    # written wrong): the rendered pages are read by OCR
    BY_OCR.update(
        {
            f"pdf/lie-{lie}": (
                "pdf",
                lambda layout, rng, lie=lie: typeset.from_layout(
                    layout, "ttf", lie=lie, split_at=_app_split(rng) if rng.random() < 0.4 else None
                ),
            )
            for lie in ("garbage", "private")
        }
    )
if typeset.has_ttf() and typeset.ghostscript():
    # glyphs drawn as outlines by Ghostscript (-dNoOutputFonts): every page, or the table pages only
    BY_OCR["pdf/outlines"] = ("pdf", lambda layout, rng: typeset.outlined(typeset.from_layout(layout, "ttf")))
    BY_OCR["pdf/outlines-mixed"] = ("pdf", lambda layout, rng: _outlined_tables(typeset.from_layout(layout, "ttf")))
if office.soffice():
    # a born-digital report whose table pages are scans (200 dpi, leaning, noisy): only they are OCR'd
    BY_OCR["pdf/mixed"] = (
        "pdf",
        lambda layout, rng: scan.mixed(typeset.from_docx(corpus.write_docx(layout, ruled=True)), "scan/200", rng),
    )
if typeset.has_ttf():
    # tables printed as pictures (tests/fixtures/pictures.py: typeset, printed to pixels, cropped):
    # an HTML page's <img>s (inline data: URIs; 96 dpi: a screen's screenshot), a Word document's
    # pasted pictures, and that document saved again by LibreOffice
    BY_OCR.update(
        {
            "html/pictures": ("html", lambda layout, rng: pictures.html_page(pictures.pictured(layout))[0]),
            "html/pictures-96dpi": (
                "html",
                lambda layout, rng: pictures.html_page(pictures.pictured(layout, dpi=96))[0],
            ),
            "docx/pictures": ("docx", lambda layout, rng: pictures.docx(pictures.pictured(layout))),
        }
    )
    if office.soffice():
        BY_OCR["docx/pictures-lo"] = (
            "docx",
            lambda layout, rng: pictures.libreoffice_docx(pictures.docx(pictures.pictured(layout))),
        )
    FEWER.update({v: 5 for v in BY_OCR if "/pictures" in v})
ALL_VARIANTS = {**VARIANTS, **BY_OCR, **KNOWN_GAPS}


def _outlined_tables(pdf: bytes) -> bytes:
    """`pdf` with the pages that draw rules (its tables) outlined, the others left as typeset."""
    import io

    import pdfplumber

    with pdfplumber.open(io.BytesIO(pdf)) as doc:
        pages = [i for i, page in enumerate(doc.pages) if page.lines]
    return typeset.outlined(pdf, pages)


@dataclass
class Document:
    variant: str
    index: int
    fmt: str
    data: bytes
    report: corpus.Report

    @property
    def name(self) -> str:
        return f"{self.variant}#{self.index}"


def document(variant: str, index: int, seed: int, complete: bool = False) -> Document:
    """Document `index` of `variant`: the same bytes for the same seed, run after run (`complete`:
    see random_report)."""
    rng = random.Random(f"{seed}:{variant}:{index}")
    fmt, write = ALL_VARIANTS[variant]
    groups = corpus.AD_GROUPS_2019 if variant in SECTION_TWO_2019 else corpus.AD_GROUPS
    rep = random_report(rng, groups, complete)
    if variant in FROM_REPORT:
        return Document(variant, index, fmt, FROM_REPORT[variant][1](rep, rng), rep)
    return Document(variant, index, fmt, write(corpus.layout(rep, groups), rng), rep)


# ---------------------------------------------------------------- checking


@dataclass
class Result:
    variant: str
    name: str
    cells: int
    mismatches: list[tuple[str, str, str | None, str | None]] = field(default_factory=list)  # cell, expected, got
    findings: int = 0  # extraction.* findings
    flagged: int = 0  # cells named by extraction.unread_cell (not read, and said so): not wrong


def check(doc: Document) -> Result:
    expected = {(ds, key): value for ds in DATASETS for key, value in getattr(doc.report, ds).items()}
    result = Result(doc.variant, doc.name, len(expected))
    try:
        blocks = extract(doc.data, doc.fmt)
        m = trust.check(blocks, match(blocks))  # as the pipeline reads: OCR readings judged by the sums
    except Exception as e:  # Unreadable, or a crash: every cell is lost
        result.mismatches.append(("(document)", "readable", f"{type(e).__name__}: {e}"))
        result.mismatches += [(_cell_name(k), v, None) for k, v in expected.items()]
        return result
    got = {(ds, c.key): c.raw for ds in DATASETS for c in getattr(m, ds)}
    flagged = {(ds, c.key) for ds in DATASETS for c in getattr(m, ds) if c.unread}
    result.flagged = len(flagged & expected.keys())
    ocr = doc.variant in BY_OCR
    same = lambda printed, read: read is not None and number(read) == number(printed) if ocr else read == printed
    for k, v in expected.items():
        if k not in flagged and (k not in got or not same(v, got[k])):
            result.mismatches.append((_cell_name(k), v, got.get(k, "<absent>")))
    for k in got.keys() - expected.keys():
        result.mismatches.append((_cell_name(k), "<absent>", got[k]))
    result.findings = sum(f.rule_id.startswith("extraction.") for f in m.findings)
    return result


def _cell_name(key) -> str:
    ds, (row, col) = key
    return f"{ds}:{row}/{col}"


def _job(args) -> tuple[Result, bytes | None, str]:
    variant, index, seed, keep, complete = args
    doc = document(variant, index, seed, complete)
    result = check(doc)
    return result, (doc.data if keep and result.mismatches else None), doc.fmt


def run(
    n: int, seed: int = 0, jobs: int = 1, variants=None, dump: Path | None = None, complete: bool = False
) -> list[Result]:
    work = [
        (v, i, seed, dump is not None, complete) for v in (variants or VARIANTS) for i in range(min(n, FEWER.get(v, n)))
    ]
    if jobs > 1:
        with ProcessPoolExecutor(jobs) as pool:
            done = list(pool.map(_job, work, chunksize=4))
    else:
        done = [_job(w) for w in work]
    if dump is not None:
        dump.mkdir(parents=True, exist_ok=True)
        for result, data, fmt in done:
            if data is not None:
                (dump / (result.name.replace("/", "_").replace("#", "_") + SUFFIX[fmt])).write_bytes(data)
    return [r for r, _, _ in done]


def summary(results: list[Result]) -> dict[str, dict]:
    """Per variant and per format: documents, cells, exact cells, exact documents, with findings."""
    out: dict[str, dict] = {}
    for r in results:
        for key in (r.variant, r.variant.split("/")[0] + "/*"):
            s = out.setdefault(
                key,
                {
                    "documents": 0,
                    "cells": 0,
                    "cells_exact": 0,
                    "cells_flagged": 0,
                    "cells_wrong": 0,
                    "reports_exact": 0,
                    "with_findings": 0,
                },
            )
            wrong = min(len([m for m in r.mismatches if m[0] != "(document)"]), r.cells)
            s["documents"] += 1
            s["cells"] += r.cells
            s["cells_exact"] += r.cells - wrong - r.flagged
            s["cells_flagged"] += r.flagged
            s["cells_wrong"] += wrong
            s["reports_exact"] += not r.mismatches and not r.flagged
            s["with_findings"] += r.findings > 0
    return out


def table(results: list[Result]) -> str:
    s = summary(results)
    head = (
        f"{'format/variant':<18} {'documents':>9} {'cells':>7} {'cells exact':>12} {'flagged':>8} {'wrong':>6} "
        f"{'reports exact':>14} {'findings':>9}"
    )
    lines = [head, "-" * len(head)]
    order = sorted(s, key=lambda k: (k.split("/")[0], k.endswith("*"), k))
    for key in order:
        v = s[key]
        lines.append(
            f"{key:<18} {v['documents']:>9} {v['cells']:>7} {100 * v['cells_exact'] / v['cells']:>11.2f}% "
            f"{v['cells_flagged']:>8} {v['cells_wrong']:>6} "
            f"{100 * v['reports_exact'] / v['documents']:>13.1f}% {v['with_findings']:>9}"
        )
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=40, help="documents per format variant (default 40)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--jobs", type=int, default=min(4, os.cpu_count() or 1), help="worker processes")
    parser.add_argument("--variant", action="append", choices=sorted(ALL_VARIANTS), help="only these (repeatable)")
    parser.add_argument("--known-gaps", action="store_true", help="also run the variants in KNOWN_GAPS")
    parser.add_argument("--dump", type=Path, help="write mismatching documents here")
    parser.add_argument("--show", type=int, default=15, help="mismatches to list")
    parser.add_argument(
        "--complete", action="store_true", help="every cell of 三 and 四 a number (valid reports, as most are)"
    )
    args = parser.parse_args(argv)
    start = time.perf_counter()
    variants = args.variant or (list(ALL_VARIANTS) if args.known_gaps else list(VARIANTS) + list(BY_OCR))
    results = run(args.n, args.seed, args.jobs, variants, args.dump, args.complete)
    elapsed = time.perf_counter() - start
    print(
        f"seed {args.seed}, {args.n} documents per variant, {len(results)} documents in {elapsed:.1f} s "
        f"({args.jobs} jobs)\n"
    )
    print(table(results))
    wrong = [(r.name, *m) for r in results for m in r.mismatches]
    if any(r.flagged for r in results if r.variant not in BY_OCR):
        print(f"\n{sum(r.flagged for r in results)} cells flagged as unread (extraction.unread_cell)")
        return 1
    if wrong:
        print(f"\n{len(wrong)} mismatches in {sum(bool(r.mismatches) for r in results)} documents; the first:")
        for name, cell, expected, got in wrong[: args.show]:
            print(f"  {name:<16} {cell:<52} expected {expected!r:<12} got {got!r}")
        return 1
    print(
        "\nno cell wrong; those read by OCR exact or flagged"
        if any(r.flagged for r in results)
        else "\nevery cell exact"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
