"""Runs that meet bad input or a broken warehouse finish cleanly: the right exit code, one clear
line, no traceback, nothing half-published, no process or temporary file left behind."""

import datetime as dt
import os
import shutil
import signal
import subprocess
import sys
import time
import zlib
from contextlib import contextmanager
from pathlib import Path

import pytest
from conftest import ROOT, artifacts, command
from corpus import distinct_reports

from flows import command as cli
from nianbao.acquire.sources import Source
from nianbao.interpret.reading import extract_and_match
from nianbao.run import isolate, reaper
from nianbao.run.pipeline import process_batch
from nianbao.warehouse import publish

SAMPLES = ROOT / "data" / "samples"


def pdf_with_stream(raw_size: int, chunk: bytes = b"0 0 m 1 1 l S\n") -> bytes:
    """A one-page PDF whose content stream inflates (FlateDecode) to `raw_size` bytes of `chunk`."""
    z = zlib.compressobj(9)
    block = chunk * (65536 // len(chunk))
    stream = b"".join([z.compress(block) for _ in range(max(1, raw_size // len(block)))] + [z.flush()])
    objs = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R >>",
        b"<< /Length %d /Filter /FlateDecode >>\nstream\n%s\nendstream" % (len(stream), stream),
    ]
    out, offsets = bytearray(b"%PDF-1.4\n"), []
    for n, obj in enumerate(objs, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (n, obj)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objs) + 1, xref)
    return bytes(out)


@contextmanager
def tmpfs(path: Path, size: str, *options: str):
    """A small filesystem of its own (a full disk for real); skips where mounting is not allowed."""
    path.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", ",".join([f"size={size}", *options]), "tmpfs", str(path)], capture_output=True
    )
    if done.returncode:
        pytest.skip("cannot mount a tmpfs here (not root?)")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=True)


# item 1: a document that fails before its format is known; item 2: ReportsFailed, no traceback
def test_a_run_with_documents_of_unknown_format_ends_with_its_summary(prefect_harness, tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "e.pdf").write_bytes(b"")
    shutil.copy(SAMPLES / "sample_valid_2023.txt", docs)
    manifest = tmp_path / "m.csv"
    manifest.write_text(f"uri\n{tmp_path / 'missing.pdf'}\n", encoding="utf-8")
    done = command("ingest", str(docs), str(manifest), "--out", str(tmp_path / "wh"))
    assert done.returncode == 1, done.stderr
    assert done.stdout.splitlines()[0] == "3 reports: 1 valid, 0 invalid, 2 unreadable"
    assert "Traceback" not in done.stderr and "crashed" not in done.stderr and "Error" not in done.stderr
    assert "Finished in state ReportsFailed('3 reports: 1 valid, 0 invalid, 2 unreadable'" in done.stderr
    (page,) = (tmp_path / "wh" / "validation").glob("*-*.html")  # the run's page, beside index.html
    assert "e.pdf" in page.read_text(encoding="utf-8")


def test_the_reports_artifacts_count_an_unknown_format(prefect_harness, tmp_path):
    from prefect import flow

    from tasks.ingest import report_artifacts

    summary = {
        "reports": [
            {
                "report_id": "a" * 64,
                "source_uri": "e.pdf",
                "source_format": None,
                "status": "unreadable",
                "year": None,
                "agency": None,
                "error_count": 1,
                "warning_count": 0,
                "skipped": False,
            },
            {
                "report_id": "b" * 64,
                "source_uri": "v.txt",
                "source_format": "txt",
                "status": "valid",
                "year": 2023,
                "agency": "x",
                "error_count": 0,
                "warning_count": 0,
                "skipped": False,
            },
        ],
        "findings": [
            {"report_id": "a" * 64, "rule_id": "document.unreadable", "severity": "error", "message": "empty file"}
        ],
    }
    state = flow(name="artifacts")(lambda: report_artifacts(summary, "run-unknown", str(tmp_path)))(return_state=True)
    counts = artifacts(state)["ingest-counts"]  # this run's: other processes' runs share the server
    assert '{"kind": "format", "name": "txt", "severity": "", "count": 1}' in counts.data
    assert '{"kind": "format", "name": "unknown", "severity": "", "count": 1}' in counts.data
    assert "2 reports: 1 valid, 0 invalid, 1 unreadable" in cli.render_summary(summary, "wh")


def test_a_flow_called_from_python_raises_reports_failed_with_the_summary(prefect_harness, tmp_path):
    from flows.ingest import ReportsFailed, ingest

    docs = tmp_path / "docs"
    docs.mkdir()
    shutil.copy(SAMPLES / "sample_invalid_2024.txt", docs)
    with pytest.raises(ReportsFailed) as failed:
        ingest(sources=[str(docs)], out=str(tmp_path / "wh"))
    assert str(failed.value) == "1 report: 0 valid, 1 invalid, 0 unreadable"
    assert failed.value.summary.statuses == {"valid": 0, "invalid": 1, "unreadable": 0}
    state = ingest(sources=[str(docs)], out=str(tmp_path / "wh"), reprocess=True, return_state=True)
    assert (state.name, state.is_failed(), state.message) == ("ReportsFailed", True, str(failed.value))


# item 3
def test_a_document_past_the_memory_limit_is_unreadable_with_that_reason():
    bomb = pdf_with_stream(400 << 20, b"\0" * 64)  # ~400 KB inflating to 400 MiB
    assert len(bomb) < 1 << 20
    started = time.monotonic()
    (out,) = isolate.run(extract_and_match, [(bomb, "pdf")], memory_limit_mb=256)
    assert str(out) == "extraction exceeds the memory limit of 256 MiB"
    assert time.monotonic() - started < 30


# item 5
@pytest.mark.parametrize(
    "option",
    [
        ["--batch-size", "-1"],
        ["--batch-size", "0"],
        ["--batch-size", "1e3"],
        ["--workers", "0"],
        ["--workers", "100000"],
        ["--year", "1999"],
        ["--year", "-2023"],
        ["--year", str(dt.date.today().year + 1)],
    ],
)
def test_every_numeric_option_is_range_checked(option, capsys):
    assert cli.main(["ingest", str(SAMPLES), "--out", "never-created", *option]) == 2
    assert "Traceback" not in capsys.readouterr().err
    assert not Path("never-created").exists()


def test_the_flow_checks_its_numeric_parameters_too(prefect_harness, tmp_path):
    from flows.ingest import ingest

    state = ingest(sources=[str(SAMPLES)], out=str(tmp_path / "wh"), batch_size=-1, return_state=True)
    assert state.is_failed() and "batch_size" in state.message and "greater than or equal to 1" in state.message
    assert not (tmp_path / "wh").exists()


@pytest.mark.parametrize("option", [["--max-pages", "0"], ["--delay", "-1"], ["--delay", "nan"], ["--delay", "inf"]])
def test_discover_options_are_range_checked(option, tmp_path):
    assert cli.main(["discover", "http://127.0.0.1:9/", "--out", str(tmp_path / "m.csv"), *option]) == 2


# item 8
def test_stale_temporaries_are_removed_and_live_ones_kept(tmp_path):
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    part = tmp_path / "wh" / "applications" / "year=2023"
    part.mkdir(parents=True)
    stale = part / f".part-0123456789abcdef.parquet.{gone.pid}.tmp"
    live = part / f".part-fedcba9876543210.parquet.{os.getpid()}.tmp"
    stale.write_bytes(b"PAR1 half")
    live.write_bytes(b"PAR1 being written")
    publish.probe(tmp_path / "wh")
    assert not stale.exists() and live.exists()


def test_a_killed_run_leaves_no_process_behind(prefect_harness, tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    for n in range(2):  # slow to extract (~20 s each), so workers are busy when the run is killed
        (docs / f"slow{n}.pdf").write_bytes(pdf_with_stream(1 << 20) + b"%" + bytes([n]))
    env = dict(os.environ, PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS="90")
    env.pop("PREFECT_API_URL", None)  # the command starts its own temporary server
    child = subprocess.Popen(
        [sys.executable, "-m", "flows", "ingest", str(docs), "--out", str(tmp_path / "wh"), "--batch-size", "1"],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    seen: dict[int, str] = {}
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:  # until a server and an extraction worker run
        seen.update(reaper._descendants({child.pid}, reaper._processes()))
        commands = [_cmdline(pid) for pid in seen]
        if (
            any("create_app" in c for c in commands)
            and sum("forkserver" in c for c in commands) >= 2  # the forkserver and a worker it forked
            and len(seen) >= 4
        ):
            break
        time.sleep(0.05)  # a look costs ~5 ms
    else:
        child.kill()
        pytest.fail(f"the run did not start its server and workers: {commands}")
    seen.update(reaper._descendants({child.pid}, reaper._processes()))
    child.send_signal(signal.SIGKILL)
    child.wait()
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        table = reaper._processes()
        left = [pid for pid, start in seen.items() if pid in table and table[pid][1] == start]
        if not left:
            break
        time.sleep(0.05)
    assert left == [], [_cmdline(p) for p in left]


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


# item 9
def test_a_warehouse_that_cannot_be_written_fails_the_run_before_any_work(tmp_path, capsys):
    (tmp_path / "a-file").write_text("not a folder")
    assert cli.main(["ingest", str(SAMPLES), "--out", str(tmp_path / "a-file" / "wh")]) == 3
    err = capsys.readouterr().err
    assert err == f"nianbao: the run failed: the warehouse {tmp_path}/a-file/wh is not writable: Not a directory\n"


def test_a_full_or_read_only_warehouse_fails_the_run_before_any_work(tmp_path, capsys):
    with tmpfs(tmp_path / "full", "64k") as wh:
        assert cli.main(["ingest", str(SAMPLES), "--out", str(wh)]) == 3
        assert capsys.readouterr().err == (
            f"nianbao: the run failed: the warehouse {wh} has 0 MiB free, less than "
            "the 64 MiB a run needs (NIANBAO_MIN_FREE_MB)\n"
        )
    with tmpfs(tmp_path / "ro", "1m", "ro") as wh:
        assert cli.main(["ingest", str(SAMPLES), "--out", str(wh)]) == 3
        assert capsys.readouterr().err == (
            f"nianbao: the run failed: the warehouse {wh} is not writable: Read-only file system\n"
        )


def test_a_disk_full_while_publishing_leaves_the_warehouse_as_it_was(tmp_path):
    docs = [Source(str(p)) for p in distinct_reports(tmp_path / "docs", 2)]
    first, second = process_batch(docs[:1], "run-1"), process_batch(docs, "run-2")
    with tmpfs(tmp_path / "disk", "2m") as wh:
        publish.publish(wh, first)
        before = {p: p.read_bytes() for p in wh.rglob("*") if p.is_file()}
        filler = wh / "filler"
        with open(filler, "wb", buffering=0) as f:  # fill the disk, then free a little: less than the batch needs
            try:
                while True:
                    f.write(b"\0" * 4096)
            except OSError:
                pass
        os.truncate(filler, max(0, filler.stat().st_size - 8192))
        with pytest.raises(publish.WarehouseError, match=r"No space left on device\); the batch was not published"):
            publish.publish(wh, second)
        filler.unlink()
        assert {p: p.read_bytes() for p in wh.rglob("*") if p.is_file()} == before


def test_a_disk_full_during_a_run_exits_3_with_one_line_and_nothing_visible(prefect_harness, tmp_path, monkeypatch):
    docs = tmp_path / "docs"
    distinct_reports(docs, 3)
    monkeypatch.setenv("NIANBAO_MIN_FREE_MB", "0")
    with tmpfs(tmp_path / "disk", "16k") as wh:
        done = command("ingest", str(docs), "--out", str(wh))
        assert done.returncode == 3, done.stderr
        last = done.stderr.strip().splitlines()[-2:]
        assert "Traceback" not in done.stderr
        assert any(
            line.startswith("nianbao: the run failed: ")
            and "No space left on device" in line
            and "the batch was not published" in line
            for line in last
        ), last
        assert list(wh.rglob("*.parquet")) == [] and list(wh.rglob("*.tmp")) == []  # no cells without reports
