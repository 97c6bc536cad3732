"""Dask clusters for the tests: a scheduler and process workers (each behind a nanny, which
restarts a worker that dies) on 127.0.0.1, started once per module because start-up is slow.

`start_cluster(workers)` takes one entry per worker: its name and the environment its
process gets, so a fleet of "hosts" on one machine can each have its own home, HF cache and
hash cache.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any


def start_cluster(workers: Mapping[str, Mapping[str, str]]) -> Any:
    """A running SpecCluster (the class LocalCluster is built on) with one single-threaded
    process worker per entry of `workers` (name → environment)."""
    from distributed import Nanny, Scheduler, SpecCluster

    for name in ("distributed", "tornado", "asyncio"):
        logging.getLogger(name).setLevel(logging.CRITICAL)
    return SpecCluster(
        scheduler={
            "cls": Scheduler,
            "options": {"host": "127.0.0.1", "port": 0, "dashboard_address": "127.0.0.1:0"},
        },
        workers={
            name: {
                "cls": Nanny,
                "options": {
                    "name": name,
                    "host": "127.0.0.1",
                    "nthreads": 1,
                    "dashboard_address": "127.0.0.1:0",
                    "env": dict(env),
                    "silence_logs": logging.CRITICAL,
                },
            }
            for name, env in workers.items()
        },
        silence_logs=logging.CRITICAL,
    )


def worker_pids(address: str) -> dict[str, int]:
    """Worker address and worker name → process id, asked of the workers themselves."""
    import os

    from distributed import Client

    with Client(address, set_as_default=False) as client:
        answers = client.run(lambda dask_worker: (str(dask_worker.name), os.getpid()))
    pids = {address: pid for address, (_name, pid) in answers.items()}
    pids.update(answers.values())
    return pids
