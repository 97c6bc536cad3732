"""What a SARIF log needs from the disk, read here so the SARIF format never re-reads a target:
the source root its URIs are relative to, and GitHub's line hashes of the text files its results
point at (cards, code, manifests, the policy file).

Those files are read like any scanned file: regular files only, bounded, and never through a
link out of the scanned targets. A file that cannot be read simply gets no hash: GitHub's upload
action then computes one itself.
"""

from __future__ import annotations

import os
from pathlib import Path

from scanner.files import is_within, read_whole
from scanner.formats.sarif import line_hashes, result_spots, spot_key
from scanner.inventory import ScanResult

MAX_HASHED_TEXT_BYTES = 8 * 1024 * 1024
"""Largest text file hashed for `primaryLocationLineHash` (a card or a code file is far less)."""


def source_root(start: Path, given: Path | None = None) -> Path:
    """`given` (`--source-root`), else the nearest folder at or above `start` holding `.git`
    (only looked at, never run), else `start`."""
    if given is not None:
        return given.absolute()
    start = start.absolute()
    for folder in (start, *start.parents):
        if (folder / ".git").exists():
            return folder
    return start


def sarif_line_hashes(result: ScanResult) -> dict[str, dict[int, str]]:
    """Line hashes of every text file a result of `result` points at, by `spot_key(path)`."""
    allowed = [os.path.realpath(t) for t in result.targets if "://" not in t]
    policy = os.path.realpath(result.policy) if result.policy else None
    wanted = sorted(
        {s.path for s in result_spots(result) if s is not None and s.text and "://" not in s.path}
    )
    hashes = {}
    for path in wanted:
        real = os.path.realpath(path)
        if real != policy and not any(is_within(real, t) for t in allowed):
            continue
        try:
            data = read_whole(path, MAX_HASHED_TEXT_BYTES)
        except OSError:
            continue
        hashes[spot_key(path)] = line_hashes(data.decode("utf-8", "replace"))
    return hashes
