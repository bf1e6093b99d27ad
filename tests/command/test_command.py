"""What a person sees from `nianbao ingest`: help, version, dry run, the summary (text and JSON),
usage errors before anything starts, and Ctrl-C that stops at once and resumes."""

import json
import os
import signal
import subprocess
import sys
import time

import pytest
from conftest import ROOT, command
from corpus import distinct_reports

from flows import command as cli
from nianbao import __version__

SAMPLES = ROOT / "data" / "samples"


def _ingest(docs, out, *options: str) -> list[str]:
    """The command line of `nianbao ingest docs --out out options` in a fresh interpreter."""
    return [sys.executable, "-m", "flows", "ingest", str(docs), "--out", str(out), *options]


def test_version_and_help_with_examples_and_exit_codes(capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")  # argparse wraps help to the terminal's width
    with pytest.raises(SystemExit):
        cli._parser().parse_args(["--version"])
    assert capsys.readouterr().out.strip() == f"nianbao {__version__}"
    assert cli.main(["ingest", "--help"]) == 0
    text = capsys.readouterr().out
    assert (
        "--out WAREHOUSE       warehouse folder or s3://bucket/prefix (default:\n                        data/warehouse)"
        in text
    )
    assert "--dry-run" in text and "--json" in text and "--quiet" in text
    assert "nianbao ingest data/samples --out data/warehouse" in text
    assert "3    the run itself failed" in text and "130  interrupted" in text


def test_out_that_is_a_file_is_a_usage_error(tmp_path, capsys):
    (tmp_path / "wh").write_text("not a folder")
    assert cli.main(["ingest", str(SAMPLES), "--out", str(tmp_path / "wh")]) == 2
    assert "is a file, not a warehouse folder" in capsys.readouterr().err


def test_dry_run_lists_formats_and_skips_and_writes_nothing(tmp_path, capsys):
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "notes.md").write_text("# not a report")
    (docs / "r.txt").write_text((SAMPLES / "sample_valid_2023.txt").read_text(encoding="utf-8"), encoding="utf-8")
    (docs / "page.htm").write_text("<html><body>年度报告</body></html>", encoding="utf-8")
    out = tmp_path / "wh"
    assert cli.main(["ingest", str(docs), "--out", str(out), "--dry-run"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines == [
        f"html     {docs / 'page.htm'}",
        f"txt      {docs / 'r.txt'}",
        f"skip     {docs / 'notes.md'}  (not a report format)",
        "dry run: 2 documents (1 html, 1 txt), 0 already published, 1 file skipped; nothing was written",
    ]
    assert not out.exists()


def test_json_is_json_whatever_the_outcome(tmp_path, capsys):
    """Issue 25 item 5: --json prints JSON on every exit (dry run, usage error, a failed run), with
    `error`, `next` and why each file was skipped; the one line stays on stderr."""
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "r.txt").write_bytes((SAMPLES / "sample_valid_2023.txt").read_bytes())
    (docs / "manifest.csv").write_text("uri\nr.txt\n", encoding="utf-8")
    (docs / "notes.md").write_text("# not a report")
    skipped = [
        {"path": str(docs / "manifest.csv"), "why": "a manifest: pass it by name"},
        {"path": str(docs / "notes.md"), "why": "not a report format"},
    ]
    assert cli.main(["ingest", str(docs), "--out", str(tmp_path / "wh"), "--dry-run", "--json"]) == 0
    got = json.loads(capsys.readouterr().out)
    assert (got["exit_code"], got["error"], got["formats"], got["skipped_files"]) == (0, None, {"txt": 1}, skipped)
    assert got["documents"] == [{"uri": str(docs / "r.txt"), "format": "txt", "note": None}]
    assert got["next"] == "run the same command without --dry-run to ingest"

    assert cli.main(["ingest", str(docs / "missing.pdf"), "--out", str(tmp_path / "wh"), "--json"]) == 2
    seen = capsys.readouterr()
    got = json.loads(seen.out)
    assert got["exit_code"] == 2 and got["error"].endswith("missing.pdf: no such file, directory or manifest"), got
    assert got["next"] == "correct the source and run again (nianbao ingest --help)"
    assert seen.err == f"nianbao: {got['error']}\n"

    assert cli.main(["ingest", str(docs / "notes.md"), str(docs), "--out", "/proc/nianbao-wh", "--json"]) == 3
    got = json.loads(capsys.readouterr().out)
    assert got["exit_code"] == 3 and got["error"].startswith(
        "the run failed: the warehouse /proc/nianbao-wh is not writable"
    )
    assert (
        got["next"] == "make the warehouse writable (or free space) and run again" and got["skipped_files"] == skipped
    )

    assert cli.main(["ingest", str(docs), "--json", "--wokers", "3"]) == 2
    seen = capsys.readouterr()
    assert json.loads(seen.out) == {
        "exit_code": 2,
        "error": "unrecognized arguments: --wokers (did you mean --workers?)",
        "next": "nianbao ingest --help shows every option",
        "skipped_files": [],
    }


def test_a_mistyped_option_shows_the_subcommands_usage_and_the_option_meant(capsys):
    """Issue 25 item 7."""
    assert cli.main(["ingest", "x.pdf", "--wokers", "3"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("usage: nianbao ingest [-h] [--out WAREHOUSE]")
    assert err.rstrip().endswith("nianbao ingest: error: unrecognized arguments: --wokers (did you mean --workers?)")
    assert cli.main(["compact", "wh", "--yaer", "2024"]) == 2
    assert (
        capsys.readouterr()
        .err.rstrip()
        .endswith("nianbao compact: error: unrecognized arguments: --yaer (did you mean --year?)")
    )


def test_summary_names_reasons_sums_page_and_skipped_files(prefect_harness, tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    for name in ("sample_invalid_2024.txt", "not_a_report.txt"):
        (docs / name).write_bytes((SAMPLES / name).read_bytes())
    (docs / "table.xls").write_bytes(b"\xd0\xcf\x11\xe0 not really")
    done = command("ingest", str(docs), "--out", str(tmp_path / "wh"))
    assert done.returncode == 1, done.stderr
    out = done.stdout.splitlines()
    assert out[0] == "2 reports: 0 valid, 1 invalid, 1 unreadable"
    assert out[2].startswith(f"validation report: {tmp_path / 'wh' / 'validation'}") and out[2].endswith(".html")
    assert f"  unreadable {docs / 'not_a_report.txt'}" in out
    assert "             document.unreadable: no template tables found (sections 三 and 四 are missing)" in out
    assert (
        "             applications.handled_total: 自然人: （七）总计 = 10 ≠ 11 = 三、本年度办理结果（一）至（六）"
        in out
    )
    assert "             … and 1 more errors" in out
    assert f"skipped, not a report format (1 file): {docs / 'table.xls'}" in out
    assert out[-1].startswith("next: open the validation report")
    assert "Traceback" not in done.stderr

    again = command("ingest", str(docs), "--out", str(tmp_path / "wh"), "--json", "--quiet")
    summary = json.loads(again.stdout)  # stdout is the JSON alone
    assert again.returncode == summary["exit_code"] == 1
    assert (
        summary["reports"],
        summary["valid"],
        summary["invalid"],
        summary["unreadable"],
        summary["already_published"],
    ) == (2, 0, 1, 1, 2)
    assert summary["skipped_files"] == [{"path": str(docs / "table.xls"), "why": "not a report format"}]
    assert summary["error"] is None and summary["next"].startswith("open the validation report")
    failed = {f["source_uri"].rsplit("/", 1)[1]: f for f in summary["failed"]}
    assert failed["sample_invalid_2024.txt"]["agency"] == "示例市绿水街道办事处"
    assert len(failed["sample_invalid_2024.txt"]["errors"]) == 4
    assert "| INFO" not in again.stderr and "ingesting" not in again.stderr  # --quiet: no progress, no info logs


def test_ctrl_c_stops_at_once_keeps_what_was_published_and_resumes(prefect_env, tmp_path):
    docs = distinct_reports(tmp_path / "docs", 12)
    out = tmp_path / "wh"
    args = _ingest(docs[0].parent, out, "--batch-size", "2", "--workers", "1")
    env = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"}  # the command's own temporary server
    env["NIANBAO_TEST_RUN"] = mark = f"{os.getpid()}-{time.monotonic()}"  # inherited by everything it starts
    proc = subprocess.Popen(args, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 240
        while not list(out.glob("reports/*/*.parquet")) and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.05)
        assert list(out.glob("reports/*/*.parquet")), "no batch was published"
        proc.send_signal(signal.SIGINT)
        stdout, stderr = proc.communicate(timeout=30)  # stops at once, not after the batches in flight
    finally:
        proc.kill()
    assert proc.returncode == 130
    assert "interrupted. Batches already published" in stderr and "run the same command again to resume" in stderr
    assert "Traceback" not in stderr
    # resumed against the session's server: the temporary server's part was the interrupted run's
    resumed = subprocess.run(
        args, cwd=ROOT, env=dict(prefect_env, NIANBAO_TEST_RUN=mark), capture_output=True, text=True, timeout=300
    )
    assert resumed.returncode == 0, resumed.stderr
    first = resumed.stdout.splitlines()[0]
    assert first.startswith("12 reports: 12 valid, 0 invalid, 0 unreadable (") and "already published" in first
    assert resumed.stdout.rstrip().endswith(".html")  # its last line too: the program ends without Python's teardown
    deadline = time.monotonic() + 10  # their ends are asynchronous: a moment, not a fixed wait
    while (left := _running_with(mark)) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert left == []  # its temporary server, extraction workers and watchdog ended with it


def _running_with(mark: str) -> list[str]:
    """The command lines of the processes whose environment holds NIANBAO_TEST_RUN=mark."""
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/environ", "rb") as f:
                if f"NIANBAO_TEST_RUN={mark}".encode() in f.read().split(b"\0"):
                    with open(f"/proc/{pid}/cmdline", "rb") as c:
                        found.append(c.read().replace(b"\0", b" ").decode())
        except OSError:
            pass
    return found


def test_a_terminal_gets_a_progress_bar_per_document(prefect_harness, tmp_path):
    import shlex
    import shutil

    from prefect.settings import PREFECT_API_URL

    if shutil.which("script") is None:
        pytest.skip("util-linux `script` (a terminal for the command) is not installed")
    docs = distinct_reports(tmp_path / "docs", 5)
    command = shlex.join(_ingest(docs[0].parent, tmp_path / "wh", "--batch-size", "2"))
    done = subprocess.run(
        ["script", "-qec", command, "/dev/null"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        env=dict(os.environ, PREFECT_API_URL=PREFECT_API_URL.value(), COLUMNS="100"),
    )
    assert done.returncode == 0, done.stdout[-2000:]
    screen = done.stdout.replace("\r", "\n")
    assert "nianbao: 100%" in screen and "5/5" in screen  # counted per document, on the terminal
    assert "| INFO" not in screen  # Prefect's lines would break the bar: only warnings show
    assert "5 reports: 5 valid, 0 invalid, 0 unreadable" in screen


def test_ctrl_c_on_a_terminal_prints_the_one_promised_line(tmp_path):
    """Issue 25 item 4: Ctrl-C typed on a real terminal reaches the whole foreground process group
    (extraction workers, Prefect's server): only the command's one line is printed, no worker's
    traceback and no `Aborted!`."""
    import pty
    import select

    sys.path.insert(0, str(ROOT / "tests" / "fixtures"))
    import make_pdf

    docs = tmp_path / "docs"
    docs.mkdir()
    pdf = make_pdf.simple()
    for i in range(12):  # PDFs: read by the extraction workers
        (docs / f"r{i:02d}.pdf").write_bytes(pdf + f"\n%{i}\n".encode())
    out = tmp_path / "wh"
    env = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"}  # the command's own server
    env.update(COLUMNS="100", LINES="40")
    pid, fd = pty.fork()
    if pid == 0:  # the child: a session whose controlling terminal is the pty
        os.chdir(ROOT)
        os.execve(sys.executable, _ingest(docs, out, "--batch-size", "2", "--workers", "1"), env)
    screen = b""

    def read(seconds: float) -> None:
        nonlocal screen
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            if select.select([fd], [], [], 0.2)[0]:
                try:
                    chunk = os.read(fd, 65536)
                except OSError:  # the terminal's other end closed: everything is read
                    return
                if not chunk:
                    return
                screen += chunk

    try:
        deadline = time.monotonic() + 240
        while not list(out.glob("reports/*/*.parquet")) and time.monotonic() < deadline:
            read(0.5)
        assert list(out.glob("reports/*/*.parquet")), screen.decode(errors="replace")[-3000:]
        before = len(screen)
        os.write(fd, b"\x03")  # Ctrl-C, as typed
        read(30)
        _, status = os.waitpid(pid, 0)
    finally:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        os.close(fd)
    after = screen[before:].decode(errors="replace").replace("\r", "\n")
    assert os.waitstatus_to_exitcode(status) == 130, after
    lines = [line for line in after.split("\n") if line.strip() and not line.strip().startswith(("^C", "nianbao:  "))]
    said = [line for line in lines if "interrupted" in line]
    assert len(said) == 1 and said[0].startswith("nianbao: interrupted. Batches already published"), after
    assert "Traceback" not in after and "KeyboardInterrupt" not in after and "Aborted" not in after, after


def test_quiet_prints_the_summary_only(prefect_harness, tmp_path, monkeypatch):
    """Issue 25 item 6: --quiet prints nothing but the summary, not the fetcher's warnings."""
    import functools
    import threading
    from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

    from nianbao.acquire import fetch

    class Quiet(SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(tmp_path)))
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()  # shut down in 0.05 s, not 0.5
    # a URL's run makes its process's one Fetcher: the run's own here, closed after it (left, it would
    # serve the process's later fetches with its settings)
    monkeypatch.setattr(fetch, "_default", None)
    try:
        done = command(
            "ingest",
            f"http://127.0.0.1:{server.server_address[1]}/gone.pdf",
            "--out",
            str(tmp_path / "wh"),
            "--quiet",
            "--allow-private",
        )
    finally:
        server.shutdown()
        if fetch._default is not None:
            fetch._default.close()
    assert done.returncode == 1, done.stderr
    assert done.stdout.splitlines()[0] == "1 report: 0 valid, 0 invalid, 1 unreadable"
    assert done.stderr == "", done.stderr  # without --quiet: the fetcher's warning, Prefect's info lines
