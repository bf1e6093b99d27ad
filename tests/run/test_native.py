"""The command's own process allocates as nianbao/run/allocators.py says: Arrow from the system
allocator (unless the user chose one), glibc's malloc in at most allocators.MALLOC.arenas arenas.
The same run, in its fresh interpreter, tells what else it imported (issue 26): no FastAPI, and no
parser before a document needs it."""

import os
import subprocess
import sys

from conftest import ROOT

from nianbao.run import allocators

SAMPLE = ROOT / "data" / "samples" / "sample_valid_2023.txt"
# the command as a program (main() with no argv); as it exits: Arrow's allocator, whether pyarrow
# was loaded by the run or only by this hook, how many arenas glibc's malloc_info reports, whether
# the run imported FastAPI, and which of the parsers it imported ("-": none)
PARSERS = ["pdfplumber", "docx", "nianbao.extract.pdf", "nianbao.extract.html"]
PROGRAM = f"""
import atexit, ctypes, re, sys, tempfile
def tell():
    loaded, fastapi = "pyarrow" in sys.modules, "fastapi" in sys.modules
    parsers = ",".join(n for n in {PARSERS!r} if n in sys.modules) or "-"
    import pyarrow
    libc = ctypes.CDLL(None)
    libc.fopen.restype = ctypes.c_void_p
    with tempfile.NamedTemporaryFile() as f:
        out = libc.fopen(f.name.encode(), b"w")
        libc.malloc_info(0, ctypes.c_void_p(out))
        libc.fclose(ctypes.c_void_p(out))
        arenas = len(re.findall(r'<heap nr="', open(f.name).read()))
    print("pool", pyarrow.default_memory_pool().backend_name, "loaded by the run" if loaded else "loaded at exit",
          "arenas", arenas, "fastapi", fastapi, "parsers", parsers, file=sys.stderr)
atexit.register(tell)
from flows.command import main
main()
"""


def _told(prefect_env: dict[str, str], *args: str, **env: str) -> tuple[int, list[str]]:
    environment = {k: v for k, v in prefect_env.items() if k != "ARROW_DEFAULT_MEMORY_POOL"}
    environment.update(env)
    done = subprocess.run(
        [sys.executable, "-c", PROGRAM, *args], env=environment, cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    said = [line for line in done.stderr.splitlines() if line.startswith("pool ")]
    return done.returncode, said[-1].split() if said else [done.stderr[-2000:]]


def test_a_run_allocates_from_the_system_allocator_in_few_arenas_and_imports_no_fastapi_nor_parser(
    prefect_env, tmp_path
):
    """Prefect's client imports FastAPI only to serialise a flow run's parameters: the command
    serialises them without it (issue 26, item 2). The parsers' libraries load at their format's
    first document: a text dump's run, in the command's process whose workers extract, never loads
    them. Both checked in this run's own interpreter."""
    code, said = _told(prefect_env, "ingest", str(SAMPLE), "--out", str(tmp_path / "wh"), "--quiet")
    assert (code, said[:5]) == (0, ["pool", "system", "loaded", "by", "the"])
    assert said[-6] == "arenas" and 1 <= int(said[-5]) <= allocators.MALLOC.arenas
    assert said[-4:] == ["fastapi", "False", "parsers", "-"]


def test_the_users_choice_of_allocator_stays(prefect_env, tmp_path):
    code, said = _told(
        prefect_env,
        "ingest",
        str(SAMPLE),
        "--out",
        str(tmp_path / "wh"),
        "--dry-run",
        ARROW_DEFAULT_MEMORY_POOL="mimalloc",
    )
    assert (code, said[:2]) == (0, ["pool", "mimalloc"])


# a fresh interpreter set up as the command's (allocators.tune): anonymous MiB before and while a
# 200 MB polars frame (100 chunks) is held, and once it is dropped; then with 50,000 4 KiB blocks
# freed but one in 16 (glibc's free memory below memory in use), before and after give_back()
GIVE_BACK = """
from nianbao.run import allocators
allocators.tune()
import polars as pl, psutil
me = psutil.Process()
def anon():
    m = me.memory_info()
    return (m.rss - m.shared) / 2**20
base = anon()
frame = pl.concat([pl.DataFrame({"a": pl.int_range(0, 250_000, eager=True) + i}) for i in range(100)], rechunk=False)
held = anon()
del frame
dropped = anon()
blocks = [bytearray(4096) for _ in range(50_000)]
kept = blocks[::16]
del blocks
freed = anon()
allocators.give_back()
print(base, held, dropped, freed, anon())
"""


def test_the_commands_allocators_give_freed_memory_back():
    """What a run's stage frees is not resident when the next starts (issue 24 item 7): polars'
    jemalloc returns a dropped frame's pages at once, not 0.5 s dirty and 1 s more muzzy later as
    polars sets it; glibc's malloc keeps free memory below memory in use until give_back(), which
    the flow calls after each batch and between the stages of its end. Read from the anonymous
    memory of a fresh interpreter: no timing."""
    environment = {k: v for k, v in os.environ.items() if k != "_RJEM_MALLOC_CONF"}  # this process's polars set it
    done = subprocess.run(
        [sys.executable, "-c", GIVE_BACK], env=environment, cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-2000:]
    base, held, dropped, freed, given = map(float, done.stdout.split())
    assert held - base > 150
    assert dropped - base < 25  # (polars as it sets itself: still ~190 MiB resident)
    assert freed - given > 100  # of the ~190 MiB freed, ~170 given back
