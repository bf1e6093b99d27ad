"""Polite, safe, resumable downloads into the raw store (nianbao/acquire/rawstore.py), every attempt recorded.

- Fetcher: one httpx client; connect/read timeouts and a total time limit per attempt (a server
  that trickles a byte a second never trips a read timeout); retries with exponential backoff
  on timeouts, connection errors and 5xx, never on 4xx; at most `per_host` requests in flight per
  host, their starts `delay` seconds apart; a size limit enforced while streaming; redirects
  followed by hand so that every hop is checked (scheme, address) and loops fail cleanly.
- Safety: http and https only; a host resolving to a non-public address (private, loopback,
  link-local, reserved) is refused unless allow_private=True or NIANBAO_ALLOW_PRIVATE=1.
  Cookies are never kept (a jar that accepts none) and URLs are recorded without their userinfo.
  The address is checked before httpx connects, so a DNS answer changed in between (rebinding)
  is not caught: acceptable for public report sites, not a sandbox against hostile DNS.
- With a RawStore, a URL fetched before is asked for with its ETag / Last-Modified, and a 304
  reuses the stored bytes.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import http.cookiejar
import ipaddress
import logging
import socket
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from urllib.parse import urlsplit, urlunsplit

import httpx

from nianbao import __version__
from nianbao.acquire.rawstore import RawStore
from nianbao.extract import MIME, magic, sniff
from nianbao.model.errors import FetchError
from nianbao.model.schema import FETCHES
from nianbao.model.settings import settings

log = logging.getLogger("nianbao.acquire.fetch")

USER_AGENT = f"nianbao/{__version__} (+government report ingestion)"


@dataclass
class FetchResult:
    url: str
    final_url: str | None = None
    http_status: int | None = None
    error: str | None = None
    bytes: int | None = None
    sha256: str | None = None
    content_type: str | None = None
    declared_type: str | None = None
    elapsed_s: float = 0.0
    attempts: int = 0
    fetched_at: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.timezone.utc))
    etag: str | None = None
    last_modified: str | None = None
    data: bytes | None = field(default=None, repr=False)  # not recorded

    @property
    def ok(self) -> bool:
        return self.error is None and self.data is not None

    def text(self) -> str:
        """An HTML page's text: header charset, BOM, <meta> and detection (see extract.html.decode)."""
        from nianbao.extract.html import decode

        return decode(self.data or b"", self.declared_type)

    def row(self) -> dict:
        return {name: getattr(self, name) for name in FETCHES.names}


def redact(url: str) -> str:
    """The URL without user:password@ (credentials never reach logs or data)."""
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    return urlunsplit(parts._replace(netloc=parts.netloc.rsplit("@", 1)[1]))


def allow_private_default() -> bool:
    return settings().allow_private


def check_url(url: str, allow_private: bool) -> None:
    """Refuse what must not be fetched: other schemes, and non-public addresses unless allowed."""
    parts = urlsplit(url)
    if parts.scheme.lower() not in ("http", "https"):
        raise FetchError(f"only http and https URLs are fetched, not {parts.scheme or 'a bare path'}:")
    if not parts.hostname:
        raise FetchError("the URL names no host")
    if allow_private:
        return
    try:
        infos = socket.getaddrinfo(
            parts.hostname, parts.port or (443 if parts.scheme == "https" else 80), type=socket.SOCK_STREAM
        )
    except socket.gaierror as e:  # EAI_AGAIN is a resolver hiccup, worth another try; the rest is not
        raise FetchError(f"cannot resolve {parts.hostname}: {e.strerror}", retry=e.errno == socket.EAI_AGAIN) from e
    for info in infos:
        ip = ipaddress.ip_address(info[4][0].split("%")[0])
        ip = getattr(ip, "ipv4_mapped", None) or ip
        if not ip.is_global or ip.is_multicast:
            raise FetchError(
                f"refused: {parts.hostname} resolves to the non-public address {ip} "
                f"(--allow-private or NIANBAO_ALLOW_PRIVATE=1 allows it)"
            )


@dataclass
class _Got:
    status: int
    final_url: str
    headers: httpx.Headers
    data: bytes | None


class _Host:
    def __init__(self, slots: int):
        self.slots = threading.Semaphore(slots)
        self.lock = threading.Lock()
        self.next_start = 0.0


@dataclass(frozen=True)
class Limits:
    """How long, how often, how much and how fast one Fetcher downloads. The operator's settings
    (NIANBAO_FETCH_*, NIANBAO_MAX_DOCUMENT_MB) give the first five and `delay` (`configured`); the rest are ours."""

    connect_timeout: float  # seconds to connect
    read_timeout: float  # seconds waiting for the next bytes
    max_time: float  # seconds for one attempt in all: a server trickling a byte a second is cut off
    retries: int  # tries after the first, on timeouts, connection errors and 5xx
    max_bytes: int  # the largest document: refused from its Content-Length, else while streaming
    backoff: float = 1.0  # seconds before the first retry, doubled for each next one
    max_redirects: int = 5
    per_host: int = 2  # requests in flight to one host at once
    delay: float = 1.0  # seconds between the starts of two requests to one host

    @classmethod
    def configured(cls) -> Limits:
        s = settings()
        return cls(
            s.fetch_connect_timeout,
            s.fetch_read_timeout,
            s.fetch_time_limit,
            s.fetch_retries,
            s.max_document_bytes,
            delay=s.fetch_delay,
        )


class Fetcher:
    """One polite HTTP client, shared by every fetch of a run (threads welcome). Its limits are
    `limits` (default: Limits.configured()) with `changes` made, a change of None being none."""

    def __init__(
        self,
        limits: Limits | None = None,
        *,
        allow_private: bool | None = None,
        user_agent: str = USER_AGENT,
        **changes: float | None,
    ):
        self.limits = replace(limits or Limits.configured(), **{k: v for k, v in changes.items() if v is not None})
        self.allow_private = allow_private_default() if allow_private is None else allow_private
        no_cookies = http.cookiejar.CookieJar(http.cookiejar.DefaultCookiePolicy(allowed_domains=[]))
        self.client = httpx.Client(
            follow_redirects=False,
            cookies=no_cookies,
            timeout=httpx.Timeout(self.limits.read_timeout, connect=self.limits.connect_timeout),
            headers={"User-Agent": user_agent},
        )
        self._hosts: dict[str, _Host] = {}
        self._hosts_lock = threading.Lock()

    def close(self) -> None:
        self.client.close()

    def __enter__(self) -> Fetcher:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    @contextmanager
    def _slot(self, url: str):
        """A request slot on the URL's host: at most per_host at once, starts `delay` apart."""
        host = (urlsplit(url).hostname or "").lower()
        with self._hosts_lock:
            h = self._hosts.setdefault(host, _Host(self.limits.per_host))
        with h.slots:
            with h.lock:  # reserve a start time, then wait for it outside the lock
                now = time.monotonic()
                start = max(now, h.next_start)
                h.next_start = start + self.limits.delay
            if start > now:
                time.sleep(start - now)
            yield

    def fetch(self, url: str, store: RawStore | None = None, allow_private: bool | None = None) -> FetchResult:
        """Fetch one URL (conditionally when the store has it); record the attempt in the store.
        `allow_private`: this fetch's, else the fetcher's."""
        result = FetchResult(url=redact(url))
        began = time.monotonic()
        headers, prev = {}, store.last(result.url) if store else None
        if prev:
            if prev.get("etag"):
                headers["If-None-Match"] = prev["etag"]
            if prev.get("last_modified"):
                headers["If-Modified-Since"] = prev["last_modified"]
        while True:
            result.attempts += 1
            try:
                got = self._get(url, headers, self.allow_private if allow_private is None else allow_private)
                break
            except FetchError as e:
                result.error, result.http_status = _scrub(str(e), url), e.status
                result.final_url = redact(e.final_url) if e.final_url else None
                if not e.retry or result.attempts > self.limits.retries:
                    got = None
                    break
                pause = self.limits.backoff * 2 ** (result.attempts - 1)
                log.warning(
                    "retry %d/%d in %.1fs: %s: %s",
                    result.attempts,
                    self.limits.retries,
                    pause,
                    result.url,
                    result.error,
                )
                time.sleep(pause)
        result.elapsed_s = round(time.monotonic() - began, 3)
        if got is not None:
            result.error, result.http_status, result.final_url = None, got.status, redact(got.final_url)
            result.declared_type = got.headers.get("content-type")
            result.etag = got.headers.get("etag") or (prev or {}).get("etag")
            result.last_modified = got.headers.get("last-modified") or (prev or {}).get("last_modified")
            if got.status != 304:
                data = got.data
            else:  # only asked for when the store holds the bytes (store.last checks)
                data = store.get(prev["sha256"]) if store and prev else None
            if data is None:
                result.error = "304 Not Modified, but no stored copy to reuse"
            elif not data or data.isspace():
                result.error = "the response is empty"
            else:
                result.data, result.bytes = data, len(data)
                result.sha256 = store.put(data) if store else hashlib.sha256(data).hexdigest()
                result.content_type = _content_type(data, result.final_url, result.declared_type)
        if result.error:
            log.warning(
                "fetch failed after %d attempt%s: %s: %s",
                result.attempts,
                "" if result.attempts == 1 else "s",
                result.url,
                result.error,
            )
        if store:
            store.record(result)
        return result

    def _get(self, url: str, headers: dict, allow_private: bool) -> _Got:
        """One attempt: GET, following redirects hop by hop, the body streamed under the limits."""
        deadline = time.monotonic() + self.limits.max_time
        seen = {url}
        while True:
            check_url(url, allow_private)
            try:
                with self._slot(url), self.client.stream("GET", url, headers=headers) as r:
                    if r.status_code in (301, 302, 303, 307, 308) and "location" in r.headers:
                        nxt = str(r.url.join(r.headers["location"]).copy_with(fragment=None))
                        if nxt in seen:
                            raise FetchError(f"redirect loop at {redact(nxt)}", status=r.status_code, final_url=nxt)
                        if len(seen) > self.limits.max_redirects:
                            raise FetchError(
                                f"more than {self.limits.max_redirects} redirects", status=r.status_code, final_url=nxt
                            )
                        seen.add(nxt)
                        url = nxt
                        continue
                    if r.status_code == 304:
                        return _Got(304, url, r.headers, None)
                    if r.status_code >= 400 or r.status_code < 200:
                        raise FetchError(
                            f"HTTP {r.status_code} {r.reason_phrase}".strip(),
                            retry=r.status_code >= 500,
                            status=r.status_code,
                            final_url=url,
                        )
                    return _Got(r.status_code, url, r.headers, self._body(r, deadline, url))
            except httpx.TimeoutException as e:
                raise FetchError(f"timeout: {type(e).__name__}", retry=True, final_url=url) from e
            except (httpx.NetworkError, httpx.RemoteProtocolError, httpx.ProxyError) as e:  # resets land here
                raise FetchError(f"connection failed: {type(e).__name__}: {e}", retry=True, final_url=url) from e
            except httpx.HTTPError as e:  # unsupported protocol, invalid URL, bad encoding: no use retrying
                raise FetchError(f"{type(e).__name__}: {e}", final_url=url) from e

    def _body(self, r: httpx.Response, deadline: float, url: str) -> bytes:
        declared = r.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > self.limits.max_bytes:  # refuse before reading a byte
            raise FetchError(
                f"{declared} bytes is over the size limit of {self.limits.max_bytes}",
                status=r.status_code,
                final_url=url,
            )
        chunks, size = [], 0
        for chunk in r.iter_bytes():
            size += len(chunk)
            if size > self.limits.max_bytes:  # the header may be absent or lie
                raise FetchError(
                    f"over the size limit of {self.limits.max_bytes} bytes", status=r.status_code, final_url=url
                )
            if time.monotonic() > deadline:  # a trickle: each read is in time, the whole is not
                raise FetchError(
                    f"over the time limit of {self.limits.max_time:g}s", retry=True, status=r.status_code, final_url=url
                )
            chunks.append(chunk)
        return b"".join(chunks)


def _scrub(message: str, url: str) -> str:
    userinfo = urlsplit(url).netloc.rpartition("@")[0]
    return message.replace(userinfo + "@", "") if userinfo else message


def _content_type(data: bytes, name: str | None, declared: str | None) -> str | None:
    """The bytes' type where their magic number tells (servers send PDFs as text/html), else the header's."""
    if magic(data) is not None:
        return MIME[sniff(data, name or "", declared)]
    if declared:
        return declared.split(";")[0].strip().lower() or None
    fmt = sniff(data, name or "")
    return MIME.get(fmt) if fmt else None


_default: Fetcher | None = None
_default_lock = threading.Lock()


def fetch(
    url: str, store: RawStore | None = None, client: Fetcher | None = None, allow_private: bool | None = None
) -> FetchResult:
    """What the pipeline calls for a URL source. `client` defaults to one Fetcher per process (a
    new one when the settings of its limits changed), so that the per-host limits hold across the
    batches a process runs at once. `allow_private`: the run's (else the client's: NIANBAO_ALLOW_PRIVATE)."""
    global _default
    if client is None:
        limits = Limits.configured()
        with _default_lock:
            if _default is None or _default.limits != limits:
                _default = Fetcher(limits)
            client = _default
    return client.fetch(url, store, allow_private)
