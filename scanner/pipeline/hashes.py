"""Prepares a scan for an AI-BOM: measures the SHA-256 of files the scan did not hash.

`aiscan scan` reads headers only (hashing is `aiscan verify`'s job), so its files carry no
digest. A BOM handed to customers and auditors should identify the exact bytes, so `aiscan bom`
hashes every file of every component first, with verify's parallel hasher (objects in an
object store are streamed, as `verify` streams them). A file that cannot
be read whole keeps no digest and says why: a hash is never guessed.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

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


def with_file_hashes(result: ScanResult, workers: int | None = None) -> ScanResult:
    """The same result with `sha256` filled in for every file that could be read whole."""
    workers = workers or default_jobs()
    stores = ObjectStores(result.targets)
    planned: dict[str, dict[str, HashJob | ObjectJob]] = {
        c.ref: dict(_object_jobs(c, stores) if stores.holds(c) else _jobs(c))
        for c in result.components
    }
    local = [j for jobs in planned.values() for j in jobs.values() if isinstance(j, HashJob)]
    remote = [j for jobs in planned.values() for j in jobs.values() if isinstance(j, ObjectJob)]
    digests: dict[str, FileDigest | ObjectDigest] = {
        d.job.path: d for d in hash_files(local, workers=workers)
    }
    digests.update((job.url, digest) for job, digest in hash_all(remote, workers))
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
