"""Where an expected digest comes from: a lock file, a CycloneDX BOM, or a store's blob name.

The first that knows a file wins, in that order: a lock file is the user's own record, a BOM is
a supplier's statement, and a cache blob name is what huggingface_hub downloaded against. The
report names the reference used, so "verified" always says against what.

HF cache blobs (`models--org--name/blobs/<etag>`) are named by the Hub's ETag: the SHA-256 of
the content for LFS and Xet files (64 hex), the git blob id (SHA-1 of `blob <size>\\0<content>`,
40 hex) for small files kept in git. In Xet-era caches with shared blobs, `blobs/<etag>` is
itself a link to `<cache>/blobs/<xx>/<xet hash>`, a 64-hex name that is *not* a SHA-256; so the
name is taken from the first link hop inside the repo's `blobs/` folder, never from the final
target. Ollama store blobs (`blobs/sha256-<hex>`, reference `ollama-blob`) are regular files
named by the SHA-256 of their content.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Protocol

from scanner.errors import UsageError
from scanner.files import load_json_file
from scanner.integrity.lockfile import LockedComponent, LockFile
from scanner.inventory import Component
from scanner.readers.ollama import blob_digest

_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_GIT_SHA1 = re.compile(r"^[0-9a-f]{40}$")

ReferenceKind = Literal["lockfile", "bom", "hf-blob", "hub", "ollama-blob", "store-checksum"]


class PublishedDigests(Protocol):
    """Where the Hub's published LFS sha256 of a cached file can be looked up (`--hub`)."""

    def lfs_sha256(self, repo_id: str, revision: str, path: str) -> str | None:
        """The sha256 the Hub lists for `path` at `revision`, or None when it lists none."""


@dataclass(frozen=True)
class Expected:
    """An expected digest for one file, and where it was found."""

    kind: ReferenceKind
    algorithm: Literal["sha256", "git-sha1"]
    digest: str
    source: str
    size: int | None = None

    @property
    def label(self) -> str:
        """`algorithm:digest`, as the report writes it."""
        return f"{self.algorithm}:{self.digest}"


class BomError(UsageError):
    """The BOM given to `--against` cannot be used (exit 2)."""


@dataclass(frozen=True)
class BomDigests:
    """SHA-256 digests of file components in a CycloneDX JSON BOM.

    Files are CycloneDX components of type `file` whose `name` is the path relative to the model
    folder, nested under the model's component (matched by name or purl) or at top level (then
    they match any model holding that path). The BOM is read by the CycloneDX decoder, so a
    malformed one is refused as a whole rather than half used.
    """

    source: str
    by_parent: Mapping[tuple[str, str], str]
    top_level: Mapping[str, str]

    @classmethod
    def load(cls, path: Path) -> BomDigests:
        from scanner.formats.cyclonedx import decode_cyclonedx  # only with --against
        from scanner.formats.decoded import BomDecodeError

        document = load_json_file(path, "BOM", BomError)
        try:
            bom = decode_cyclonedx(document)
        except BomDecodeError as exc:
            raise BomError(f"{path}: {exc}") from exc
        if bom is None:
            raise BomError(f"{path} is not a CycloneDX JSON BOM (bomFormat must be CycloneDX)")
        by_parent: dict[tuple[str, str], str] = {}
        top_level: dict[str, str] = {}
        for component in bom.components:
            if component.kind == "file" and component.sha256 is not None:
                top_level[component.name] = component.sha256  # a loose file: never nested
            for entry in component.files:
                for key in (component.name, component.purl):
                    if key and entry.sha256 is not None:
                        by_parent[(key, entry.path)] = entry.sha256
        return cls(str(path), by_parent, top_level)

    def lookup(self, component: Component, relative: str) -> str | None:
        for key in (component.name, component.purl):
            if key and (key, relative) in self.by_parent:
                return self.by_parent[(key, relative)]
        return self.top_level.get(relative)


def hf_blob_reference(path: Path) -> Expected | None:
    """The digest an HF cache snapshot file's blob name promises, if it is a cache link."""
    try:
        target = path.readlink()
    except OSError:
        return None  # a regular file: no blob name to go by
    blob = Path(path.parent, target)
    if blob.parent.name != "blobs":
        return None
    if _SHA256.match(blob.name):
        return Expected("hf-blob", "sha256", blob.name, str(blob))
    if _GIT_SHA1.match(blob.name):
        return Expected("hf-blob", "git-sha1", blob.name, str(blob))
    return None


def ollama_blob_reference(path: Path) -> Expected | None:
    """The digest an Ollama store blob's name promises (`blobs/sha256-<hex>`, or the older
    `sha256:<hex>`): Ollama names every blob by the SHA-256 of its content."""
    digest = blob_digest(path.name) if path.parent.name == "blobs" else None
    return Expected("ollama-blob", "sha256", digest, str(path)) if digest else None


@dataclass(frozen=True)
class References:
    """The references given for one run, consulted in order for every file."""

    lockfile: LockFile | None = None
    bom: BomDigests | None = None
    hub: PublishedDigests | None = None

    def locked(self, component: Component, *, root: bool = False) -> LockedComponent | None:
        """The lock file's entry for a component (`root`: the folder is itself the target)."""
        if self.lockfile is None:
            return None
        return self.lockfile.match(component, root=root)

    def expected(
        self, component: Component, relative: str, path: Path, *, root: bool = False
    ) -> Expected | None:
        """The best available expected digest for one file of a component.

        With a lock file, the lock is the reference: a component or file it does not record has
        no expected digest at all (its blob name or the Hub would otherwise vouch for a revision
        the lock never saw, such as a new snapshot `refs/main` was moved to).
        """
        if self.lockfile is not None:
            locked = self.locked(component, root=root)
            if locked is None or relative not in locked.files:
                return None
            entry = locked.files[relative]
            return Expected("lockfile", "sha256", entry.sha256, self.lockfile.source, entry.size)
        if self.bom is not None:
            digest = self.bom.lookup(component, relative)
            if digest is not None:
                return Expected("bom", "sha256", digest, self.bom.source)
        if component.source == "ollama":
            return ollama_blob_reference(path)
        if component.source != "hfcache":
            return None
        blob = hf_blob_reference(path)
        published = self._published(component, relative)
        # The blob name says what the blob is; the Hub says what the file should be. When they
        # disagree the snapshot links to the wrong blob (a swapped shard): judge against the Hub.
        if published is not None and (blob is None or blob.label != published.label):
            return published
        return blob

    def _published(self, component: Component, relative: str) -> Expected | None:
        if self.hub is None or component.version is None:
            return None
        digest = self.hub.lfs_sha256(component.name, component.version, relative)
        if digest is None:
            return None
        return Expected(
            "hub", "sha256", digest, f"Hub model_info {component.name}@{component.version}"
        )
