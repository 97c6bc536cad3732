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
from typing import Literal

from scanner.errors import SourceError
from scanner.files import link_outside, outside_link_message
from scanner.inventory import Component, ComponentType, LicenseFacts, Problem
from scanner.readers.model_folder import (
    SKIPPED_DIRS,
    WEIGHT_SUFFIXES,
    FolderFacts,
    classify_format,
    describe_os_error,
    is_model_folder,
    read_file_entry,
    read_model_folder,
)
from scanner.readers.project_files import is_manifest
from scanner.readers.weights_metadata import weights_declarations
from scanner.sources.hfcache import HfCacheSource, is_cache_repo_dir, is_cache_root
from scanner.sources.interface import Source, SourceContext, Target
from scanner.sources.llamacpp import LlamaCppSource, is_llama_cache
from scanner.sources.lmstudio import LmStudioSource
from scanner.sources.ollama import OllamaSource, is_ollama_root

SKIPPED_TREES = SKIPPED_DIRS | {
    "node_modules",
    "site-packages",
    ".venv",
    "venv",
    ".tox",
    ".mypy_cache",
}
"""Folders never searched for models: tool state and installed packages."""


FileTargetKind = Literal["weights", "card", "dependencies"]


def file_target_kind(path: Path) -> FileTargetKind | None:
    """What a file given as the target is, when aiscan can check it: weights (by suffix or by
    their bytes), a model card (`README.md`), or a Python dependency file; None for anything
    else, which `scan` refuses rather than call it clean unchecked."""
    if path.name.lower() == "readme.md":
        return "card"
    if is_manifest(path):
        return "dependencies"
    if path.suffix.lower() in WEIGHT_SUFFIXES or classify_format(path) != "other":
        return "weights"
    return None


class ModelDirSource(Source):
    """Model folders below one local path."""

    name = "modeldir"

    def __init__(self, target: Target, context: SourceContext) -> None:
        self.target = Path(target)
        self.context = context
        self.kb = context.kb
        self.files_only = context.files_only
        self.root = os.path.realpath(target)
        """The resolved target: the user named it, so it is trusted; links leaving it are not."""

    @classmethod
    def accepts(cls, target: Target, context: SourceContext) -> bool:
        """Any local path but an HF cache, an Ollama store, a llama.cpp cache or an LM Studio
        models folder (their own sources read those)."""
        return isinstance(target, Path) and not any(
            store.accepts(target, context)
            for store in (HfCacheSource, OllamaSource, LlamaCppSource, LmStudioSource)
        )

    def collect(self) -> Iterator[Component]:
        if self.target.is_file():
            file_kind = file_target_kind(self.target)
            if file_kind == "card" and not self.files_only:
                yield self._card_component(self.target)
            elif file_kind != "dependencies" or self.context.project is None:
                yield self._file_component(self.target)
            return  # a dependency file is the project source's
        try:
            with os.scandir(self.target):
                pass
        except OSError as exc:
            raise SourceError(f"cannot read {self.target}: {describe_os_error(exc)}") from exc
        for folder, kind in self._discover():
            if kind == "cache":
                yield from self._cache(folder)
            elif kind == "ollama":
                yield from OllamaSource(folder, self.context, root=self.root).collect()
            elif kind == "llamacpp":
                yield from LlamaCppSource(folder, self.context, root=self.root).collect()
            elif kind == "outside":
                yield self._outside_link(folder)
            else:
                yield self._component(folder)

    def _cache(self, folder: Path) -> Iterator[Component]:
        return HfCacheSource(folder, self.context, root=self.root).collect()

    def _discover(self) -> Iterator[tuple[Path, str]]:
        """Walk the target top-down; stop descending at model folders, cache roots, Ollama
        stores and llama.cpp caches, and at links that leave the target (yielded as `outside`, never entered)."""
        seen: set[tuple[int, int]] = set()
        for dirpath, dirnames, filenames in os.walk(self.target, followlinks=True):
            folder = Path(dirpath)
            if link_outside(folder, self.root) is not None:
                dirnames[:] = []
                yield folder, "outside"
                continue
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
            if folder != self.target and is_ollama_root(folder):
                dirnames[:] = []
                yield folder, "ollama"
                continue
            if folder != self.target and is_llama_cache(folder):
                dirnames[:] = []
                yield folder, "llamacpp"
                continue
            if is_model_folder(folder, filenames):
                dirnames[:] = []
                yield folder, "model"
                continue
            dirnames[:] = sorted(
                d
                for d in dirnames
                if d not in SKIPPED_TREES
                and not d.startswith(".")
                and not self.context.exclude.skips(folder / d, folder=True)
            )

    def _name(self, folder: Path) -> str:
        if folder == self.target:
            return self.target.resolve().name or str(self.target)
        return folder.relative_to(self.target).as_posix()

    def _component(self, folder: Path) -> Component:
        facts = read_model_folder(
            folder,
            self.kb,
            files_only=self.files_only,
            root=self.root,
            exclude=self.context.exclude,
        )
        return self._model(folder, self._name(folder), facts)

    def _model(self, folder: Path, name: str, facts: FolderFacts) -> Component:
        """The model component of a folder, from what was read of it."""
        return facts.local_model(name, self.name, str(folder))

    def _outside_link(self, folder: Path) -> Component:
        """A folder link out of the target met while looking for model folders: a finding."""
        name = self._name(folder)
        destination = link_outside(folder, self.root) or ""
        return Component(
            ref=f"file:local/{name}",
            type="file",
            name=name,
            source=self.name,
            location=str(folder),
            problems=(
                Problem(str(folder), outside_link_message(destination), "link-outside-target"),
            ),
        )

    def _card_component(self, path: Path) -> Component:
        """A model card given as the target: the model of its folder, as far as the card alone
        tells (license, base models, datasets), judged as the folder's card would be."""
        folder = path.parent
        facts = read_model_folder(folder, self.kb, root=os.path.realpath(folder), only=path.name)
        return self._model(folder, folder.resolve().name or str(folder), facts)

    def _file_component(self, path: Path) -> Component:
        """A single file given as target: its format and header facts, and the licenses and
        base models its own metadata declares (GGUF `general.license*`, safetensors
        `__metadata__`), as its folder would record them."""
        entry = read_file_entry(path, path.name, self.kb, files_only=self.files_only)
        if entry.error:
            raise SourceError(f"cannot read {path}: {entry.error}")
        declarations = weights_declarations((entry,))
        # A GGUF is a whole model by design (architecture, tokenizer, weights and the license
        # keys in one file), so it is judged as one; other weights files may be one shard.
        kind: ComponentType = "model" if entry.gguf is not None else "file"
        return Component(
            ref=f"{kind}:local/{path.name}",
            type=kind,
            name=path.name,
            source=self.name,
            location=str(path),
            license=LicenseFacts(
                declared=tuple(v for d in declarations for v in d.licenses),
                evidence=tuple(e for d in declarations for e in d.evidence),
            ),
            base_models=tuple(b for d in declarations for b in d.base_models),
            files=(entry,),
        )
