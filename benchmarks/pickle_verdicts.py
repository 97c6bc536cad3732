"""Compares aiscan's pickle verdicts with fickling's on the fixtures of `tests/pickles.py`.

Each fixture (hostile ones from the red-team rounds, benign torch-like checkpoints) is written
to a temporary folder and scanned as a single-file target by the `aiscan` CLI; its
`provenance.unsafe-format` finding gives the verdict (unsafe, not scanned, clean). fickling, a
static pickle analyser, judges the same file twice, each time in a child process with a time
and memory limit and nothing unpickled: with its default analyses (`scan_file`,
`scan_zip_archive`), which flag any import outside the standard library, torch's included, and
with its ML allowlist (`fickling.ml.MLAllowlist`), the mode meant for checkpoints. Two verdicts
agree when both call the file safe or both do not.

fickling is not an aiscan dependency: install it where this runs (`pip install fickling`).
Run: `python benchmarks/pickle_verdicts.py` (a few minutes: fickling's default analyses take
about two on the 20 MB MEMOIZE pickle).
"""

from __future__ import annotations

import io
import json
import multiprocessing
import resource
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.pickles import BENIGN, HOSTILE, Fixture

FICKLING_SECONDS = 120
FICKLING_MEMORY = 4 * 1024**3
_MEMBERS = (".pkl", ".pickle", ".bin")
"""The zip members fickling's `scan_zip_archive` reads as pickles."""


def aiscan_verdict(path: Path) -> str:
    """The verdict of `aiscan scan PATH`: what its `provenance.unsafe-format` finding says."""
    command = "from scanner.cli.main import main; main()"
    done = subprocess.run(
        [sys.executable, "-c", command, "scan", str(path), "--format", "json"],
        capture_output=True,
        text=True,
        check=False,
    )
    report = json.loads(done.stdout)
    hits = [f for f in report["findings"] if f["rule"] == "provenance.unsafe-format"]
    if not hits:
        return "not a pickle"
    (hit,) = hits
    if hit["severity"] == "error":
        return "unsafe"
    return "clean" if hit["evidence"]["scanned"] else "not scanned"


def _fickling_ml(data: bytes) -> str:
    """fickling's allowlist analysis (`fickling.ml.MLAllowlist`, the mode that admits torch
    checkpoints) over every pickle of `data`."""
    from fickling.analysis import Analyzer, Severity, check_safety
    from fickling.fickle import StackedPickle
    from fickling.ml import MLAllowlist

    stacked = StackedPickle.load(io.BytesIO(data), fail_on_decode_error=False)
    worst = Severity.LIKELY_SAFE
    for pickled in stacked:
        if pickled.has_invalid_opcode:
            return "flagged (invalid opcode)"
        worst = max(worst, check_safety(pickled, Analyzer([MLAllowlist()])).severity)
    return "safe" if worst <= Severity.LIKELY_SAFE else f"flagged ({worst.name})"


def _fickling_default(path: str) -> str:
    """fickling's default analyses, as its `scan_file` / `scan_zip_archive` run them."""
    import fickling

    if zipfile.is_zipfile(path):
        results = list(fickling.scan_zip_archive(path, graceful=True).values())
    else:
        results = [fickling.scan_file(path, graceful=True)]
    if results and all(results):
        return "safe"
    worst = max(r.severity for r in results).name if results else "no pickle"
    parse = ", parse error" if any(r.errors for r in results) else ""
    return f"flagged ({worst}{parse})"


def _fickling_allowlist(path: str) -> str:
    """fickling's ML allowlist over every pickle of the file (zip members as fickling picks)."""
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as archive:
            members = [archive.read(m) for m in archive.infolist() if m.filename.endswith(_MEMBERS)]
    else:
        members = [Path(path).read_bytes()]
    verdicts = [_fickling_ml(data) for data in members]
    return next((v for v in verdicts if v != "safe"), "safe")


_MODES = {"default analyses": _fickling_default, "ML allowlist": _fickling_allowlist}


def _fickling(mode: str, path: str, answer: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    resource.setrlimit(resource.RLIMIT_AS, (FICKLING_MEMORY, FICKLING_MEMORY))
    try:
        answer.put(_MODES[mode](path))
    except Exception as exc:  # whatever fickling raises is its verdict
        answer.put(f"error ({type(exc).__name__})")


def fickling_verdict(mode: str, path: Path) -> str:
    """One fickling verdict, from a child process it cannot take down with it."""
    context = multiprocessing.get_context("spawn")
    answer = context.Queue()
    child = context.Process(target=_fickling, args=(mode, str(path), answer))
    child.start()
    child.join(FICKLING_SECONDS)
    if child.is_alive():
        child.kill()
        child.join()
        return f"timeout ({FICKLING_SECONDS} s)"
    return answer.get() if not answer.empty() else f"crashed (exit {child.exitcode})"


def main() -> int:
    try:
        import fickling
    except ImportError:
        print("fickling is not installed: pip install fickling", file=sys.stderr)
        return 2
    fixtures: tuple[Fixture, ...] = HOSTILE + BENIGN
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for index, fixture in enumerate(fixtures):
            path = Path(tmp, str(index), fixture.file)
            path.parent.mkdir()
            path.write_bytes(fixture.build())
            start = time.perf_counter()
            ours = aiscan_verdict(path)
            seconds = time.perf_counter() - start
            rows.append((fixture, ours, seconds, *(fickling_verdict(m, path) for m in _MODES)))

    print(
        f"aiscan: `aiscan scan FILE`; fickling {fickling.__version__}: default analyses | ML allowlist"
    )
    width = max(len(f.name) for f in fixtures)
    print(
        f"{'fixture':{width}}  {'kind':7}  {'aiscan':12}  {'s':>5}  fickling default | ML allowlist"
    )
    expected = 0
    agree = [0, 0]
    for fixture, ours, seconds, *theirs in rows:
        kind = "hostile" if fixture.hostile else "benign"
        expected += ours == fixture.verdict
        marks = []
        for mode, verdict in enumerate(theirs):
            same = (ours == "clean") == (verdict == "safe")
            agree[mode] += same
            marks.append(verdict if same else f"{verdict} *")
        print(f"{fixture.name:{width}}  {kind:7}  {ours:12}  {seconds:5.2f}  {' | '.join(marks)}")
    print("* differs from aiscan on safe / not safe")
    print(f"aiscan gives the expected verdict on {expected}/{len(rows)} fixtures")
    for mode, label in enumerate(_MODES):
        print(f"aiscan and fickling ({label}) agree on {agree[mode]}/{len(rows)} fixtures")
    return 0


if __name__ == "__main__":
    sys.exit(main())
