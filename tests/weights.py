"""What each test file costs, in CPU-seconds (user + system, its subprocesses included) on the
2-core CI machine: `make test` (pytest-xdist, --dist loadfile) hands the heaviest files out first, so
that both processes stay busy to the end instead of one finishing a long file alone. A file not
listed weighs less than 3 s and fills the gaps at the end.

Measured by this module as a plugin, `PYTHONPATH=tests pytest -n 2 --dist loadfile -p weights`,
which writes each file's CPU-seconds to .pytest_cache/d/nianbao-weights/ (a JSON per process); copy
the figures here when they move."""

import json
import os
import resource

import pytest

CPU_SECONDS = {
    "tests/extract/test_scans.py": 36,
    "tests/run/test_interrupt.py": 33,
    "tests/command/test_dask.py": 29,
    "tests/command/test_command.py": 29,
    "tests/command/test_deploy.py": 28,
    "tests/warehouse/test_versions.py": 26,
    "tests/command/test_accuracy.py": 20,
    "tests/extract/test_extract_pdf.py": 20,
    "tests/warehouse/test_compact.py": 19,
    "tests/command/test_flow.py": 19,
    "tests/warehouse/test_publish.py": 18,
    "tests/command/test_s3_flow.py": 17,
    "tests/extract/test_ocr.py": 16,
    "tests/warehouse/test_storage.py": 14,
    "tests/warehouse/test_index_trust.py": 13,
    "tests/run/test_outcomes.py": 11,
    "tests/run/test_hostile.py": 10,
    "tests/extract/test_plumbing.py": 10,
    "tests/command/test_fixed_cost.py": 10,
    "tests/command/test_kept_server.py": 10,
    "tests/check/test_indicators.py": 10,
    "tests/extract/test_contentstream.py": 9,
    "tests/command/test_prefect_start.py": 9,
    "tests/run/test_isolate.py": 9,
    "tests/check/test_across.py": 8,
    "tests/report/test_site.py": 6,
    "tests/check/test_rules.py": 6,
    "tests/extract/test_digits.py": 6,
    "tests/run/test_flat.py": 6,
    "tests/extract/test_layouts.py": 6,
    "tests/run/test_plan.py": 5,
    "tests/run/test_native.py": 5,
    "tests/check/test_years.py": 5,
    "tests/extract/test_extract_pictures.py": 5,
    "tests/command/test_database.py": 5,
    "tests/command/test_readme.py": 5,
    "tests/report/test_validation_page.py": 4,
    "tests/extract/test_extract_office.py": 4,
}


def heaviest_first(items: list) -> None:
    """Sorts the collected tests by their file's weight, heaviest first; a file's tests stay together
    and in their order (a stable sort), so its module fixtures are still made once."""
    items.sort(key=lambda item: -CPU_SECONDS.get(item.nodeid.split("::")[0], 0))


# --- the measuring plugin (-p weights) ------------------------------------------------------------


def _cpu() -> float:
    """This process's CPU-seconds and its children's: the reaped ones and those still running."""
    import psutil

    own, reaped = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    total = own.ru_utime + own.ru_stime + reaped.ru_utime + reaped.ru_stime
    for child in psutil.Process().children(recursive=True):
        try:
            t = child.cpu_times()
            total += t.user + t.system + t.children_user + t.children_system
        except psutil.Error:
            pass
    return total


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item, nextitem):
    before = _cpu()
    yield
    file = item.nodeid.split("::")[0]
    path = item.config.cache.mkdir("nianbao-weights") / f"{os.environ.get('PYTEST_XDIST_WORKER', 'main')}.json"
    found = json.loads(path.read_text()) if path.exists() else {}
    found[file] = round(found.get(file, 0) + _cpu() - before, 1)
    path.write_text(json.dumps(found, indent=1))
