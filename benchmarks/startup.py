"""Measures how long `aiscan --help` and `aiscan --version` take to start.

Goal (issue: foundation): under 0.3 s, which keeps heavy imports (huggingface_hub, rich, yaml,
license-expression) out of the CLI's import path. Run: `python benchmarks/startup.py`.
"""

from __future__ import annotations

import shutil
import sys

from timing import median_seconds

RUNS = 15
GOAL_SECONDS = 0.3


def main() -> int:
    aiscan = shutil.which("aiscan")
    commands = {
        "python -c pass (interpreter floor)": [sys.executable, "-c", "pass"],
        "aiscan --help": [aiscan or "aiscan", "--help"],
        "aiscan --version": [aiscan or "aiscan", "--version"],
        "aiscan scan --help": [aiscan or "aiscan", "scan", "--help"],
    }
    if aiscan is None:
        print("aiscan is not on PATH; install it first (pip install .)", file=sys.stderr)
        return 2
    print(f"{'command':40} {'median (s)':>10}")
    worst = 0.0
    for label, argv in commands.items():
        seconds = median_seconds(argv, RUNS)
        print(f"{label:40} {seconds:10.3f}")
        if label.startswith("aiscan"):
            worst = max(worst, seconds)
    verdict = "meets" if worst < GOAL_SECONDS else "MISSES"
    print(f"slowest aiscan start: {worst:.3f} s, {verdict} the {GOAL_SECONDS} s goal")
    return 0 if worst < GOAL_SECONDS else 1


if __name__ == "__main__":
    sys.exit(main())
