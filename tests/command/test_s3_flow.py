"""`--out s3://bucket/prefix` end to end on SeaweedFS: the same warehouse as on disk, fetched
documents and `fetches` in the bucket, a killed run resumed (a Dask cluster writing to the bucket:
test_dask.py, beside the other test of that cluster)."""

import functools
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

from conftest import ROOT, command
from corpus import distinct_reports

from nianbao.acquire.rawstore import read_fetches
from nianbao.warehouse import scan, storage

DATASETS = ("reports", "findings", "applications", "active_disclosure", "reviews_litigation", "narratives")


def _rows(root) -> dict[str, list[str]]:
    """Every dataset's rows (quarantine included), without what differs between runs."""
    out = {}
    for d in DATASETS:
        for q in (False, True) if d not in ("reports", "findings") else (False,):
            df = scan(d, root, quarantine=q).drop("run_id", "ingested_at", "fetched_at", strict=False).collect()
            out[f"{'quarantine/' if q else ''}{d}"] = sorted(map(repr, df.to_dicts()))
    return out


def _docs(folder, n):
    distinct_reports(folder, n)
    shutil.copy(ROOT / "data" / "samples" / "sample_invalid_2024.txt", folder / "bad.txt")
    return folder


def test_served_reports_into_a_bucket_equal_the_files_on_disk(prefect_harness, s3, tmp_path, monkeypatch):
    monkeypatch.setenv("NIANBAO_ALLOW_PRIVATE", "1")  # the web server is on loopback
    monkeypatch.setenv("NIANBAO_FETCH_DELAY", "0")  # its downloads not spaced 1 s apart (6 of them)
    docs = _docs(tmp_path / "docs", 2)
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(SimpleHTTPRequestHandler, directory=str(docs)))
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()  # shut down in 0.05 s, not 0.5
    base = f"http://127.0.0.1:{server.server_address[1]}/"
    manifest = tmp_path / "m.csv"
    manifest.write_text("uri\n" + "".join(f"{base}{p.name}\n" for p in sorted(docs.iterdir())), encoding="utf-8")
    try:
        assert command("ingest", str(manifest), "--out", f"{s3}/wh").returncode == 1
        again = command("ingest", str(manifest), "--out", f"{s3}/wh", "--reprocess")
        assert again.returncode == 1
        lines = again.stdout.splitlines()  # the page in the bucket named by its URL (issue 25 item 9)
        assert lines[2].startswith(f"validation report: {s3}/wh/validation/") and lines[2].endswith(".html")
        assert storage.path(lines[2].split(": ", 1)[1]).exists()
        assert lines[-1].startswith("next: ") and f"cells are in {s3}/wh/quarantine;" in lines[-1]
    finally:
        server.shutdown()
    assert command("ingest", str(docs), "--out", str(tmp_path / "disk")).returncode == 1
    web, disk = _rows(f"{s3}/wh"), _rows(tmp_path / "disk")
    assert len(web["reports"]) == 3 and len(web["quarantine/applications"]) == 7 * 25
    for d in disk:
        if d != "reports":  # the same documents, named by URL instead of path
            assert [r.replace(base, "") for r in web[d]] == disk[d], d
    fetches = read_fetches(f"{s3}/wh")
    assert sorted(fetches["http_status"].to_pylist()) == [200] * 3 + [304] * 3  # nothing downloaded twice
    raw = [k for k in storage.filesystem().find(f"{s3[5:]}/wh/raw") if "/urls/" not in k]  # documents, not validators
    assert sorted(k.rsplit("/", 1)[1] for k in raw) == sorted(set(fetches["sha256"].to_pylist()))
    assert storage.filesystem().exists(f"{s3[5:]}/wh/validation/index.html")


def test_a_killed_run_on_s3_resumes_to_the_same_warehouse(prefect_harness, s3, tmp_path):
    from prefect.settings import PREFECT_API_URL

    from flows.ingest import ingest

    docs = _docs(tmp_path / "docs", 5)  # and the invalid one: batches of one, a kill lands long before the last
    killed = f"{s3}/killed"
    # the killed writer's lease is taken over once it expires: 6 s, not the default 30 s, before the resume can write
    # (renewed every 2 s, so a loaded machine still renews it in time)
    env = dict(os.environ, PREFECT_API_URL=PREFECT_API_URL.value(), NIANBAO_S3_LEASE="6")
    child = subprocess.Popen(
        [sys.executable, "-m", "flows", "ingest", str(docs), "--out", killed, "--batch-size", "1"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 180
    while not scan("reports", killed).collect().height and time.monotonic() < deadline:
        time.sleep(0.5)  # a read of the bucket costs ~30 ms of CPU; a batch of one takes seconds
    child.send_signal(signal.SIGKILL)
    child.wait()
    published_before = scan("reports", killed).collect().height
    assert 1 <= published_before < 6

    # the whole run on disk first: it runs while the killed writer's lease, if it held one, expires
    ingest(sources=[str(docs)], out=str(tmp_path / "whole"), batch_size=6, return_state=True)
    state = ingest(sources=[str(docs)], out=killed, batch_size=6, return_state=True)  # what is left, in one batch
    from flows.ingest import summary_of

    assert summary_of(state).already_published == published_before
    assert _rows(killed) == _rows(tmp_path / "whole")
    assert len(_rows(killed)["applications"]) == 5 * 7 * 25


def test_the_validation_page_of_a_bucket_run_shows_the_failed_reports_cells(prefect_harness, s3, tmp_path):
    """The page is made from the warehouse's rows: a bucket's page shows what a folder's does."""
    import re

    from flows.ingest import ingest

    docs = _docs(tmp_path / "docs", 1)
    ingest(sources=[str(docs)], out=str(tmp_path / "disk"), return_state=True)
    ingest(sources=[str(docs)], out=f"{s3}/wh", return_state=True)
    fs = storage.filesystem()
    [remote] = [k for k in fs.find(f"{s3[5:]}/wh/validation") if k.endswith(".html") and "index" not in k]
    [local] = [p for p in (tmp_path / "disk" / "validation").glob("*.html") if p.name != "index.html"]
    sections = lambda page: re.findall(r"<section class=report.*?</section>", page, re.S)  # noqa: E731
    on_disk = sections(local.read_text(encoding="utf-8"))
    # the invalid report, the total its broken sums fail marked
    assert len(on_disk) == 1 and 'class="n bad total"' in on_disk[0]
    assert sections(fs.cat_file(remote).decode()) == on_disk
