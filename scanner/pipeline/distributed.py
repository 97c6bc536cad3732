"""Where files are hashed: this process's thread pool, or the workers of a Dask cluster.

The one place that chooses the executor. Both hash the same unit of work, a `HashJob` (path,
the identity listed — size, inode, times — and whether a git blob id is wanted), with the same
function, `hash_file`, and yield the same `FileDigest`s, so everything the pipeline does with
a digest (cache, references, checks, report) is the same whichever ran it.

On Dask (the optional `dask` extra, `distributed`) the client lists the store and reads headers
itself; only whole-file reads become tasks, biggest first, with at most two per worker thread
in flight so the scheduler never holds a whole store's task graph. Each task is a plain,
picklable call of `hash_on_worker(job, share)`, so another way of reaching a file (an object
store's reader) plugs in as another job type. The workers must see the files at the same path
(a shared NFS or Lustre mount): their device numbers differ from the client's, so identity is
compared without them. A worker lost mid-file is Dask's to retry on another (up to its
`allowed-failures`); a file no worker could hash comes back as a digest with an error, which
the checks report and which is never verified. Bytes read are reported by the workers as
events and drawn on the client's progress bar.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
import uuid
import warnings
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from scanner.errors import ScanIncomplete, UsageError
from scanner.integrity.hashing import FileDigest, HashJob, hash_file, hash_files, should_drop_behind

if TYPE_CHECKING:
    from distributed import Client

    from scanner.pipeline.objects import ObjectJob
    from scanner.remote.objectstore import ObjectDigest

INSTALL_HINT = 'install the dask extra: pip install "aiscan[dask]"'
CONNECT_TIMEOUT_S = 5
"""How long to wait for a scheduler (Dask's own default is 30 s): a typo fails fast."""
NO_WORKER_GRACE_S = 60
"""How long a run waits with work left and no worker connected before giving the rest up."""
PROGRESS_EVERY = 32 * 1024 * 1024
"""How many bytes a worker hashes between two progress events (few events, smooth bar)."""
_TOPIC = "aiscan-progress"


class Hasher(Protocol):
    """Something that hashes whole files and yields each digest as it is done."""

    across_hosts: bool
    """True when the files may be read on another host (device numbers are not compared)."""

    def digests(
        self, jobs: Sequence[HashJob], *, progress: Callable[[int], None] | None
    ) -> Iterator[FileDigest]: ...

    def object_digests(
        self, jobs: Sequence[ObjectJob], *, progress: Callable[[int], None] | None
    ) -> Iterator[tuple[ObjectJob, ObjectDigest]]:
        """Stream whole objects of an object store (`scanner.remote.objectstore.hash_object`)."""
        ...


class ThreadHasher:
    """Hashes with a thread per core in this process (hashlib releases the GIL)."""

    across_hosts = False

    def __init__(self, workers: int) -> None:
        self.workers = workers

    def digests(
        self, jobs: Sequence[HashJob], *, progress: Callable[[int], None] | None
    ) -> Iterator[FileDigest]:
        total = sum(j.identity.size for j in jobs)
        return hash_files(
            jobs, workers=self.workers, drop_behind=should_drop_behind(total), progress=progress
        )

    def object_digests(
        self, jobs: Sequence[ObjectJob], *, progress: Callable[[int], None] | None
    ) -> Iterator[tuple[ObjectJob, ObjectDigest]]:
        from scanner.pipeline.objects import hash_all

        return hash_all(list(jobs), self.workers, progress)


def _event_reporter(topic: str, key: str) -> Callable[[int], None]:
    """On a worker: report bytes read as events every `PROGRESS_EVERY` bytes."""
    from distributed import get_worker

    worker = get_worker()
    unreported = 0

    def advance(count: int) -> None:
        nonlocal unreported
        unreported += count
        if unreported >= PROGRESS_EVERY:
            worker.log_event(topic, {"key": key, "bytes": unreported})
            unreported = 0

    return advance


def hash_on_worker(job: HashJob, share: int, topic: str, key: str) -> FileDigest:
    """The task a Dask worker runs: hash one whole file, reporting bytes as events.

    `share` is the bytes this run asks of each worker: the worker's own memory decides
    whether pages are dropped behind the reader, as a local run would.
    """
    advance = _event_reporter(topic, key)
    return hash_file(job, drop_behind=should_drop_behind(share), progress=advance)


def hash_object_on_worker(job: ObjectJob, topic: str, key: str) -> ObjectDigest:
    """The task a Dask worker runs for an object-store file: stream it from the store with the
    worker's own credentials (its provider chain, `AWS_ENDPOINT_URL`), reporting bytes."""
    from scanner.remote.objectstore import hash_object

    advance = _event_reporter(topic, key)
    return hash_object(job.url, job.storage_options, job.size, job.etag, advance)


class _ClusterProgress:
    """Turns workers' byte events into bar advances: a file retried after its worker died is
    counted once, and a finished file accounts for exactly its size."""

    def __init__(self, progress: Callable[[int], None] | None, sizes: dict[str, int]) -> None:
        self._progress = progress
        self._sizes = sizes
        self._counted: dict[str, int] = {}
        self._done: set[str] = set()
        self._lock = threading.Lock()

    def _advance(self, key: str, count: int) -> None:
        with self._lock:
            if key in self._done:
                return
            before = self._counted.get(key, 0)
            after = min(self._sizes[key], before + count)
            self._counted[key] = after
        if self._progress is not None and after > before:
            self._progress(after - before)

    def event(self, event: tuple[float, Any]) -> None:
        message = event[1]
        if isinstance(message, dict) and message.get("key") in self._sizes:
            self._advance(message["key"], int(message.get("bytes", 0)))

    def finished(self, key: str) -> None:
        self._advance(key, self._sizes[key])
        with self._lock:
            self._done.add(key)


class DaskHasher:
    """Hashes on the workers of a Dask cluster, reached through `client`."""

    across_hosts = True

    def __init__(self, client: Client) -> None:
        self.client = client

    def digests(
        self, jobs: Sequence[HashJob], *, progress: Callable[[int], None] | None
    ) -> Iterator[FileDigest]:
        share = sum(j.identity.size for j in jobs) // max(1, len(worker_threads(self.client)))
        for job, future in self._run(
            jobs,
            lambda j: j.identity.size,
            lambda job, topic, key: (hash_on_worker, job, share, topic, key),
            progress,
        ):
            if future is None:
                yield FileDigest(job, None, error=NO_WORKER_LEFT)
                continue
            digest, error = _outcome(future)
            if digest is None:
                yield FileDigest(job, None, error=error)
            else:  # the worker's digest, with this process's job (its identity as listed here)
                yield FileDigest(job, digest.sha256, digest.git_sha1, digest.error)

    def object_digests(
        self, jobs: Sequence[ObjectJob], *, progress: Callable[[int], None] | None
    ) -> Iterator[tuple[ObjectJob, ObjectDigest]]:
        from scanner.remote.objectstore import ObjectDigest

        for job, future in self._run(
            jobs,
            lambda j: j.size,
            lambda job, topic, key: (hash_object_on_worker, job, topic, key),
            progress,
        ):
            if future is None:
                yield job, ObjectDigest(job.url, None, error=NO_WORKER_LEFT)
                continue
            digest, error = _outcome(future)
            yield job, digest if digest is not None else ObjectDigest(job.url, None, error=error)

    def _run(
        self,
        jobs: Sequence[Any],
        size_of: Callable[[Any], int],
        task: Callable[[Any, str, str], tuple[Any, ...]],
        progress: Callable[[int], None] | None,
    ) -> Iterator[tuple[Any, Any]]:
        """Submit one task per job, biggest first, at most two per worker thread in flight;
        yield each job with its finished future, or with None when no worker is left."""
        ordered = sorted(jobs, key=size_of, reverse=True)
        if not ordered:
            return
        threads = worker_threads(self.client)
        run = uuid.uuid4().hex
        topic = f"{_TOPIC}-{run}"
        keys = {f"aiscan-hash-{run}-{n}": job for n, job in enumerate(ordered)}
        tracker = _ClusterProgress(progress, {k: size_of(j) for k, j in keys.items()})
        self.client.subscribe_topic(topic, tracker.event)
        pending = iter(keys.items())
        in_flight: dict[Any, tuple[str, Any]] = {}
        limit = 2 * max(1, sum(threads.values()))
        idle_since: float | None = None
        try:
            while True:
                for key, job in pending:
                    function, *arguments = task(job, topic, key)
                    future = self.client.submit(function, *arguments, key=key, pure=False)
                    in_flight[future] = (key, job)
                    if len(in_flight) >= limit:
                        break
                if not in_flight:
                    return
                done = wait_some(self.client, list(in_flight), 5)
                if not done:
                    # Tasks wait for a worker that may never come: give up after a grace period.
                    if worker_threads(self.client):
                        idle_since = None
                    elif idle_since is None:
                        idle_since = time.monotonic()
                    elif time.monotonic() - idle_since > NO_WORKER_GRACE_S:
                        for future, (_key, job) in in_flight.items():
                            future.cancel()
                            yield job, None
                        for _key, job in pending:
                            yield job, None
                        return
                    continue
                for future in done:
                    key, job = in_flight.pop(future)
                    tracker.finished(key)
                    yield job, future
        finally:
            with contextlib.suppress(Exception):  # a lost scheduler is reported already
                for future in in_flight:
                    future.cancel()
                self.client.unsubscribe_topic(topic)


NO_WORKER_LEFT = "no Dask worker left to hash it"


def _outcome(future: Any) -> tuple[Any, str | None]:
    """A finished task's digest, or why no worker could produce one (never a verified file)."""
    from concurrent.futures import CancelledError

    from distributed import KilledWorker

    if future.status == "finished":
        return future.result(), None
    try:
        exception = future.exception()
    except CancelledError:
        raise SchedulerLost(future.client) from None
    if isinstance(exception, KilledWorker):
        return None, "no worker could hash it: every worker trying died"
    return None, f"a Dask worker failed on it: {exception}"


class SchedulerLost(ScanIncomplete):
    """The connection to the scheduler broke mid-run: the run could not complete (exit 3)."""

    def __init__(self, client: Client) -> None:
        address = getattr(client.scheduler, "address", None) or "its address"
        super().__init__(f"lost the connection to the Dask scheduler at {address}; not verified")


def worker_threads(client: Client) -> dict[str, int]:
    """Worker address → threads, of the workers connected now."""
    from concurrent.futures import CancelledError

    try:
        return dict(client.nthreads())
    except (CancelledError, OSError):
        raise SchedulerLost(client) from None


def wait_some(client: Client, futures: list[Any], timeout: float) -> set[Any]:
    """The futures done within `timeout` seconds (as soon as one is), possibly none; a lost
    scheduler is one error, not Dask's traceback."""
    from concurrent.futures import CancelledError

    from distributed import wait

    try:
        with client.as_current():
            done, _ = wait(futures, timeout=timeout, return_when="FIRST_COMPLETED")
    except TimeoutError:
        return set()
    except (CancelledError, OSError):
        raise SchedulerLost(client) from None
    return set(done)


@contextlib.contextmanager
def dask_client(address: str, warn: Callable[[str], None]) -> Iterator[Client]:
    """A client of the scheduler at `address`, or one error line: the extra is missing (exit
    3: this install cannot run it), the address is not one (exit 2), the scheduler does not
    answer within `CONNECT_TIMEOUT_S` or has no workers (exit 3). Dask's own log lines are
    silenced: aiscan says what matters once; its warnings (version mismatches) pass through
    `warn`."""
    try:
        import dask.config
        import distributed
    except ImportError:
        raise ScanIncomplete(f"--scheduler needs Dask distributed; {INSTALL_HINT}") from None
    _silence_dask_logs()
    seconds = f"{CONNECT_TIMEOUT_S}s"
    settings = {
        "distributed.comm.timeouts.connect": seconds,
        "distributed.comm.timeouts.tcp": "30s",
    }
    with warnings.catch_warnings(record=True) as caught, dask.config.set(settings):
        warnings.simplefilter("always")
        try:
            client = distributed.Client(address, timeout=seconds, set_as_default=False)
        except ValueError as exc:
            raise UsageError(f"{address!r} is not a Dask scheduler address: {exc}") from None
        except (OSError, TimeoutError) as exc:
            reason = str(exc).split("\n")[0] or type(exc).__name__
            raise ScanIncomplete(
                f"cannot reach the Dask scheduler at {address} within {seconds}: {reason}"
            ) from None
    for warning in caught:
        warn(f"dask: {str(warning.message).strip().splitlines()[0]}")
    try:
        if not worker_threads(client):
            raise ScanIncomplete(f"the Dask scheduler at {address} has no workers")
        yield client
    finally:
        with contextlib.suppress(Exception):
            client.close(timeout=CONNECT_TIMEOUT_S)


def _silence_dask_logs() -> None:
    """Dask's configuration gives its loggers their own levels (`distributed.client: warning`):
    each is raised, or its lines would reach stderr beside aiscan's one error line."""
    import logging

    names = [n for n in logging.root.manager.loggerDict if n.startswith("distributed.")]
    for name in ("distributed", "tornado", "asyncio", *names):
        logging.getLogger(name).setLevel(logging.CRITICAL)


def configured_scheduler() -> str | None:
    """The scheduler Dask's configuration names (`scheduler-address` in its YAML files or
    `DASK_SCHEDULER_ADDRESS`), read only when the extra is installed and some Dask
    configuration exists, so a plain local verify does not pay for importing Dask."""
    import importlib.util

    explicit = os.environ.get("DASK_SCHEDULER_ADDRESS")
    if explicit:
        return explicit
    if importlib.util.find_spec("dask") is None or not _dask_config_present():
        return None
    import dask.config

    address = dask.config.get("scheduler-address", default=None)
    return str(address) if address else None


def _dask_config_present() -> bool:
    """Whether Dask would find configuration besides its defaults (files or DASK_ variables)."""
    import sys

    if any(name.startswith("DASK_") for name in os.environ):
        return True
    folders = [
        Path(os.environ.get("DASK_CONFIG", "~/.config/dask")).expanduser(),
        Path(sys.prefix) / "etc" / "dask",
        Path("/etc/dask"),
    ]
    for folder in folders:
        with contextlib.suppress(OSError):
            if any(p.suffix in (".yaml", ".yml", ".json") for p in folder.iterdir()):
                return True
    return False


@contextlib.contextmanager
def hasher_for(scheduler: str | None, jobs: int, warn: Callable[[str], None]) -> Iterator[Hasher]:
    """The executor a run hashes with: Dask when a scheduler is named, else local threads."""
    if scheduler is None:
        yield ThreadHasher(jobs)
        return
    with dask_client(scheduler, warn) as client:
        yield DaskHasher(client)
