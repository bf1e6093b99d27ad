"""The README runs as pasted: its Python and SQL reads work on a warehouse made from the samples
(the unknown-year partition included), and every option it shows exists."""

import os
import re
import subprocess
import sys

import pytest
from conftest import ROOT

from flows import command as cli
from nianbao.acquire.sources import resolve
from nianbao.check import indicators
from nianbao.run.pipeline import process_batch
from nianbao.warehouse import publish

README = (ROOT / "README.md").read_text(encoding="utf-8")


def blocks(language: str) -> list[str]:
    """The README's fenced blocks of a language, those that read the local warehouse."""
    found = re.findall(rf"```{language}\n(.*?)```", README, flags=re.S)
    return [b for b in found if "data/warehouse" in b and "s3://" not in b]


@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory):
    """A folder laid out like the checkout after `make demo`: data/warehouse from the samples."""
    root = tmp_path_factory.mktemp("demo")
    frames = process_batch(resolve([str(ROOT / "data" / "samples")]), "readme")
    publish.publish(root / "data" / "warehouse", frames)
    indicators.compute(root / "data" / "warehouse")
    assert (root / "data/warehouse/reports/year=0").is_dir()  # the unknown year, beside others: it broke pandas
    return root


@pytest.fixture(scope="module")
def pasted(demo_dir):
    """_pasted, each block run once: its output shared by the tests that read it."""
    outputs: dict[str, str] = {}

    def run(block: str) -> str:
        if block not in outputs:
            outputs[block] = _pasted(block, demo_dir)
        return outputs[block]

    return run


def test_read_the_results_is_near_the_top_and_runs_as_pasted(pasted):
    """Issue 25 item 12: a short "Read the results" section before the command's, every snippet of
    it runs when pasted (no name it does not define), SQL shown from Python with its answer."""
    section = README.split("## Read the results\n", 1)[1].split("\n## ", 1)[0]
    assert README.index("## Read the results") < README.index("## The command") and len(section.splitlines()) < 40
    code = re.findall(r"```python\n(.*?)```", section, flags=re.S)
    assert len(code) == 4 and not re.findall(r"```sql", README)
    outputs = [pasted(block) for block in code]
    assert "shape: (3, 3)" in outputs[0] and "┆ i64  ┆" in outputs[0] and "┆ 0    ┆ unreadable │" in outputs[0]
    assert (
        outputs[1].strip() == "[('示例县青山镇人民政府', 'new', 'total', 16)]"
    )  # the valid sample's 一、本年新收 总计
    assert re.search(
        r"\n0     document.unreadable +1\n2024  applications.balance +2\n +applications.handled_total +2\n", outputs[2]
    )  # pandas' default read: the unknown year is 0
    assert outputs[3].strip() == "(175, 6)"  # the valid sample: 7 columns × 25 rows of section 三


def test_every_python_block_that_reads_the_warehouse_runs(pasted):
    for block in blocks("python"):
        pasted(block)


def _pasted(block: str, demo_dir) -> str:
    """A README block run as pasted into Python in the demo's folder: its output (it must not fail)."""
    done = subprocess.run(
        [sys.executable, "-c", block],
        cwd=demo_dir,
        capture_output=True,
        text=True,
        timeout=120,
        env=dict(os.environ, PYTHONPATH=str(ROOT)),
    )
    assert done.returncode == 0, f"{block}\n{done.stderr[-2000:]}"
    return done.stdout


def test_every_ingest_option_shown_exists():
    synopsis = README.split("## The command", 1)[1].split("```", 2)[1]
    shown = set(re.findall(r"(--[a-z][a-z-]+)", synopsis))
    parser = cli._parser()
    ingest = parser._subparsers._group_actions[0].choices["ingest"]
    known = {o for p in (parser, ingest) for a in p._actions for o in a.option_strings}
    assert {"--dry-run", "--json", "--quiet", "--year", "--reprocess"} <= shown
    assert shown <= known, shown - known
    assert {o for a in ingest._actions for o in a.option_strings if o.startswith("--")} - {"--help"} <= shown


def test_make_rebuilds_a_venv_of_another_python(tmp_path):
    """`make` never reuses a .venv made by another Python (3.12 cannot install the pins): it says so
    and rebuilds; a PYTHON that is not 3.11 is refused with the way out."""
    import shutil

    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    for name in ("Makefile", "pyproject.toml", "constraints.txt"):
        shutil.copy(ROOT / name, tmp_path / name)
    fake = tmp_path / ".venv" / "bin" / "python"
    fake.parent.mkdir(parents=True)
    fake.write_text("#!/bin/sh\necho 'Python 3.12.1'\nexit 1\n")
    fake.chmod(0o755)
    dry = subprocess.run(["make", "-n", "install"], cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert ".venv was made by Python 3.12.1: rebuilding it" in dry.stdout
    assert not (tmp_path / ".venv").exists()
    assert "-m venv .venv" in dry.stdout  # and the install runs again, from a new venv
    refused = subprocess.run(
        ["make", "python", "PYTHON=/bin/false"], cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    assert refused.returncode == 2 and "nianbao needs Python 3.11" in refused.stdout
