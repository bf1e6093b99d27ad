import os
from pathlib import Path

import pytest

os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
SEEDS = SHARED / "seeds"


def seed(prefix: str) -> Path:
    """A seed report from ../shared (read in place; the test skips where it is absent)."""
    found = sorted(SEEDS.glob(f"{prefix}_*.txt")) if SEEDS.is_dir() else []
    if not found:
        pytest.skip(f"shared seed {prefix} not available")
    return found[0]


@pytest.fixture(scope="session")
def prefect_harness():
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield


@pytest.fixture(scope="module")
def rep():
    """A report of known values (tests/corpus.py) to write in any format and read back."""
    import corpus

    return corpus.report()


@pytest.fixture(scope="module")
def layout(rep):
    import corpus

    return corpus.layout(rep)
