"""How a run is cut: a module of its own so that the command's options (--help, a usage error) read
it without importing the pipeline."""

from dataclasses import dataclass


@dataclass(frozen=True)
class Batches:
    size: int = 100  # documents per task: a 150,000-report year stays at ~1,500 tasks


BATCHES = Batches()
