"""Model folders in an object store (`s3://bucket/prefix`, `gs://`, `az://`, any fsspec URL).

The store is listed once; a "folder" is a key prefix, and one holding weights, a model config
or a card is a model folder, found and read as `ModelDirSource` finds and reads a local one:
the same readers over ranged reads (a card, a config, a safetensors or GGUF header, a pickle
within the local limits), so nothing is downloaded whole. Components are named as a local run
on the same tree names them (`model:local/<folder below the target>`), so a lock made from a
local copy applies, and findings compare one to one. For `aiscan verify`, the SHA-256 the store
keeps of a single-part object (S3 `ChecksumSHA256`) is recorded as the file's reference.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Iterator
from pathlib import PurePosixPath

from scanner.errors import SourceError, UsageError
from scanner.inventory import CardFacts, Component, ComponentType, FileEntry, LicenseFacts, Notice
from scanner.readers.card import MAX_CARD_BYTES, read_card
from scanner.readers.model_folder import (
    MAX_CONFIG_BYTES,
    MAX_NOTICE_BYTES,
    SKIPPED_DIRS,
    ModelConfig,
    folder_facts,
    holds_a_model,
    is_notice_file,
    parse_config,
    read_stream_entry,
)
from scanner.readers.weights_metadata import weights_declarations
from scanner.remote.objectstore import ObjectStore, StoreObject, is_object_url
from scanner.sources.interface import Source, SourceContext, Target
from scanner.sources.modeldir import SKIPPED_TREES

CHECKSUM_REQUESTS = 16
"""HEAD requests for store checksums in flight at once: latency-bound, not bandwidth-bound."""
STORE_CHECKSUM = "store-checksum"
"""The reference kind of a digest the object store itself keeps (S3 `ChecksumSHA256`)."""


def _walk_order(relative: str) -> list[tuple[int, str]]:
    """The order a local walk meets files in: a folder's own files (sorted), then each of its
    subfolders in turn, so a component's files are listed as a local run lists them."""
    parts = relative.split("/")
    return [(1, part) for part in parts[:-1]] + [(0, parts[-1])]


def _parent(relative: str) -> str:
    return relative.rpartition("/")[0]


def _below(folder: str, relative: str) -> str | None:
    """`relative` as a path inside `folder`, or None when it lies elsewhere."""
    if not folder:
        return relative
    return relative[len(folder) + 1 :] if relative.startswith(folder + "/") else None


class ObjectStoreSource(Source):
    """Model folders below one object-store URL."""

    name = "objectstore"

    def __init__(self, target: Target, context: SourceContext) -> None:
        self.store = ObjectStore(str(target))
        self.kb = context.kb
        self.files_only = context.files_only
        self.exclude = context.exclude

    @classmethod
    def accepts(cls, target: Target, context: SourceContext) -> bool:
        """URLs with a scheme other than `hf://` (the Hub's)."""
        return isinstance(target, str) and is_object_url(target)

    def collect(self) -> Iterator[Component]:
        objects = [o for o in self.store.list() if not self._excluded(o.relative)]
        if len(objects) == 1 and objects[0].relative == "":
            yield self._object_component(objects[0])
            return
        for folder, members in self._discover(objects):
            yield self._component(folder, members)

    def _discover(self, objects: list[StoreObject]) -> Iterator[tuple[str, list[StoreObject]]]:
        """Model folders top-down, not descending into one once found, nor into tool state,
        installed packages or hidden folders (as a local walk does)."""
        files_in: dict[str, list[StoreObject]] = {}
        children: dict[str, set[str]] = {}
        for item in objects:
            files_in.setdefault(_parent(item.relative), []).append(item)
            parts = item.relative.split("/")
            for depth in range(1, len(parts)):
                children.setdefault("/".join(parts[: depth - 1]), set()).add(
                    "/".join(parts[:depth])
                )
        pending = [""]
        while pending:
            folder = pending.pop()
            here = files_in.get(folder, [])
            paths = {PurePosixPath(o.relative).name: o.path for o in here}
            if holds_a_model(list(paths), functools.partial(self._start, paths)):
                yield folder, self._members(folder, objects)
                continue
            below = sorted(children.get(folder, ()), reverse=True)
            pending.extend(
                child
                for child in below
                if (base := child.rpartition("/")[2]) not in SKIPPED_TREES
                and not base.startswith(".")
            )

    def _excluded(self, relative: str) -> bool:
        """Whether `--exclude` leaves an object out: its path below the target, or a folder
        above it, matches (as a folder left out locally is never entered)."""
        parts = relative.split("/")
        folders = ("/".join(parts[:depth]) for depth in range(1, len(parts)))
        return self.exclude.matches(relative, folder=False) or any(
            self.exclude.matches(folder, folder=True) for folder in folders
        )

    def _start(self, paths: dict[str, str], name: str, limit: int) -> bytes:
        """The first bytes of the file `name` of a folder whose files are at `paths`."""
        return self.store.read_start(paths[name], limit)

    @staticmethod
    def _members(folder: str, objects: list[StoreObject]) -> list[StoreObject]:
        kept = []
        for item in objects:
            inside = _below(folder, item.relative)
            if inside is None or SKIPPED_DIRS & set(inside.split("/")[:-1]):
                continue
            kept.append(item)
        return sorted(kept, key=lambda o: _walk_order(_below(folder, o.relative) or ""))

    def _name(self, folder: str) -> str:
        """The component's name as a local run names the same tree: the folder below the
        target, or the target's own last segment (the bucket for a whole bucket)."""
        return folder or PurePosixPath(self.store.root).name or self.store.root

    def _component(self, folder: str, members: list[StoreObject]) -> Component:
        checksums = self._store_checksums(members)
        card: CardFacts | None = None
        files = []
        license_texts = []
        remote_code: list[str] = []
        model_config = ModelConfig()
        notices: list[Notice] = []
        for item in members:
            relative = _below(folder, item.relative) or item.relative
            if not self.files_only:
                if relative.lower() == "readme.md":
                    card = self._card(item, relative)
                elif relative in ("config.json", "tokenizer_config.json"):
                    try:
                        config = parse_config(self.store.read_start(item.path, MAX_CONFIG_BYTES))
                    except OSError:
                        config = ModelConfig()
                    remote_code.extend(config.auto_map)
                    if relative == "config.json":
                        model_config = config
            entry, text = read_stream_entry(
                relative,
                item.size,
                self.store.opener(item.path, item.size),
                self.kb,
                files_only=self.files_only,
            )
            files.append(self._with_store_facts(entry, item, checksums))
            if text is not None:
                license_texts.append(text)
            if "/" not in relative and is_notice_file(relative) and entry.error is None:
                try:
                    raw = self.store.read_start(item.path, MAX_NOTICE_BYTES)
                except OSError:
                    continue
                notices.append(Notice(relative, raw.decode("utf-8", "replace")))
        facts = folder_facts(
            self.kb,
            card=card,
            files=files,
            license_texts=license_texts,
            problems=[],
            remote_code=remote_code,
            model_config=model_config,
            notices=tuple(notices),
        )
        return facts.local_model(self._name(folder), self.name, self.store.location(folder))

    def _store_checksums(self, members: list[StoreObject]) -> dict[str, str]:
        """For a verification, the store's SHA-256 of each object that has one, asked for in
        parallel: one HEAD request per object the listing says carries a checksum."""
        asked = [item for item in members if item.sha256_listed] if self.files_only else []
        if not asked:
            return {}
        from concurrent.futures import ThreadPoolExecutor  # verify only: 3 ms with logging

        with ThreadPoolExecutor(max_workers=CHECKSUM_REQUESTS) as pool:
            answers = pool.map(self.store.store_sha256, asked)
            return {item.path: d for item, d in zip(asked, answers, strict=True) if d is not None}

    def _card(self, item: StoreObject, relative: str) -> CardFacts:
        try:
            raw = self.store.read_start(item.path, MAX_CARD_BYTES)
        except OSError as exc:
            return CardFacts(path=relative, error=f"cannot read the card: {exc.strerror or exc}")
        return read_card(raw, relative)

    def _with_store_facts(
        self, entry: FileEntry, item: StoreObject, checksums: dict[str, str]
    ) -> FileEntry:
        """The entry with the object's ETag and, for a verification, the store's own SHA-256
        of it as the reference."""
        entry = dataclasses.replace(entry, etag=item.etag)
        if entry.error is None:
            digest = checksums.get(item.path)
            if digest is not None:
                entry = dataclasses.replace(
                    entry, reference=STORE_CHECKSUM, expected=f"sha256:{digest}"
                )
        return entry

    def _object_component(self, item: StoreObject) -> Component:
        """A URL naming one weights object: its format and header facts and what its own
        metadata declares, as a local run reads a weights file given as the target."""
        name = PurePosixPath(item.path).name
        entry, _ = read_stream_entry(
            name,
            item.size,
            self.store.opener(item.path, item.size),
            self.kb,
            files_only=self.files_only,
        )
        if entry.error:
            raise SourceError(f"cannot read {self.store.shown}: {entry.error}")
        if entry.format == "other":
            raise UsageError(
                f"target {self.store.shown!r} is one object that is not a weights file; give a "
                "prefix holding model folders, or a weights object"
            )
        entry = self._with_store_facts(entry, item, self._store_checksums([item]))
        declarations = weights_declarations((entry,))
        kind: ComponentType = "model" if entry.gguf is not None else "file"
        return Component(
            ref=f"{kind}:local/{name}",
            type=kind,
            name=name,
            source=self.name,
            location=self.store.shown,
            license=LicenseFacts(
                declared=tuple(v for d in declarations for v in d.licenses),
                evidence=tuple(e for d in declarations for e in d.evidence),
            ),
            base_models=tuple(b for d in declarations for b in d.base_models),
            files=(entry,),
        )
