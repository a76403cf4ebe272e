"""archiver: archive web posts, their embeds and the pages they cite as WARC/1.1, with provenance.

The public surface::

    from archiver import Settings, open_collection, capture
    collection = open_collection(Settings(home=Path("my-collection")))
    result = capture(["https://example.org/post"], collection=collection, command="script")
"""

__version__ = "0.1.0"

from .capture import CaptureResult, capture  # noqa: E402
from .collection import Collection, open_collection  # noqa: E402
from .config import Settings  # noqa: E402
from .errors import ArchiverError  # noqa: E402

__all__ = ["ArchiverError", "CaptureResult", "Collection", "Settings", "__version__", "capture",
           "open_collection"]
