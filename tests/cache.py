"""Generated fixtures kept under the hash of everything that makes them (the input's content, the
tool's version, the parameters), so a file kept is never stale: the same inputs make the same file.

The folder is NIANBAO_FIXTURE_CACHE (tests/conftest.py sets it to .pytest_cache/d/nianbao-fixtures,
shared by pytest-xdist's workers and kept between runs); where it is not set (`make accuracy`, the
benchmarks) nothing is kept. Two workers making the same file at once both write it, each to a
name of its own renamed into place: the last rename wins, and either file is the right one.
"""

from __future__ import annotations

import functools
import hashlib
import inspect
import io
import os
import threading
import zipfile
from collections.abc import Callable
from pathlib import Path


def folder() -> Path | None:
    where = os.environ.get("NIANBAO_FIXTURE_CACHE")
    return Path(where) if where else None


def _content(data: bytes) -> bytes:
    """A ZIP (DOCX) by its members' names and bytes: python-docx stamps each member with the time
    it was saved, which changes nothing a reader sees."""
    if data[:4] == b"PK\x03\x04":
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as z:
                digest = hashlib.sha256()
                for name in z.namelist():
                    digest.update(name.encode() + b"\0" + hashlib.sha256(z.read(name)).digest())
                return b"zip:" + digest.digest()
        except zipfile.BadZipFile:
            pass
    return hashlib.sha256(data).digest()


def key(*parts: bytes | str | int | float | None) -> str:
    digest = hashlib.sha256()
    for part in parts:
        digest.update(_content(part) if isinstance(part, bytes) else repr(part).encode())
        digest.update(b"\0")
    return digest.hexdigest()


def cached(kind: str, make: Callable[[], bytes], *parts) -> bytes:
    """make(), kept as kind/<hash of parts>: read back when it was made before."""
    base = folder()
    if base is None:
        return make()
    path = base / kind / key(kind, *parts)
    try:
        return path.read_bytes()
    except FileNotFoundError:
        pass
    data = make()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}")
    tmp.write_bytes(data)
    os.replace(tmp, path)
    return data


def kept(kind: str, tools: Callable[[], object]):
    """A maker of bytes kept as `cached` keeps them: under its arguments (as bound to its signature,
    defaults included) and `tools()`, the versions of what makes the file (asked once a process)."""

    def wrap(make: Callable[..., bytes]) -> Callable[..., bytes]:
        signature = inspect.signature(make)

        @functools.wraps(make)
        def call(*args, **kwargs) -> bytes:
            bound = signature.bind(*args, **kwargs)
            bound.apply_defaults()
            parts = [part for item in bound.arguments.items() for part in item]
            return cached(kind, lambda: make(*args, **kwargs), *parts, _versions(tools))

        return call

    return wrap


@functools.cache
def _versions(tools: Callable[[], object]) -> object:
    return tools()
