"""Wall-clock timing shared by the benchmark scripts (run them as `python benchmarks/X.py`)."""

from __future__ import annotations

import statistics
import subprocess
import time


def median_seconds(
    command: list[str] | str,
    runs: int,
    *,
    env: dict[str, str] | None = None,
    warm_up: bool = True,
    check: bool = True,
) -> float:
    """Median wall time of `command` (an argv list, or a shell line) over `runs` runs.

    A warm-up run first, unless `warm_up` is False (e.g. when the first run is what is measured).
    """
    shell = isinstance(command, str)
    if warm_up:
        subprocess.run(command, shell=shell, env=env, check=check, capture_output=True)
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(
            command,
            shell=shell,
            env=env,
            check=check,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)
