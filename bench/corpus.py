"""Where the shared corpus of real pages is: one owner for the benchmarks and the tests that read it.

The corpus (public test data no one on the project wrote; never copied into the repository) is
``--corpus DIR`` when given, else ``$ARCHIVER_CORPUS``, else ``../shared/corpus`` beside the repository.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

DEFAULT_CORPUS = Path(__file__).resolve().parents[1].parent / "shared" / "corpus"


def corpus_location(given: Path | None = None) -> Path:
    """The corpus folder asked for (it may not exist)."""
    chosen = given or os.environ.get("ARCHIVER_CORPUS") or DEFAULT_CORPUS
    return Path(chosen).expanduser()


def find_corpus(given: Path | None = None) -> Path | None:
    """The corpus folder, or None when it is absent."""
    path = corpus_location(given)
    return path if path.is_dir() else None


def absent_message(given: Path | None = None) -> str:
    return (f"the corpus is not there ({corpus_location(given)}). It is the shared folder of public test data "
            "(see its README.md); give it with --corpus DIR or ARCHIVER_CORPUS=DIR.")


def corpus_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--corpus", type=Path, default=None,
                        help="the shared corpus [$ARCHIVER_CORPUS, else ../shared/corpus beside the repo]")


def require_corpus(given: Path | None, what: str) -> Path:
    """The corpus folder; without it, says so on stderr as ``what`` and exits with status 2."""
    corpus = find_corpus(given)
    if corpus is None:
        print(f"{what}: {absent_message(given)}", file=sys.stderr)
        raise SystemExit(2)
    return corpus
