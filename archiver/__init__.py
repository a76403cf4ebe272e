"""archiver: archive web posts, their embeds and the pages they cite as WARC/1.1, with provenance.

The pipeline is a package a stage: ``archiver.net`` (fetch), ``archiver.warc`` (write, read),
``archiver.parse`` (links, documents), ``archiver.capture`` (runs, re-crawls) and
``archiver.query`` (verify, history, search, export), over the catalogue and the collection.
See the README's "Python API". ``import archiver`` loads none of them: the names below are
imported on first use.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_WHERE = {
    "ArchiverError": "archiver.errors",
    "Collection": "archiver.collection",
    "Settings": "archiver.config",
    "open_collection": "archiver.collection",
}

__all__ = ["ArchiverError", "Collection", "Settings", "__version__", "open_collection"]

if TYPE_CHECKING:
    from .collection import Collection, open_collection
    from .config import Settings
    from .errors import ArchiverError


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        return getattr(importlib.import_module(_WHERE[name]), name)
    raise AttributeError(f"module 'archiver' has no attribute {name!r}")
