"""The parallel hasher: exact digests, and nothing trusted that changed while it was read."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from scanner.integrity.hashing import BLOCK_SIZE, FileIdentity, HashJob, hash_file, hash_files


def _job(path: Path, git_sha1: bool = False) -> HashJob:
    return HashJob(str(path), FileIdentity.of(path.stat()), git_sha1=git_sha1)


def test_parallel_digests_equal_hashlib(tmp_path):
    sizes = [0, 1, BLOCK_SIZE - 1, BLOCK_SIZE, 3 * BLOCK_SIZE + 7]
    paths = []
    for size in sizes:
        path = tmp_path / f"f{size}"
        path.write_bytes(os.urandom(size))
        paths.append(path)
    digests = {d.job.path: d for d in hash_files([_job(p) for p in paths], workers=4)}
    assert len(digests) == len(paths)
    for path in paths:
        digest = digests[str(path)]
        assert digest.error is None
        assert digest.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()


def test_biggest_first_and_progress_counts_every_byte(tmp_path):
    for name, size in (("small", 10), ("big", 2 * BLOCK_SIZE), ("mid", 5000)):
        (tmp_path / name).write_bytes(b"x" * size)
    seen: list[int] = []
    jobs = [_job(tmp_path / n) for n in ("small", "big", "mid")]
    order = [Path(d.job.path).name for d in hash_files(jobs, workers=1, progress=seen.append)]
    assert order == ["big", "mid", "small"]
    assert sum(seen) == 2 * BLOCK_SIZE + 5010


def test_git_blob_id(tmp_path):
    path = tmp_path / "config.json"
    path.write_bytes(b'{"a": 1}\n')
    digest = hash_file(_job(path, git_sha1=True))
    content = path.read_bytes()
    assert digest.git_sha1 == hashlib.sha1(b"blob %d\0" % len(content) + content).hexdigest()


def test_file_growing_during_hashing_is_not_trusted(tmp_path):
    path = tmp_path / "grow.bin"
    path.write_bytes(b"\0" * (4 * BLOCK_SIZE))

    def grow(_: int) -> None:
        if path.stat().st_size == 4 * BLOCK_SIZE:
            with path.open("ab") as handle:
                handle.write(b"more")

    digest = hash_file(_job(path), progress=grow)
    assert digest.sha256 is None
    assert "changed" in digest.error


def test_file_deleted_during_hashing_is_not_trusted(tmp_path):
    path = tmp_path / "gone.bin"
    path.write_bytes(b"\0" * (4 * BLOCK_SIZE))

    def delete(_: int) -> None:
        if path.exists():
            path.unlink()

    digest = hash_file(_job(path), progress=delete)
    assert digest.sha256 is None and digest.error


def test_file_changed_since_listing_is_not_trusted(tmp_path):
    path = tmp_path / "f.bin"
    path.write_bytes(b"one")
    job = _job(path)
    path.write_bytes(b"other content")
    digest = hash_file(job)
    assert digest.sha256 is None and "changed" in digest.error


def test_fifo_is_refused_without_blocking(tmp_path):
    fifo = tmp_path / "model.safetensors"
    os.mkfifo(fifo)
    job = HashJob(str(fifo), FileIdentity.of(fifo.stat()))
    digest = hash_file(job)
    assert digest.sha256 is None and "not a regular file" in digest.error


@pytest.mark.parametrize("workers", [1, 3])
def test_empty_job_list(workers):
    assert list(hash_files([], workers=workers)) == []


def test_another_hosts_device_number_is_not_a_change_but_anything_else_is(tmp_path):
    import dataclasses

    path = tmp_path / "f.bin"
    path.write_bytes(b"shared store")
    listed = _job(path)
    elsewhere = dataclasses.replace(
        listed.identity, device=listed.identity.device + 1
    )  # the same file seen through another host's mount
    remote = HashJob(str(path), elsewhere, across_hosts=True)
    assert hash_file(remote).sha256 == hashlib.sha256(b"shared store").hexdigest()
    assert hash_file(dataclasses.replace(remote, across_hosts=False)).sha256 is None
    other_inode = dataclasses.replace(elsewhere, inode=elsewhere.inode + 1)
    assert hash_file(HashJob(str(path), other_inode, across_hosts=True)).sha256 is None
