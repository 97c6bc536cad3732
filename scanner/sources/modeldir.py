"""Finds model folders under a local path and turns each into a `model` component.

A model folder is a directory holding weights, a model config (`config.json` with a model type,
`model_index.json`, an adapter config) or a model card. Everything below a model folder belongs
to it (diffusers pipelines keep their parts in subfolders). Hugging Face cache layouts met on the
way are handed to `HfCacheSource`, so a store mixing both is read correctly.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

from scanner.inventory import Component
from scanner.licensing.knowledge_base import LicenseKnowledgeBase
from scanner.sources.hfcache import HfCacheSource, is_cache_repo_dir, is_cache_root
from scanner.sources.interface import Source, SourceError
from scanner.sources.model_folder import (
    SKIPPED_DIRS,
    describe_os_error,
    is_model_folder,
    read_file_entry,
    read_model_folder,
)

_SKIPPED_TREES = SKIPPED_DIRS | {
    "node_modules",
    "site-packages",
    ".venv",
    "venv",
    ".tox",
    ".mypy_cache",
}


class ModelDirSource(Source):
    """Model folders below one local path."""

    name = "modeldir"

    def __init__(self, target: Path, kb: LicenseKnowledgeBase, *, files_only: bool = False) -> None:
        self.target = target
        self.kb = kb
        self.files_only = files_only

    def collect(self) -> Iterator[Component]:
        if self.target.is_file():
            yield self._file_component(self.target)
            return
        if is_cache_root(self.target) or is_cache_repo_dir(self.target):
            yield from HfCacheSource(self.target, self.kb, files_only=self.files_only).collect()
            return
        try:
            with os.scandir(self.target):
                pass
        except OSError as exc:
            raise SourceError(f"cannot read {self.target}: {describe_os_error(exc)}") from exc
        for folder, kind in self._discover():
            if kind == "cache":
                yield from HfCacheSource(folder, self.kb, files_only=self.files_only).collect()
            else:
                yield self._component(folder)

    def _discover(self) -> Iterator[tuple[Path, str]]:
        """Walk the target top-down; stop descending at model folders and cache roots."""
        seen: set[tuple[int, int]] = set()
        for dirpath, dirnames, filenames in os.walk(self.target, followlinks=True):
            folder = Path(dirpath)
            try:
                stat = folder.stat()
            except OSError:
                dirnames[:] = []
                continue
            if (stat.st_dev, stat.st_ino) in seen:
                dirnames[:] = []
                continue
            seen.add((stat.st_dev, stat.st_ino))
            if folder != self.target and (is_cache_root(folder) or is_cache_repo_dir(folder)):
                dirnames[:] = []
                yield folder, "cache"
                continue
            if is_model_folder(folder, filenames):
                dirnames[:] = []
                yield folder, "model"
                continue
            dirnames[:] = sorted(
                d for d in dirnames if d not in _SKIPPED_TREES and not d.startswith(".")
            )

    def _name(self, folder: Path) -> str:
        if folder == self.target:
            return self.target.resolve().name or str(self.target)
        return folder.relative_to(self.target).as_posix()

    def _component(self, folder: Path) -> Component:
        facts = read_model_folder(folder, self.kb, files_only=self.files_only)
        name = self._name(folder)
        card = facts.card
        return Component(
            ref=f"model:local/{name}",
            type="model",
            name=name,
            source=self.name,
            location=str(folder),
            license=facts.license,
            base_models=card.base_models if card else (),
            datasets=card.datasets if card else (),
            files=facts.files,
            card=card,
            problems=facts.problems,
            remote_code=facts.remote_code,
            model_type=facts.model_type,
            architectures=facts.architectures,
            notices=facts.notices,
        )

    def _file_component(self, path: Path) -> Component:
        """A single file given as target: its format and header facts; no license is knowable."""
        entry = read_file_entry(path, path.name, self.kb, files_only=self.files_only)
        if entry.error:
            raise SourceError(f"cannot read {path}: {entry.error}")
        return Component(
            ref=f"file:local/{path.name}",
            type="file",
            name=path.name,
            source=self.name,
            location=str(path),
            files=(entry,),
        )
