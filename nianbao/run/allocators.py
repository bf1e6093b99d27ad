"""How the command's own process allocates native memory, so that a long run's stays flat (issue 24).

Set once, as the program starts, before the libraries that allocate load and while no native thread
runs (getenv and malloc are not safe against a concurrent setenv or mallopt):
- Arrow allocates from the system allocator, which reuses and gives back what is freed, not from
  mimalloc, its default, which kept it: at a 20,000-document run's end, the index's write alone
  kept +21 MiB (ARROW_DEFAULT_MEMORY_POOL: nianbao.model.settings.NATIVE_LIBRARIES);
- glibc's malloc keeps at most MALLOC.arenas arenas: by default every thread that allocates (Arrow's I/O
  threads, Prefect's, the batches') may get one of its own, whose freed memory only that arena reuses.
"""

from __future__ import annotations

import ctypes
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
