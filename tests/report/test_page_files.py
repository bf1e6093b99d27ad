"""The validation page reads the files of the reports it details, found from the `reports` files' ids, not
from the warehouse's index, which holds every report's id (a 100,000-report warehouse's: +30 MiB at the
page's peak; issue 24 item 7)."""

import polars as pl
from conftest import ROOT

from nianbao.acquire.sources import resolve
from nianbao.report import validation_report
from nianbao.report.summary import RunSummary
from nianbao.run.pipeline import process_batch
from nianbao.warehouse import index, publish

SAMPLES = ROOT / "data" / "samples"


def test_the_page_finds_its_reports_files_without_the_index(tmp_path, monkeypatch):
    out = tmp_path / "wh"
    valid, invalid = SAMPLES / "sample_valid_2023.txt", SAMPLES / "sample_invalid_2024.txt"
    runs = [process_batch(resolve([str(p)]), "run") for p in (valid, invalid)]  # two batches: two locations
    for frames in runs:
        publish.publish(out, frames)
    publish.settle(out)
    bad = runs[1]["reports"]["report_id"][0]
    theirs = {rel for rel in index.listing(out) if rel.rsplit("/", 1)[-1] == _file_of(out, bad)}
    assert {rel.split("/")[0] for rel in theirs} >= {"reports", "findings", "quarantine"}

    def no_index(*args, **kwargs):
        raise AssertionError("the page loaded the warehouse's index")

    monkeypatch.setattr(index, "load", no_index)
    assert sorted(validation_report._holding(out, [bad])) == sorted(theirs)
    summary = RunSummary()
    for frames in runs:
        summary.add(RunSummary(frames["reports"].to_dicts(), frames["findings"].to_dicts()))
    text = validation_report.write(summary, "run", out).read_text(encoding="utf-8")
    # the invalid report detailed: its broken sum written out from its quarantined cells
    assert "自然人: （七）总计 10 ≠ 11 = （一）予以公开 8 + （二）部分公开 2" in text
    assert '<td class="n bad total" title="applications:handled_total/natural_person">10' in text


def _file_of(out, report_id: str) -> str:
    found = (
        pl.scan_parquet(str(out / "reports" / "**" / "*.parquet"), include_file_paths="path")
        .filter(pl.col("report_id") == report_id)
        .collect()
    )
    return found["path"][0].rsplit("/", 1)[-1]
