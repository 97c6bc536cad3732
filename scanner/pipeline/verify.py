"""Runs a verification: sources list the files, integrity measures them, checks judge.

The counterpart of `scanner/scan.py` for `aiscan verify` and `aiscan lock`. Headers (and shard
indexes) are checked first, from what the sources already read; then every structurally sound
file is hashed once (cache blobs shared by several revisions are read once), in parallel, and
compared with the best reference available. The result is an ordinary `ScanResult`, so every
report format renders it.
"""

from __future__ import annotations

import dataclasses
import datetime
import fnmatch
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from scanner.checks.completeness import CompletenessCheck
from scanner.checks.integrity import IntegrityCheck
from scanner.checks.interface import CheckContext, finding
from scanner.errors import describe_os_error
from scanner.files import NO_EXCLUDES, Excludes
from scanner.integrity.cache import HashCache, default_cache_dir
from scanner.integrity.hashing import (
    FileDigest,
    FileIdentity,
    HashJob,
    default_jobs,
)
from scanner.integrity.lockfile import LockedComponent, is_target_folder
from scanner.integrity.references import Expected, References
from scanner.integrity.shards import check_index, is_shard_index
from scanner.inventory import Component, FileEntry, Finding, ScanResult
from scanner.licensing.knowledge_base import LicenseKnowledgeBase
from scanner.pipeline.distributed import Hasher, hasher_for
from scanner.pipeline.objects import HashProgress, ObjectJob, ObjectStores, object_digests
from scanner.pipeline.result import ordered_result, unique_components
from scanner.policy.load import Policy
from scanner.policy.rules import RULES
from scanner.policy.waivers import apply_policy
from scanner.readers.model_folder import classify_format
from scanner.remote.objectstore import ObjectDigest
from scanner.sources.interface import SourceContext, Target
from scanner.sources.registry import collect, shown_target

_VERIFY_RULES = tuple(r for r in RULES if r.startswith(("integrity.", "scan.")))


@dataclass(frozen=True)
class VerifyOptions:
    """How to verify: what to compare with and how hard to work."""

    structure_only: bool = False
    jobs: int = field(default_factory=default_jobs)
    read_cache: bool = True
    write_cache: bool = True
    rehash_older_than_days: float | None = None
    """Cached digests older than this are not trusted: the file is read again."""
    cache_dir: Path | None = None
    references: References = field(default_factory=References)
    exclude: Excludes = NO_EXCLUDES
    """What `--exclude` leaves out: neither read nor, with a lock, expected."""
    scheduler: str | None = None
    """A Dask scheduler's address: hash on its workers instead of local threads."""


@dataclass
class _Planned:
    """A file waiting for its digest (`key`: device and inode, or an object's URL)."""

    component: int
    index: int
    key: tuple[int, int] | str
    expected: Expected | None


def _absent(
    locked: LockedComponent, present: set[str], excluded: Callable[[Path, bool], bool]
) -> list[FileEntry]:
    return [
        FileEntry(
            path=f.path,
            size=None,
            format=classify_format(Path(f.path)),
            verified=False,
            reference="lockfile",
            expected=f"sha256:{f.sha256}",
            error="absent, but recorded in the lock file",
        )
        for f in sorted(locked.files.values(), key=lambda f: f.path)
        if f.path not in present and not excluded(Path(locked.location, f.path), False)
    ]


def _compared(
    entry: FileEntry, expected: Expected | None, digest: FileDigest | ObjectDigest
) -> FileEntry:
    if digest.error or digest.sha256 is None:
        return dataclasses.replace(entry, error=digest.error, verified=False if expected else None)
    verified = None
    if expected is not None:
        actual = digest.git_sha1 if expected.algorithm == "git-sha1" else digest.sha256
        verified = actual == expected.digest
    return dataclasses.replace(
        entry, sha256=digest.sha256, verified=verified, from_cache=digest.cached
    )


def run_verify(
    targets: Sequence[Target],
    policy: Policy,
    kb: LicenseKnowledgeBase,
    options: VerifyOptions,
    *,
    progress: HashProgress | None = None,
    warn: Callable[[str], None] = lambda message: None,
    today: datetime.date | None = None,
) -> ScanResult:
    """Check structure (and, unless structure-only, content hashes) of every file in targets."""
    # The scheduler is reached first: a wrong address fails before a long listing.
    with hasher_for(options.scheduler, options.jobs, warn) as hasher:
        components, empty = measure(targets, kb, options, hasher, progress=progress, warn=warn)
    findings = [*empty, *verify_findings(components, policy, kb)]
    return judge(targets, components, findings, policy, today=today)


def measure(
    targets: Sequence[Target],
    kb: LicenseKnowledgeBase,
    options: VerifyOptions,
    hasher: Hasher,
    *,
    progress: HashProgress | None = None,
    warn: Callable[[str], None] = lambda message: None,
) -> tuple[list[Component], list[Finding]]:
    """The facts of a verification: every component's files with their header verdicts,
    digests and references (and the lock's components no target holds), plus a finding for
    each target where nothing was found. Nothing is judged yet."""
    found: list[Component] = []
    empty: list[Finding] = []
    for target in targets:
        reading = SourceContext(kb, files_only=True, exclude=options.exclude)
        collected = [c for c in collect(target, reading) if isinstance(c, Component)]
        if not collected:
            empty.append(
                finding(
                    "scan.nothing-found",
                    None,
                    f"{shown_target(target)}: no model folder or cache repo found",
                )
            )
        found.extend(collected)
    components = unique_components(found)
    references = options.references
    stores = ObjectStores(targets)
    object_jobs: dict[str, ObjectJob] = {}
    shown = [shown_target(t) for t in targets]

    def excluded(path: Path, folder: bool) -> bool:
        return any(
            options.exclude.below(t).skips(path, folder=folder)
            for t in targets
            if isinstance(t, Path)  # an object store's source leaves out what it excludes
        )

    files: list[list[FileEntry]] = []
    planned: list[_Planned] = []
    jobs: dict[tuple[int, int], HashJob] = {}
    matched: set[str] = set()
    for number, component in enumerate(components):
        folder = Path(component.location)
        by_path = {e.path: e for e in component.files}
        entries: list[FileEntry] = []
        root = is_target_folder(component, shown)
        locked = references.locked(component, root=root)
        if locked is not None:
            matched.add(locked.ref)
        for entry in component.files:
            if stores.holds(component):
                entry, expected, object_job = stores.plan(
                    component,
                    entry,
                    by_path,
                    references,
                    root=root,
                    structure_only=options.structure_only,
                )
                if object_job is not None:
                    object_jobs[object_job.url] = object_job
                    planned.append(_Planned(number, len(entries), object_job.url, expected))
                entries.append(entry)
                continue
            if is_shard_index(entry.path) and entry.error is None:
                entry = dataclasses.replace(entry, defects=check_index(folder, entry.path, by_path))
            path = Path(component.path_of(entry.path))
            expected = (
                None if entry.error else references.expected(component, entry.path, path, root=root)
            )
            if expected is not None:
                entry = dataclasses.replace(entry, reference=expected.kind, expected=expected.label)
            elif references.lockfile is not None:
                # Not in the lock (a file, or a whole revision): unexpected, never verified.
                entry = dataclasses.replace(entry, reference="lockfile", verified=False)
            if entry.error is None:
                entry, job = _plan(entry, path, expected, options, hasher.across_hosts)
                if job is not None:
                    key = (job.identity.device, job.identity.inode)
                    known = jobs.get(key)
                    if known is None or (job.git_sha1 and not known.git_sha1):
                        jobs[key] = job
                    planned.append(_Planned(number, len(entries), key, expected))
            entries.append(entry)
        if locked is not None:
            entries.extend(_absent(locked, set(by_path), excluded))
        files.append(entries)

    digests: dict[tuple[int, int] | str, FileDigest | ObjectDigest] = {}
    for identity, local_digest in _digests(
        list(jobs.values()), options, hasher, progress, warn
    ).items():
        digests[identity] = local_digest
    digests.update(
        object_digests(
            list(object_jobs.values()),
            hasher=hasher,
            read_cache=options.read_cache,
            write_cache=options.write_cache,
            cache_dir=options.cache_dir,
            rehash_older_than_days=options.rehash_older_than_days,
            progress=progress,
            warn=warn,
        )
    )
    for plan in planned:
        entries = files[plan.component]
        entries[plan.index] = _compared(entries[plan.index], plan.expected, digests[plan.key])

    verified = [
        dataclasses.replace(c, files=tuple(f)) for c, f in zip(components, files, strict=True)
    ]
    verified.extend(_missing_components(references, matched, excluded))
    return verified, empty


def verify_findings(
    components: Sequence[Component], policy: Policy, kb: LicenseKnowledgeBase
) -> list[Finding]:
    """What the integrity and completeness checks find in measured components."""
    context = CheckContext(policy=policy, kb=kb)
    return [
        *IntegrityCheck().run(components, context),
        *CompletenessCheck().run(components, context),
    ]


def judge(
    targets: Sequence[str | Path],
    components: Sequence[Component],
    findings: Sequence[Finding],
    policy: Policy,
    *,
    today: datetime.date | None = None,
) -> ScanResult:
    """The result of a verification: findings judged by the policy (only waivers of verify's
    own rules apply, so a scan policy's waivers are not reported unused here)."""
    relevant = tuple(
        w for w in policy.waivers if any(fnmatch.fnmatchcase(r, w.rule) for r in _VERIFY_RULES)
    )
    judged = apply_policy(
        findings, dataclasses.replace(policy, waivers=relevant), today or datetime.date.today()
    )
    return ordered_result([shown_target(t) for t in targets], list(components), judged, policy)


def _plan(
    entry: FileEntry,
    path: Path,
    expected: Expected | None,
    options: VerifyOptions,
    across_hosts: bool,
) -> tuple[FileEntry, HashJob | None]:
    """Decide whether a file is hashed; record why not when it cannot be (links out of the
    target never reach here: the source reports them instead)."""
    try:
        real = path.resolve(strict=True)
        identity = FileIdentity.of(real.stat())
    except (OSError, RuntimeError) as exc:
        message = describe_os_error(exc) if isinstance(exc, OSError) else "symbolic link loop"
        return dataclasses.replace(entry, error=message, verified=False if expected else None), None
    broken = any(d.kind != "duplicate-tensor" for d in entry.header_defects)
    if options.structure_only or broken:
        # A structurally broken file is already an error; hashing it cannot make it good.
        return dataclasses.replace(entry, verified=False if expected and broken else None), None
    wants_git = expected is not None and expected.algorithm == "git-sha1"
    return entry, HashJob(str(real), identity, git_sha1=wants_git, across_hosts=across_hosts)


def _digests(
    jobs: list[HashJob],
    options: VerifyOptions,
    hasher: Hasher,
    progress: HashProgress | None,
    warn: Callable[[str], None],
) -> dict[tuple[int, int], FileDigest]:
    """Digests for every job: from the cache where the file is unchanged, else by reading it."""
    results: dict[tuple[int, int], FileDigest] = {}
    cache = None
    if jobs and (options.read_cache or options.write_cache):
        messages: list[str] = []
        cache = HashCache.open(options.cache_dir or default_cache_dir(), messages)
        for message in messages:
            warn(message)
    todo = []
    since = 0.0
    if options.rehash_older_than_days is not None:
        since = time.time() - options.rehash_older_than_days * 86400
    for job in jobs:
        key = (job.identity.device, job.identity.inode)
        hit = cache.get(job.identity, hashed_since=since) if cache and options.read_cache else None
        if hit is not None and (hit[1] is not None or not job.git_sha1):
            results[key] = FileDigest(job, hit[0], hit[1], cached=True)
        else:
            todo.append(job)
    total = sum(j.identity.size for j in todo)
    if progress is not None and todo:
        progress.start(total, len(todo))
    try:
        for digest in hasher.digests(todo, progress=progress.advance if progress else None):
            results[(digest.job.identity.device, digest.job.identity.inode)] = digest
            if progress is not None:
                progress.file_done()
            if cache is not None and options.write_cache and digest.sha256 is not None:
                cache.put(digest.job.identity, digest.sha256, digest.git_sha1)
    finally:
        if progress is not None and todo:
            progress.stop()
        if cache is not None:
            cache.close()
    return results


def _missing_components(
    references: References, seen: set[str], excluded: Callable[[Path, bool], bool]
) -> list[Component]:
    """Components the lock file records but the targets no longer hold: nothing is skipped
    but what `--exclude` leaves out."""
    if references.lockfile is None:
        return []
    missing = []
    for ref, locked in sorted(references.lockfile.components.items()):
        if ref in seen or excluded(Path(locked.location), True):
            continue
        kind = ref.split(":", 1)[0]
        missing.append(
            Component(
                ref=ref,
                type=kind if kind in ("model", "dataset", "file") else "model",  # type: ignore[arg-type]
                name=locked.name,
                source="lockfile",
                location=locked.location,
                version=locked.revision,
                files=tuple(_absent(locked, set(), excluded)),
            )
        )
    return missing
