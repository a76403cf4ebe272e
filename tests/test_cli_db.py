"""`archiver db upgrade` and `archiver db current`."""

from __future__ import annotations

from archiver import catalogue as cat

from .conftest import invoke_archiver, run_archiver


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


def test_db_url_flag(tmp_path):
    url = f"sqlite:///{tmp_path / 'elsewhere.db'}"
    result = invoke_archiver("db", "upgrade", "--db", url, "--home", str(tmp_path / "home"))
    assert result.returncode == 0 and (tmp_path / "elsewhere.db").exists()


def test_unusable_catalogue_url(tmp_path):
    result = run_archiver("db", "current", "--db", "nosuchdb://x")
    assert result.returncode == 4
    assert result.stderr.startswith("Error: cannot use the catalogue URL 'nosuchdb://x': ")
    assert len(result.stderr.splitlines()) == 1
