"""Versions of a report: a source's new bytes supersede its old report (a file fixed in place, a
page served anew at the same URL), `nianbao forget` retires one, and the checks across years see
current reports only. On a folder and on SeaweedFS; read back by DuckDB."""

from __future__ import annotations

import functools
import hashlib
import os
import shutil
import threading
import time
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import duckdb
import polars as pl
import pyarrow.parquet as pq
from conftest import ROOT
from sample_years import OWN_2024, across_findings, report_text
from sample_years import ingest as ingest_and_check

from flows import command as cli
from nianbao.acquire.rawstore import read_fetches
from nianbao.acquire.sources import resolve
from nianbao.run.pipeline import process_batch
from nianbao.warehouse import compact, files, index, publish, scan, storage

INVALID = (ROOT / "data" / "samples" / "sample_invalid_2024.txt").read_text(encoding="utf-8")
# the sample's one mistake: （七）总计 one short in the natural-person and total columns
FIXED = INVALID.replace("（七）总计\t\t10\t3\t0\t1\t0\t0\t14", "（七）总计\t\t11\t3\t0\t1\t0\t0\t15")
VALID = (ROOT / "data" / "samples" / "sample_valid_2023.txt").read_text(encoding="utf-8")
CELLS = 7 * 25  # section 三's cells of one report


def rid(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def read(root, dataset: str, quarantine: bool = False) -> pl.DataFrame:
    """DuckDB over the warehouse's files (on S3 through s3fs)."""
    paths = files(dataset, root, quarantine)
    if not paths:
        return pl.DataFrame()
    con = duckdb.connect()
    if storage.is_remote(root):
        con.register_filesystem(storage.filesystem())
    return con.sql(f"select * from read_parquet({paths!r}, hive_partitioning=true, union_by_name=true)").pl()


def versions(root) -> dict[str, tuple[str, str | None]]:
    """report_id -> (status, superseded_by), as DuckDB reads the catalogue."""
    return {r: (s, b) for r, s, b in read(root, "reports").select("report_id", "status", "superseded_by").rows()}


def cell_ids(root) -> dict[str, set[str]]:
    """Which reports the cell datasets and quarantine hold."""
    return {
        f"{'quarantine/' if q else ''}{d}": set(read(root, d, q)["report_id"].to_list()) if files(d, root, q) else set()
        for d in ("applications", "narratives")
        for q in (False, True)
    }


def batch(root, folder: Path) -> dict[str, pl.DataFrame]:
    """The folder's documents through the pipeline and published, as a batch of the flow does."""
    frames = process_batch(resolve([str(folder)]), "run", processes=False, published=publish.published(root))
    if frames["reports"].height:
        publish.publish(root, frames)
    return frames


# ------------------------------------------------------------------ superseding


def test_a_file_fixed_in_place_supersedes_its_old_version(prefect_harness, warehouse, tmp_path, capsys):
    """The operator's case: the invalid sample fixed in place and ingested again: one current
    version, the old row kept and pointing at the new, its cells out of quarantine. The same bytes
    again are skipped; the old bytes back make the old current again. On a folder by the command (a
    real Prefect flow, its exit codes); on a bucket by the flow's own steps (process_batch, then
    publish): the command's supersession on SeaweedFS is the next test's."""
    docs = tmp_path / "docs"
    docs.mkdir()
    report = docs / "sample_invalid_2024.txt"
    report.write_text(INVALID, encoding="utf-8")
    out = str(warehouse)
    by_command = not storage.is_remote(out)

    def ingest(code: int) -> None:
        if by_command:
            assert cli.main(["ingest", str(docs), "--out", out, "-q"]) == code
        else:
            batch(out, docs)

    environment = dict(os.environ)
    ingest(1)
    assert dict(os.environ) == environment  # Prefect's settings were the run's, not its caller's
    old, new = rid(INVALID), rid(FIXED)
    assert versions(out) == {old: ("invalid", None)}
    assert cell_ids(out)["quarantine/applications"] == {old}

    report.write_text(FIXED, encoding="utf-8")  # fixed in place
    ingest(0)
    assert versions(out) == {old: ("invalid", new), new: ("valid", None)}
    assert cell_ids(out) == {
        "applications": {new},
        "quarantine/applications": set(),
        "narratives": {new},
        "quarantine/narratives": set(),
    }
    assert read(out, "applications").height == CELLS
    # the old report's findings stay: the catalogue and the audit trail
    errors = read(out, "findings").filter(pl.col("severity") == "error")
    assert sorted(errors["report_id"].to_list()) == [old] * 4
    current = read(out, "reports").filter(pl.col("superseded_by").is_null())
    assert current.select("source_uri", "status").rows() == [(str(report), "valid")]

    ingest(0)  # the current bytes: skipped
    assert versions(out) == {old: ("invalid", new), new: ("valid", None)}

    report.write_text(INVALID, encoding="utf-8")  # reverted: the old version is current again
    if by_command:  # (a dry run reads what a folder holds: on a bucket it holds nothing published)
        capsys.readouterr()
        assert cli.main(["ingest", str(docs), "--out", out, "--dry-run"]) == 0
        assert "0 already published" in capsys.readouterr().out  # a superseded report is done again
    ingest(1)
    assert versions(out) == {old: ("invalid", None), new: ("valid", old)}
    assert cell_ids(out) == {
        "applications": set(),
        "quarantine/applications": {old},
        "narratives": set(),
        "quarantine/narratives": {old},
    }
    assert read(out, "applications", quarantine=True).height == CELLS


def test_new_bytes_served_at_the_same_url_supersede_on_seaweedfs(prefect_harness, s3, tmp_path, monkeypatch):
    """A page corrected by its agency: the same URL serves new bytes (a real HTTP server, its
    Last-Modified moved on), the bucket warehouse keeps one current version."""
    monkeypatch.setenv("NIANBAO_ALLOW_PRIVATE", "1")  # the web server is on loopback
    site = tmp_path / "site"
    site.mkdir()
    page = site / "2024nb.txt"
    page.write_text(INVALID, encoding="utf-8")
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(SimpleHTTPRequestHandler, directory=str(site)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/2024nb.txt"
    manifest = tmp_path / "m.csv"
    manifest.write_text(f"uri,year\n{url},2024\n", encoding="utf-8")
    out = f"{s3}/wh"
    try:
        assert cli.main(["ingest", str(manifest), "--out", out, "-q"]) == 1
        page.write_text(FIXED, encoding="utf-8")
        later = time.time() + 5  # HTTP dates are in seconds: a correction is newer than the copy held
        os.utime(page, (later, later))
        assert cli.main(["ingest", str(manifest), "--out", out, "-q"]) == 0
    finally:
        server.shutdown()
    old, new = rid(INVALID), rid(FIXED)
    assert versions(out) == {old: ("invalid", new), new: ("valid", None)}
    assert cell_ids(out) == {
        "applications": {new},
        "quarantine/applications": set(),
        "narratives": {new},
        "quarantine/narratives": set(),
    }
    assert read(out, "reports").filter(pl.col("superseded_by").is_null())["source_uri"].to_list() == [url]
    fetches = read_fetches(out)
    assert fetches.sort_by("fetched_at").select(["http_status", "sha256"]).to_pylist() == [
        {"http_status": 200, "sha256": old},
        {"http_status": 200, "sha256": new},
    ]


def test_supersession_crosses_years_and_survives_compaction(warehouse, tmp_path):
    """A fix that changes the year moves the current version to another partition; a compacted
    partition still knows which report is current for each source (the index carries it)."""
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "a.txt").write_text(VALID.replace("示例县青山镇", "示例县甲镇"), encoding="utf-8")
    batch(warehouse, docs)
    (docs / "b.txt").write_text(VALID, encoding="utf-8")  # a second batch file in year=2023
    batch(warehouse, docs)
    assert [(p["partition"], p["reports"]) for p in compact.compact(warehouse)] == [("year=2023", 2)]
    wrong_year = VALID.replace("2023年", "2022年").replace("2024年1月15日", "2023年1月15日")
    (docs / "b.txt").write_text(wrong_year, encoding="utf-8")
    batch(warehouse, docs)
    ids = {
        rid(VALID.replace("示例县青山镇", "示例县甲镇")): ("valid", None),
        rid(VALID): ("valid", rid(wrong_year)),
        rid(wrong_year): ("valid", None),
    }
    assert versions(warehouse) == ids
    years = dict(read(warehouse, "reports").select("report_id", "year").rows())
    assert (years[rid(VALID)], years[rid(wrong_year)]) == (2023, 2022)
    assert {r: sorted(set(y)) for r, y in read(warehouse, "applications").group_by("report_id").agg("year").rows()} == {
        rid(VALID.replace("示例县青山镇", "示例县甲镇")): [2023],
        rid(wrong_year): [2022],
    }
    # the index, rebuilt from the files, says the same
    root = storage.path(warehouse)
    (root / index.INDEX).unlink()
    assert {
        s.rsplit("/", 1)[-1]: ids
        for s, ids in index.load(root).current([str(docs / "a.txt"), str(docs / "b.txt")]).items()
    } == {"a.txt": {rid(VALID.replace("示例县青山镇", "示例县甲镇"))}, "b.txt": {rid(wrong_year)}}


def test_a_read_that_got_no_bytes_never_supersedes_a_version(tmp_path):
    """A file gone (or a fetch that failed) is no new version: the last one stays current, the
    failed read is recorded superseded by it; bytes back supersede as usual."""
    docs, root = tmp_path / "docs", tmp_path / "wh"
    docs.mkdir()
    (docs / "r.txt").write_text(VALID, encoding="utf-8")
    batch(root, docs)
    sources = resolve([str(docs / "r.txt")])
    (docs / "r.txt").unlink()
    publish.publish(root, process_batch(sources, "run", processes=False, published=publish.published(root)))
    gone = hashlib.sha256(f"unread:{docs / 'r.txt'}".encode()).hexdigest()
    assert versions(root) == {rid(VALID): ("valid", None), gone: ("unreadable", rid(VALID))}
    assert cell_ids(root)["applications"] == {rid(VALID)}
    (docs / "r.txt").write_text(FIXED, encoding="utf-8")
    batch(root, docs)
    assert versions(root) == {
        rid(VALID): ("valid", rid(FIXED)),
        gone: ("unreadable", rid(VALID)),
        rid(FIXED): ("valid", None),
    }


def test_an_older_warehouse_without_the_column_is_read_and_superseded(tmp_path):
    """Files an older nianbao wrote (no superseded_by, an index without sources): read as current."""
    docs, root = tmp_path / "docs", tmp_path / "wh"
    docs.mkdir()
    (docs / "r.txt").write_text(INVALID, encoding="utf-8")
    batch(root, docs)
    for path in (root / "reports").rglob("*.parquet"):
        pq.write_table(pq.read_table(path).drop_columns(["superseded_by"]), path)
    (root / index.INDEX).unlink()
    assert scan("reports", root).select("status", "superseded_by").collect().rows() == [("invalid", None)]
    assert publish.published(root)[rid(INVALID)]["superseded_by"] is None
    (docs / "r.txt").write_text(FIXED, encoding="utf-8")
    batch(root, docs)
    assert versions(root) == {rid(INVALID): ("invalid", rid(FIXED)), rid(FIXED): ("valid", None)}
    assert cell_ids(root)["quarantine/applications"] == set()


# ------------------------------------------------------------------ forget


def test_forget_by_source_and_by_id(prefect_harness, warehouse, tmp_path, monkeypatch):
    """A manifest row naming a missing file stays unreadable until forgotten (by its source); a
    report forgotten by id leaves the cell datasets; codes 0, 2 and 3 as for the rest of the command."""
    folder = tmp_path / "m"
    folder.mkdir()
    (folder / "good.txt").write_text(VALID, encoding="utf-8")
    (folder / "manifest.csv").write_text("uri\ngood.txt\nmissing.txt\n", encoding="utf-8")
    out = str(warehouse)
    assert cli.main(["ingest", str(folder / "manifest.csv"), "--out", out, "-q"]) == 1
    missing = str(folder / "missing.txt")  # the source as the catalogue holds it
    gone = read(out, "reports").filter(pl.col("source_uri") == missing)["report_id"].to_list()
    assert len(gone) == 1 and versions(out)[gone[0]] == ("unreadable", None)

    assert cli.main(["forget", missing, "--out", out]) == 0
    assert versions(out) == {rid(VALID): ("valid", None), gone[0]: ("unreadable", "forgotten")}
    assert cli.main(["forget", missing, "--out", out]) == 2  # no current report of that source now
    assert cli.main(["forget", "0" * 64, "--out", out]) == 2  # no such report
    assert cli.main(["forget", missing]) == 2  # usage: --out is required

    # the warehouse cannot be written: 3, and it is as it was
    before = versions(out)
    if storage.is_remote(out):
        monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "not-the-secret")
        assert cli.main(["forget", str(folder / "good.txt"), "--out", out]) == 3
        monkeypatch.undo()
    else:
        shutil.rmtree(Path(out) / "_index")
        (Path(out) / "_index").write_text("not a folder")
        assert cli.main(["forget", str(folder / "good.txt"), "--out", out]) == 3
        (Path(out) / "_index").unlink()
    assert versions(out) == before and cell_ids(out)["applications"] == {rid(VALID)}

    assert cli.main(["forget", rid(VALID), "--out", out]) == 0
    assert versions(out) == {rid(VALID): ("valid", "forgotten"), gone[0]: ("unreadable", "forgotten")}
    assert cell_ids(out) == {k: set() for k in cell_ids(out)}
    assert cli.main(["forget", rid(VALID), "--out", out]) == 0  # retired already: nothing to do
    assert read(out, "findings").filter(pl.col("report_id") == gone[0])["rule_id"].to_list() == ["document.unreadable"]


# ------------------------------------------------------------------ across years


def test_a_superseded_years_figures_no_longer_produce_cross_year_findings(tmp_path):
    """甲镇's 2024 report carries over 5 applications; its 2023 report, as first published, carried
    forward 2 (a finding), then was fixed in place to 5: the finding goes, and the agency's names
    are the current reports' only. Forgetting the 2023 report leaves 2024 with no year before."""
    root = tmp_path / "wh"
    first = report_text("盱眙县甲镇人民政府", 2023, carried_forward=2)
    fixed = report_text("淮安市盱眙县甲镇人民政府", 2023, carried_forward=5)
    while rid(first) > rid(fixed):  # the old version sorts first: a warehouse keeping it would compare with it
        first += "\n"
    ingest_and_check(
        root, {"a23": first, "a24": report_text("淮安市盱眙县甲镇人民政府", 2024, carried_over=5, overview=OWN_2024)}
    )
    assert across_findings(root) == {("淮安市盱眙县甲镇人民政府", 2024, "cross_year.carried_over", "2", "5")}

    ingest_and_check(root, {"a23": fixed})  # the same source, fixed
    assert across_findings(root) == set()
    counts = read(root, "reports").select("agency", "year", "warning_count", "superseded_by").sort("agency").rows()
    assert counts == [
        ("淮安市盱眙县甲镇人民政府", 2023, 0, None),
        ("淮安市盱眙县甲镇人民政府", 2024, 0, None),
        ("盱眙县甲镇人民政府", 2023, 0, rid(fixed)),
    ]
    agencies = pl.read_parquet(root / "agencies" / "agencies.parquet")
    assert agencies["names"].to_list() == [["淮安市盱眙县甲镇人民政府"]]

    # the old bytes back: the finding is back, then forgetting that report takes it away again
    ingest_and_check(root, {"a23": first})
    assert across_findings(root) == {("淮安市盱眙县甲镇人民政府", 2024, "cross_year.carried_over", "2", "5")}
    assert cli.main(["forget", str(tmp_path / "docs-r" / "a23.txt"), "--out", str(root)]) == 0
    assert across_findings(root) == set()
    assert read(root, "reports").filter(pl.col("year") == 2024)["warning_count"].to_list() == [0]


def test_a_version_naming_another_agency_rechecks_the_agency_it_left(tmp_path):
    """The file posted as 乙镇's 2023 report was 甲镇's: fixed in place, 乙镇's 2024 report has no
    year before any more, so its finding against the superseded report goes."""
    root = tmp_path / "wh"
    ingest_and_check(
        root,
        {
            "a23": report_text("盱眙县乙镇人民政府", 2023, carried_forward=2),
            "b24": report_text("盱眙县乙镇人民政府", 2024, carried_over=5, overview=OWN_2024),
        },
    )
    assert across_findings(root) == {("盱眙县乙镇人民政府", 2024, "cross_year.carried_over", "2", "5")}
    ingest_and_check(root, {"a23": report_text("盱眙县甲镇人民政府", 2023, carried_forward=2)})
    assert across_findings(root) == set()
    agencies = pl.read_parquet(root / "agencies" / "agencies.parquet")
    assert sorted(agencies["name"].to_list()) == ["盱眙县乙镇人民政府", "盱眙县甲镇人民政府"]
