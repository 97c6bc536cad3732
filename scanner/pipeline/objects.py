"""The object-store side of a verification: where each file of an `objectstore` component is,
what it is compared with, and its digest from the ETag-keyed cache or by streaming it.

References, in order: the lock file (which then is the only reference, as on a local disk), the
`--against` BOM, then the SHA-256 the store itself keeps of the object (S3 `ChecksumSHA256` of
a single-part upload, recorded by the source), reported as `store-checksum`. Hashing runs
`remote.objectstore.hash_object`, a plain function of picklable arguments, in a thread pool
here; a distributed engine can run the same `ObjectJob`s as tasks.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any, Protocol

from scanner.integrity.cache import HashCache, default_cache_dir
from scanner.integrity.hashing import in_parallel
from scanner.integrity.references import Expected, References
from scanner.integrity.shards import MAX_INDEX_BYTES, check_index_bytes, is_shard_index
from scanner.inventory import Component, FileEntry, HeaderDefect
from scanner.remote.objectstore import (
    ObjectDigest,
    ObjectStore,
    hash_object,
    is_object_url,
    shown_url,
)
from scanner.sources.interface import Target
from scanner.sources.objectstore import STORE_CHECKSUM

if TYPE_CHECKING:
    from scanner.pipeline.distributed import Hasher


class HashProgress(Protocol):
    """Where hashing reports its progress (a terminal bar, or nothing), for local files and
    objects alike."""

    def start(self, total_bytes: int, files: int) -> None: ...
    def advance(self, count: int) -> None: ...
    def file_done(self) -> None: ...
    def stop(self) -> None: ...


@dataclass(frozen=True)
class ObjectJob:
    """One object to hash: `hash_object(job.url, job.storage_options, job.size, job.etag)`.

    Every field is plain data, so a job can be sent to another process or host as it is.
    `location` is the URL as shown (no credentials): the hash cache's key.
    """

    url: str
    storage_options: dict[str, Any]
    size: int
    etag: str | None
    location: str


class ObjectStores:
    """The object-store targets of one verification, and how their components' files are
    planned and hashed."""

    def __init__(self, targets: Sequence[Target]) -> None:
        self._stores = [ObjectStore(t) for t in targets if isinstance(t, str) and is_object_url(t)]

    def holds(self, component: Component) -> bool:
        """Whether a component lies in one of these object stores."""
        return component.source == "objectstore" and bool(self._matching(component))

    def _matching(self, component: Component) -> list[ObjectStore]:
        return [
            s
            for s in self._stores
            if component.location == s.shown or component.location.startswith(s.shown + "/")
        ]

    def _store(self, component: Component) -> ObjectStore:
        """The target a component was found below (the longest whose URL starts its location)."""
        return max(self._matching(component), key=lambda s: len(s.shown))

    def path_of(self, component: Component, relative: str) -> str:
        """The file system's path of one file of a component."""
        store = self._store(component)
        below = component.location[len(store.shown) :].strip("/")
        single = (
            not below and len(component.files) == 1 and relative == PurePosixPath(store.root).name
        )
        if single:
            return store.root  # the target named this one object
        return "/".join(part for part in (store.root, below, relative) if part)

    def plan(
        self,
        component: Component,
        entry: FileEntry,
        by_path: dict[str, FileEntry],
        references: References,
        *,
        root: bool,
        structure_only: bool,
    ) -> tuple[FileEntry, Expected | None, ObjectJob | None]:
        """The entry with its reference, the digest expected, and the job that hashes it (None
        when it is not hashed: unreadable, structurally broken, or structure only)."""
        store = self._store(component)
        path = self.path_of(component, entry.path)
        if is_shard_index(entry.path) and entry.error is None:
            entry = dataclasses.replace(
                entry, defects=self._index_defects(store, path, entry, by_path)
            )
        expected = None
        if entry.error is None:
            expected = references.expected(component, entry.path, Path(entry.path), root=root)
            if expected is None and references.lockfile is None:
                expected = _store_checksum(entry, store.url_of(path))
        if expected is not None:
            entry = dataclasses.replace(entry, reference=expected.kind, expected=expected.label)
        elif references.lockfile is not None:
            # Not in the lock: unexpected, never verified, whatever the store says of it.
            entry = dataclasses.replace(entry, reference="lockfile", expected=None, verified=False)
        else:
            entry = dataclasses.replace(entry, reference=None, expected=None)
        if entry.error is not None:
            return dataclasses.replace(entry, verified=False if expected else None), expected, None
        broken = any(d.kind != "duplicate-tensor" for d in entry.header_defects)
        if structure_only or broken:
            verified = False if expected and broken else None
            return dataclasses.replace(entry, verified=verified), expected, None
        return entry, expected, self.job(component, entry)

    def job(self, component: Component, entry: FileEntry) -> ObjectJob:
        """The job that hashes one file of a component, as it was listed."""
        store = self._store(component)
        url = store.url_of(self.path_of(component, entry.path))
        return ObjectJob(url, store.storage_options, entry.size or 0, entry.etag, shown_url(url))

    @staticmethod
    def _index_defects(
        store: ObjectStore, path: str, entry: FileEntry, by_path: dict[str, FileEntry]
    ) -> tuple[HeaderDefect, ...]:
        try:
            raw = store.read_start(path, MAX_INDEX_BYTES + 1)
        except OSError as exc:
            return (HeaderDefect("malformed", f"cannot read the index: {exc.strerror or exc}"),)
        return check_index_bytes(raw, entry.path, by_path)


def _store_checksum(entry: FileEntry, url: str) -> Expected | None:
    """The store's own SHA-256 of the object, as the source recorded it."""
    if entry.reference != STORE_CHECKSUM or not entry.expected:
        return None
    digest = entry.expected.removeprefix("sha256:")
    return Expected("store-checksum", "sha256", digest, url, entry.size)


def object_digests(
    jobs: Sequence[ObjectJob],
    *,
    hasher: Hasher,
    read_cache: bool,
    write_cache: bool,
    cache_dir: Path | None,
    rehash_older_than_days: float | None,
    progress: HashProgress | None,
    warn: Callable[[str], None],
) -> dict[str, ObjectDigest]:
    """The digest of every job by URL: from the cache where the object's ETag and size are
    the ones recorded, else by streaming it with `hasher` (local threads, or Dask workers that
    reach the store with their own credentials)."""
    results: dict[str, ObjectDigest] = {}
    if not jobs:
        return results
    cache = None
    if read_cache or write_cache:
        messages: list[str] = []
        cache = HashCache.open(cache_dir or default_cache_dir(), messages)
        for message in messages:
            warn(message)
    since = 0.0
    if rehash_older_than_days is not None:
        since = time.time() - rehash_older_than_days * 86400
    todo = []
    for job in jobs:
        hit = None
        if cache is not None and read_cache and job.etag is not None:
            hit = cache.get_object(job.location, job.etag, job.size, hashed_since=since)
        if hit is not None:
            results[job.url] = ObjectDigest(job.url, hit, cached=True)
        else:
            todo.append(job)
    if progress is not None and todo:
        progress.start(sum(j.size for j in todo), len(todo))
    try:
        advance = progress.advance if progress else None
        for job, digest in hasher.object_digests(todo, progress=advance):
            results[job.url] = digest
            if progress is not None:
                progress.file_done()
            if cache is not None and write_cache and digest.sha256 and job.etag is not None:
                cache.put_object(job.location, job.etag, job.size, digest.sha256)
    finally:
        if progress is not None and todo:
            progress.stop()
        if cache is not None:
            cache.close()
    return results


def hash_all(
    jobs: list[ObjectJob], workers: int, progress: Callable[[int], None] | None = None
) -> Iterator[tuple[ObjectJob, ObjectDigest]]:
    """Hash objects on `workers` threads, biggest first, at most 2 × workers in flight."""
    return in_parallel(
        lambda job: (
            job,
            hash_object(job.url, job.storage_options, job.size, job.etag, progress),
        ),
        sorted(jobs, key=lambda j: j.size, reverse=True),
        workers=workers,
        name="aiscan-object",
    )
