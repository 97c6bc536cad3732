"""Locates the data shipped with aiscan: the license knowledge base and the policies.

A wheel carries them inside the package (`scanner/_data/`, see pyproject.toml); a source
checkout keeps them at the repository root, where contributors edit them.
"""

from __future__ import annotations

from pathlib import Path

_PACKAGE_DIR = Path(__file__).resolve().parent


def data_dir(name: str) -> Path:
    """Return the directory of shipped data `name` (`licenses` or `rules`)."""
    packaged = _PACKAGE_DIR / "_data" / name
    if packaged.is_dir():
        return packaged
    return _PACKAGE_DIR.parent / name
