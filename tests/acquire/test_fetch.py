"""Downloads against a real loopback HTTP server that injects faults (tests/fixtures/fetch/fetch_server.py)."""

import hashlib
import logging
import sys
import threading
import time
from pathlib import Path

import pyarrow.dataset as pads
import pyarrow.parquet as pq
import pytest

sys.path.insert(0, str(Path(__file__).parents[1] / "fixtures" / "fetch"))
from fetch_server import PDF, Server, redirect, reset, send, trickle  # noqa: E402

from nianbao import __version__  # noqa: E402
from nianbao.acquire.fetch import Fetcher, check_url, fetch, redact  # noqa: E402
from nianbao.acquire.rawstore import RawStore, read_fetches  # noqa: E402
from nianbao.model.errors import FetchError
from nianbao.model.schema import FETCHES  # noqa: E402

GBK_PAGE = (
    '<html><head><meta charset="utf-8"><title>报告</title></head><body>'
    "<h1>某某县2023年政府信息公开工作年度报告</h1></body></html>"
).encode("gbk")
BIG = b"%PDF-1.4\n" + b"x" * 5000


def _ok(h, n):
    send(h, 200, PDF, "application/pdf")


def _flaky(h, n):
    send(h, 500, b"oops") if n == 1 else _ok(h, n)


def _etag(h, n):
    if h.headers.get("If-None-Match") == '"v1"':
        send(h, 304, b"", None, {"ETag": '"v1"'}, length=False)
    else:
        send(h, 200, PDF, "application/pdf", {"ETag": '"v1"'})


def _lastmod(h, n):
    stamp = "Mon, 01 Jan 2024 00:00:00 GMT"
    if h.headers.get("If-Modified-Since") == stamp:
        send(h, 304, b"", None, length=False)
    else:
        send(h, 200, PDF + b"lm", "application/pdf", {"Last-Modified": stamp})


ROUTES = {
    "/report.pdf": _ok,
    "/flaky": _flaky,
    "/down": lambda h, n: send(h, 503, b"busy"),
    "/sleep": lambda h, n: h.server.stop.wait(10) or _ok(h, n),  # woken at teardown
    "/reset": lambda h, n: reset(h),
    "/reset-once": lambda h, n: reset(h) if n == 1 else _ok(h, n),
    "/trickle": lambda h, n: trickle(h, PDF, 10, 0.05),
    "/missing": lambda h, n: send(h, 404, b"no"),
    "/loop-a": lambda h, n: redirect(h, "/loop-b"),
    "/loop-b": lambda h, n: redirect(h, "/loop-a"),
    "/moved": lambda h, n: redirect(h, "/report.pdf", 301),
    **{f"/hop{i}": (lambda i: lambda h, n: redirect(h, f"/hop{i - 1}"))(i) for i in range(1, 6)},
    "/hop0": _ok,
    "/wrong-type": lambda h, n: send(h, 200, PDF, "text/html; charset=utf-8"),
    "/gbk": lambda h, n: send(h, 200, GBK_PAGE, "text/html; charset=utf-8"),
    "/big": lambda h, n: send(h, 200, BIG, "application/pdf"),
    "/big-unannounced": lambda h, n: send(h, 200, BIG, "application/pdf", length=False),
    "/etag": _etag,
    "/lastmod": _lastmod,
    "/plain": _ok,
    "/cookie": lambda h, n: send(h, 200, PDF, "application/pdf", {"Set-Cookie": "sid=abc123; Path=/"}),
    "/empty": lambda h, n: send(h, 200, b"", "application/pdf"),
    "/slow": lambda h, n: h.server.stop.wait(0.15) or _ok(h, n),
}


@pytest.fixture(autouse=True)
def allow_loopback(monkeypatch):
    monkeypatch.setenv("NIANBAO_ALLOW_PRIVATE", "1")


@pytest.fixture
def server():
    with Server(ROUTES) as s:
        yield s


def fetcher(**kw) -> Fetcher:
    # generous timeouts where timing is not the subject, so that a loaded machine cannot fail a test
    opts = dict(
        connect_timeout=2, read_timeout=2, max_time=5, retries=2, backoff=0.01, delay=0, per_host=8, max_bytes=1000
    )
    return Fetcher(**{**opts, **kw})


@pytest.fixture
def client():
    with fetcher() as f:
        yield f


def test_a_good_fetch_is_stored_by_its_sha256(server, client, tmp_path):
    store = RawStore(tmp_path)
    r = client.fetch(server.url("/report.pdf"), store)
    sha = hashlib.sha256(PDF).hexdigest()
    assert (r.ok, r.http_status, r.error, r.attempts, r.sha256, r.bytes) == (True, 200, None, 1, sha, len(PDF))
    assert r.data == PDF and r.content_type == "application/pdf"
    assert (tmp_path / "raw" / sha[:2] / sha).read_bytes() == PDF
    assert not [p for p in (tmp_path / "raw").rglob("*") if p.name.startswith(".")]  # no temporary left
    assert server.requests[0][1]["User-Agent"] == f"nianbao/{__version__} (+government report ingestion)"


def test_500_then_200_is_retried(server, client):
    r = client.fetch(server.url("/flaky"))
    assert (r.ok, r.http_status, r.attempts, server.hits["/flaky"]) == (True, 200, 2, 2)


def test_5xx_every_time_gives_up_after_the_retries(server, client):
    r = client.fetch(server.url("/down"))
    assert (r.ok, r.http_status, r.error, r.attempts, server.hits["/down"]) == (
        False,
        503,
        "HTTP 503 Service Unavailable",
        3,
        3,
    )


def test_a_timeout_is_retried_then_fails(server):
    with fetcher(read_timeout=0.1) as f:  # /sleep never answers: any timeout is waited out, three times
        r = f.fetch(server.url("/sleep"))
    assert (r.ok, r.http_status, r.error, r.attempts, server.hits["/sleep"]) == (
        False,
        None,
        "timeout: ReadTimeout",
        3,
        3,
    )


def test_a_reset_connection_is_retried(server, client):
    r = client.fetch(server.url("/reset-once"))
    assert (r.ok, r.attempts, server.hits["/reset-once"], r.data) == (True, 2, 2, PDF)
    r = client.fetch(server.url("/reset"))
    assert (r.ok, r.attempts, server.hits["/reset"], r.http_status) == (False, 3, 3, None)
    assert r.error.startswith("connection failed: ")


def test_a_slow_trickle_passes_the_read_timeout_but_not_the_time_limit(server):
    with fetcher(read_timeout=0.3) as f:  # 10 pieces 0.05 s apart: 0.5 s in all, more than the read timeout
        r = f.fetch(server.url("/trickle"))
    assert (r.ok, r.data, r.attempts) == (True, PDF, 1)
    with fetcher(max_time=0.2, retries=0) as f:
        r = f.fetch(server.url("/trickle"))
    assert (r.ok, r.error, r.http_status, r.attempts) == (False, "over the time limit of 0.2s", 200, 1)


def test_a_404_is_not_retried(server, client, tmp_path):
    store = RawStore(tmp_path)
    r = client.fetch(server.url("/missing"), store)
    assert (r.ok, r.http_status, r.error, r.attempts, r.sha256) == (False, 404, "HTTP 404 Not Found", 1, None)
    assert server.hits["/missing"] == 1


def test_redirects_are_followed_within_the_limit(server):
    with fetcher(max_redirects=3) as f:
        moved = f.fetch(server.url("/moved"))
        three = f.fetch(server.url("/hop3"))
        four = f.fetch(server.url("/hop4"))
    assert (moved.ok, moved.url, moved.final_url) == (True, server.url("/moved"), server.url("/report.pdf"))
    assert (three.ok, three.final_url) == (True, server.url("/hop0"))
    assert (four.ok, four.error, four.attempts) == (False, "more than 3 redirects", 1)
    assert server.hits["/hop0"] == 1  # only /hop3 got there


def test_a_redirect_loop_fails_cleanly(server, client):
    r = client.fetch(server.url("/loop-a"))
    assert (r.ok, r.error, r.http_status, r.attempts) == (False, f"redirect loop at {server.url('/loop-a')}", 302, 1)
    assert (server.hits["/loop-a"], server.hits["/loop-b"]) == (1, 1)


def test_the_bytes_tell_the_content_type_when_the_header_lies(server, client):
    r = client.fetch(server.url("/wrong-type"))
    assert (r.ok, r.content_type, r.declared_type) == (True, "application/pdf", "text/html; charset=utf-8")


def test_a_gbk_page_declaring_utf8_is_read_as_gbk(server, client):
    r = client.fetch(server.url("/gbk"))
    assert r.data == GBK_PAGE  # stored as served: decoding is the reader's business
    assert r.content_type == "text/html"
    assert "某某县2023年政府信息公开工作年度报告" in r.text()


@pytest.mark.parametrize(
    "path, error",
    [
        ("/big", f"{len(BIG)} bytes is over the size limit of 1000"),
        ("/big-unannounced", "over the size limit of 1000 bytes"),
    ],
)
def test_a_file_over_the_size_limit_is_refused(server, client, tmp_path, path, error):
    store = RawStore(tmp_path)
    r = client.fetch(server.url(path), store)
    assert (r.ok, r.error, r.attempts, server.hits[path], r.data) == (False, error, 1, 1, None)
    assert not (tmp_path / "raw").exists()


def test_an_empty_response_is_an_error(server, client):
    r = client.fetch(server.url("/empty"))
    assert (r.ok, r.http_status, r.error) == (False, 200, "the response is empty")


def test_a_rerun_downloads_nothing_unchanged(server, client, tmp_path):
    first = RawStore(tmp_path)
    for path in ("/etag", "/lastmod", "/missing"):
        client.fetch(server.url(path), first)
    first.flush()
    again = RawStore(tmp_path)  # a new run: what it knows comes from the raw store
    etag, lastmod = client.fetch(server.url("/etag"), again), client.fetch(server.url("/lastmod"), again)
    assert (etag.http_status, etag.ok, etag.data, etag.sha256) == (304, True, PDF, hashlib.sha256(PDF).hexdigest())
    assert (lastmod.http_status, lastmod.ok, lastmod.data) == (304, True, PDF + b"lm")
    assert (server.sent("/etag", 200), server.sent("/etag", 304)) == (1, 1)
    assert (server.sent("/lastmod", 200), server.sent("/lastmod", 304)) == (1, 1)
    conditional = {p: h for p, h, _ in server.requests[-2:]}
    assert conditional["/etag"]["If-None-Match"] == '"v1"'
    assert conditional["/lastmod"]["If-Modified-Since"] == "Mon, 01 Jan 2024 00:00:00 GMT"
    assert etag.etag == '"v1"' and lastmod.last_modified == "Mon, 01 Jan 2024 00:00:00 GMT"
    # within a run, too, the attempt just recorded is the one a conditional GET uses
    assert client.fetch(server.url("/etag"), again).http_status == 304
    assert server.sent("/etag", 200) == 1
    docs = [p for p in (tmp_path / "raw").rglob("*") if p.is_file() and "urls" not in p.parts]
    assert len(docs) == 2 and len(list((tmp_path / "raw" / "urls").rglob("*.json"))) == 2


def test_a_run_killed_before_recording_its_fetches_still_asks_conditionally(server, client, tmp_path):
    killed = RawStore(tmp_path)
    client.fetch(server.url("/etag"), killed)  # stored; the run dies before its batch's `fetches` are written
    again = client.fetch(server.url("/etag"), RawStore(tmp_path))
    assert (again.http_status, again.ok, again.data, server.sent("/etag", 200)) == (304, True, PDF, 1)


def test_what_another_process_fetched_is_asked_conditionally(server, client, tmp_path):
    """Long-lived processes (Dask workers) each hold a store: one that looked before another process
    fetched a URL must still know its validators when its next batch meets that URL."""
    worker_1, worker_2 = RawStore(tmp_path), RawStore(tmp_path)
    client.fetch(server.url("/report.pdf"), worker_1)  # worker 1 has looked at the store
    client.fetch(server.url("/etag"), worker_2)
    worker_2.flush()
    again = client.fetch(server.url("/etag"), worker_1)  # the next run's batch lands on worker 1
    assert (again.http_status, again.ok, server.sent("/etag", 200)) == (304, True, 1)


def test_a_304_without_the_stored_copy_downloads_again(server, client, tmp_path):
    store = RawStore(tmp_path)
    r = client.fetch(server.url("/etag"), store)
    store.flush()
    store.path(r.sha256).unlink()  # lost: the next run must not ask conditionally
    again = client.fetch(server.url("/etag"), RawStore(tmp_path))
    assert (again.http_status, again.ok, server.sent("/etag", 200)) == (200, True, 2)
    assert "If-None-Match" not in server.requests[-1][1]


def test_fetches_is_an_append_only_dataset_partitioned_by_fetch_date(server, client, tmp_path):
    store = RawStore(tmp_path)
    ok = client.fetch(server.url("/report.pdf"), store)
    client.fetch(server.url("/missing"), store)
    [first] = store.flush()
    client.fetch(server.url("/flaky"), store)
    [second] = store.flush()
    assert store.flush() == []  # nothing new, no file
    day = ok.fetched_at.date().isoformat()
    assert first.parent == second.parent == tmp_path / "fetches" / f"fetched_on={day}" and first != second
    table = pads.dataset(tmp_path / "fetches", format="parquet", partitioning="hive").to_table()
    assert set(table.column_names) == set(FETCHES.names) | {"fetched_on"}
    rows = sorted(read_fetches(tmp_path).to_pylist(), key=lambda r: r["url"])
    assert pq.read_schema(first) == pq.read_schema(second) == FETCHES  # as written, not as the reader asks
    assert [(r["url"].rsplit("/", 1)[1], r["http_status"], r["error"], r["attempts"], r["bytes"]) for r in rows] == [
        ("flaky", 200, None, 2, len(PDF)),
        ("missing", 404, "HTTP 404 Not Found", 1, None),
        ("report.pdf", 200, None, 1, len(PDF)),
    ]
    assert all(r["elapsed_s"] >= 0 and r["fetched_at"] is not None for r in rows)


def test_credentials_and_cookies_are_never_kept(server, client, tmp_path, caplog):
    store = RawStore(tmp_path)
    url = server.url("/cookie").replace("127.0.0.1", "user:s3cret@127.0.0.1")
    with caplog.at_level(logging.INFO, logger="nianbao.acquire.fetch"):
        r = client.fetch(url, store)
        client.fetch(server.url("/cookie"), store)
        client.fetch(url.replace("/cookie", "/missing"), store)
    store.flush()
    assert r.ok and r.url == server.url("/cookie") and r.final_url == server.url("/cookie")
    assert "Cookie" not in server.requests[1][1]  # the Set-Cookie of the first response was dropped
    assert not client.client.cookies
    assert "s3cret" not in caplog.text and "/missing" in caplog.text
    assert "s3cret" not in str(read_fetches(tmp_path).to_pylist())
    assert redact("https://a:b@x.gov.cn:8443/p?q=1") == "https://x.gov.cn:8443/p?q=1"


def test_private_addresses_and_other_schemes_are_refused(server):
    with fetcher(allow_private=False) as f:
        r = f.fetch(server.url("/report.pdf"))
    assert (r.ok, r.attempts, server.hits["/report.pdf"]) == (False, 1, 0)
    assert r.error.startswith("refused: 127.0.0.1 resolves to the non-public address 127.0.0.1")
    for url in (
        "http://10.1.2.3/x",
        "http://169.254.169.254/latest/meta-data",
        "http://[::1]/",
        "http://192.168.0.1/",
        "http://100.64.0.1/",
        "http://0.0.0.0/",
    ):
        with pytest.raises(FetchError, match="refused"):
            check_url(url, allow_private=False)
    check_url("http://10.1.2.3/x", allow_private=True)
    for url in ("ftp://example.gov.cn/a.pdf", "file:///etc/passwd", "/etc/passwd"):
        with pytest.raises(FetchError, match="only http and https"):
            check_url(url, allow_private=True)


def test_the_environment_variable_allows_private_addresses(monkeypatch):
    monkeypatch.delenv("NIANBAO_ALLOW_PRIVATE")
    with Fetcher() as f:
        assert f.allow_private is False
    monkeypatch.setenv("NIANBAO_ALLOW_PRIVATE", "1")
    with Fetcher() as f:
        assert f.allow_private is True


def test_per_host_concurrency_limit(server):
    with fetcher(per_host=2) as f:
        threads = [threading.Thread(target=f.fetch, args=(server.url("/slow"),)) for _ in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert (server.hits["/slow"], server.max_inflight) == (6, 2)


def test_per_host_delay_spaces_request_starts(server):
    began = time.monotonic()
    with fetcher(delay=0.1) as f:
        threads = [threading.Thread(target=f.fetch, args=(server.url("/report.pdf"),)) for _ in range(3)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    # measured at the client: the server's clock would add the scheduler's jitter
    assert server.hits["/report.pdf"] == 3 and time.monotonic() - began >= 0.2


def test_module_fetch_uses_a_shared_client(server, tmp_path):
    r = fetch(server.url("/report.pdf"), RawStore(tmp_path))
    assert r.ok and r.data == PDF


def test_the_delay_setting_reaches_the_process_fetcher(server, monkeypatch):
    """NIANBAO_FETCH_DELAY spaces the starts of the pipeline's downloads from one host; a changed
    setting gets the process a fetcher of its limits (the tests set it short)."""
    from nianbao.acquire import fetch as module

    monkeypatch.setenv("NIANBAO_FETCH_DELAY", "0.1")
    began = time.monotonic()
    assert [fetch(server.url("/report.pdf")).ok for _ in range(3)] == [True] * 3
    assert time.monotonic() - began >= 0.2 and module._default.limits.delay == 0.1
    monkeypatch.setenv("NIANBAO_FETCH_DELAY", "0")
    assert fetch(server.url("/report.pdf")).ok and module._default.limits.delay == 0


def test_one_shared_store_per_root(tmp_path):
    assert (
        RawStore.open(tmp_path) is RawStore.open(tmp_path / ".") and RawStore.open(tmp_path).root == tmp_path.resolve()
    )
