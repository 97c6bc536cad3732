"""Locates the data shipped with aiscan: the license knowledge base and the policies.

A wheel carries them inside the package (`scanner/_data/`, see pyproject.toml); a source
checkout keeps them at the repository root, where contributors edit them.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

_PACKAGE_DIR = Path(__file__).resolve().parent


def data_dir(name: str) -> Path:
    """Return the directory of shipped data `name` (`licenses` or `rules`)."""
    packaged = _PACKAGE_DIR / "_data" / name
    if packaged.is_dir():
        return packaged
    return _PACKAGE_DIR.parent / name


def user_cache_dir() -> Path:
    """$AISCAN_CACHE_DIR, else $XDG_CACHE_HOME/aiscan, else ~/.cache/aiscan: the digests of
    verified files, Hub answers and the compiled knowledge base."""
    explicit = os.environ.get("AISCAN_CACHE_DIR")
    if explicit:
        return Path(explicit)
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg) if xdg and Path(xdg).is_absolute() else Path.home() / ".cache"
    return base / "aiscan"


def write_cache_file(target: Path, document: Any) -> None:
    """Keep `document` as JSON at `target` in the cache folder, atomically (a temporary file and
    a rename), so a concurrent run never reads half a file. A cache is an optimisation: a folder
    that cannot be written, or a document JSON cannot hold, only means nothing is kept."""
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, temporary = tempfile.mkstemp(
            prefix=f".{target.stem}-", suffix=".tmp", dir=target.parent
        )
    except OSError:
        return
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(document, handle, ensure_ascii=False, separators=(",", ":"))
        Path(temporary).replace(target)
    except (OSError, TypeError, ValueError):
        Path(temporary).unlink(missing_ok=True)
