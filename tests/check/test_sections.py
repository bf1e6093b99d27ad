"""Every cell of sections 二, 三 and 四 accounted for, in every format: a section the report does not
print is `sections.complete` (the report's fault), one it prints in a layout we cannot read is
`extraction.unread_cell` for each of its cells (ours), never a silent `valid`."""

import sys
from pathlib import Path

import corpus
import pytest

from nianbao.acquire.sources import resolve
from nianbao.model.template import template
from nianbao.run.pipeline import process_batch

sys.path.insert(0, str(Path(__file__).parents[1] / "fixtures"))
import typeset  # noqa: E402

T = template()
SECTIONS = {"active_disclosure": "二", "applications": "三", "reviews_litigation": "四"}
CELLS = {  # every cell of the 2021 edition, as findings name them
    "active_disclosure": [f"active_disclosure:{i}/{m}" for i, ms in T.ad_printed["2021"].items() for m in ms],
    "applications": [
        f"applications:{r}/{a}" for r in T.versions["rows"] if "2021" in T.versions["rows"][r] for a in T.applicants
    ],
    "reviews_litigation": [f"reviews_litigation:{p}/{o}" for p in T.proceedings for o in T.outcomes],
}
WRITERS = {
    "txt": lambda blocks: corpus.write_txt(blocks, style="grid").encode("utf-8"),
    "html": lambda blocks: corpus.write_html(blocks).encode("utf-8"),
    "docx": lambda blocks: corpus.write_docx(blocks, ruled=True),
    "pdf": lambda blocks: typeset.from_layout(blocks, kind="cid"),
}


def zero_report() -> corpus.Report:
    """A report that breaks no rule: every cell 0."""
    rep = corpus.report()
    for dataset in ("active_disclosure", "applications", "reviews_litigation"):
        setattr(rep, dataset, {k: "0" for k in getattr(rep, dataset)})
    return rep


def without(blocks, dataset: str, prose: bool):
    """The layout with section `dataset`'s table left out; with `prose`, its heading kept and its
    figures printed as a sentence instead (a layout no extractor reads as a table); else its
    heading left out too (the section not printed at all)."""
    number, heading = T.spec.sections[dataset]
    at = next(i for i, (kind, value) in enumerate(blocks) if kind == "p" and value == f"{number}、{heading}")
    assert blocks[at + 1][0] == "table"
    sentence = ("p", "本年度相关数据均为0，详见附表（附表另行发布）。")
    return blocks[:at] + ([blocks[at], sentence] if prose else []) + blocks[at + 2 :]


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    """Each format × section × (not printed, printed unreadably), ingested in one batch."""
    folder = tmp_path_factory.mktemp("sections")
    blocks = corpus.layout(zero_report())
    for fmt, write in WRITERS.items():
        (folder / f"whole.{fmt}").write_bytes(write(blocks))
        for dataset in SECTIONS:
            for prose in (False, True):
                name = f"{dataset}-{'prose' if prose else 'absent'}.{fmt}"
                (folder / name).write_bytes(write(without(blocks, dataset, prose)))
    frames = process_batch(resolve([str(folder)]), "r", processes=False)
    by_source = {Path(uri).name: rid for rid, uri in frames["reports"].select("report_id", "source_uri").iter_rows()}
    out = {}
    for name, rid in by_source.items():
        status = frames["reports"].filter(report_id=rid)["status"][0]
        findings = frames["findings"].filter(report_id=rid).select("rule_id", "message", "cells", "observed").to_dicts()
        out[name] = (status, findings)
    return out


@pytest.mark.parametrize("fmt", WRITERS)
def test_the_whole_report_is_valid(results, fmt):
    assert results[f"whole.{fmt}"] == ("valid", [])


@pytest.mark.parametrize("dataset", SECTIONS)
@pytest.mark.parametrize("fmt", WRITERS)
def test_a_section_not_printed_is_sections_complete(results, fmt, dataset):
    status, findings = results[f"{dataset}-absent.{fmt}"]
    assert status == "invalid"
    assert [(f["rule_id"], f["message"], f["cells"]) for f in findings] == [
        ("sections.complete", f"section {SECTIONS[dataset]} is not printed", CELLS[dataset])
    ]


@pytest.mark.parametrize("dataset", SECTIONS)
@pytest.mark.parametrize("fmt", WRITERS)
def test_a_section_printed_in_a_layout_we_cannot_read_is_our_unread_cells(results, fmt, dataset):
    status, findings = results[f"{dataset}-prose.{fmt}"]
    assert status == "invalid"
    (f,) = findings  # one line: which section, why; the blame ours
    assert f["rule_id"] == "extraction.unread_cell" and f["cells"] == CELLS[dataset]
    number, heading = T.spec.sections[dataset]
    assert f["message"] == (
        f"section {SECTIONS[dataset]}: printed ('{number}、{heading}' is in the document) "
        "but no table of it could be read"
    )
