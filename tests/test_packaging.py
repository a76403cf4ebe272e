"""A non-editable install carries every module, the type marker, migrations/ and the sample site."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile

import pytest

from .conftest import ROOT


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    out = tmp_path_factory.mktemp("wheel")
    build = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(out), str(ROOT)],
                           capture_output=True, text=True, timeout=600)
    assert build.returncode == 0, build.stderr
    [path] = out.glob("archiver-*.whl")
    return path


@pytest.mark.slow
def test_wheel_holds_migrations_and_sample_site(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    assert {"archiver/migrations/env.py", "archiver/migrations/script.py.mako",
            "archiver/migrations/versions/0001_capture_spine.py",
            "archiver/sample_site/manifest.json", "archiver/py.typed"} <= names
    assert any(name.startswith("archiver/sample_site/files/blog/2015/05/") for name in names)
    modules = {str(path.relative_to(ROOT)) for path in (ROOT / "archiver").rglob("*.py")}
    assert modules - names == set(), "a module is missing from the wheel: list its package in pyproject.toml"
    assert "archiver/py.typed" in names


@pytest.mark.slow
def test_installed_package_creates_the_catalogue_from_any_folder(wheel, tmp_path):
    target = tmp_path / "site-packages"
    install = subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(target),
                              str(wheel)], capture_output=True, text=True, timeout=600)
    assert install.returncode == 0, install.stderr
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {**os.environ, "PYTHONPATH": str(target)}
    code = ("import archiver, sys; from archiver.cli import main; print(archiver.__file__, file=sys.stderr); "
            "sys.argv = ['archiver', 'db', 'upgrade', '--home', 'c']; main()")
    result = subprocess.run([sys.executable, "-c", code], cwd=elsewhere, env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stderr.splitlines()[0].startswith(str(target))
    assert (elsewhere / "c" / "archiver.db").exists()
