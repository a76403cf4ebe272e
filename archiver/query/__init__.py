"""Answering archivists: verify (fixity), history, changes and diffs, search, provenance,
TimeMaps, export, and the catalogue in Datasette.

Reads collections; writes nothing but fixity events. Knows nothing of the capture package.
"""

from ._browse import QUERIES, catalogue_file, require_datasette, serve
from ._export import Query, cdxj_lines, cdxj_query, file_problems, require_url, rows, write_csv, write_json
from ._history import changes_since, dead_citations, diff, history, newest_capture, newest_document
from ._provenance import as_prov, provenance
from ._search import search
from ._timemap import replay_base, timemap
from ._verify import EXIT_DAMAGED, Scope, check, parse_targets, run_fixity

__all__ = [
    "EXIT_DAMAGED",
    "QUERIES",
    "Query",
    "Scope",
    "as_prov",
    "catalogue_file",
    "cdxj_lines",
    "cdxj_query",
    "changes_since",
    "check",
    "dead_citations",
    "diff",
    "file_problems",
    "history",
    "newest_capture",
    "newest_document",
    "parse_targets",
    "provenance",
    "replay_base",
    "require_datasette",
    "require_url",
    "rows",
    "run_fixity",
    "search",
    "serve",
    "timemap",
    "write_csv",
    "write_json",
]
