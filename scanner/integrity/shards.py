"""Checks a sharded model's `*.safetensors.index.json` against the shards it names.

Loaders trust the index: a tensor listed in the wrong shard fails at load time, a shard missing
from the folder fails late, and a tensor present in a shard but absent from the index is never
loaded at all (a place to hide weights). Each header was already read strictly, so this module
only compares the index with those facts plus the index file itself.
"""

from __future__ import annotations

import json
import posixpath
from collections.abc import Mapping
from pathlib import Path

from scanner.inventory import FileEntry, HeaderDefect
from scanner.readers.safetensors import open_regular

INDEX_SUFFIX = ".safetensors.index.json"
MAX_INDEX_BYTES = 64 * 1024 * 1024
"""Real indexes are under 2 MiB even for models with tens of thousands of tensors."""


def is_shard_index(relative: str) -> bool:
    return relative.endswith(INDEX_SUFFIX)


def check_index(
    folder: Path, index: str, files: Mapping[str, FileEntry]
) -> tuple[HeaderDefect, ...]:
    """Every defect of one shard index; `files` are the component's entries by relative path."""
    try:
        with open_regular(folder / index) as handle:
            raw = handle.read(MAX_INDEX_BYTES + 1)
    except OSError as exc:
        return (HeaderDefect("malformed", f"cannot read the index: {exc.strerror or exc}"),)
    return check_index_bytes(raw, index, files)


def check_index_bytes(
    raw: bytes, index: str, files: Mapping[str, FileEntry]
) -> tuple[HeaderDefect, ...]:
    """`check_index` of the index's first `MAX_INDEX_BYTES + 1` bytes, read from any store."""
    if len(raw) > MAX_INDEX_BYTES:
        return (HeaderDefect("malformed", "index exceeds 64 MiB; refused"),)
    try:
        document = json.loads(raw)
    except (ValueError, RecursionError) as exc:
        return (HeaderDefect("malformed", f"index is not valid JSON: {exc}"),)
    weight_map = document.get("weight_map") if isinstance(document, dict) else None
    if not isinstance(weight_map, dict) or not all(isinstance(v, str) for v in weight_map.values()):
        return (HeaderDefect("malformed", "index has no weight_map of tensor → shard names"),)

    base = posixpath.dirname(index)
    defects: list[HeaderDefect] = []
    by_shard: dict[str, set[str]] = {}
    for tensor, shard in weight_map.items():
        by_shard.setdefault(shard, set()).add(tensor)

    data_bytes = 0
    complete = True
    for shard, listed in sorted(by_shard.items()):
        relative = posixpath.normpath(posixpath.join(base, shard))
        if relative.startswith("../") or posixpath.isabs(shard):
            defects.append(HeaderDefect("malformed", f"shard {shard!r} lies outside the folder"))
            complete = False
            continue
        entry = files.get(relative)
        if entry is None:
            defects.append(
                HeaderDefect("missing-shard", f"shard {shard!r} ({len(listed)} tensors) is missing")
            )
            complete = False
            continue
        header = entry.safetensors
        if entry.error or header is None or header.defects or entry.size is None:
            complete = False  # reported on the shard itself
            continue
        held = set(header.tensor_names)
        absent = sorted(listed - held)
        if absent:
            defects.append(
                HeaderDefect(
                    "missing-shard",
                    f"shard {shard!r} lacks {len(absent)} tensor(s) the index places there, "
                    f"e.g. {absent[0]!r}",
                )
            )
        unlisted = sorted(held - listed)
        if unlisted:
            defects.append(
                HeaderDefect(
                    "malformed",
                    f"shard {shard!r} holds {len(unlisted)} tensor(s) the index does not list "
                    f"there, e.g. {unlisted[0]!r}; loaders would ignore them",
                )
            )
        data_bytes += entry.size - 8 - header.header_size

    metadata = document.get("metadata")
    total = metadata.get("total_size") if isinstance(metadata, dict) else None
    if total is not None and complete:
        if not isinstance(total, int) or isinstance(total, bool):
            defects.append(HeaderDefect("malformed", f"metadata.total_size {total!r} is invalid"))
        elif total != data_bytes:
            defects.append(
                HeaderDefect(
                    "malformed",
                    f"metadata.total_size is {total} but the shards hold {data_bytes} data bytes",
                )
            )
    return tuple(defects)
