"""How the command's own process allocates native memory, so that a long run's stays flat (issue 24),
and how an extraction worker's malloc behaves wherever it is started (issue 26).

Set once, as the program starts, before the libraries that allocate load and while no native thread
runs (getenv and malloc are not safe against a concurrent setenv or mallopt):
- Arrow allocates from the system allocator, which reuses and gives back what is freed, not from
  mimalloc, its default, which kept it: at a 20,000-document run's end, the index's write alone
  kept +21 MiB (ARROW_DEFAULT_MEMORY_POOL: nianbao.model.settings.NATIVE_LIBRARIES);
- polars' jemalloc gives a freed page back at once, not after 0.5 s dirty and 1 s more muzzy
  (MADV_FREE: still resident) as polars sets it: a stage of polars' work frees faster than that,
  so what it had freed stayed resident, and the next stage started on it (a 100,000-row manifest's
  end stages: anonymous 282 -> 300 -> 333 -> 350 MiB, each stage's peak on the one before;
  _RJEM_MALLOC_CONF, NATIVE_LIBRARIES);
- glibc's malloc keeps at most MALLOC.arenas arenas: by default every thread that allocates (Arrow's I/O
  threads, Prefect's, the batches') may get one of its own, whose freed memory only that arena reuses.

give_back() returns what the allocators still hold freed, between a run's stages. pin() sets an
extraction worker's malloc thresholds whatever environment it inherits: a Dask nanny exports
MALLOC_TRIM_THRESHOLD_=65536 to its worker (distributed.nanny.pre-spawn-environ), and so to the
extraction workers a batch there starts; setting it fixes glibc's mmap threshold at 128 KiB, so every
picture OCR makes of a page was mmapped afresh and faulted in page by page (7x the page faults:
+10-13% of a scan's CPU, 13.7-15.1 CPU-s against 12.4-13.4 for three scans, alternately).
"""

from __future__ import annotations

import ctypes
import sys
from dataclasses import dataclass


@dataclass(frozen=True)
class Malloc:
    arenas: int = 2  # glibc's arenas at most (its default: 8 per core)
    # an extraction worker's: glibc's dynamic thresholds at their ceiling (64-bit), which they reach by
    # themselves once a page picture of 26-32 MiB (a 300 dpi page in colour) is freed, unless an
    # environment variable fixes them; pinned, three scans cost as without it, peak RSS within 2%
    mmap_threshold: int = 32 * 2**20  # blocks from mmap from this size up (else from the heap, reused)
    trim_threshold: int = 64 * 2**20  # free memory at the heap's top given back past this


MALLOC = Malloc()
# glibc's mallopt parameters (malloc.h)
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD, _M_ARENA_MAX = -1, -3, -8


def tune() -> None:
    """For this process, from now on (a program's own: a caller's process is its own business)."""
    from nianbao.model import settings  # pydantic: not for --help, --version and usage errors

    settings.native_libraries()
    try:
        ctypes.CDLL(None).mallopt(_M_ARENA_MAX, MALLOC.arenas)
    except (AttributeError, OSError):  # not glibc: its own allocator's defaults
        pass


def pin() -> None:
    """For an extraction worker, from now on, while it is single-threaded (see the module's docstring)."""
    try:
        libc = ctypes.CDLL(None)
        libc.mallopt(_M_MMAP_THRESHOLD, MALLOC.mmap_threshold)
        libc.mallopt(_M_TRIM_THRESHOLD, MALLOC.trim_threshold)
    except (AttributeError, OSError):  # not glibc
        pass


def give_back() -> None:
    """The free memory glibc's malloc and Arrow's pool hold, returned to the system now: glibc gives
    back only the top of a heap by itself, never a free page below memory still in use (malloc_trim
    returns those too, in every arena)."""
    if "pyarrow" in sys.modules:  # its pool's own (with the system allocator: malloc_trim too)
        sys.modules["pyarrow"].default_memory_pool().release_unused()
    try:
        ctypes.CDLL(None).malloc_trim(0)
    except (AttributeError, OSError):  # not glibc
        pass
