"""The command's own process loads Arrow with the allocator nianbao.model.settings.NATIVE_LIBRARIES
names (the system's, which gives freed memory back), unless the user chose one."""

import subprocess
import sys

from conftest import ROOT

SAMPLE = ROOT / "data" / "samples" / "sample_valid_2023.txt"
# the command as a program (main() with no argv), and as it exits, Arrow's allocator and whether
# pyarrow was loaded before that (by the run) or only now (by this hook)
PROGRAM = """
import atexit, sys
def tell():
    loaded = "pyarrow" in sys.modules
    import pyarrow
    print("pool", pyarrow.default_memory_pool().backend_name, "loaded by the run" if loaded else "loaded at exit", file=sys.stderr)
atexit.register(tell)
from flows.command import main
main()
"""


def _pool(prefect_env: dict[str, str], *args: str, **env: str) -> tuple[int, str]:
    environment = {k: v for k, v in prefect_env.items() if k != "ARROW_DEFAULT_MEMORY_POOL"}
    environment.update(env)
    done = subprocess.run(
        [sys.executable, "-c", PROGRAM, *args], env=environment, cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    said = [line for line in done.stderr.splitlines() if line.startswith("pool ")]
    return done.returncode, said[-1] if said else done.stderr[-2000:]


def test_a_run_allocates_arrow_from_the_system_allocator(prefect_env, tmp_path):
    assert _pool(prefect_env, "ingest", str(SAMPLE), "--out", str(tmp_path / "wh"), "--quiet") == (
        0,
        "pool system loaded by the run",
    )


def test_the_users_choice_of_allocator_stays(prefect_env, tmp_path):
    assert _pool(
        prefect_env,
        "ingest",
        str(SAMPLE),
        "--out",
        str(tmp_path / "wh"),
        "--dry-run",
        ARROW_DEFAULT_MEMORY_POOL="mimalloc",
    ) == (
        0,
        "pool mimalloc loaded by the run",
    )
