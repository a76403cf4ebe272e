"""The code stays within the project's lint rules (pyproject.toml [tool.ruff])."""

from __future__ import annotations

import subprocess

from .conftest import ROOT, tool


def test_ruff_finds_nothing():
    result = subprocess.run([tool("ruff"), "check", "--no-cache", str(ROOT)], capture_output=True, text=True,
                            cwd=ROOT)
    assert result.returncode == 0, result.stdout
