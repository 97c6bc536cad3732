"""Prepares a scan for an AI-BOM: measures the SHA-256 of files the scan did not hash.

`aiscan scan` reads headers only (hashing is `aiscan verify`'s job), so its files carry no
digest. A BOM handed to customers and auditors should identify the exact bytes, so `aiscan bom`
hashes every file of every component first, with verify's parallel hasher and, when given,
verify's hash cache (a file whose device, inode, size, mtime and ctime are unchanged since it was
last read in full costs a `stat`; re-running `aiscan bom` on a multi-gigabyte store no longer
reads it all again). Objects in an object store are streamed as `verify` streams them, and
cached by URL, ETag and size. A file that cannot be read whole keeps no digest and says why: a
hash is never guessed.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from scanner.integrity.cache import HashCache
from scanner.integrity.hashing import FileDigest, FileIdentity, HashJob, default_jobs, hash_files
from scanner.inventory import Component, ScanResult
from scanner.pipeline.objects import ObjectJob, ObjectStores, hash_all
from scanner.remote.objectstore import ObjectDigest


def _jobs(component: Component) -> dict[str, HashJob]:
    jobs = {}
    for entry in component.files:
        if entry.sha256 is not None or entry.error is not None:
            continue
        path = Path(component.path_of(entry.path))
        try:
            identity = FileIdentity.of(path.stat())
        except OSError:
            continue  # vanished since the scan: it keeps no digest
        jobs[entry.path] = HashJob(str(path), identity)
    return jobs


def _object_jobs(component: Component, stores: ObjectStores) -> dict[str, ObjectJob]:
    """The objects of an object-store component to stream, by relative path."""
    return {
        entry.path: stores.job(component, entry)
        for entry in component.files
        if entry.sha256 is None and entry.error is None
    }


def _object_digests(
    jobs: list[ObjectJob], workers: int, cache: HashCache | None
) -> dict[str, ObjectDigest]:
    """Digests of objects by URL: from `cache` where ETag and size are those recorded."""
    digests: dict[str, ObjectDigest] = {}
    todo = []
    for job in jobs:
        hit = None
        if cache is not None and job.etag is not None:
            hit = cache.get_object(job.location, job.etag, job.size)
        if hit is not None:
            digests[job.url] = ObjectDigest(job.url, hit, cached=True)
        else:
            todo.append(job)
    for job, digest in hash_all(todo, workers):
        digests[job.url] = digest
        if cache is not None and digest.sha256 is not None and job.etag is not None:
            cache.put_object(job.location, job.etag, job.size, digest.sha256)
    return digests


def with_file_hashes(
    result: ScanResult, workers: int | None = None, *, cache: HashCache | None = None
) -> ScanResult:
    """The same result with `sha256` filled in for every file that could be read whole: from
    `cache` where the file is unchanged, else by reading it (and then recorded in `cache`)."""
    workers = workers or default_jobs()
    stores = ObjectStores(result.targets)
    planned: dict[str, dict[str, HashJob | ObjectJob]] = {
        c.ref: dict(_object_jobs(c, stores) if stores.holds(c) else _jobs(c))
        for c in result.components
    }
    all_jobs = [job for jobs in planned.values() for job in jobs.values()]
    digests: dict[str, FileDigest | ObjectDigest] = {}
    todo = []
    for planned_job in all_jobs:
        if not isinstance(planned_job, HashJob):
            continue
        hit = cache.get(planned_job.identity) if cache is not None else None
        if hit is not None:
            digests[planned_job.path] = FileDigest(planned_job, hit[0], hit[1], cached=True)
        else:
            todo.append(planned_job)
    for measured in hash_files(todo, workers=workers):
        digests[measured.job.path] = measured
        if cache is not None and measured.sha256 is not None:
            cache.put(measured.job.identity, measured.sha256, measured.git_sha1)
    remote = [job for job in all_jobs if isinstance(job, ObjectJob)]
    digests.update(_object_digests(remote, workers, cache))
    components = []
    for component in result.components:
        files = []
        for entry in component.files:
            job = planned[component.ref].get(entry.path)
            key = job.path if isinstance(job, HashJob) else job.url if job else None
            digest = digests.get(key) if key is not None else None
            if digest is not None:
                entry = dataclasses.replace(
                    entry, sha256=digest.sha256, error=entry.error or digest.error
                )
            files.append(entry)
        components.append(dataclasses.replace(component, files=tuple(files)))
    return dataclasses.replace(result, components=tuple(components))
