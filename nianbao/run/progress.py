"""Documents done, told to whoever listens in this process (the command's progress bar). Batches on
a Dask cluster run elsewhere and tell their progress per batch in the logs only."""
from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

_listeners: list[Callable[[], None]] = []


@contextmanager
def listening(hook: Callable[[], None]) -> Iterator[None]:
    """`hook()` is called once per document done while inside."""
    _listeners.append(hook)
    try:
        yield
    finally:
        _listeners.remove(hook)


def document_done() -> None:
    for hook in list(_listeners):
        hook()
