"""One settings module: what each variable does to the product, read when needed (not at import)."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from nianbao.acquire import fetch, linked, sources
from nianbao.acquire.fetch import Fetcher
from nianbao.model import settings
from nianbao.model.errors import SettingsError, Unreadable
from nianbao.report import dictionary
from nianbao.run import isolate
from nianbao.warehouse import publish, storage

ROOT = Path(__file__).resolve().parents[2]


def test_defaults(monkeypatch):
    for name in settings.VARIABLES:
        monkeypatch.delenv(name, raising=False)
    s = settings.settings()
    assert (
        s.allow_private,
        s.allow_outside,
        s.dask_address,
        s.workers,
        s.memory_limit_mb,
        s.min_free_mb,
        s.tracebacks,
        s.s3_grace,
        s.s3_lease,
    ) == (False, False, None, 2, 2048, 64, False, 60.0, 30.0)
    with Fetcher() as f:  # as before the settings declared them
        assert f.limits == fetch.Limits(
            connect_timeout=10, read_timeout=30, max_time=300, retries=3, max_bytes=50 * 1024 * 1024
        )
        assert (f.limits.backoff, f.limits.max_redirects, f.limits.per_host, f.limits.delay) == (1.0, 5, 2, 1.0)
    assert s.expectations == Path(__file__).resolve().parents[2] / "expectations"
    assert storage.options() == {"aws_region": "us-east-1"}


def test_variables_reach_the_product_when_set_after_import(monkeypatch, tmp_path):
    monkeypatch.setenv("NIANBAO_ALLOW_PRIVATE", "1")
    assert Fetcher().allow_private is True
    monkeypatch.setenv("NIANBAO_ALLOW_PRIVATE", "0")
    assert Fetcher().allow_private is False
    monkeypatch.setenv("NIANBAO_FETCH_CONNECT_TIMEOUT", "2.5")
    monkeypatch.setenv("NIANBAO_FETCH_READ_TIMEOUT", "7")
    monkeypatch.setenv("NIANBAO_FETCH_TIME_LIMIT", "60")
    monkeypatch.setenv("NIANBAO_FETCH_RETRIES", "0")
    monkeypatch.setenv("NIANBAO_MAX_DOCUMENT_MB", "1")
    with Fetcher(delay=0) as f:
        assert f.limits == fetch.Limits(2.5, 7.0, 60.0, 0, 2**20, delay=0)
        assert (f.client.timeout.connect, f.client.timeout.read) == (2.5, 7.0)
    big = tmp_path / "big.pdf"
    big.write_bytes(b"%PDF-1.4\n" + b"0" * 2**20)
    with pytest.raises(Unreadable, match=f"^{2**20 + 9} bytes is over the size limit of {2**20}$"):
        sources.read(sources.Source(str(big)))
    assert linked._beside(tmp_path / "page.html", "big.pdf") == f"{2**20 + 9} bytes is over the size limit of {2**20}"
    monkeypatch.setenv("NIANBAO_MEMORY_LIMIT_MB", "512")
    assert isolate._memory_limit_mb() == 512
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("AWS_REGION", "cn-north-1")
    assert storage.options() == {
        "aws_endpoint_url": "http://127.0.0.1:9",
        "aws_region": "cn-north-1",
        "aws_allow_http": "true",
    }
    monkeypatch.setenv("NIANBAO_MIN_FREE_MB", str(10**9))  # a petabyte: no disk here has it
    try:
        publish.probe(str(tmp_path / "wh"))
    except publish.WarehouseError as e:
        assert "less than the 1000000000 MiB a run needs (NIANBAO_MIN_FREE_MB)" in str(e)
    else:
        raise AssertionError("the probe let a run start without the free space asked for")


def test_the_data_dictionary_lists_every_variable():
    text = dictionary.markdown()
    assert "## Settings" in text
    for name, (default, meaning) in settings.VARIABLES.items():
        assert f"| `{name}` | " in text and meaning in text
    assert "| `NIANBAO_WORKERS` | int | 2 | ≥ 1, ≤ 256 | batches processed at once" in text


@pytest.mark.parametrize(
    "name, value, said",
    [
        ("NIANBAO_MEMORY_LIMIT_MB", "abc", "NIANBAO_MEMORY_LIMIT_MB='abc': input should be a valid integer"),
        ("NIANBAO_MEMORY_LIMIT_MB", "0", "NIANBAO_MEMORY_LIMIT_MB='0': input should be greater than or equal to 256"),
        ("NIANBAO_S3_LEASE", "-1", "NIANBAO_S3_LEASE='-1': input should be greater than 0"),
        ("NIANBAO_FETCH_RETRIES", "-1", "NIANBAO_FETCH_RETRIES='-1': input should be greater than or equal to 0"),
        ("NIANBAO_MAX_DOCUMENT_MB", "0", "NIANBAO_MAX_DOCUMENT_MB='0': input should be greater than or equal to 1"),
        ("NIANBAO_ALLOW_PRIVATE", "maybe", "NIANBAO_ALLOW_PRIVATE='maybe': input should be a valid boolean"),
    ],
)
def test_a_bad_value_is_a_usage_error_naming_the_variable(monkeypatch, name, value, said):
    monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError) as e:
        settings.settings()
    assert str(e.value).startswith(said) and e.value.exit_code == 2
    monkeypatch.delenv(name)
    assert settings.settings().memory_limit_mb == 2048  # read again once the variable changed


def test_the_command_says_a_bad_value_in_one_line_and_exits_2(tmp_path):
    """Its --help works whatever the environment holds; a run refuses before any work."""
    env = {**os.environ, "NIANBAO_MEMORY_LIMIT_MB": "abc"}
    command = [sys.executable, "-m", "flows"]
    shown = subprocess.run([*command, "--help"], env=env, capture_output=True, text=True, timeout=120)
    assert shown.returncode == 0 and "usage: nianbao" in shown.stdout
    refused = subprocess.run(
        [*command, "ingest", str(ROOT / "data" / "samples"), "--out", str(tmp_path / "wh")],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )
    assert refused.returncode == 2
    assert refused.stderr.splitlines() == [
        "nianbao: NIANBAO_MEMORY_LIMIT_MB='abc': input should be a valid integer, "
        "unable to parse string as an integer (heap per extraction worker process, in MiB)"
    ]
    assert not (tmp_path / "wh").exists()
