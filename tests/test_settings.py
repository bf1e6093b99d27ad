"""One settings module: what each variable does to the product, read when needed (not at import)."""
from pathlib import Path

from nianbao.model import settings
from nianbao.report import dictionary
from nianbao.run import isolate
from nianbao.warehouse import publish, storage
from nianbao.acquire.fetch import Fetcher


def test_defaults(monkeypatch):
    for name in settings.VARIABLES:
        monkeypatch.delenv(name, raising=False)
    s = settings.settings()
    assert (s.allow_private, s.allow_outside, s.dask_address, s.workers, s.memory_limit_mb, s.min_free_mb,
            s.tracebacks, s.s3_grace, s.s3_lease) == (False, False, None, 2, 2048, 64, False, 60.0, 30.0)
    assert s.expectations == Path(__file__).resolve().parents[1] / "expectations"
    assert storage.options() == {"aws_region": "us-east-1"}


def test_variables_reach_the_product_when_set_after_import(monkeypatch, tmp_path):
    monkeypatch.setenv("NIANBAO_ALLOW_PRIVATE", "1")
    assert Fetcher().allow_private is True
    monkeypatch.setenv("NIANBAO_ALLOW_PRIVATE", "0")
    assert Fetcher().allow_private is False
    monkeypatch.setenv("NIANBAO_MEMORY_LIMIT_MB", "512")
    assert isolate._memory_limit_mb() == 512
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("AWS_REGION", "cn-north-1")
    assert storage.options() == {"aws_endpoint_url": "http://127.0.0.1:9", "aws_region": "cn-north-1",
                                 "aws_allow_http": "true"}
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
    for name, (default, _) in settings.VARIABLES.items():
        assert f"| `{name}` | {default or ''} |" in text
