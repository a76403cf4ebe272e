"""The README's Python API example runs as written, and its module map matches the tree."""

from __future__ import annotations

import re
import subprocess
import sys

from .conftest import ROOT

README = (ROOT / "README.md").read_text(encoding="utf-8")


def section(title: str) -> str:
    start = README.index(f"\n## {title}\n")
    end = README.find("\n## ", start + 1)
    return README[start:end if end != -1 else None]


def test_the_python_api_example_captures_and_reads_history(tmp_path):
    [code] = re.findall(r"```python\n(.*?)```", section("Python API"), re.S)
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path,
                            timeout=120, stdin=subprocess.DEVNULL)
    assert result.returncode == 0, result.stderr
    first, *versions = result.stdout.splitlines()
    assert re.fullmatch(r"complete \d+ records in archiver-\S+\.warc\.gz", first), first
    warc = first.rsplit(" ", 1)[1]
    assert len(versions) == 1
    assert re.fullmatch(r"\S+ 200 <urn:uuid:[0-9a-f-]{36}> " + re.escape(warc), versions[0]), versions[0]
    assert (tmp_path / "my-collection" / "archiver.db").exists()


def test_the_module_map_names_every_module_and_only_those():
    table = section("Development").split("| module | job |", 1)[1]
    named = set()
    for cell in re.findall(r"^\| (.+?) \|", table, re.M):
        named |= set(re.findall(r"`([^`]+)`", cell))
    package = ROOT / "archiver"
    modules = {str(path.relative_to(package)) for path in package.glob("*.py") if path.name not in (
        "__init__.py", "__main__.py")}
    modules |= {str(path.relative_to(package)) for path in package.glob("*/_*.py") if path.name != "__init__.py"}
    modules.add("sample_site/")
    assert named == modules
