"""Locates the data shipped with aiscan: the license knowledge base and the policies.

A wheel carries them inside the package (`scanner/_data/`, see pyproject.toml); a source
checkout keeps them at the repository root, where contributors edit them.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from scanner import __version__

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


def cache_folder() -> Path | None:
    """`user_cache_dir()`, or None when there is no home folder to find it in: whatever is
    kept there is then worked out again on every run."""
    try:
        return user_cache_dir()
    except (RuntimeError, KeyError, OSError):
        return None


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


def kept_place(
    name: str, layout: int, code: Iterable[Path], folder: Path
) -> tuple[Path, str] | None:
    """Where the cache file `name` made from the shipped-data `folder` is kept (one per
    installation, beside the compiled knowledge base) and the `fingerprint` it must carry;
    None when there is no cache folder to keep it in (no home folder)."""
    cache = cache_folder()
    if cache is None:
        return None
    target = cache / "compiled" / f"{name}-{installation_key(folder)}.json"
    return target, fingerprint(layout, code, folder)


def read_cache_file(target: Path, layout: int, stamp: str) -> dict[str, Any] | None:
    """The document kept at `target` (by `write_cache_file`, with its `format` and
    `fingerprint`) when it is of `layout` and was made from what `stamp` fingerprints; None
    when it is missing, unreadable, damaged, stale or of another layout: made again."""
    try:
        document = json.loads(target.read_bytes())
    except (OSError, ValueError):
        return None
    if not isinstance(document, dict):
        return None
    if document.get("format") != layout or document.get("fingerprint") != stamp:
        return None
    return document


def fingerprint(layout: int, code: Iterable[Path], folder: Path) -> str:
    """What a cache file made from shipped data was made from: the file's `layout` version,
    aiscan's version, the `code` files that make it and every file under `folder`, each by
    name, size and modification time. A file added, edited or removed changes it."""
    digest = hashlib.sha256(f"{layout}\0{__version__}\0".encode())
    for path in code:
        digest.update(_stamp(file_status(path)))
    for name, status in tree_files(str(folder)):
        digest.update(name.encode("utf-8", "surrogateescape"))
        digest.update(_stamp(status))
    return digest.hexdigest()


def installation_key(folder: Path) -> str:
    """A short name for the shipped-data `folder`, so that installations side by side
    (worktrees, virtual environments) keep cache files of their own."""
    where = hashlib.sha256(str(folder.resolve()).encode("utf-8", "surrogateescape"))
    return where.hexdigest()[:16]


def tree_files(folder: str, prefix: str = "") -> Iterator[tuple[str, tuple[int, int] | None]]:
    """Every file below `folder` as `prefix` + its relative name, in name order, with its size
    and modification time (None: it vanished or cannot be looked at); a folder that cannot be
    listed is given as `prefix` + "/" with None (a link to a folder is not followed).
    `os.scandir`, not `Path`: this runs at every start."""
    try:
        with os.scandir(folder) as found:
            entries = sorted(found, key=lambda entry: entry.name)
    except (OSError, ValueError):
        yield f"{prefix}/", None
        return
    for entry in entries:
        name = prefix + entry.name
        if entry.is_dir(follow_symlinks=False):
            yield from tree_files(entry.path, name + "/")
            continue
        try:
            status = entry.stat()
        except OSError:
            yield name, None
            continue
        yield name, (status.st_size, status.st_mtime_ns)


def file_status(path: str | Path) -> tuple[int, int] | None:
    """A file's size and modification time (nanoseconds); None when it cannot be looked at."""
    try:
        status = Path(path).stat()
    except (OSError, ValueError):  # ValueError: a path with a NUL in it
        return None
    return status.st_size, status.st_mtime_ns


def _stamp(status: tuple[int, int] | None) -> bytes:
    return b"\0missing\0" if status is None else f"\0{status[0]}\0{status[1]}\0".encode()
