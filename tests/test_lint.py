"""The code stays within the project's lint rules (pyproject.toml [tool.ruff]) and type-checks
(pyproject.toml [tool.mypy]: strict for archiver/ and migrations/)."""

from __future__ import annotations

import subprocess
import sys

from .conftest import ROOT, tool


def test_ruff_finds_nothing():
    result = subprocess.run([tool("ruff"), "check", "--no-cache", str(ROOT)], capture_output=True, text=True,
                            cwd=ROOT)
    assert result.returncode == 0, result.stdout


def test_mypy_finds_nothing():
    # files and settings from pyproject.toml; no cache left in the working tree
    result = subprocess.run([sys.executable, "-m", "mypy", "--no-incremental", "--cache-dir", "/dev/null"],
                            capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
