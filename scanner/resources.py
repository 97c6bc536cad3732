"""Locates the data shipped with aiscan: the license knowledge base and the policies.

A wheel carries them inside the package (`scanner/_data/`, see pyproject.toml); a source
checkout keeps them at the repository root, where contributors edit them.
"""

from __future__ import annotations

import os
from pathlib import Path

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
