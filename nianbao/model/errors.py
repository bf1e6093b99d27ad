"""What can go wrong, in one hierarchy split by whose fault it is; each kind carries the command's
exit code (contract, "Outcomes of a run"):

- DocumentError, exit 1: one document's problem (it is published `unreadable`, or its report fails
  a rule); the run goes on and publishes everything else.
- UsageError, exit 2: what was asked cannot be done as asked (a source, an option, a setting);
  nothing is read or written.
- RunError, exit 3: the run itself failed (the warehouse, a suite, the lease): no report's fault.

A bug is none of these and stays a traceback. Control flow inside a module (a declined fast path, a
stop signal) keeps its own private exception there.
"""

from __future__ import annotations


class NianbaoError(Exception):
    exit_code = 3


class DocumentError(NianbaoError):
    exit_code = 1


class UsageError(NianbaoError, ValueError):
    exit_code = 2


class RunError(NianbaoError):
    exit_code = 3


class Unreadable(DocumentError):
    """The document cannot yield template tables; the message is the reason operators see."""


class FetchError(DocumentError):
    """A download that did not succeed; `retry` says whether another attempt may."""

    def __init__(self, message: str, retry: bool = False, status: int | None = None, final_url: str | None = None):
        super().__init__(message)
        self.retry, self.status, self.final_url = retry, status, final_url


class SettingsError(UsageError):
    """An environment variable with a value it cannot take: named with what it takes."""


class NoSuchReport(UsageError, LookupError):
    """Nothing current in the warehouse has this id or source."""


class WarehouseError(RunError, OSError):
    """The warehouse cannot take the run's writes: the run failed, not a report."""


class LeaseLost(RunError):
    """This writer's lease was taken over or expired: it must change nothing more in the warehouse."""


class SuiteError(RunError):
    """An expectation raised instead of judging the data."""
