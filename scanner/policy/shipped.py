"""The shipped policies (`rules/*.yaml`), kept parsed as JSON in the user's cache folder.

Nearly every run judges by a shipped policy (the default one, when the working directory has
none of its own), and reading one as YAML means importing PyYAML and running its loader: ~10 ms
of each run, a sixth of a cached re-verify, for files that change only with aiscan itself. The
parsed documents are kept beside the compiled knowledge base under the same rule
(`scanner.licensing.compiled`): used only while every file of `rules/` has the name, size and
modification time it had, and this code and aiscan's version are unchanged; so a policy edited
in a source checkout is read again on the next run. A cache that cannot be read or written only
means the YAML is read as before.

The file is data, not code (JSON, never pickle), in the user's own cache folder, never near a
scanned tree. A document JSON cannot hold exactly (a date, a key that is not a string) is not
kept: what the cache gives back is always what the YAML says.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from scanner.errors import UsageError
from scanner.resources import data_dir, kept_place, read_cache_file, write_cache_file

FORMAT = 1
"""Bumped when the layout of the cache file changes."""

Document = dict[str, Any]


def shipped_folder() -> Path:
    """Where the shipped policies are, resolved (policy paths are compared resolved)."""
    return data_dir("rules").resolve()


def shipped_document(path: Path, read: Callable[[Path], Document]) -> Document:
    """The document of the shipped policy file `path`: from the cache when it matches the
    shipped files, else `read` from its YAML (and every shipped policy cached for the next run).
    """
    folder = path.parent
    place = kept_place(
        "policies", FORMAT, (Path(__file__), Path(__file__).with_name("load.py")), folder
    )
    if place is None:
        return read(path)  # no home folder: no cache
    target, stamp = place
    cached = read_cache_file(target, FORMAT, stamp)
    try:
        document = cached["documents"][path.name] if cached is not None else None
    except (TypeError, KeyError):
        document = None  # damaged, or another set of files: read the YAML again
    if isinstance(document, dict):
        return document
    try:
        documents = {p.name: read(p) for p in sorted(folder.glob("*.yaml"))}
    except (OSError, UsageError):
        return read(path)  # another shipped policy is unreadable: this one's own error, if any
    if path.name not in documents:
        return read(path)
    if all(_json_exact(d) for d in documents.values()):
        write_cache_file(target, {"format": FORMAT, "fingerprint": stamp, "documents": documents})
    return documents[path.name]


def _json_exact(document: Document) -> bool:
    try:
        return bool(json.loads(json.dumps(document)) == document)
    except (TypeError, ValueError):
        return False
