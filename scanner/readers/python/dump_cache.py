"""Keeps the metadata dump of a named interpreter between runs, while its environment is unchanged.

Running the dump (`env_dump.py`) in the interpreter is a Python start-up plus reading every
distribution's metadata: the largest cost of a repeated `scan --python` that finds its
license-text answers kept. The dump is kept as JSON (never pickle: a damaged or planted file
cannot run anything) in `environments/` of the user's cache folder, one file per interpreter
path, and reused only while a stamp of what the dump read is unchanged:

- the interpreter's file (a rebuilt or upgraded Python), aiscan's version and the dump's code;
- every folder on the interpreter's `sys.path` (a distribution added or removed changes its
  folder's modification time) and every `.pth` file in them;
- every file of every distribution's metadata folder (a `METADATA` or license file edited).

Each by size and modification time (nanoseconds), as the compiled knowledge base is. A stamp
that was taken less than `RACY_SECONDS` after one of the times it holds is not trusted (a file
system may keep times in whole seconds, so an edit in the same second would not show): the
dump is run again, and kept again. What the stamp cannot see is written in
docs/trust-model.md: an edit that keeps a file's size within the same clock tick, the marker
variables of the host (a kernel update), and `.pth` code, which only the interpreter runs.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from scanner import __version__
from scanner.resources import cache_folder, file_status, tree_files, write_cache_file

FORMAT = 1
"""Bumped when the layout of a kept dump changes."""
RACY_SECONDS = 2
"""How long after a time it holds a stamp is trusted: coarser than any file system's clock."""


def cache_file(interpreter: str, cache_dir: Path) -> Path:
    where = hashlib.sha256(interpreter.encode("utf-8", "surrogateescape")).hexdigest()[:16]
    return cache_dir / "environments" / f"{where}.json"


def stamp(interpreter: str, code: str, document: Mapping[str, Any]) -> tuple[str, int]:
    """The digest of what the dump `document` was read from, and the latest time it holds."""
    seen: list[tuple[str, tuple[int, int] | None]] = [(interpreter, file_status(interpreter))]
    for folder in document.get("paths") or ():
        seen.append((folder, file_status(folder)))
        try:
            with os.scandir(folder) as entries:
                pth = sorted(e.path for e in entries if e.name.endswith(".pth"))
        except (OSError, ValueError):
            pth = []
        seen.extend((path, file_status(path)) for path in pth)
    for raw in document.get("distributions") or ():
        path = raw.get("path")
        if isinstance(path, str):
            seen.append((path, file_status(path)))
            seen.extend(tree_files(path, path + os.sep))
    digest = hashlib.sha256(f"{FORMAT}\0{__version__}\0{code}\0".encode("utf-8", "replace"))
    latest = 0
    for path, status in seen:
        digest.update(path.encode("utf-8", "surrogateescape"))
        digest.update(f"\0{status}\0".encode())
        if status is not None:
            latest = max(latest, status[1])
    return digest.hexdigest(), latest


def load(interpreter: str, code: str) -> dict[str, Any] | None:
    """The kept dump of `interpreter` when nothing it was read from has changed; None when
    there is none, it is damaged, stale or too recent to be sure of."""
    folder = cache_folder()
    if folder is None:
        return None
    try:
        kept = json.loads(cache_file(interpreter, folder).read_bytes())
        if kept.get("format") != FORMAT or kept.get("python") != interpreter:
            return None
        document = kept["document"]
        if not isinstance(document, dict) or not _all_dicts(document.get("distributions")):
            return None
        if kept["latest"] > kept["taken"] - RACY_SECONDS * 1_000_000_000:
            return None  # taken in the same tick as a change it holds: it may miss another
        digest, _ = stamp(interpreter, code, document)
        return document if digest == kept["stamp"] else None
    except (OSError, ValueError, TypeError, KeyError, AttributeError):
        return None


def _all_dicts(values: Any) -> bool:
    return isinstance(values, list) and all(isinstance(value, dict) for value in values)


def store(interpreter: str, code: str, document: Mapping[str, Any], started: int) -> None:
    """Keep `document`, the dump run at `started` (`time.time_ns()` before it ran), with the
    stamp of what it was read from. Atomically (a temporary file and a rename); a cache
    folder that cannot be written is no error."""
    folder = cache_folder()
    if folder is None:
        return
    target = cache_file(interpreter, folder)
    digest, latest = stamp(interpreter, code, document)
    kept = {
        "format": FORMAT,
        "python": interpreter,
        "taken": min(started, time.time_ns()),
        "latest": latest,
        "stamp": digest,
        "document": document,
    }
    write_cache_file(target, kept)
