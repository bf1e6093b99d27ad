"""Python's cyclic garbage collector, set for processes that import a great deal, then allocate a
great deal (the command, its extraction workers, Prefect's temporary server).

By default a collection runs every 700 new objects, and every hundredth one walks every object
alive, all that the imports made included (GX, Prefect, pdfminer: hundreds of thousands). Measured
on this machine: 15% of extraction's CPU, and 0.6-0.75 s of the command's and the server's imports.
With a young generation of 10,000 and the imports frozen out of the collections, extraction's share
falls to ~4% and the imports' by two thirds; garbage in cycles waits a little longer (a few MB).
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass


@dataclass(frozen=True)
class Thresholds:
    """gc.set_threshold's three: new objects between collections of the youngest generation, and
    collections of each generation between collections of the next."""

    young: int = 10_000  # CPython's default: 700
    middle: int = 10
    old: int = 10


THRESHOLDS = Thresholds()


def tune() -> None:
    """Collections every THRESHOLDS.young new objects, from now on in this process."""
    gc.set_threshold(THRESHOLDS.young, THRESHOLDS.middle, THRESHOLDS.old)


@contextmanager
def tuned() -> Iterator[None]:
    """tune() for a block; after it, the collector as it was, nothing frozen (a caller in the same
    process, a test, collects its objects as before)."""
    before, enabled = gc.get_threshold(), gc.isenabled()
    tune()
    try:
        yield
    finally:
        gc.unfreeze()
        gc.set_threshold(*before)
        if enabled:
            gc.enable()


def pause() -> None:
    """No collections until settle(): a process's imports and set-up make hundreds of thousands of
    objects and next to no garbage (a full collection after the command's imports frees ~1,700), yet
    their collections cost the command ~0.37 CPU-s and the server's start ~0.2 (measured)."""
    gc.disable()


def settle() -> None:
    """What this process holds now (its imports) is kept out of every later collection; the
    collector runs (again, after pause())."""
    gc.freeze()
    gc.enable()
