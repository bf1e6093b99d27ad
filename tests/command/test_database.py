"""A new Prefect server database is the migrated empty one, made once per Prefect version and its
migrations and copied (flows/database.py): no migrations on a new database's start, nor on one at head."""

import json
import shutil
import sqlite3
import urllib.request

from prefect.settings import (
    PREFECT_API_URL,
    PREFECT_HOME,
    PREFECT_SERVER_DATABASE_CONNECTION_URL,
    PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS,
    temporary_settings,
)

from flows import database, server


def _cache(tmp_path):
    """A cache of our own holding this Prefect's template (the tests' server made the machine's)."""
    cache = tmp_path / "cache"
    made = database.template_path(cache)
    made.parent.mkdir(parents=True)
    shutil.copyfile(database.template(), made)
    return cache, made


def _heads(path) -> list[str]:
    with sqlite3.connect(path) as db:
        return [row[0] for row in db.execute("SELECT version_num FROM alembic_version")]


def test_a_new_database_is_the_template_copied_and_its_server_starts_without_migrations(tmp_path, monkeypatch):
    cache, made = _cache(tmp_path)
    home = tmp_path / "home"
    monkeypatch.setenv("PREFECT_HOME", str(home))
    monkeypatch.setenv("NIANBAO_CACHE_DIR", str(cache))
    monkeypatch.setenv("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "240")  # a busy machine
    # in the environment and in this process's settings alike: the server is spawned once
    updates = {PREFECT_HOME: home, PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS: 240}
    for name in ("PREFECT_SERVER_DATABASE_CONNECTION_URL", "PREFECT_API_DATABASE_CONNECTION_URL"):
        monkeypatch.delenv(name, raising=False)
    # the session's harness server, if one ran before, set its own database: not this server's
    with temporary_settings(
        restore_defaults={PREFECT_API_URL, PREFECT_SERVER_DATABASE_CONNECTION_URL}, updates=updates
    ):
        s = server.TemporaryServer().start()
        with s.serving():
            assert (home / "prefect.db").read_bytes()[:16] == b"SQLite format 3\0"
            with urllib.request.urlopen(s.url + "/admin/settings", timeout=10) as answer:
                assert json.load(answer)["server"]["database"]["migrate_on_start"] is False
            # its tables are there: a flow is created and read back
            made_flow = urllib.request.Request(
                s.url + "/flows/", data=b'{"name": "copied"}', headers={"Content-Type": "application/json"}
            )
            with urllib.request.urlopen(made_flow, timeout=10) as answer:
                flow = json.load(answer)
            with urllib.request.urlopen(f"{s.url}/flows/{flow['id']}", timeout=10) as answer:
                assert json.load(answer)["name"] == "copied"
    assert _heads(home / "prefect.db") == _heads(made)


def test_a_database_at_the_templates_head_needs_no_migrations_one_behind_it_does(tmp_path):
    cache, made = _cache(tmp_path)
    db = tmp_path / "home" / "prefect.db"
    url = f"sqlite+aiosqlite:///{db}"
    assert database.prepare(url, cache) is True  # new: copied
    assert db.read_bytes() == made.read_bytes()
    assert database.prepare(url, cache) is True  # at head: left as it is
    with sqlite3.connect(db) as behind:
        behind.execute("UPDATE alembic_version SET version_num = 'an older one'")
    assert database.prepare(url, cache) is False  # Prefect migrates it on start
    assert _heads(db) == ["an older one"]


def test_a_template_of_another_prefect_version_is_not_used(tmp_path, monkeypatch):
    cache, made = _cache(tmp_path)
    monkeypatch.setattr(database, "version", lambda name: "3.0.0")
    older = database.template_path(cache)
    monkeypatch.undo()
    assert older != made and older.parent == made.parent
    made.rename(older)
    assert database.template(cache, make=False) is None
    db = tmp_path / "home" / "prefect.db"
    db.parent.mkdir()
    shutil.copyfile(older, db)  # a database the older version made
    assert database.prepare(f"sqlite+aiosqlite:///{db}", cache) is False  # no template of ours made for it: migrated


def test_a_database_made_meanwhile_or_a_deleted_ones_journal_is_left_to_prefect(tmp_path):
    cache, _ = _cache(tmp_path)
    db = tmp_path / "prefect.db"
    with sqlite3.connect(db) as mine:
        mine.execute("CREATE TABLE mine (x)")
    before = db.read_bytes()
    assert database.prepare(f"sqlite+aiosqlite:///{db}", cache) is False
    assert db.read_bytes() == before  # never replaced
    gone = tmp_path / "gone.db"
    (tmp_path / "gone.db-wal").write_bytes(b"a deleted database's pages")
    assert database.prepare(f"sqlite+aiosqlite:///{gone}", cache) is False
    assert not gone.exists()  # SQLite would replay that WAL into a copy


def test_only_a_sqlite_file_is_prepared(tmp_path):
    cache, _ = _cache(tmp_path)
    for url in ("postgresql+asyncpg://u:p@127.0.0.1/prefect", "sqlite+aiosqlite:///:memory:"):
        assert database.prepare(url, cache) is False
    assert sorted(p.name for p in tmp_path.rglob("*")) == sorted(
        ["cache", "prefect", database.template_path(cache).name]
    )


def test_a_cache_that_cannot_be_written_leaves_the_database_to_prefect(tmp_path):
    cache = tmp_path / "a file"
    cache.write_text("not a folder")
    db = tmp_path / "prefect.db"
    assert database.prepare(f"sqlite+aiosqlite:///{db}", cache) is False
    assert not db.exists()  # Prefect's server creates and migrates it on start
