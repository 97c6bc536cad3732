"""How long `aiscan bom` takes on one model folder, beside `aiscan scan` and aisbom-cli.

Goal (issue 15): `aiscan bom` no slower than `aiscan scan` plus hashing, and no slower than
aisbom-cli (which hashes too) on the same folder in the same run. `aiscan bom` and `verify` read
unchanged files' digests from the hash cache after the warm-up; `--no-cache` shows the cost of
reading every file, as aisbom-cli does. Run:
`python benchmarks/bom_speed.py [FOLDER]` (default: the MiniLM snapshot `bash .ci/fetch-snapshot`
unpacks). aisbom-cli is timed when `aisbom` is on PATH or `$AISBOM` names it (install it in a
separate virtualenv: `pip install aisbom-cli`); it runs offline, without telemetry.
"""

from __future__ import annotations

import os
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

from timing import median_seconds

RUNS = 5
DEFAULT_FOLDER = Path(__file__).resolve().parent.parent / ".ci" / "cache" / "all-MiniLM-L6-v2"


def main() -> int:
    folder = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_FOLDER
    aiscan = shutil.which("aiscan")
    if aiscan is None or not folder.is_dir():
        print(f"needs aiscan on PATH and a model folder (got {folder})", file=sys.stderr)
        return 2
    out = Path(tempfile.mkdtemp(prefix="aiscan-bom-speed-"))
    commands = {
        "aiscan scan (no hashing)": [aiscan, "scan", str(folder), "-o", str(out / "scan.txt")],
        "aiscan verify (scan + hashing)": [aiscan, "verify", str(folder)],
        "aiscan bom --no-hash": [aiscan, "bom", str(folder), "--no-hash", "-o", str(out / "a")],
        "aiscan bom (CycloneDX JSON)": [aiscan, "bom", str(folder), "-o", str(out / "b.json")],
        "aiscan bom --no-cache (reads all)": [
            *(aiscan, "bom", str(folder), "--no-cache", "-o", str(out / "b2.json"))
        ],
        "aiscan bom -f cyclonedx-xml": [
            *(aiscan, "bom", str(folder), "-f", "cyclonedx-xml", "-o", str(out / "c.xml"))
        ],
        "aiscan bom -f spdx-json": [
            *(aiscan, "bom", str(folder), "-f", "spdx-json", "-o", str(out / "d.json"))
        ],
    }
    aisbom = os.environ.get("AISBOM") or shutil.which("aisbom")
    if aisbom:
        commands["aisbom scan (CycloneDX)"] = [
            *(aisbom, "scan", str(folder), "--no-fail-on-risk", "--output", str(out / "e.json"))
        ]
    env = {**os.environ, "AISBOM_OFFLINE": "1", "AISBOM_NO_TELEMETRY": "1"}
    print(
        f"{folder}: median of {RUNS} rounds after a warm-up, each round running every command "
        f"once, so a change in the machine's load falls on all of them (os.cpu_count() = "
        f"{os.cpu_count()}; load average {os.getloadavg()[0]:.1f})"
    )
    samples: dict[str, list[float]] = {label: [] for label in commands}
    for round_ in range(RUNS + 1):
        for label, argv in commands.items():
            seconds = median_seconds(argv, 1, env=env, check=False, warm_up=False)
            if round_:  # round 0 warms the caches up
                samples[label].append(seconds)
    print(f"{'command':34} {'median (s)':>10}")
    times = {label: statistics.median(values) for label, values in samples.items()}
    for label, seconds in times.items():
        print(f"{label:34} {seconds:10.3f}")
    bom, verify = times["aiscan bom (CycloneDX JSON)"], times["aiscan verify (scan + hashing)"]
    print(f"aiscan bom / aiscan scan:   {bom / times['aiscan scan (no hashing)']:.2f}")
    print(f"aiscan bom / aiscan verify: {bom / verify:.2f}")
    if aisbom:
        print(f"aiscan bom / aisbom scan:   {bom / times['aisbom scan (CycloneDX)']:.2f}")
    shutil.rmtree(out, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
