"""Benchmark the Dask path of `aiscan verify` against the local thread pool on the same cores.

    python benchmarks/distributed.py [--size-gb 2] [--shards 8] [--repeat 7]

Builds a store of valid safetensors shards filled with random bytes (as benchmarks/verify.py
does), warms the page cache, then times the verification in-process (median of --repeat runs,
no hash cache, so every byte is hashed every time):

- the local thread pool, one thread per core (what `aiscan verify` does without a scheduler);
- a LocalCluster of 1 process worker with a thread per core, and of 2 process workers with
  half the threads each (`aiscan verify --scheduler`), the client's connection included and the
  cluster's start-up excluded (a deployment is already running);

and prints each run's rate and the overhead of the distributed path over the local one (goal:
≤ 10 % for a 2 GB store). Also prints one core's SHA-256 rate on bytes in memory, the per-worker
figure the throughput model of docs/scale.md starts from.

Not a test: numbers depend on the machine. The temporary store is removed at the end.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import logging
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
# This script's name would shadow the `distributed` package: its folder leaves the path.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != HERE]
sys.path.insert(0, str(REPO))

from scanner.integrity.hashing import default_jobs  # noqa: E402
from scanner.licensing.knowledge_base import default_knowledge_base  # noqa: E402
from scanner.pipeline.verify import VerifyOptions, run_verify  # noqa: E402
from scanner.policy.load import resolve_policy  # noqa: E402


def _timing() -> object:
    """benchmarks/timing.py, which benchmarks/verify.py imports by its plain name."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("timing", HERE / "timing.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def core_rate(megabytes: int = 512) -> float:
    """SHA-256 bytes per second of one core over a buffer already in memory."""
    data = bytes(megabytes * 1024 * 1024)
    start = time.perf_counter()
    hashlib.sha256(data).hexdigest()
    return len(data) / (time.perf_counter() - start)


def timed_verify(store: Path, scheduler: str | None, jobs: int, repeat: int) -> float:
    kb = default_knowledge_base()
    policy = resolve_policy(None, kb)
    options = VerifyOptions(jobs=jobs, read_cache=False, write_cache=False, scheduler=scheduler)
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        result = run_verify([store], policy, kb, options)
        samples.append(time.perf_counter() - start)
        hashed = [f for c in result.components for f in c.files if f.sha256]
        assert hashed and all(not f.error for f in hashed), "every shard hashed"
    return statistics.median(samples)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--size-gb", type=float, default=2.0)
    parser.add_argument("--shards", type=int, default=8)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    import importlib.util

    from distributed import LocalCluster

    spec = importlib.util.spec_from_file_location("verify_benchmark", HERE / "verify.py")
    assert spec is not None and spec.loader is not None
    verify_benchmark = importlib.util.module_from_spec(spec)
    sys.modules["timing"] = _timing()
    spec.loader.exec_module(verify_benchmark)

    for name in ("distributed", "tornado", "asyncio"):
        logging.getLogger(name).setLevel(logging.CRITICAL)
    cores = default_jobs()
    total = int(args.size_gb * 1024**3)
    root = Path(tempfile.mkdtemp(prefix="aiscan-dask-bench-"))
    try:
        store = root / "store"
        verify_benchmark.sharded_model(store / "model", args.shards, total // args.shards)
        for path in store.rglob("*.safetensors"):
            path.read_bytes()  # page cache warm for every run alike
        print(f"store: {args.size_gb:g} GiB in {args.shards} shards; {cores} cores")
        print(f"one core's SHA-256 on bytes in memory: {core_rate() / 1e9:.2f} GB/s")
        clusters = {}
        with contextlib.ExitStack() as stack:
            for workers in (1, 2):
                threads = max(1, cores // workers)
                cluster = stack.enter_context(
                    LocalCluster(
                        n_workers=workers,
                        threads_per_worker=threads,
                        processes=True,
                        host="127.0.0.1",
                        dashboard_address="127.0.0.1:0",
                        silence_logs=logging.CRITICAL,
                    )
                )
                name = f"LocalCluster {workers}×{threads} threads"
                clusters[name] = (cluster.scheduler_address, workers * threads)
                timed_verify(store, cluster.scheduler_address, cores, 1)  # workers warm
            # Rounds interleave the executors so that a load change on a shared machine
            # falls on all of them alike; each figure is the median of its rounds.
            executors = {"local thread pool": (None, cores), **clusters}
            samples: dict[str, list[float]] = {name: [] for name in executors}
            for _ in range(args.repeat):
                for name, (address, _threads) in executors.items():
                    samples[name].append(timed_verify(store, address, cores, 1))
        rows = [(name, threads, samples[name]) for name, (_address, threads) in executors.items()]
        print(f"load average before the runs: {os.getloadavg()[0]:.1f}")
        print(
            f"{'executor':<30} {'threads':>7} {'best s':>7} {'GiB/s':>6} {'overhead':>9}"
            f" {'median s':>9} {'overhead':>9}"
        )
        best_local = min(samples["local thread pool"])
        median_local = statistics.median(samples["local thread pool"])
        for name, threads, times in rows:
            best, median = min(times), statistics.median(times)
            print(
                f"{name:<30} {threads:>7} {best:>7.2f} {total / best / 1024**3:>6.2f}"
                f" {(best / best_local - 1) * 100:>+8.1f}% {median:>9.2f}"
                f" {(median / median_local - 1) * 100:>+8.1f}%"
            )
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
