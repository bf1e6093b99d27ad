"""A clock for the lease (nianbao.warehouse.storage.Clock) whose time passes only when a test
advances it: a lease expires, is renewed or is taken over when the test says, not after a sleep
that a loaded machine stretches."""

from __future__ import annotations

import threading
import time

from nianbao.warehouse import storage


class FakeClock(storage.Clock):
    def __init__(self, start: float | None = None):
        self.now = time.time() if start is None else start
        self.waits = 0  # waits begun: a test advances once the renewer waits again
        self._changed = threading.Condition()

    def time(self) -> float:
        with self._changed:
            return self.now

    def advance(self, seconds: float) -> None:
        with self._changed:
            self.now += seconds
            self._changed.notify_all()

    def wait(self, stop: threading.Event, seconds: float) -> bool:
        with self._changed:
            deadline = self.now + seconds
            self.waits += 1
            while self.now < deadline and not stop.is_set():
                self._changed.wait(0.05)  # `stop` is an Event of its own: looked at every 50 ms
        return stop.is_set()


def until(condition, timeout: float = 120, every: float = 0.02) -> None:
    """Wait (in real time) until condition() holds: what a thread does once the clock is advanced
    takes a moment, longer on a loaded machine, never a fixed one."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"not within {timeout} s: {condition}"
        time.sleep(every)
