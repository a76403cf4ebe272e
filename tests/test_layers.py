"""The layer contract: archiver's modules import downward only, and packages only through their
public names. Read from the source with ``ast`` (every import, in functions too)."""

from __future__ import annotations

import ast
import importlib
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "archiver"

# Top to bottom. A module may import from the layers below its own, and within its own package;
# names on one line are independent: neither imports the other.
LAYERS = [
    ["archiver", "archiver.__main__"],  # the root: lazy names over the layers below; its __version__ is for all
    ["archiver.cli"],
    ["archiver.output", "archiver.sample_site"],
    ["archiver.capture", "archiver.query"],
    ["archiver.collection"],
    ["archiver.catalogue"],
    ["archiver.parse"],
    ["archiver.net"],
    ["archiver.warc"],
    ["archiver.config"],
    ["archiver.errors", "archiver.faults"],
]
STAGES = ["net", "warc", "parse", "capture", "query"]


def _modules() -> dict[str, Path]:
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


MODULES = _modules()


def _unit(module: str) -> str:
    """The layer unit a module belongs to: its top-level module or package under archiver."""
    parts = module.split(".")
    return ".".join(parts[:2]) if len(parts) > 1 else module


def _rank(unit: str) -> tuple[int, int]:
    for depth, layer in enumerate(LAYERS):
        if unit in layer:
            return depth, layer.index(unit)
    raise AssertionError(f"{unit} is in no layer of tests/test_layers.py: give it one")


def _imports(module: str, path: Path) -> list[tuple[int, str]]:
    """(line, imported module) of every archiver import in ``module``, relative ones resolved."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names if alias.name.startswith("archiver")]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if not target.startswith("archiver"):
                continue
            for alias in node.names:  # ``from archiver import faults`` imports a module
                candidate = f"{target}.{alias.name}"
                found.append((node.lineno, candidate if candidate in MODULES else target))
    return found


def _violations() -> list[str]:
    problems = []
    for module, path in MODULES.items():
        here = _unit(module)
        for line, target in _imports(module, path):
            there = _unit(target)
            where = f"{path.relative_to(PACKAGE.parent)}:{line} imports {target}"
            if target == "archiver":
                continue  # the root: __version__ and nothing else loaded
            if there == here:
                continue
            if any(part.startswith("_") for part in target.split(".")[2:]):
                problems.append(f"{where}: a private module of another package (import from {there})")
            mine, theirs = _rank(here), _rank(there)
            if theirs[0] < mine[0]:
                problems.append(f"{where}: an upward import ({there} is above {here})")
            elif theirs[0] == mine[0]:
                problems.append(f"{where}: {here} and {there} are independent")
    return problems


def test_modules_import_downward_only_and_packages_through_their_public_names():
    assert _violations() == []


def test_the_contract_catches_what_it_forbids(tmp_path, monkeypatch):
    """The checker itself can fail: an upward, a sideways and a private import are each caught."""
    bad = tmp_path / "archiver" / "net"
    bad.mkdir(parents=True)
    (bad / "_bad.py").write_text("from ..capture import capture\nfrom archiver.query import history\n"
                                 "from ..warc._writer import WarcWriter\nfrom ..warc import WarcWriter\n")
    (tmp_path / "archiver" / "capture").mkdir()
    (tmp_path / "archiver" / "capture" / "_x.py").write_text("from ..query._history import history\n")
    monkeypatch.setattr(sys.modules[__name__], "MODULES", {
        "archiver.net._bad": bad / "_bad.py", "archiver.capture._x": tmp_path / "archiver/capture/_x.py"})
    monkeypatch.setattr(sys.modules[__name__], "PACKAGE", tmp_path / "archiver")
    assert _violations() == [
        "archiver/net/_bad.py:1 imports archiver.capture: an upward import (archiver.capture is above archiver.net)",
        "archiver/net/_bad.py:2 imports archiver.query: an upward import (archiver.query is above archiver.net)",
        "archiver/net/_bad.py:3 imports archiver.warc._writer: a private module of another package "
        "(import from archiver.warc)",
        "archiver/capture/_x.py:1 imports archiver.query._history: a private module of another package "
        "(import from archiver.query)",
        "archiver/capture/_x.py:1 imports archiver.query._history: archiver.capture and archiver.query "
        "are independent",
    ]


def test_no_module_takes_another_modules_private_names():
    taken = []
    for module, path in MODULES.items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and (node.level or (node.module or "").startswith("archiver")):
                taken += [f"{module}:{node.lineno} {alias.name}" for alias in node.names
                          if alias.name.startswith("_") and not alias.name.startswith("__")]
    assert taken == []


@pytest.mark.parametrize("stage", STAGES)
def test_each_stage_is_a_package_of_private_modules_with_a_sorted_curated_all(stage):
    folder = PACKAGE / stage
    assert (folder / "__init__.py").exists()
    assert [p.name for p in folder.glob("*.py") if p.name != "__init__.py" and not p.name.startswith("_")] == []
    package = importlib.import_module(f"archiver.{stage}")
    names = package.__all__
    assert names == sorted(names, key=lambda name: (not name.isupper(), name)), "keep __all__ sorted"
    assert len(set(names)) == len(names)
    public = {name for name in vars(package) if not name.startswith("_")}
    modules = {name for name, value in vars(package).items() if type(value) is type(sys)}
    assert public - modules == set(names), "every public name of the package is in __all__, and only those"


def test_the_top_level_shows_the_stages():
    entries = sorted(p.name for p in PACKAGE.iterdir() if not p.name.startswith((".", "__pycache__")))
    assert entries == ["__init__.py", "__main__.py", "capture", "catalogue.py", "cli.py", "collection.py",
                       "config.py", "errors.py", "faults.py", "net", "output.py", "parse", "py.typed", "query",
                       "sample_site", "warc"]


def test_import_archiver_loads_no_stage():
    code = ("import sys, archiver, archiver.errors, archiver.config; "
            "print(sorted(m for m in sys.modules if m.startswith(('archiver', 'requests', 'sqlalchemy', 'lxml'))))")
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert loaded.strip() == "['archiver', 'archiver.config', 'archiver.errors']"
