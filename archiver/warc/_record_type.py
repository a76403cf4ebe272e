"""The WARC 1.1 record types (section 6): the one list of them, for writing, reading and filtering."""

from __future__ import annotations

import enum


class RecordType(enum.StrEnum):
    """``WARC-Type`` (``records.record_type``); a member is its string."""

    WARCINFO = "warcinfo"
    RESPONSE = "response"
    RESOURCE = "resource"
    REQUEST = "request"
    METADATA = "metadata"
    REVISIT = "revisit"
    CONVERSION = "conversion"
    CONTINUATION = "continuation"


# the records that hold a capture of a URL: a response, or a revisit of an earlier one's payload
CAPTURE_TYPES = (RecordType.RESPONSE, RecordType.REVISIT)
