"""Every setting from the environment, declared once: the only module that reads (or sets) os.environ.

`Settings` declares each variable with its type, range, default and meaning (pydantic-settings, as
Prefect declares its own); the data dictionary's "Settings" table is generated from it. `settings()`
reads the variables when called — a changed environment (a test's monkeypatch, the command's
a run with --allow-private) is seen by the next caller — and keeps the answer while the variables are unchanged.
A value a variable cannot take is a SettingsError (a usage error: exit 2) naming the variable.
"""

from __future__ import annotations

import contextlib
import functools
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from pydantic import Field, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from nianbao.model.errors import SettingsError

ROOT = Path(__file__).resolve().parents[2]


def _var(default, name: str, meaning: str, **limits):
    return Field(default, validation_alias=name, description=meaning, **limits)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(frozen=True, case_sensitive=True, env_ignore_empty=True, extra="ignore")

    allow_private: bool = _var(
        False, "NIANBAO_ALLOW_PRIVATE", "1: fetch URLs on private, loopback and link-local addresses (--allow-private)"
    )
    allow_outside: bool = _var(
        False,
        "NIANBAO_ALLOW_OUTSIDE",
        "1: read a manifest's local paths outside the manifest's folder (--allow-outside)",
    )
    dask_address: str | None = _var(
        None, "NIANBAO_DASK_ADDRESS", "run the batches on this Dask cluster (tcp://host:8786; --dask)"
    )
    workers: int = _var(
        2, "NIANBAO_WORKERS", "batches processed at once by the flow (the command's --workers)", ge=1, le=256
    )
    memory_limit_mb: int = _var(2048, "NIANBAO_MEMORY_LIMIT_MB", "heap per extraction worker process, in MiB", ge=256)
    cpu_limit_s: float = _var(
        120, "NIANBAO_CPU_LIMIT_S", "CPU seconds an extraction worker may spend on one document", gt=0
    )
    wall_limit_s: float = _var(
        1800,
        "NIANBAO_WALL_LIMIT_S",
        "seconds of the clock one document may take in its extraction worker, however busy the machine (a backstop)",
        gt=0,
    )
    min_free_mb: int = _var(
        64, "NIANBAO_MIN_FREE_MB", "free space the warehouse needs before a run starts, in MiB", ge=0
    )
    max_document_mb: int = _var(
        50, "NIANBAO_MAX_DOCUMENT_MB", "the largest document read, from a file or over HTTP, in MiB", ge=1, le=4096
    )
    fetch_connect_timeout: float = _var(
        10.0, "NIANBAO_FETCH_CONNECT_TIMEOUT", "seconds a download may take to connect", gt=0, le=3600
    )
    fetch_read_timeout: float = _var(
        30.0, "NIANBAO_FETCH_READ_TIMEOUT", "seconds a download may wait for its next bytes", gt=0, le=3600
    )
    fetch_time_limit: float = _var(
        300.0,
        "NIANBAO_FETCH_TIME_LIMIT",
        "seconds one attempt at a download may take in all (a trickle of bytes passes the read timeout)",
        gt=0,
        le=86400,
    )
    fetch_retries: int = _var(
        3,
        "NIANBAO_FETCH_RETRIES",
        "tries after the first, on timeouts, connection errors and 5xx answers (never on 4xx)",
        ge=0,
        le=20,
    )
    fetch_delay: float = _var(
        1.0,
        "NIANBAO_FETCH_DELAY",
        "seconds between the starts of two downloads from one host (politeness)",
        ge=0,
        le=3600,
    )
    tracebacks: bool = _var(False, "NIANBAO_TRACEBACKS", "1: the command prints tracebacks, not one line per failure")
    expectations: Path = _var(
        ROOT / "expectations",
        "NIANBAO_EXPECTATIONS",
        "the folder of the GX suites (default: expectations/ beside the package)",
    )
    validation_url: str | None = _var(
        None,
        "NIANBAO_VALIDATION_URL",
        "where WAREHOUSE/validation/ is served (https://host/path/): the run's artifact links its page there",
    )
    s3_grace: float = _var(
        60.0, "NIANBAO_S3_GRACE", "seconds a superseded object stays readable before a publish deletes it", ge=0
    )
    s3_lease: float = _var(
        30.0, "NIANBAO_S3_LEASE", "seconds a writer's lease on an s3:// warehouse lasts unless renewed", gt=0
    )
    aws_endpoint_url: str | None = _var(
        None, "AWS_ENDPOINT_URL", "the S3 endpoint of an s3:// warehouse (MinIO, OSS, COS, SeaweedFS, ...)"
    )
    aws_access_key_id: str | None = _var(None, "AWS_ACCESS_KEY_ID", "S3 credentials")
    aws_secret_access_key: str | None = _var(None, "AWS_SECRET_ACCESS_KEY", "S3 credentials")
    aws_session_token: str | None = _var(None, "AWS_SESSION_TOKEN", "S3 credentials (temporary ones)")
    aws_region: str | None = _var(None, "AWS_REGION", "S3 region (else AWS_DEFAULT_REGION, else us-east-1)")
    aws_default_region: str | None = _var(None, "AWS_DEFAULT_REGION", "S3 region where AWS_REGION is unset")
    prefect_api_url: str | None = _var(
        None, "PREFECT_API_URL", "a Prefect server to run on (default: a temporary one per command)"
    )
    keep_server: float = _var(
        0.0,
        "NIANBAO_KEEP_SERVER",
        "seconds Prefect's temporary server stays up after the last command that used it, for the next "
        "command to use (0: a server per command, stopped with it)",
        ge=0,
    )
    cache_dir: Path | None = _var(
        None,
        "NIANBAO_CACHE_DIR",
        "what is made once per machine and kept (Prefect's migrated empty database; default: nianbao in the user's cache folder)",
    )
    xdg_cache_home: Path | None = _var(None, "XDG_CACHE_HOME", "the user's cache folder (default: ~/.cache)")

    @property
    def cache(self) -> Path:
        return self.cache_dir or (self.xdg_cache_home or Path.home() / ".cache") / "nianbao"

    @property
    def max_document_bytes(self) -> int:
        return self.max_document_mb * 2**20

    @property
    def s3(self) -> S3:
        return S3(
            self.aws_endpoint_url,
            self.aws_access_key_id,
            self.aws_secret_access_key,
            self.aws_session_token,
            self.aws_region,
            self.aws_default_region,
        )


@dataclass(frozen=True)
class S3:
    endpoint_url: str | None
    access_key_id: str | None
    secret_access_key: str | None
    session_token: str | None
    region: str | None
    default_region: str | None


def _shown(default) -> str | None:
    """A default as the variable would be set to it: 1/0 for a flag, a path from the project root."""
    if isinstance(default, bool):
        return "1" if default else "0"
    if isinstance(default, Path):
        return str(default.relative_to(ROOT))
    return None if default is None else str(default)


# variable -> (default, meaning), in the declaration's order: what the data dictionary lists
VARIABLES: dict[str, tuple[str | None, str]] = {
    f.validation_alias: (_shown(f.default), f.description) for f in Settings.model_fields.values()
}
# Told to the libraries we run (Prefect, GX) unless already set: no analytics, no telemetry notice.
QUIET_LIBRARIES = {"GX_ANALYTICS_ENABLED": "false", "PREFECT_SERVER_ANALYTICS_ENABLED": "false", "DO_NOT_TRACK": "1"}
# Told to the native libraries unless already set, before they load (they read it once, as they
# load): Arrow allocates from the system allocator, polars' jemalloc gives freed pages back at once
# (nianbao/run/allocators.py says why; polars appends this to its own defaults).
NATIVE_LIBRARIES = {"ARROW_DEFAULT_MEMORY_POOL": "system", "_RJEM_MALLOC_CONF": "dirty_decay_ms:0,muzzy_decay_ms:0"}


def settings() -> Settings:
    return _read(tuple(os.environ.get(name) for name in VARIABLES))


@functools.lru_cache(maxsize=8)
def _read(values: tuple[str | None, ...]) -> Settings:
    try:
        return Settings()  # values: the cache's key; pydantic-settings reads the environment itself
    except ValidationError as e:
        error = e.errors()[0]
        name = error["loc"][0]
        raise SettingsError(
            f"{name}={os.environ.get(name)!r}: {error['msg'].lower()} "
            f"({Settings.model_fields[_field(name)].description})"
        ) from None


def _field(name: str) -> str:
    return next(k for k, f in Settings.model_fields.items() if f.validation_alias == name)


def child_environment(**values: str) -> dict[str, str]:
    """This process's environment with `values` added, for a child process."""
    return {**os.environ, **values}


def prefect_variables() -> dict[str, str]:
    """Prefect's variables in this environment (PREFECT_*), which its server reads."""
    return {k: v for k, v in os.environ.items() if k.startswith("PREFECT_")}


def export_default(**values: str) -> None:
    """Set variables the user has not set (for the libraries we run)."""
    for name, value in values.items():
        os.environ.setdefault(name, value)


@contextlib.contextmanager
def restored() -> Iterator[None]:
    """The environment as it was before, after the block: the command called from Python (a test, a
    notebook) exports Prefect's settings for its run, not for its caller's later work."""
    before = dict(os.environ)
    try:
        yield
    finally:
        # only what changed is written back: clearing the whole environment and setting it again
        # races with the native threads (Arrow, polars, ONNX Runtime) reading it (getenv is not
        # safe against a concurrent setenv): a test process died in a segfault as the command returned
        for name in set(os.environ) - set(before):
            del os.environ[name]
        for name, value in before.items():
            if os.environ.get(name) != value:
                os.environ[name] = value


def quiet_libraries() -> None:
    export_default(**QUIET_LIBRARIES)


def native_libraries() -> None:
    """NATIVE_LIBRARIES exported: by a program before it imports pyarrow, while no native thread
    runs (setenv races with their getenv)."""
    export_default(**NATIVE_LIBRARIES)


def _limits(field) -> str:
    words = {"ge": "≥ {}", "gt": "> {}", "le": "≤ {}", "lt": "< {}"}
    return ", ".join(words[k].format(getattr(m, k)) for m in field.metadata for k in words if hasattr(m, k))


def markdown() -> list[str]:
    """The table of every variable, from the declaration, for the data dictionary."""
    out = ["| variable | type | default | allowed | meaning |", "| --- | --- | --- | --- | --- |"]
    for f in Settings.model_fields.values():
        kind = getattr(f.annotation, "__name__", str(f.annotation)).replace("NoneType", "unset").replace(" | ", " or ")
        out.append(
            f"| `{f.validation_alias}` | {kind} | {VARIABLES[f.validation_alias][0] or ''} | {_limits(f)} | {f.description} |"
        )
    return out
