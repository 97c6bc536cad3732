"""The sources a scan asks, in order, and the one place targets are checked.

Adding a store (Ollama, llama.cpp, an object store) is one module implementing `Source` plus
one line in `SOURCES`; the pipeline asks every source whether it accepts each target.
"""

from __future__ import annotations

import dataclasses
import stat
from collections.abc import Iterable, Iterator
from pathlib import Path

from scanner.errors import SourceError, UsageError
from scanner.files import not_regular_description
from scanner.inventory import Component, Service
from scanner.remote.hub import is_hub_target, parse_target
from scanner.remote.objectstore import is_object_url, shown_url
from scanner.sources.hfcache import HfCacheSource
from scanner.sources.hub import HubSource
from scanner.sources.interface import Source, SourceContext, Target
from scanner.sources.llamacpp import LlamaCppSource
from scanner.sources.lmstudio import LmStudioSource
from scanner.sources.modeldir import ModelDirSource, file_target_kind
from scanner.sources.objectstore import ObjectStoreSource
from scanner.sources.ollama import OllamaSource
from scanner.sources.project import ProjectSource

SOURCES: tuple[type[Source], ...] = (
    HubSource,
    HfCacheSource,
    OllamaSource,
    LlamaCppSource,
    LmStudioSource,
    ModelDirSource,
    ProjectSource,
    ObjectStoreSource,
)


def collect(target: Target, context: SourceContext) -> Iterator[Component | Service]:
    """The components (and services) of `target` from every source that accepts it."""
    if isinstance(target, Path):
        context = dataclasses.replace(context, exclude=context.exclude.below(target))
    for source_type in SOURCES:
        if source_type.accepts(target, context):
            yield from source_type(target, context).collect()  # type: ignore[call-arg]


def shown_target(target: Target) -> str:
    """A target as reports and messages show it: an object-store URL without user, password,
    query or fragment (credentials and signatures live there); anything else as given."""
    if isinstance(target, str) and is_object_url(target):
        return shown_url(target)
    return str(target)


def parse_targets(raw: Iterable[str]) -> list[Target]:
    """The command line's targets: `hf://` strings checked, paths that must exist and be of a
    kind aiscan checks (exit 2); a FIFO, socket or device is never opened (exit 3)."""
    targets: list[Target] = []
    for target in raw:
        if is_hub_target(target):
            parse_target(target)
            targets.append(target)
            continue
        if is_object_url(target):
            targets.append(target)
            continue
        path = Path(target)
        if not path.exists() and not path.is_symlink():
            raise UsageError(f"target {target!r} does not exist")
        try:
            mode = path.stat().st_mode
        except OSError:
            mode = stat.S_IFDIR  # a dangling link or an unreadable path: its source says why
        if not (stat.S_ISDIR(mode) or stat.S_ISREG(mode)):
            raise SourceError(f"target {target!r}: {not_regular_description(mode)}; not read")
        if stat.S_ISREG(mode) and file_target_kind(path) is None:
            raise UsageError(
                f"target {target!r} is not a kind of file aiscan checks: give a model folder or "
                "store, a weights file, a model card (README.md) or a Python dependency file "
                "(requirements*.txt, pyproject.toml, a lock file)"
            )
        targets.append(path)
    if not targets:
        raise UsageError("give at least one TARGET")
    return targets
