"""Fixtures of the fault matrix, and its tally.

Every hostile case a test tries is counted with ``tally.tried(case)``; every collection a test
captured into is checked by :func:`check_store`: ``archiver verify`` (each catalogue row leads to
intact bytes, each record is catalogued) and warcio/fastwarc on each WARC file. The counts go to
the file named by ``FAULT_MATRIX_REPORT`` when the run ends (see MATRIX-hostile.md)::

    FAULT_MATRIX_REPORT=/tmp/matrix.json .venv/bin/python -m pytest tests/faults -p no:cacheprovider
"""

from __future__ import annotations

import dataclasses
import json
import os
import tempfile
from pathlib import Path

import pytest
import sqlalchemy as sa

from ..conftest import assert_warcs_valid, invoke_archiver
from .badserver import BadServer


@dataclasses.dataclass
class Tally:
    cases: dict[str, list[str]] = dataclasses.field(default_factory=dict)  # case -> tests that tried it
    stores: int = 0
    records_checked: int = 0
    records_lost: int = 0
    warc_files: int = 0
    invalid_warcs: int = 0
    peak_mb: dict[str, int] = dataclasses.field(default_factory=dict)  # resident memory of measured runs

    def tried(self, case: str) -> None:
        test = os.environ.get("PYTEST_CURRENT_TEST", "").rsplit(" (", 1)[0]
        self.cases.setdefault(case, []).append(test)

    def as_json(self) -> dict:
        return {"cases_tried": len(self.cases), "stores_checked": self.stores,
                "records_checked": self.records_checked, "records_lost": self.records_lost,
                "warc_files": self.warc_files, "invalid_warcs": self.invalid_warcs, "peak_mb": self.peak_mb,
                "cases": dict(sorted(self.cases.items()))}


TALLY = Tally()


@pytest.fixture(scope="session")
def tally() -> Tally:
    return TALLY


def pytest_sessionfinish(session, exitstatus) -> None:
    report = os.environ.get("FAULT_MATRIX_REPORT")
    if report and TALLY.cases:
        Path(report).write_text(json.dumps({**TALLY.as_json(), "exit_status": int(exitstatus)}, indent=2) + "\n")


@pytest.fixture
def bad():
    server = BadServer()
    yield server
    server.close()


def invalid_warcs(snapshots: Path) -> list[str]:
    """WARC files (and ``.open`` leftovers) that warcio or fastwarc do not read cleanly."""
    invalid = [path.name for path in snapshots.glob("*.open")]
    for path in sorted(snapshots.glob("*.warc.gz")):
        with tempfile.TemporaryDirectory() as single:  # the shared checker takes a folder
            (Path(single) / path.name).symlink_to(path.resolve())
            try:
                assert_warcs_valid(Path(single))
            except AssertionError:
                invalid.append(path.name)
    return invalid


def check_store(home: Path) -> dict:
    """Verify a collection the way an archivist would, count it, and assert nothing was lost."""
    result = invoke_archiver("verify", "--home", str(home), "--json")
    summary = json.loads(result.stdout)
    invalid = invalid_warcs(home / "snapshots")
    TALLY.stores += 1
    TALLY.records_checked += summary["records_checked"]
    TALLY.records_lost += len(summary["failures"])
    TALLY.warc_files += summary["files_checked"]
    TALLY.invalid_warcs += len(invalid)
    assert (result.returncode, summary["failures"], invalid) == (0, [], []), result.stderr
    assert summary["records_checked"] == len(rows(home, "records"))
    return summary


def rows(home: Path, table: str, **where) -> list[dict]:
    """Catalogue rows of ``table`` (read with SQL on the real file), optionally filtered by equality."""
    engine = sa.create_engine(f"sqlite:///{home / 'archiver.db'}")
    try:
        with engine.connect() as connection:
            found = sa.Table(table, sa.MetaData(), autoload_with=connection)
            query = sa.select(found).where(*(found.c[name] == value for name, value in where.items()))
            return [dict(row._mapping) for row in connection.execute(query.order_by(found.c[found.primary_key.columns
                                                                                              .keys()[0]]))]
    finally:
        engine.dispose()
