"""A new Prefect server database, copied from a migrated empty one instead of migrated anew.

Prefect's server creates its SQLite database by running every alembic migration (~5–7 CPU-s on this
machine): the first run on every machine, CI job and fresh PREFECT_HOME, and every test session's
server. The migrated empty database is made once per set of migrations (Prefect's version and its
migration files) in the cache (NIANBAO_CACHE_DIR) and copied for each new database; a database at
that head needs no migrations on start either (the check alone is ~0.2 CPU-s and alembic's import).

Called in the server's process before its app is made (flows/server.py, flows/kept.py), and for the
tests' server (tests/conftest.py). Safe when processes race: the template is written to a file of
the process's own and renamed into place; a copy is linked into place, never over a database that
another process made meanwhile. Anything other than a SQLite file (PostgreSQL, :memory:) is Prefect's.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import shutil
import sqlite3
from importlib.metadata import version
from pathlib import Path

from nianbao.model import settings

_SIDECARS = ("-wal", "-shm", "-journal")  # SQLite's files beside a database


def template(cache: Path | None = None, make: bool = True) -> Path | None:
    """The migrated empty database for this Prefect's migrations, made if missing (unless not `make`)."""
    path = template_path(cache)
    if path.is_file() or not make:
        return path if path.is_file() else None
    path.parent.mkdir(parents=True, exist_ok=True)
    own = path.with_name(f".{path.name}.{os.getpid()}")
    try:
        asyncio.run(_migrate(own))
        with contextlib.closing(sqlite3.connect(own)) as db:
            # the whole database in its one file, read without a WAL's files (Prefect's server turns WAL on again)
            db.execute("PRAGMA journal_mode=DELETE")
        os.replace(own, path)
    finally:
        for name in ("", *_SIDECARS):
            Path(f"{own}{name}").unlink(missing_ok=True)
    return path


def template_path(cache: Path | None = None) -> Path:
    """Where the template is kept: named by Prefect's version and its migrations' files (the head)."""
    import prefect

    migrations = Path(prefect.__file__).parent / "server" / "database" / "_migrations" / "versions" / "sqlite"
    key = hashlib.sha256("\0".join(sorted(p.name for p in migrations.glob("*.py"))).encode()).hexdigest()[:12]
    return (cache or settings.settings().cache) / "prefect" / f"prefect-{version('prefect')}-{key}.db"


async def _migrate(path: Path) -> None:
    from prefect.server.database import provide_database_interface
    from prefect.server.database.dependencies import temporary_database_interface
    from prefect.settings import PREFECT_API_DATABASE_CONNECTION_URL, temporary_settings

    url = f"sqlite+aiosqlite:///{path}"
    # the interface Prefect keeps for the process is left as it was, for the server's own database
    with temporary_database_interface(), temporary_settings(updates={PREFECT_API_DATABASE_CONNECTION_URL: url}):
        db = provide_database_interface()
        await db.create_db()
        await (await db.engine()).dispose()


def prepare(url: str | None = None, cache: Path | None = None) -> bool:
    """The server's database (`url`, by default Prefect's setting) copied from the template if it does
    not exist yet; True if it is then at the template's head (its migrations may be skipped)."""
    if url is None:
        from prefect.settings import get_current_settings

        secret = get_current_settings().server.database.connection_url
        url = secret.get_secret_value() if secret is not None else ""
    path = _sqlite_file(url)
    if path is None:
        return False
    new = not path.exists()
    if new and any(Path(f"{path}{name}").exists() for name in _SIDECARS):
        return False  # a deleted database's journal, which SQLite would replay into a copy: Prefect's to sort out
    try:
        made = template(cache, make=new)
    except Exception:  # noqa: BLE001 (a cache it cannot write, say: Prefect creates the database, as without one)
        return False
    if made is None:
        return False
    if new:
        path.parent.mkdir(parents=True, exist_ok=True)
        own = path.with_name(f".{path.name}.{os.getpid()}")
        try:
            shutil.copyfile(made, own)
            os.link(own, path)
        except FileExistsError:
            pass  # another server's, made meanwhile
        except OSError:
            return False  # no links here: Prefect creates it
        finally:
            own.unlink(missing_ok=True)
    return _head(path) == _head(made)


def _sqlite_file(url: str) -> Path | None:
    scheme, sep, rest = url.partition(":///")
    if not sep or not scheme.startswith("sqlite"):
        return None
    name = rest.split("?", 1)[0]
    if name in ("", ":memory:") or name.startswith("file:"):
        return None
    return Path(name)


def _head(path: Path) -> list[str] | None:
    """The revisions a database was migrated to (None if it cannot be read)."""
    try:
        with contextlib.closing(sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=5)) as db:
            return sorted(row[0] for row in db.execute("SELECT version_num FROM alembic_version"))
    except sqlite3.Error:
        return None


@contextlib.contextmanager
def prepared(url: str | None = None, cache: Path | None = None):
    """prepare(), and Prefect's migrations on start off in the block if the database is at head."""
    if not prepare(url, cache):
        yield
        return
    from prefect.settings import PREFECT_API_DATABASE_MIGRATE_ON_START, temporary_settings

    with temporary_settings(updates={PREFECT_API_DATABASE_MIGRATE_ON_START: False}):
        yield
