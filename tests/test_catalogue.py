"""The catalogue: created by Alembic on first use, WAL + BEGIN IMMEDIATE on SQLite."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from archiver import catalogue as cat


def test_first_use_creates_the_newest_schema(tmp_path):
    url = f"sqlite:///{tmp_path / 'archiver.db'}"
    catalogue = cat.Catalogue.open(url)
    assert cat.current_revision(catalogue.engine) == cat.HEAD_REVISION
    with catalogue.engine.connect() as connection:
        tables = set(sa.inspect(connection).get_table_names())
    assert {"capture_events", "warc_files", "fetches", "records", "alembic_version"} <= tables
    catalogue.close()


def test_head_revision_is_the_newest_migration():
    from alembic.script import ScriptDirectory

    assert cat.HEAD_REVISION == ScriptDirectory.from_config(cat.alembic_config()).get_current_head()


def test_migrations_and_table_definitions_agree(tmp_path):
    catalogue = cat.Catalogue.open(f"sqlite:///{tmp_path / 'archiver.db'}")
    with catalogue.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"include_name": lambda name, kind, _: not (
            kind == "table" and name.startswith(cat.FTS_TABLE))})  # FTS5 and its shadow tables: not SQLAlchemy's
        diff = compare_metadata(context, cat.metadata)
    assert diff == []
    catalogue.close()


def test_sqlite_runs_in_wal_mode_with_a_busy_timeout(tmp_path):
    catalogue = cat.Catalogue.open(f"sqlite:///{tmp_path / 'archiver.db'}")
    with catalogue.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() == cat.LOCK_TIMEOUT * 1000
    catalogue.close()


def test_migrations_ship_inside_the_package():
    folder = cat.migrations_dir()
    assert (folder / "env.py").exists()
    assert any(folder.glob("versions/0001_*.py"))


WRITER = textwrap.dedent("""
    import datetime as dt, sys, uuid
    from archiver import catalogue as cat
    catalogue = cat.Catalogue.open(sys.argv[1])
    now = dt.datetime.now(dt.timezone.utc)
    for n in range(int(sys.argv[2])):
        with catalogue.transaction() as connection:
            catalogue.insert(connection, cat.capture_events, dict(
                uuid=str(uuid.uuid4()), started_at=now, outcome="complete", tool="t", tool_version="0",
                operator="o", hostname="h", pid=0, command="c", seeds="[]", settings="{}"))
""")


def test_concurrent_writers_lose_nothing(tmp_path):
    """Two processes committing 200 small transactions each at once: 400 rows, no 'locked' error."""
    url = f"sqlite:///{tmp_path / 'archiver.db'}"
    cat.Catalogue.open(url).close()
    script = tmp_path / "writer.py"
    script.write_text(WRITER)
    processes = [subprocess.Popen([sys.executable, str(script), url, "200"], stderr=subprocess.PIPE, text=True)
                 for _ in range(2)]
    errors = [process.communicate(timeout=120)[1] for process in processes]
    assert [process.returncode for process in processes] == [0, 0], errors
    engine = sa.create_engine(url)
    with engine.connect() as connection:
        assert connection.execute(sa.select(sa.func.count()).select_from(cat.capture_events)).scalar() == 400
    engine.dispose()


def test_two_processes_creating_the_catalogue_at_once(tmp_path):
    url = f"sqlite:///{tmp_path / 'archiver.db'}"
    code = "import sys; from archiver import catalogue as cat; cat.Catalogue.open(sys.argv[1]).close()"
    processes = [subprocess.Popen([sys.executable, "-c", code, url], stderr=subprocess.PIPE, text=True)
                 for _ in range(3)]
    errors = [process.communicate(timeout=120)[1] for process in processes]
    assert [process.returncode for process in processes] == [0, 0, 0], errors


def _events(first: int, count: int) -> list[dict]:
    import datetime as dt

    now = dt.datetime.now(dt.timezone.utc)
    return [{"uuid": f"00000000-0000-4000-8000-{number:012d}", "started_at": now, "outcome": "running",
             "tool": "archiver", "tool_version": "0", "operator": "t", "hostname": "h", "pid": 1,
             "command": f"command {number}", "seeds": "[]", "settings": "{}"} for number in range(first, first + count)]


def test_many_rows_inserted_at_once_return_their_ids_in_order(tmp_path):
    catalogue = cat.Catalogue.open(f"sqlite:///{tmp_path / 'archiver.db'}")
    try:
        for returning in (True, False):  # False: as on SQLite before 3.35, which cannot return them
            catalogue.engine.dialect.insert_executemany_returning_sort_by_parameter_order = returning
            with catalogue.transaction() as connection:
                rows = _events(0, 300) if returning else _events(300, 3)
                ids = catalogue.insert_many_returning_ids(connection, cat.capture_events, rows)
                assert catalogue.insert_many_returning_ids(connection, cat.capture_events, []) == []
            stored = {row["id"]: row["command"] for row in catalogue.rows(cat.capture_events)}
            assert [stored[row_id] for row_id in ids] == [row["command"] for row in rows]
    finally:
        catalogue.close()
