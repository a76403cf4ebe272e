"""The CLI reference in docs/ is the commands' --help, regenerated."""

from __future__ import annotations

import importlib.util

from .conftest import ROOT


def test_cli_reference_is_up_to_date():
    spec = importlib.util.spec_from_file_location("cli_reference", ROOT / "docs" / "cli_reference.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    current = (ROOT / "docs" / "cli.md").read_text(encoding="utf-8")
    assert current == module.reference(), "run: python docs/cli_reference.py > docs/cli.md"
