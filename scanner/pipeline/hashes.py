"""Prepares a scan for an AI-BOM: measures the SHA-256 of files the scan did not hash.

`aiscan scan` reads headers only (hashing is `aiscan verify`'s job), so its files carry no
digest. A BOM handed to customers and auditors should identify the exact bytes, so `aiscan bom`
hashes every file of every component first, with verify's parallel hasher. A file that cannot
be read whole keeps no digest and says why: a hash is never guessed.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from scanner.integrity.hashing import FileIdentity, HashJob, default_jobs, hash_files
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


def with_file_hashes(result: ScanResult, workers: int | None = None) -> ScanResult:
    """The same result with `sha256` filled in for every file that could be read whole."""
    planned = {c.ref: _jobs(c) for c in result.components}
    all_jobs = [job for jobs in planned.values() for job in jobs.values()]
    digests = {d.job.path: d for d in hash_files(all_jobs, workers=workers or default_jobs())}
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
