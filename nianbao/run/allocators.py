"""How the command's own process allocates native memory, so that a long run's stays flat (issue 24).

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

give_back() returns what the allocators still hold freed, between a run's stages.
"""

from __future__ import annotations

import ctypes
import sys
from dataclasses import dataclass


@dataclass(frozen=True)
class Malloc:
    arenas: int = 2  # glibc's arenas at most (its default: 8 per core)


MALLOC = Malloc()
_M_ARENA_MAX = -8  # glibc's mallopt parameter (malloc.h)


def tune() -> None:
    """For this process, from now on (a program's own: a caller's process is its own business)."""
    from nianbao.model import settings  # pydantic: not for --help, --version and usage errors

    settings.native_libraries()
    try:
        ctypes.CDLL(None).mallopt(_M_ARENA_MAX, MALLOC.arenas)
    except (AttributeError, OSError):  # not glibc: its own allocator's defaults
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
