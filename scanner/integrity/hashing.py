"""Parallel SHA-256 of whole files, close to the storage or CPU limit, and honest about failures.

hashlib releases the GIL while it digests, so a thread per core hashes in parallel without the
cost of processes. Each thread reuses one 1 MiB buffer filled with `readinto` (no allocation per
block), the kernel is told the read is sequential (bigger read-ahead), and when the work is larger
than the page cache could hold anyway, pages already hashed are dropped behind the reader so a
GPU host's working set is not evicted by a verification run. Files are hashed biggest first so
the last thread is not left alone with the largest shard.

A digest is recorded only when every byte was read and the file's size, mtime and ctime were the
same before and after: a file deleted, replaced or growing during hashing is reported, not
trusted.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import itertools
import os
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from scanner.errors import describe_os_error
from scanner.readers.safetensors import open_regular

if TYPE_CHECKING:
    from concurrent.futures import Future

T = TypeVar("T")
R = TypeVar("R")

BLOCK_SIZE = 1024 * 1024
"""Big enough that per-call overhead vanishes, small enough to stay in the CPU cache."""
DROP_BEHIND_EVERY = 64 * BLOCK_SIZE
"""How often, when dropping pages behind the reader, to tell the kernel."""


@dataclass(frozen=True)
class FileIdentity:
    """What must not change for a recorded digest to still describe a file."""

    device: int
    inode: int
    size: int
    mtime_ns: int
    ctime_ns: int

    @classmethod
    def of(cls, st: os.stat_result) -> FileIdentity:
        return cls(st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)

    def same_file(self, other: FileIdentity, *, across_hosts: bool = False) -> bool:
        """Whether `other` describes this file unchanged. Seen from another host, a shared
        store's device number is that host's mount, not the file's: only inode, size and
        times (which NFS and Lustre serve from the storage) still identify it."""
        if across_hosts:
            return dataclasses.replace(other, device=self.device) == self
        return other == self


@dataclass(frozen=True)
class HashJob:
    """One file to hash; `git_sha1` also computes the git blob id (for 40-hex HF blob names)."""

    path: str
    identity: FileIdentity
    git_sha1: bool = False
    across_hosts: bool = False
    """True when another host may hash the file: its device number is not compared."""


@dataclass(frozen=True)
class FileDigest:
    """The outcome of hashing one file: digests when fully read, else why not."""

    job: HashJob
    sha256: str | None
    git_sha1: str | None = None
    error: str | None = None
    cached: bool = False
    """True when the digests come from the hash cache rather than from reading the file."""


def default_jobs() -> int:
    """The cores this process may run on (respects CPU affinity and container limits)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def should_drop_behind(total_bytes: int) -> bool:
    """True when the work exceeds half the available memory: the page cache cannot keep it, so
    keeping it would only evict other processes' pages (and hot stores stay cached)."""
    try:
        available = os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return False
    return total_bytes > available // 2


_buffers = threading.local()


def _buffer() -> memoryview:
    view = getattr(_buffers, "view", None)
    if view is None:
        view = _buffers.view = memoryview(bytearray(BLOCK_SIZE))
    return view


def _advise(fd: int, offset: int, length: int, advice: str) -> None:
    flag = getattr(os, advice, None)
    if flag is not None:
        with contextlib.suppress(OSError):  # advice only; some file systems refuse it
            os.posix_fadvise(fd, offset, length, flag)


def hash_file(
    job: HashJob, *, drop_behind: bool = False, progress: Callable[[int], None] | None = None
) -> FileDigest:
    """Hash one file, checking it is the same file, unchanged, from first byte to last."""
    view = _buffer()
    sha256 = hashlib.sha256()
    git = hashlib.sha1(usedforsecurity=False) if job.git_sha1 else None
    read = 0
    try:
        with open_regular(job.path) as handle:
            fd = handle.fileno()
            before = FileIdentity.of(os.fstat(fd))
            if not job.identity.same_file(before, across_hosts=job.across_hosts):
                return FileDigest(job, None, error="changed between listing and hashing")
            if git is not None:
                git.update(b"blob %d\0" % before.size)
            _advise(fd, 0, 0, "POSIX_FADV_SEQUENTIAL")
            dropped = 0
            # Never read past the size seen at the start: a file that keeps growing would
            # otherwise be read forever. One byte more than expected is enough to know.
            while read <= before.size:
                count = handle.readinto(view[: min(BLOCK_SIZE, before.size + 1 - read)])
                if not count:
                    break
                chunk = view[:count]
                sha256.update(chunk)
                if git is not None:
                    git.update(chunk)
                read += count
                if progress is not None:
                    progress(count)
                if drop_behind and read - dropped >= DROP_BEHIND_EVERY:
                    _advise(fd, dropped, read - dropped, "POSIX_FADV_DONTNEED")
                    dropped = read
            after = os.fstat(fd)
            if drop_behind:
                _advise(fd, 0, 0, "POSIX_FADV_DONTNEED")
    except OSError as exc:
        return FileDigest(job, None, error=describe_os_error(exc))
    if FileIdentity.of(after) != before or after.st_nlink == 0:
        return FileDigest(job, None, error="changed or was deleted while being hashed")
    if read != before.size:
        return FileDigest(
            job, None, error=f"read {read} bytes of {before.size}: changed while being hashed"
        )
    try:
        still_there = FileIdentity.of(Path(job.path).stat()) == before
    except OSError:
        still_there = False
    if not still_there:
        return FileDigest(job, None, error="replaced or removed while being hashed")
    return FileDigest(job, sha256.hexdigest(), git.hexdigest() if git is not None else None)


def hash_files(
    jobs: Iterable[HashJob],
    *,
    workers: int,
    drop_behind: bool = False,
    progress: Callable[[int], None] | None = None,
) -> Iterator[FileDigest]:
    """Hash files in parallel, biggest first, yielding each digest as soon as it is done.

    At most `2 × workers` files are in flight, so memory stays bounded however large the store.
    """
    ordered = sorted(jobs, key=lambda j: j.identity.size, reverse=True)
    if workers <= 1 or len(ordered) <= 1:  # no pool for one file (a cached re-verify: none)
        for job in ordered:
            yield hash_file(job, drop_behind=drop_behind, progress=progress)
        return
    yield from in_parallel(
        lambda job: hash_file(job, drop_behind=drop_behind, progress=progress),
        ordered,
        workers=workers,
        name="aiscan-hash",
    )


def in_parallel(
    call: Callable[[T], R], items: Iterable[T], *, workers: int, name: str
) -> Iterator[R]:
    """`call` on each item on `workers` threads, submitted in the items' order, yielding
    each result as soon as it is done; at most `2 × workers` in flight, so a store of any size
    is never queued whole."""
    # Imported here: with logging it is 2 ms of every start, and a cached re-verify hashes nothing.
    from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait

    pending = iter(items)
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix=name) as pool:
        in_flight: set[Future[R]] = {
            pool.submit(call, item) for item in itertools.islice(pending, 2 * workers)
        }
        while in_flight:
            done, in_flight = wait(in_flight, return_when=FIRST_COMPLETED)
            for future in done:
                following = next(pending, None)
                if following is not None:
                    in_flight.add(pool.submit(call, following))
                yield future.result()
