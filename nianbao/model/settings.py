"""Every setting from the environment, in one place: the only module that reads (or sets) os.environ.

`settings()` reads the variables each time it is called (cheap), so a changed environment (a test's
monkeypatch) is seen by the next caller. VARIABLES is the one table
of them: the data dictionary lists it (docs/DATA_DICTIONARY.md, "Settings").
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# variable -> (default, meaning); a None default means unset
VARIABLES: dict[str, tuple[str | None, str]] = {
    "NIANBAO_ALLOW_PRIVATE": ("0", "1: fetch URLs on private, loopback and link-local addresses (--allow-private)"),
    "NIANBAO_ALLOW_OUTSIDE": ("0", "1: read a manifest's local paths outside the manifest's folder (--allow-outside)"),
    "NIANBAO_DASK_ADDRESS": (None, "run the batches on this Dask cluster (tcp://host:8786; --dask)"),
    "NIANBAO_WORKERS": ("2", "batches processed at once by the flow (the command's --workers)"),
    "NIANBAO_MEMORY_LIMIT_MB": ("2048", "heap per extraction worker process, in MiB"),
    "NIANBAO_MIN_FREE_MB": ("64", "free space the warehouse needs before a run starts, in MiB"),
    "NIANBAO_TRACEBACKS": (None, "1: the command prints tracebacks, not one line per failure"),
    "NIANBAO_EXPECTATIONS": (None, "the folder of the GX suites (default: expectations/ beside the package)"),
    "NIANBAO_VALIDATION_URL": (None, "where WAREHOUSE/validation/ is served (https://host/path/): the run's artifact links its page there"),
    "NIANBAO_S3_GRACE": ("60", "seconds a superseded object stays readable before a publish deletes it"),
    "NIANBAO_S3_LEASE": ("30", "seconds a writer's lease on an s3:// warehouse lasts unless renewed"),
    "AWS_ENDPOINT_URL": (None, "the S3 endpoint of an s3:// warehouse (MinIO, OSS, COS, SeaweedFS, ...)"),
    "AWS_ACCESS_KEY_ID": (None, "S3 credentials"),
    "AWS_SECRET_ACCESS_KEY": (None, "S3 credentials"),
    "AWS_SESSION_TOKEN": (None, "S3 credentials (temporary ones)"),
    "AWS_REGION": (None, "S3 region (else AWS_DEFAULT_REGION, else us-east-1)"),
    "AWS_DEFAULT_REGION": (None, "S3 region where AWS_REGION is unset"),
    "PREFECT_API_URL": (None, "a Prefect server to run on (default: a temporary one per command)"),
}
# Told to the libraries we run (Prefect, GX) unless already set: no analytics, no telemetry notice.
QUIET_LIBRARIES = {"GX_ANALYTICS_ENABLED": "false", "PREFECT_SERVER_ANALYTICS_ENABLED": "false", "DO_NOT_TRACK": "1"}


@dataclass(frozen=True)
class S3:
    endpoint_url: str | None
    access_key_id: str | None
    secret_access_key: str | None
    session_token: str | None
    region: str | None
    default_region: str | None


@dataclass(frozen=True)
class Settings:
    allow_private: bool
    allow_outside: bool
    dask_address: str | None
    workers: int
    memory_limit_mb: int
    min_free_mb: int
    tracebacks: bool
    expectations: Path
    s3_grace: float
    s3_lease: float
    s3: S3
    prefect_api_url: str | None
    validation_url: str | None


def _get(name: str) -> str | None:
    return os.environ.get(name) or VARIABLES[name][0]


def settings() -> Settings:
    return Settings(
        allow_private=_get("NIANBAO_ALLOW_PRIVATE") == "1",
        allow_outside=_get("NIANBAO_ALLOW_OUTSIDE") == "1",
        dask_address=_get("NIANBAO_DASK_ADDRESS"),
        workers=int(_get("NIANBAO_WORKERS")),
        memory_limit_mb=int(_get("NIANBAO_MEMORY_LIMIT_MB")),
        min_free_mb=int(_get("NIANBAO_MIN_FREE_MB")),
        tracebacks=bool(_get("NIANBAO_TRACEBACKS")),
        expectations=Path(_get("NIANBAO_EXPECTATIONS") or ROOT / "expectations"),
        s3_grace=float(_get("NIANBAO_S3_GRACE")),
        s3_lease=float(_get("NIANBAO_S3_LEASE")),
        s3=S3(*(_get(v) for v in ("AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY",
                                  "AWS_SESSION_TOKEN", "AWS_REGION", "AWS_DEFAULT_REGION"))),
        prefect_api_url=_get("PREFECT_API_URL"),
        validation_url=_get("NIANBAO_VALIDATION_URL"),
    )


def child_environment(**values: str) -> dict[str, str]:
    """This process's environment with `values` added, for a child process."""
    return {**os.environ, **values}


def export_default(**values: str) -> None:
    """Set variables the user has not set (for the libraries we run)."""
    for name, value in values.items():
        os.environ.setdefault(name, value)


def quiet_libraries() -> None:
    export_default(**QUIET_LIBRARIES)


def markdown() -> list[str]:
    """The table of VARIABLES, for the data dictionary."""
    out = ["| variable | default | meaning |", "| --- | --- | --- |"]
    return out + [f"| `{name}` | {default or ''} | {meaning} |" for name, (default, meaning) in VARIABLES.items()]
