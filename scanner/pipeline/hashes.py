"""Prepares a scan for an AI-BOM: measures the SHA-256 of files the scan did not hash.

`aiscan scan` reads headers only (hashing is `aiscan verify`'s job), so its files carry no
digest. A BOM handed to customers and auditors should identify the exact bytes, so `aiscan bom`
hashes every file of every component first, with verify's parallel hasher and, when given,
verify's hash cache (a file whose device, inode, size, mtime and ctime are unchanged since it was
last read in full costs a `stat`; re-running `aiscan bom` on a multi-gigabyte store no longer
reads it all again). A file that cannot be read whole keeps no digest and says why: a hash is
never guessed.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from scanner.integrity.cache import HashCache
from scanner.integrity.hashing import FileDigest, FileIdentity, HashJob, default_jobs, hash_files
from scanner.inventory import Component, ScanResult


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


def with_file_hashes(
    result: ScanResult, workers: int | None = None, *, cache: HashCache | None = None
) -> ScanResult:
    """The same result with `sha256` filled in for every file that could be read whole: from
    `cache` where the file is unchanged, else by reading it (and then recorded in `cache`)."""
    planned = {c.ref: _jobs(c) for c in result.components}
    all_jobs = [job for jobs in planned.values() for job in jobs.values()]
    digests: dict[str, FileDigest] = {}
    todo = []
    for planned_job in all_jobs:
        hit = cache.get(planned_job.identity) if cache is not None else None
        if hit is not None:
            digests[planned_job.path] = FileDigest(planned_job, hit[0], hit[1], cached=True)
        else:
            todo.append(planned_job)
    for measured in hash_files(todo, workers=workers or default_jobs()):
        digests[measured.job.path] = measured
        if cache is not None and measured.sha256 is not None:
            cache.put(measured.job.identity, measured.sha256, measured.git_sha1)
    components = []
    for component in result.components:
        files = []
        for entry in component.files:
            job = planned[component.ref].get(entry.path)
            digest = digests.get(job.path) if job is not None else None
            if digest is not None:
                entry = dataclasses.replace(
                    entry, sha256=digest.sha256, error=entry.error or digest.error
                )
            files.append(entry)
        components.append(dataclasses.replace(component, files=tuple(files)))
    return dataclasses.replace(result, components=tuple(components))
