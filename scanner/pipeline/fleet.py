"""Fleet verify: every host of a Dask cluster verifies its own stores, and one report says
whether they all hold the same bytes.

One task per Dask worker (one worker per host, told apart by worker name, since several may
share an address), pinned to it. The task, `verify_host`, resolves the stores on the host
itself (`--store` relative to the worker's working directory, `~` to its home; by default its
user's HF cache and Ollama store), measures them exactly as a local `aiscan verify` would (its
own cores, its own hash cache, the same `--lock`) and returns the facts. The client judges:
each host's findings are the local run's, prefixed with the host; components are merged by ref
(one per model revision, with every host's location and every host's files, each marked with
its host); and differences between hosts are `integrity.fleet-drift`. A host that does not
answer — named by `--expect-host` but without a worker, or whose worker dies or fails before
reporting — is `scan.unreachable-host`: a host not heard from is never reported clean.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime
import threading
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from scanner.checks.interface import finding
from scanner.errors import AiscanError
from scanner.integrity.hashing import default_jobs
from scanner.inventory import Component, FileEntry, Finding, HostLocation, ScanResult
from scanner.licensing.knowledge_base import LicenseKnowledgeBase
from scanner.pipeline.distributed import (
    PROGRESS_EVERY,
    ThreadHasher,
    dask_client,
    wait_some,
    worker_threads,
)
from scanner.pipeline.verify import HashProgress, VerifyOptions, judge, measure, verify_findings
from scanner.policy.load import Policy

POLL_S = 2
"""How often the client checks, while hosts work, that their workers are still there."""


@dataclass(frozen=True)
class HostReport:
    """What one host measured, unjudged: the stores it read (as it resolved them), its
    components, the findings made while measuring (nothing found, unreadable store) and the
    warnings it gave (a hash cache it could not use)."""

    host: str
    stores: tuple[str, ...]
    components: tuple[Component, ...]
    findings: tuple[Finding, ...]
    warnings: tuple[str, ...] = ()


def host_stores(stores: Sequence[str]) -> tuple[list[Path], list[Finding]]:
    """The stores to verify on this host: those given, resolved here, or by default the
    user's HF cache and Ollama store where they exist. A given store that does not exist is
    a finding, as is a host with neither default store."""
    from scanner.sources.hfcache import default_hub_cache
    from scanner.sources.ollama import default_ollama_store

    if not stores:
        defaults = [default_hub_cache(), default_ollama_store()]
        found = [p for p in defaults if p.is_dir()]
        if found:
            return found, []
        named = " or ".join(str(p) for p in defaults)
        return [], [finding("scan.nothing-found", None, f"no store on this host: no {named}")]
    paths: list[Path] = []
    problems: list[Finding] = []
    for store in stores:
        path = Path(store).expanduser().absolute()
        if path.exists():
            paths.append(path)
        else:
            problems.append(finding("scan.unreadable", None, f"{path}: store does not exist"))
    return paths, problems


class _EventProgress:
    """A host's hashing progress sent to the client as Dask events (bytes in batches)."""

    def __init__(self, worker: Any, topic: str) -> None:
        self._worker = worker
        self._topic = topic
        self._bytes = 0
        self._files = 0
        self._lock = threading.Lock()

    def start(self, total_bytes: int, files: int) -> None:
        self._worker.log_event(self._topic, {"total": total_bytes, "files": files})

    def advance(self, count: int) -> None:
        with self._lock:
            self._bytes += count
            if self._bytes < PROGRESS_EVERY:
                return
            message = {"bytes": self._bytes, "done": self._files}
            self._bytes = self._files = 0
        self._worker.log_event(self._topic, message)

    def file_done(self) -> None:
        with self._lock:
            self._files += 1

    def stop(self) -> None:
        with self._lock:
            message = {"bytes": self._bytes, "done": self._files}
            self._bytes = self._files = 0
        self._worker.log_event(self._topic, message)


def verify_host(stores: tuple[str, ...], options: VerifyOptions, topic: str) -> HostReport:
    """The task each host runs: measure its own stores as a local verify would."""
    from distributed import get_worker

    from scanner.licensing.knowledge_base import default_knowledge_base

    worker = get_worker()
    host = str(worker.name)
    paths, problems = host_stores(stores)
    warnings: list[str] = []
    if not paths:
        return HostReport(host, (), (), tuple(problems))
    local = dataclasses.replace(options, scheduler=None, jobs=default_jobs())
    try:
        components, empty = measure(
            paths,
            default_knowledge_base(),
            local,
            ThreadHasher(local.jobs),
            progress=_EventProgress(worker, topic),
            warn=warnings.append,
        )
    except AiscanError as exc:
        # The store could not be read at all (an unreadable root): the host answered that.
        failed = finding("scan.unreadable", None, f"{exc}; not verified")
        return HostReport(host, tuple(map(str, paths)), (), (*problems, failed), tuple(warnings))
    return HostReport(
        host,
        tuple(map(str, paths)),
        tuple(components),
        (*problems, *empty),
        tuple(warnings),
    )


class _FleetProgress:
    """Draws every host's progress on one bar: totals add up as hosts finish listing."""

    def __init__(self, progress: HashProgress | None) -> None:
        self._progress = progress
        self.started = False

    def event(self, event: tuple[float, Any]) -> None:
        message = event[1]
        if self._progress is None or not isinstance(message, dict):
            return
        if "total" in message:
            self._progress.start(int(message["total"]), int(message["files"]))
            self.started = True
            return
        self._progress.advance(int(message.get("bytes", 0)))
        for _ in range(int(message.get("done", 0))):
            self._progress.file_done()


def run_fleet_verify(
    stores: Sequence[str],
    policy: Policy,
    kb: LicenseKnowledgeBase,
    options: VerifyOptions,
    *,
    expect_hosts: Iterable[str] = (),
    progress: HashProgress | None = None,
    warn: Callable[[str], None] = lambda message: None,
    today: datetime.date | None = None,
) -> ScanResult:
    """Verify every host's own stores on the cluster at `options.scheduler`; one result."""
    assert options.scheduler is not None, "the CLI asks for a scheduler first"
    with dask_client(options.scheduler, warn) as client:
        reports, lost = _gather(client, tuple(stores), options, progress)
    for report in reports:
        for message in report.warnings:
            warn(f"{report.host}: {message}")
    answered = {r.host for r in reports}
    for host in sorted(set(expect_hosts) - answered - set(lost)):
        lost[host] = "no Dask worker of this name is connected to the scheduler"
    components, drift = merge_hosts(reports)
    findings: list[Finding] = []
    for report in reports:
        raw = [*report.findings, *verify_findings(report.components, policy, kb)]
        findings.extend(_on_host(f, report.host) for f in raw)
    findings.extend(drift)
    for host, reason in sorted(lost.items()):
        findings.append(
            finding("scan.unreachable-host", None, f"{host}: {reason}; not verified", host=host)
        )
    targets = [f"{r.host}:{store}" for r in reports for store in r.stores]
    return judge(targets, components, findings, policy, today=today)


def _gather(
    client: Any, stores: tuple[str, ...], options: VerifyOptions, progress: HashProgress | None
) -> tuple[list[HostReport], dict[str, str]]:
    """One pinned task per worker; the reports of those that answered and why the others
    did not."""
    workers = client.scheduler_info(n_workers=-1)["workers"]
    run = uuid.uuid4().hex
    topic = f"aiscan-fleet-{run}"
    bar = _FleetProgress(progress)
    client.subscribe_topic(topic, bar.event)
    pending: dict[Any, tuple[str, str]] = {}
    for number, (address, info) in enumerate(sorted(workers.items())):
        name = str(info.get("name", address))
        future = client.submit(
            verify_host,
            stores,
            options,
            topic,
            key=f"aiscan-fleet-{run}-{number}",
            workers=[address],
            allow_other_workers=False,
            pure=False,
        )
        pending[future] = (address, name)
    reports: list[HostReport] = []
    lost: dict[str, str] = {}
    try:
        while pending:
            done = wait_some(client, list(pending), POLL_S)
            for future in done:
                _address, name = pending.pop(future)
                if future.status == "finished":
                    reports.append(future.result())
                else:
                    lost[name] = f"its worker failed: {_reason(future)}"
            if done:
                continue
            alive = set(worker_threads(client))
            for future, (address, name) in list(pending.items()):
                if address not in alive:
                    future.cancel()
                    del pending[future]
                    lost[name] = "its Dask worker left before reporting"
    finally:
        for future in pending:
            future.cancel()
        with contextlib.suppress(Exception):  # a lost scheduler is reported already
            client.unsubscribe_topic(topic)
        if bar.started and progress is not None:
            progress.stop()
    return sorted(reports, key=lambda r: r.host), lost


def _reason(future: Any) -> str:
    try:
        exception = future.exception(timeout=POLL_S)
    except Exception as exc:  # cancelled or gone: the future says no more
        return type(exc).__name__
    return f"{type(exception).__name__}: {exception}".split("\n")[0]


def _on_host(item: Finding, host: str) -> Finding:
    """A host's finding as the merged report shows it: the host named in message and evidence."""
    return dataclasses.replace(
        item, message=f"{host}: {item.message}", evidence={**item.evidence, "host": host}
    )


def merge_hosts(reports: Sequence[HostReport]) -> tuple[list[Component], list[Finding]]:
    """One component per ref, holding every host's files (each marked with its host) and
    locations, and the drift between the hosts that answered."""
    hosts = [r.host for r in reports]
    held: dict[str, list[tuple[str, Component]]] = {}
    for report in reports:
        for component in report.components:
            held.setdefault(component.ref, []).append((report.host, component))
    merged: list[Component] = []
    drift: list[Finding] = []
    for _ref, views in sorted(held.items()):
        # A lock's component a host lacks is listed by that host only as its absent files.
        present = [(h, c) for h, c in views if c.source != "lockfile"]
        base = (present or views)[0][1]
        files = sorted(
            (dataclasses.replace(f, host=h) for h, c in views for f in c.files),
            key=lambda f: (f.path, f.host or ""),
        )
        merged.append(
            dataclasses.replace(
                base,
                files=tuple(files),
                hosts=tuple(HostLocation(h, c.location) for h, c in present),
            )
        )
        if present:
            drift.extend(_drift(base, dict(present), hosts))
    return merged, drift


def _held(entry: FileEntry | None) -> bool:
    """Whether a host holds a file: listed, and not only as a lock entry absent from disk."""
    return entry is not None and not (entry.size is None and entry.error is not None)


def _drift(component: Component, present: dict[str, Component], hosts: list[str]) -> list[Finding]:
    """How the hosts holding a component differ from each other, and who lacks it."""
    found: list[Finding] = []
    missing = [h for h in hosts if h not in present]
    if missing:
        found.append(
            finding(
                "integrity.fleet-drift",
                component,
                f"on {', '.join(sorted(present))} but not on {', '.join(missing)}",
                present=sorted(present),
                missing=missing,
            )
        )
    by_path: dict[str, dict[str, FileEntry]] = {}
    for host, held in present.items():
        for entry in held.files:
            by_path.setdefault(entry.path, {})[host] = entry
    for path, entries in sorted(by_path.items()):
        holding = sorted(h for h in present if _held(entries.get(h)))
        lacking = sorted(h for h in present if h not in holding)
        if holding and lacking:
            found.append(
                finding(
                    "integrity.fleet-drift",
                    component,
                    f"{path}: on {', '.join(holding)} but missing on {', '.join(lacking)}",
                    file=path,
                    present=holding,
                    missing=lacking,
                )
            )
        digests: dict[str, str] = {}
        for h in holding:
            digest = entries[h].sha256
            if digest is not None:
                digests[h] = digest
        sizes = {h: entries[h].size for h in holding if entries[h].size is not None}
        if len(set(digests.values())) > 1:
            shown = ", ".join(f"{h} sha256:{d[:12]}…" for h, d in sorted(digests.items()))
            found.append(
                finding(
                    "integrity.fleet-drift",
                    component,
                    f"{path}: different bytes on different hosts ({shown})",
                    file=path,
                    sha256=dict(sorted(digests.items())),
                )
            )
        elif len(set(sizes.values())) > 1:
            shown = ", ".join(f"{h} {s} bytes" for h, s in sorted(sizes.items()))
            found.append(
                finding(
                    "integrity.fleet-drift",
                    component,
                    f"{path}: different sizes on different hosts ({shown})",
                    file=path,
                    sizes=dict(sorted(sizes.items())),
                )
            )
    return found
