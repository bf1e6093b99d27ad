"""Is the product the same as before? `make same`: ingests a fixed corpus with the command and
compares a canonical dump of what came out with the committed baseline; exits 1 on any difference.

    python bench/same.py [--update] [--baseline tests/baseline/same.txt] [--full FILE]

The corpus: data/samples, tests/accuracy.py's generated documents (2 per variant, seed 0; the
same bytes run after run), two broken files, ../shared's real reports and seeds where present
(copied beside the rest, so they sort the same wherever ../shared lies), and
one report fetched over HTTP from a local server (so `fetches` and the raw store are covered).
The command runs twice on one fresh warehouse: as users run it, then again with --json (every
document already published). The dump: the command's output of both runs; every dataset read back
with polars, sorted, without what differs run to run (run ids, timestamps, durations, the
temporary folder, the HTTP port); the warehouse's file names; tests/accuracy.py's figures. Cell
datasets are written as one hash per report and dataset (a difference names the report);
--full FILE writes every row too, to diff two checkouts' dumps.
"""

from __future__ import annotations

import argparse
import difflib
import functools
import hashlib
import http.server
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
from collections import Counter
from pathlib import Path

import polars as pl

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
BASELINE = ROOT / "tests" / "baseline" / "same.txt"
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT))

import accuracy  # noqa: E402

PER_VARIANT = 2
# what differs run to run, never the product
VOLATILE = {"run_id", "ingested_at", "fetched_at", "elapsed_s", "last_modified", "etag", "fetched_on"}
HASHED = {"active_disclosure", "applications", "reviews_litigation", "narratives"}
NAMES: Names


def corpus(folder: Path) -> list[str]:
    """Write the generated documents into `folder`; return the command's sources."""
    gen = folder / "generated"
    gen.mkdir(parents=True)
    for variant in accuracy.VARIANTS:
        for i in range(PER_VARIANT):
            doc = accuracy.document(variant, i, 0)
            (gen / f"{variant.replace('/', '-')}-{i}{accuracy.SUFFIX[doc.fmt]}").write_bytes(doc.data)
    pdf = (gen / "pdf-plain-0.pdf").read_bytes()
    (gen / "truncated.pdf").write_bytes(pdf[: len(pdf) // 3])
    (gen / "empty.docx").write_bytes(b"")
    served = folder / "served"
    served.mkdir()
    (served / "report.html").write_bytes(accuracy.document("html/plain", 9, 0).data)
    samples = folder / "samples"
    shutil.copytree(ROOT / "data" / "samples", samples)
    sources = [str(samples), str(gen)]
    for part in ("corpus/real", "seeds"):  # copied beside the rest: sources sort the same wherever shared is
        if (SHARED / part).is_dir():
            shutil.copytree(SHARED / part, folder / "shared" / part)
            sources.append(str(folder / "shared" / part))
    return sources


def serve(folder: Path) -> tuple[str, http.server.HTTPServer]:
    handler = functools.partial(_Quiet, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{server.server_port}", server


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def command(args: list[str], cwd: Path) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NIANBAO_", "PREFECT_API_URL"))}
    env.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")
    done = subprocess.run(
        [sys.executable, "-m", "flows", *args],
        cwd=cwd,
        env=env,  # = the nianbao script
        capture_output=True,
        text=True,
        timeout=1800,
    )
    if done.returncode not in (0, 1):
        sys.exit(f"the command failed ({done.returncode}):\n{done.stderr[-3000:]}")
    return f"exit {done.returncode}\n{done.stdout}"


class Names:
    """Report ids are sha256 of bytes, and some generators stamp the time into what they write (zip
    entries, PDF dates, LibreOffice): each report is named by its source instead, and an agency
    of its own report (agencies.py: sha256 of "report:<id>") by its report's source."""

    def __init__(self, reports: pl.DataFrame, tmp: Path, url: str):
        self.of: dict[str, str] = {}
        for rid, uri in reports.select("report_id", "source_uri").iter_rows():
            uri = uri.replace(str(tmp), "TMP").replace(url, "http://SERVER")
            name = f"<{uri}>"
            self.of[rid] = name
            self.of[hashlib.sha256(f"report:{rid}".encode()).hexdigest()[:20]] = f"<agency of {uri}>"

    def frame(self, df: pl.DataFrame) -> pl.DataFrame:
        for col in ("report_id", "agency_id", "last_id"):
            if col in df.columns:
                df = df.with_columns(pl.col(col).replace(self.of))
        return df

    def text(self, text: str) -> str:
        for rid, name in self.of.items():
            if len(rid) == 64:
                text = text.replace(rid, name).replace(rid[:16], name).replace(rid[:12], name)
            else:
                text = text.replace(rid, name)
        return text


def frame_text(df: pl.DataFrame) -> list[str]:
    df = NAMES.frame(df.drop([c for c in df.columns if c in VOLATILE]))
    df = df.select(sorted(df.columns))
    rows = sorted(repr(tuple(r)) for r in df.iter_rows())
    return [" ".join(df.columns), *rows]


def warehouse(wh: Path, full: list[str]) -> list[str]:
    out = ["== files"]
    parquet = sorted(
        p
        for p in wh.rglob("*")
        if p.is_file() and ".lock" not in p.name and p.parts[len(wh.parts)] not in ("validation", "manifests")
    )
    names = [re.sub(r"fetched_on=[0-9-]+", "fetched_on=DAY", str(p.relative_to(wh))) for p in parquet]
    names = [re.sub(r"part-[0-9a-f]+\.parquet$", "part-ID.parquet", n) for n in names]  # named after report ids
    names = [re.sub(r"^raw/urls/.+\.json$", "raw/urls/ID.json", n) for n in names]  # named after the URL (its port)
    names = [re.sub(r"^fetches/(.+)/[0-9a-f]+\.parquet$", r"fetches/\1/ID.parquet", n) for n in names]
    out += [f"{n} x{k}" if k > 1 else n for n, k in sorted(Counter(names).items())]
    roots = sorted({p.relative_to(wh).parts[0] for p in parquet if p.suffix == ".parquet"})
    for top in roots:
        groups = [top] if top != "quarantine" else [f"quarantine/{d.name}" for d in sorted((wh / top).iterdir())]
        for name in groups:
            files = sorted((wh / name).rglob("*.parquet"))
            df = pl.concat([pl.read_parquet(f, hive_partitioning=True) for f in files], how="diagonal_relaxed")
            if name == "_index":  # an accelerator: what it says, not how (file identities, names, order)
                ids = NAMES.frame(df.select("partition", pl.col("report_ids").alias("report_id")).explode("report_id"))
                out += [
                    "== _index (report ids by partition)",
                    *sorted(f"{part} {sorted(g['report_id'].to_list())}" for (part,), g in ids.group_by("partition")),
                ]
                continue
            lines = frame_text(df)
            full += [f"== {name}", *lines]
            if name.split("/")[-1] in HASHED:
                by_report: dict[str, list[str]] = {}
                col = NAMES.frame(df.drop([c for c in df.columns if c in VOLATILE]))
                col = col.select(sorted(col.columns))
                for row in col.iter_rows(named=True):
                    by_report.setdefault(row["report_id"], []).append(repr(tuple(row.values())))
                out.append(f"== {name} ({df.height} rows; sha256 of each report's sorted rows)")
                out += [
                    f"{rid} {len(rows)} {hashlib.sha256(chr(10).join(sorted(rows)).encode()).hexdigest()[:16]}"
                    for rid, rows in sorted(by_report.items())
                ]
            else:
                out += [f"== {name} ({df.height} rows)", *lines]
    return out


def pages(wh: Path, full: list[str], tmp: Path, url: str) -> list[str]:
    """The validation pages (one per run, and the index), as hashes here, whole in --full."""
    out = ["== validation pages (sha256 of each, without run ids and times)"]
    texts = []
    for page in sorted((wh / "validation").iterdir()):
        text = _steady(page.read_text(encoding="utf-8"), tmp, url)
        texts.append((page.suffix, re.sub(r"(<tr|<section|<h[1-3])", r"\n\1", text)))
    for suffix, text in sorted(texts):
        out.append(f"{suffix} {hashlib.sha256(text.encode()).hexdigest()[:16]}")
        full += [f"== validation page {suffix}", text]
    return out


def accuracy_figures() -> list[str]:
    results = accuracy.run(3, 0, jobs=1)
    out = ["== accuracy (3 documents per variant, seed 0)", accuracy.table(results)]
    out += [f"{r.name} {m}" for r in results for m in r.mismatches]
    return out


def dump(full_path: Path | None = None) -> str:
    with tempfile.TemporaryDirectory(prefix="nianbao-same-") as tmp:
        tmp = Path(tmp)
        sources = corpus(tmp / "in")
        url, server = serve(tmp / "in" / "served")
        try:
            wh = tmp / "wh"
            first = command(["ingest", *sources, f"{url}/report.html", "--out", str(wh), "--allow-private"], tmp)
            second = command(
                ["ingest", *sources, f"{url}/report.html", "--out", str(wh), "--allow-private", "--json"], tmp
            )
        finally:
            server.shutdown()
        global NAMES
        NAMES = Names(pl.concat([pl.read_parquet(f) for f in sorted((wh / "reports").rglob("*.parquet"))]), tmp, url)
        full: list[str] = []
        lines = ["== the command", first, "== the command again, --json", second, *warehouse(wh, full)]
        lines += pages(wh, full, tmp, url)
        lines += accuracy_figures()
        text = "\n".join(lines) + "\n"
        text = _steady(text, tmp, url)
        if full_path:
            full_path.write_text(_steady("\n".join(full) + "\n", tmp, url), encoding="utf-8")
    return text


def _steady(text: str, tmp: Path, url: str) -> str:
    """Take out what differs run to run: the folder, the port, run ids, times."""
    text = NAMES.text(text).replace(str(tmp), "TMP").replace(url, "http://SERVER")
    text = re.sub(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", "RUN", text)
    text = re.sub(r'"(seconds|elapsed\w*|\w+_s)": [0-9.e-]+', r'"\1": N', text)
    text = re.sub(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:\+00:00)?", "TIME", text)
    return text


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--update", action="store_true", help="write the baseline instead of comparing")
    parser.add_argument("--baseline", type=Path, default=BASELINE)
    parser.add_argument("--full", type=Path, help="also write every row of every dataset here")
    args = parser.parse_args(argv)
    now = dump(args.full)
    if args.update:
        args.baseline.parent.mkdir(parents=True, exist_ok=True)
        args.baseline.write_text(now, encoding="utf-8")
        print(f"wrote {args.baseline} ({len(now.splitlines())} lines)")
        return 0
    before = args.baseline.read_text(encoding="utf-8")
    if now == before:
        print(f"the same: {len(now.splitlines())} lines of {args.baseline.relative_to(ROOT)} match")
        return 0
    sys.stdout.writelines(difflib.unified_diff(before.splitlines(True), now.splitlines(True), "baseline", "now", n=1))
    print("\nNOT the same (above: - baseline, + now)")
    return 1


if __name__ == "__main__":
    sys.exit(main())
