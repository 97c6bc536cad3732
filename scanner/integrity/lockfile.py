"""The `aiscan-lock/1` lock file: the exact bytes a model store is expected to hold.

JSON, one entry per component (model folder or cache revision) with its revision, location and,
per file, the path relative to the component, size and SHA-256:

    {"schema": "aiscan-lock/1",
     "generated_by": "aiscan 0.1.0",
     "components": [{"ref": "model:hf/org/name@<commit>", "name": "org/name",
                     "revision": "<commit>" | null, "location": "<path when locked>",
                     "files": [{"path": "model.safetensors", "size": 90868376,
                                "sha256": "<64 hex>"}]}]}

Components are matched by `ref` on verification; `location` is informative only, so a lock made
on one host verifies a copy of the store at another path.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from scanner.errors import UsageError
from scanner.files import load_json_file
from scanner.inventory import Component, ScanResult

SCHEMA = "aiscan-lock/1"
_SHA256 = re.compile(r"^[0-9a-f]{64}$")


class LockFileError(UsageError):
    """The lock file given to `--lock` cannot be used (exit 2)."""


@dataclass(frozen=True)
class LockedFile:
    """One file's expected size and digest."""

    path: str
    size: int
    sha256: str


@dataclass(frozen=True)
class LockedComponent:
    """One component's expected files."""

    ref: str
    name: str
    revision: str | None
    location: str
    files: Mapping[str, LockedFile]
    root: bool = False
    """True for a model folder that was itself the locked target: it matches the target of a
    later verify whatever that folder is called (a copy, another host's path)."""


@dataclass(frozen=True)
class LockFile:
    """A parsed lock file, with where it came from (named in the report)."""

    source: str
    components: Mapping[str, LockedComponent]

    def match(self, component: Component, *, root: bool) -> LockedComponent | None:
        """The entry for `component`: by ref (HF repo and commit, or the folder's path inside
        the target), else, for a model folder that is itself the target, the entry locked the
        same way, so `verify COPY --lock` works on a copy under another name."""
        found = self.components.get(component.ref)
        if found is not None or not root:
            return found
        roots = [c for c in self.components.values() if c.root]
        return roots[0] if len(roots) == 1 else None


def render_lockfile(components: Iterable[LockedComponent], generated_by: str) -> str:
    """The lock file text: stable key order and sorted entries, so diffs stay readable."""
    document = {
        "schema": SCHEMA,
        "generated_by": generated_by,
        "components": [
            {
                "ref": c.ref,
                "name": c.name,
                "revision": c.revision,
                "location": c.location,
                **({"root": True} if c.root else {}),
                "files": [
                    {"path": f.path, "size": f.size, "sha256": f.sha256}
                    for f in sorted(c.files.values(), key=lambda f: f.path)
                ],
            }
            for c in sorted(components, key=lambda c: c.ref)
        ],
    }
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def load_lockfile(path: Path) -> LockFile:
    """Read and validate a lock file; any defect is a usage error naming the file."""
    document = load_json_file(path, "lock file", LockFileError)
    try:
        return parse_lockfile(document, str(path))
    except LockFileError as exc:
        raise LockFileError(f"lock file {path}: {exc}") from exc


def parse_lockfile(document: Any, source: str) -> LockFile:
    """Validate a parsed lock file read from `source`; the error for a defect names the field,
    not the file (`load_lockfile` and the project source each say which file in their words)."""
    if not isinstance(document, dict) or document.get("schema") != SCHEMA:
        raise LockFileError(f"not an {SCHEMA} document")
    components: dict[str, LockedComponent] = {}
    raw_components = document.get("components")
    if not isinstance(raw_components, list):
        raise LockFileError("'components' must be a list")
    for index, raw in enumerate(raw_components):
        component = _component(raw, f"components[{index}]")
        if component.ref in components:
            raise LockFileError(f"component {component.ref!r} is listed twice")
        components[component.ref] = component
    return LockFile(source=source, components=components)


def _component(raw: Any, where: str) -> LockedComponent:
    if not isinstance(raw, dict) or not isinstance(raw.get("ref"), str):
        raise LockFileError(f"{where}: needs a string 'ref'")
    revision = raw.get("revision")
    if revision is not None and not isinstance(revision, str):
        raise LockFileError(f"{where}: 'revision' must be a string or null")
    name, location = raw.get("name", raw["ref"]), raw.get("location", "")
    if not isinstance(name, str) or not isinstance(location, str):
        raise LockFileError(f"{where}: 'name' and 'location' must be strings")
    root = raw.get("root", False)
    if not isinstance(root, bool):
        raise LockFileError(f"{where}: 'root' must be true or false")
    raw_files = raw.get("files")
    if not isinstance(raw_files, list):
        raise LockFileError(f"{where}: 'files' must be a list")
    files: dict[str, LockedFile] = {}
    for index, item in enumerate(raw_files):
        spot = f"{where}.files[{index}]"
        if not isinstance(item, dict) or not isinstance(item.get("path"), str):
            raise LockFileError(f"{spot}: needs a string 'path'")
        size, sha256 = item.get("size"), item.get("sha256")
        if not isinstance(size, int) or isinstance(size, bool) or size < 0:
            raise LockFileError(f"{spot}: 'size' must be a non-negative integer")
        if not isinstance(sha256, str) or not _SHA256.match(sha256):
            raise LockFileError(f"{spot}: 'sha256' must be 64 lowercase hex digits")
        if item["path"] in files:
            raise LockFileError(f"{spot}: path {item['path']!r} is listed twice")
        files[item["path"]] = LockedFile(item["path"], size, sha256)
    return LockedComponent(
        ref=raw["ref"],
        name=name,
        revision=revision,
        location=location,
        files=files,
        root=root,
    )


def is_target_folder(component: Component, targets: Iterable[str]) -> bool:
    """Whether `component` is a model folder that was itself named as a target."""
    return component.source in ("modeldir", "objectstore") and component.location in set(targets)


def locked_components(result: ScanResult) -> list[LockedComponent]:
    """What `aiscan lock` records of a verified store: every file whose size and SHA-256 were
    measured, per component and revision."""
    return [
        LockedComponent(
            ref=c.ref,
            name=c.name,
            revision=c.version,
            location=c.location,
            files={
                f.path: LockedFile(f.path, f.size, f.sha256)
                for f in c.files
                if f.sha256 is not None and f.size is not None
            },
            root=is_target_folder(c, result.targets),
        )
        for c in result.components
    ]
