"""A run that is stopping: Ctrl-C, its flow run cancelled or crashed, its Prefect worker stopped.

What it had not finished is nobody's (contract, "Outcomes of a run"): a batch in flight stops where
it is and publishes nothing, an extraction worker that dies meanwhile died of the stop, not of its
document, and the next run does those documents. A flag per flow run, and one for the whole
process (Ctrl-C stops every run in it); set from any thread or a signal handler, read by the batches.
"""

from __future__ import annotations

import threading


class Stopped(BaseException):
    """This work was not finished because its run is stopping. A BaseException, as KeyboardInterrupt:
    no `except Exception` may take it for a document's failure."""


_process = threading.Event()
_runs: set[str] = set()  # flow runs told to stop (a few ids at most: only stopped runs are kept)


def request(run_id: str | None = None) -> None:
    """Stop the run `run_id`, or every run of this process (None)."""
    if run_id is None:
        _process.set()
    else:
        _runs.add(run_id)


def requested(run_id: str | None = None) -> bool:
    return _process.is_set() or run_id in _runs


def check(run_id: str | None = None) -> None:
    if requested(run_id):
        raise Stopped("the run is stopping")
