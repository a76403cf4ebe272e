"""`archiver db upgrade` and `archiver db current`."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import sqlalchemy as sa

from archiver import catalogue as cat

from .conftest import invoke_archiver, older_catalogue, run_archiver


def test_current_on_an_empty_collection_then_upgrade(tmp_path):
    head = cat.HEAD_REVISION
    before = invoke_archiver("db", "current", "--home", str(tmp_path))
    assert (before.returncode, before.stdout) == (2, "")  # reading creates nothing
    assert before.stderr == (f"Error: no collection at {tmp_path}: {(tmp_path / 'archiver.db').resolve()} does "
                             "not exist (give --home, or capture something first)\n")
    assert list(tmp_path.iterdir()) == []
    (tmp_path / "archiver.db").touch()
    empty = invoke_archiver("db", "current", "--home", str(tmp_path))
    assert (empty.returncode, empty.stdout) == (0, f"empty (newest: {head}; upgraded by `archiver db upgrade` "
                                                   "or a capture)\n")
    upgrade = invoke_archiver("db", "upgrade", "--home", str(tmp_path))
    assert upgrade.returncode == 0
    assert upgrade.stderr == f"Catalogue sqlite:///{(tmp_path / 'archiver.db').resolve()}: empty -> {head}\n"
    after = invoke_archiver("db", "current", "--home", str(tmp_path))
    assert after.stdout == f"{head} (newest: {head}; up to date)\n"


def test_upgrade_from_0005_gives_fetches_a_link_tag_null_in_their_old_rows(tmp_path):
    url = f"sqlite:///{tmp_path / 'archiver.db'}"
    with older_catalogue(url, "0005") as (connection, now):
        connection.execute(sa.text(
            "INSERT INTO fetches (id, capture_event_id, url, role, link_kind, started_at, outcome) VALUES "
            "(1, 1, 'http://old.example/logo.png', 'embed', 'embed', :now, 'captured')"), {"now": now})
    upgrade = invoke_archiver("db", "upgrade", "--home", str(tmp_path))
    assert (upgrade.returncode, upgrade.stderr) == (
        0, f"Catalogue sqlite:///{(tmp_path / 'archiver.db').resolve()}: 0005 -> {cat.HEAD_REVISION}\n")
    engine = sa.create_engine(url)
    with engine.connect() as connection:
        rows = connection.execute(sa.select(cat.fetches.c.url, cat.fetches.c.link_kind, cat.fetches.c.link_tag)).all()
    engine.dispose()
    assert [tuple(row) for row in rows] == [("http://old.example/logo.png", "embed", None)]


def test_db_url_flag(tmp_path):
    url = f"sqlite:///{tmp_path / 'elsewhere.db'}"
    result = invoke_archiver("db", "upgrade", "--db", url, "--home", str(tmp_path / "home"))
    assert result.returncode == 0 and (tmp_path / "elsewhere.db").exists()


def test_unusable_catalogue_url(tmp_path):
    result = run_archiver("db", "current", "--db", "nosuchdb://x")
    assert result.returncode == 4
    assert result.stderr.startswith("Error: cannot use the catalogue URL 'nosuchdb://x': ")
    assert len(result.stderr.splitlines()) == 1


BLOCK_PSYCOPG = ("import sys; sys.modules['psycopg'] = sys.modules['psycopg2'] = None; from archiver.cli import main; "
                 "sys.argv = ['archiver', *sys.argv[1:]]; main()")


@pytest.mark.parametrize(("url", "expected"), [
    ("postgresql+psycopg://archivist:secret@127.0.0.1:9/archive",
     "Error: the catalogue URL 'postgresql+psycopg://archivist:***@127.0.0.1:9/archive' needs psycopg: "
     "run pip install '.[postgresql]' in the archiver checkout\n"),
    ("postgresql+psycopg2://archivist@127.0.0.1:9/archive",
     "Error: the catalogue URL 'postgresql+psycopg2://archivist@127.0.0.1:9/archive' needs psycopg2, which no extra "
     "installs: give postgresql+psycopg://… and run pip install '.[postgresql]' in the archiver checkout\n"),
], ids=["psycopg", "psycopg2"])
def test_a_missing_postgresql_driver_names_the_extra(tmp_path, url, expected):
    """Without the driver (its import blocked, as in an environment without the extra), one line naming
    the extra to install from the checkout (``archiver`` on PyPI is another project), exit 4."""
    result = subprocess.run([sys.executable, "-c", BLOCK_PSYCOPG, "history", "http://example.org/", "--db", url],
                            capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL, cwd=tmp_path)
    assert (result.returncode, result.stdout, result.stderr) == (4, "", expected)


def test_the_postgresql_extra_installs_the_driver_its_hint_names():
    with open(Path(__file__).parent.parent / "pyproject.toml", "rb") as fh:
        extras = tomllib.load(fh)["project"]["optional-dependencies"]
    assert extras["postgresql"] == ["psycopg[binary]>=3.1"]
