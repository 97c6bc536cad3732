"""Every speed goal of issue 19, measured against the peers in one run, with ratios.

    python benchmarks/compare.py [--runs 7] [--folder DIR] [--verify-gb 6] [--tree-files 200000]
                                 [--peers DIR] [--only scan,python,bom,verify,scaling]

Goals (aiscan's time over the reference's, median of --runs, commands interleaved round by
round so that a load spike on this shared machine hits every tool alike):

- `scan` of one model folder (the MiniLM snapshot `bash .ci/fetch-snapshot` unpacks): faster
  than every Python peer (aisbom-cli, Trusera's ai-bom) and within 3x of airom (a Go binary).
- `scan --python` on a 30- and a 250-distribution environment: at most pip-licenses' time,
  on a repeated run (license-text matches kept in aiscan's cache folder) and on a first run
  (a cache folder holding only the compiled knowledge base).
  Both environments are bare venvs holding real `.dist-info` folders copied from the running
  one (copied again under new names past its own count), so both tools read real metadata.
- `bom` of the same folder: at most `scan` + hashing (`sha256sum` of its files), and at most
  aisbom-cli's time (which hashes too).
- Cached re-verify of a generated store of --verify-gb GiB (6 by default: the issue's store):
  the time above `aiscan --version` at most 2 % of the first (cache-filling) verify.
- Scaling: `scan` of an HF cache with 1, 100 and 1,000 repos (each derived from one base that
  is in the cache too) and of a tree of --tree-files small files (a quarter, a half and all
  of them), with peak RSS; linear when the cost per repo (per file) above the smallest run stays
  within 2x from one step to the next. Lineage lookups are counted in-process: once per
  repo revision, whatever the number of derivatives.

Peers come from PATH, else from --peers (default: `aiscan-bench-peers` in the system temp
folder), where each one missing is installed into a throwaway venv of its own with pip: all
four are on PyPI (`pip-licenses`, `aisbom-cli`, `ai-bom`, and `airom`, whose wheel carries the
Go binary). The script says what it installs; a peer that cannot be installed is reported as
such and its goals as not measured, never guessed. Peers run offline, without telemetry.

Python tools (aiscan too) run with their bytecode cache enabled, as an installed tool does; a
warm-up round comes first, so aiscan's compiled knowledge base (in a temporary
AISCAN_CACHE_DIR) is in place, as on every run after the first. Not a test: the numbers
depend on the machine and its load, which is printed. The exit code is 0 when every measured
goal is met, 1 otherwise.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from verify import sharded_model

from scanner.readers.python.dump_cache import RACY_SECONDS

HERE = Path(__file__).resolve().parent
DEFAULT_FOLDER = HERE.parent / ".ci" / "cache" / "all-MiniLM-L6-v2"
RSS_FILE = Path(tempfile.gettempdir(), f"aiscan-compare-rss-{os.getpid()}")


@dataclass(frozen=True)
class Peer:
    package: str
    executable: str


PEERS = {
    "pip-licenses": Peer("pip-licenses", "pip-licenses"),
    "aisbom-cli": Peer("aisbom-cli", "aisbom"),
    "ai-bom": Peer("ai-bom", "ai-bom"),
    "airom": Peer("airom", "airom"),
}


@dataclass
class Sample:
    seconds: list[float] = field(default_factory=list)
    rss_kib: int = 0
    failed: str | None = None

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)


@dataclass
class Goal:
    name: str
    text: str
    met: bool | None  # None: not measured (a peer is missing)


GOALS: list[Goal] = []


def goal(name: str, met: bool | None, text: str) -> None:
    GOALS.append(Goal(name, text, met))
    verdict = {True: "MET", False: "MISSED", None: "NOT MEASURED"}[met]
    print(f"  goal {verdict:12} {name}: {text}")


# --- running things ---------------------------------------------------------------------


def child_env(cache: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env.update(
        AISCAN_CACHE_DIR=str(cache),
        HF_HUB_OFFLINE="1",
        AISBOM_OFFLINE="1",
        AISBOM_NO_TELEMETRY="1",
        DO_NOT_TRACK="1",
        NO_COLOR="1",
    )
    return env


TIME = shutil.which("time", path="/usr/bin:/bin")


def run_once(argv: list[str], env: dict[str, str], cwd: Path | None = None) -> tuple[float, int]:
    """Wall time and peak RSS (KiB; 0 when unknown) of one run, output discarded. The RSS is
    measured by GNU time when present: a child forked from this process would report this
    process's own size until it execs."""
    measured = [TIME, "-f", "%M", "-o", str(RSS_FILE), *argv] if TIME else argv
    start = time.perf_counter()
    subprocess.run(measured, env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    elapsed = time.perf_counter() - start
    rss = 0
    if TIME:
        with contextlib.suppress(OSError, ValueError):
            rss = int(RSS_FILE.read_text().split()[-1])
    return elapsed, rss


def race(
    commands: dict[str, list[str]],
    runs: int,
    env: dict[str, str],
    cwd: Path | None = None,
    *,
    fresh: frozenset[str] = frozenset(),
) -> dict[str, Sample]:
    """Every command once per round, the order rotated each round, after a warm-up round.
    Commands in `fresh` get an aiscan cache folder of their own each run, holding the compiled
    knowledge base only: a first run's cost, without the kept license-text answers."""
    samples = {label: Sample() for label in commands}
    labels = list(commands)
    for label in labels:
        run_once(commands[label], env, cwd)
    for round_ in range(runs):
        order = labels[round_ % len(labels) :] + labels[: round_ % len(labels)]
        for label in order:
            run_env = fresh_cache(env) if label in fresh else env
            seconds, rss = run_once(commands[label], run_env, cwd)
            samples[label].seconds.append(seconds)
            samples[label].rss_kib = max(samples[label].rss_kib, rss)
    return samples


def fresh_cache(env: dict[str, str]) -> dict[str, str]:
    """`env` with a new AISCAN_CACHE_DIR beside its own, holding a copy of its compiled
    knowledge base (`*.json`) and nothing else."""
    shared = Path(env["AISCAN_CACHE_DIR"])
    folder = Path(tempfile.mkdtemp(prefix="fresh-", dir=shared.parent))
    (folder / "compiled").mkdir()
    for compiled in (shared / "compiled").glob("*.json"):
        shutil.copy2(compiled, folder / "compiled" / compiled.name)
    return {**env, "AISCAN_CACHE_DIR": str(folder)}


def show(samples: dict[str, Sample]) -> None:
    print(f"  {'command':44} {'median s':>9} {'min s':>7} {'peak RSS':>10}")
    for label, sample in samples.items():
        print(
            f"  {label:44} {sample.median:9.3f} {min(sample.seconds):7.3f} "
            f"{sample.rss_kib / 1024:8.1f} MB"
        )


def load() -> str:
    one, five, _ = os.getloadavg()
    return f"load average {one:.1f} (1 min) / {five:.1f} (5 min) on {os.cpu_count()} cores"


# --- peers ------------------------------------------------------------------------------


def find_peer(name: str, folder: Path, install: bool) -> str | None:
    peer = PEERS[name]
    on_path = shutil.which(peer.executable)
    if on_path:
        print(f"  {name}: {on_path} (on PATH)")
        return on_path
    venv = folder / name
    executable = venv / "bin" / peer.executable
    if executable.exists():
        print(f"  {name}: {executable} (installed earlier by this script)")
        return str(executable)
    if not install:
        print(f"  {name}: NOT INSTALLED (--no-install)")
        return None
    print(f"  {name}: not found; installing {peer.package} into {venv} (throwaway venv) ...")
    try:
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, capture_output=True)
        subprocess.run(
            [str(venv / "bin" / "python"), "-m", "pip", "install", "-q", peer.package],
            check=True,
            capture_output=True,
            timeout=900,
        )
    except (OSError, subprocess.SubprocessError) as exc:
        detail = getattr(exc, "stderr", b"") or b""
        last = detail.decode(errors="replace").strip().splitlines()[-1:] or [str(exc)]
        print(f"  {name}: COULD NOT BE INSTALLED: {last[0]}")
        shutil.rmtree(venv, ignore_errors=True)
        return None
    if not executable.exists():
        print(f"  {name}: COULD NOT BE INSTALLED: no {peer.executable} after pip install")
        return None
    version = subprocess.run(
        [str(venv / "bin" / "python"), "-m", "pip", "show", peer.package],
        capture_output=True,
        text=True,
        check=False,
    ).stdout
    found = re.search(r"(?m)^Version: (.+)$", version)
    print(f"  {name}: installed {peer.package} {found.group(1) if found else '?'}")
    return str(executable)


def ratio(ours: float, theirs: float) -> str:
    return f"{ours / theirs:.2f}x"


# --- goals ------------------------------------------------------------------------------


def scan_folder(aiscan: str, peers: dict[str, str | None], folder: Path, runs: int, env, out):
    print(f"\n== scan of one model folder ({folder.name}), median of {runs}; {load()}")
    commands = {"aiscan scan": [aiscan, "scan", str(folder), "-o", str(out / "scan.txt")]}
    if peers["airom"]:
        commands["airom fs (Go)"] = [
            peers["airom"],
            *("fs", str(folder), "-o", f"json={out / 'airom.json'}"),
        ]
    if peers["ai-bom"]:
        commands["ai-bom scan"] = [
            *(peers["ai-bom"], "scan", str(folder), "-q", "--no-cache"),
            *("-f", "cyclonedx", "-o", str(out / "ai-bom.json")),
        ]
    if peers["aisbom-cli"]:
        commands["aisbom scan (hashes)"] = [
            *(peers["aisbom-cli"], "scan", str(folder), "--offline", "--no-fail-on-risk"),
            *("--output", str(out / "aisbom.json")),
        ]
    samples = race(commands, runs, env)
    show(samples)
    ours = samples["aiscan scan"].median
    for label, name in (("ai-bom scan", "ai-bom"), ("aisbom scan (hashes)", "aisbom-cli")):
        if label in samples:
            theirs = samples[label].median
            goal(f"scan vs {name}", ours < theirs, f"aiscan {ratio(ours, theirs)} {name}'s time")
        else:
            goal(f"scan vs {name}", None, f"{name} is not installed")
    if "airom fs (Go)" in samples:
        theirs = samples["airom fs (Go)"].median
        goal("scan vs airom", ours <= 3 * theirs, f"aiscan {ratio(ours, theirs)} airom's (≤ 3x)")
    else:
        goal("scan vs airom", None, "airom is not installed")


def bare_env(source_site: Path, root: Path, count: int) -> str:
    """A venv without pip whose site-packages holds `count` real `.dist-info` folders."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(root)], check=True)
    python = str(root / "bin" / "python")
    site = Path(
        subprocess.check_output(
            [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], text=True
        ).strip()
    )
    infos = sorted(source_site.glob("*.dist-info"))
    made = 0
    copy = 0
    while made < count:
        for info in infos:
            if made == count:
                break
            if copy == 0:
                shutil.copytree(info, site / info.name)
            else:
                twin = site / f"copy{copy}{info.name}"
                shutil.copytree(info, twin)
                metadata = twin / "METADATA"
                if metadata.is_file():
                    text = metadata.read_text(encoding="utf-8", errors="replace")
                    renamed = re.sub(r"(?m)^Name: ", f"Name: copy{copy}", text, count=1)
                    metadata.write_text(renamed, encoding="utf-8")
            made += 1
        copy += 1
    return python


def scan_python(aiscan: str, pip_licenses: str | None, runs: int, env, tmp: Path) -> None:
    site = Path(
        subprocess.check_output(
            [sys.executable, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            text=True,
        ).strip()
    )
    empty = tmp / "empty-project"
    empty.mkdir()
    for count in (30, 250):
        python = bare_env(site, tmp / f"env{count}", count)
        # A venv exists before it is scanned: aiscan does not trust a kept dump taken within
        # RACY_SECONDS of a time it holds, so an environment written a moment ago is dumped
        # again on every run until its files are that old.
        time.sleep(RACY_SECONDS + 0.1)
        print(f"\n== scan --python, {count} distributions, median of {runs}; {load()}")
        scan = [
            *(aiscan, "scan", str(empty), "--python", python),
            *("--no-code", "--no-deps", "-f", "json", "-o", str(tmp / f"py{count}.json")),
        ]
        commands = {"aiscan scan --python (first run)": scan, "aiscan scan --python": scan}
        if pip_licenses:
            commands["pip-licenses"] = [
                *(pip_licenses, "--python", python, "--format=json"),
                *("--with-system", "--with-license-file"),
            ]
        samples = race(commands, runs, env, fresh=frozenset({"aiscan scan --python (first run)"}))
        show(samples)
        for run in ("", " (first run)"):
            if pip_licenses is None:
                goal(f"--python, {count} dists{run}", None, "pip-licenses is not installed")
                continue
            ours = samples[f"aiscan scan --python{run}"].median
            theirs = samples["pip-licenses"].median
            goal(
                f"--python, {count} dists{run}",
                ours <= theirs,
                f"aiscan {ratio(ours, theirs)} pip-licenses' time (≤ 1.0x)",
            )


def bom(aiscan: str, aisbom: str | None, folder: Path, runs: int, env, out: Path) -> None:
    print(f"\n== bom of {folder.name}, median of {runs}; {load()}")
    files = sorted(str(p) for p in folder.rglob("*") if p.is_file())
    commands = {
        "aiscan bom (CycloneDX JSON, hashed)": [
            *(aiscan, "bom", str(folder), "-o", str(out / "bom.json"))
        ],
        "aiscan scan": [aiscan, "scan", str(folder), "-o", str(out / "scan2.txt")],
        "sha256sum of the folder's files": ["sha256sum", *files],
    }
    if aisbom:
        commands["aisbom scan (hashes)"] = [
            *(aisbom, "scan", str(folder), "--offline", "--no-fail-on-risk"),
            *("--output", str(out / "aisbom2.json")),
        ]
    samples = race(commands, runs, env)
    show(samples)
    ours = samples["aiscan bom (CycloneDX JSON, hashed)"].median
    reference = samples["aiscan scan"].median + samples["sha256sum of the folder's files"].median
    goal("bom vs scan + hashing", ours <= reference, f"aiscan bom {ratio(ours, reference)}")
    if aisbom:
        theirs = samples["aisbom scan (hashes)"].median
        goal("bom vs aisbom-cli", ours <= theirs, f"aiscan bom {ratio(ours, theirs)} aisbom's")
    else:
        goal("bom vs aisbom-cli", None, "aisbom-cli is not installed")


def reverify(aiscan: str, size_gb: float, runs: int, env, tmp: Path) -> None:
    shards = 8
    print(f"\n== cached re-verify, {size_gb:g} GiB in {shards} shards: writing the store ...")
    store = tmp / "store"
    sharded_model(store, shards, int(size_gb * 2**30) // shards)
    first = Sample()
    for i in range(max(3, runs // 2)):
        fresh = {**env, "AISCAN_CACHE_DIR": str(tmp / f"hash-cache-{i}")}
        # the compiled knowledge base is not what this measures: give each fresh cache one
        compiled = Path(env["AISCAN_CACHE_DIR"], "compiled")
        shutil.copytree(compiled, tmp / f"hash-cache-{i}" / "compiled")
        seconds, rss = run_once([aiscan, "verify", str(store)], fresh)
        first.seconds.append(seconds)
        first.rss_kib = max(first.rss_kib, rss)
    cached_env = {**env, "AISCAN_CACHE_DIR": str(tmp / "hash-cache-0")}
    print(f"  median of {runs}; {load()}")
    samples = race(
        {
            "aiscan verify (cached)": [aiscan, "verify", str(store)],
            "aiscan --version": [aiscan, "--version"],
        },
        runs,
        cached_env,
    )
    samples = {"aiscan verify (first, fills the cache)": first, **samples}
    show(samples)
    above = samples["aiscan verify (cached)"].median - samples["aiscan --version"].median
    share = above / first.median
    goal(
        "cached re-verify",
        share <= 0.02,
        f"{above:.3f} s above start-up = {share:.1%} of the first verify (≤ 2 %)",
    )
    shutil.rmtree(store, ignore_errors=True)


def hf_cache(root: Path, repos: int) -> None:
    """An HF cache of one base repo and `repos - 1` derivatives naming it as `base_model`."""
    for index in range(repos):
        name = "org/base" if index == 0 else f"org/derived-{index:05d}"
        card = "---\nlicense: apache-2.0\n"
        if index:
            card += "base_model: org/base\n"
        card += f"---\n\n# {name}\n\nA model.\n"
        files = {"README.md": card, "config.json": '{"model_type": "bert"}'}
        repo = root / f"models--{name.replace('/', '--')}"
        commit = f"{index:040x}"
        snapshot = repo / "snapshots" / commit
        snapshot.mkdir(parents=True)
        (repo / "blobs").mkdir()
        for file_name, text in files.items():
            blob = repo / "blobs" / hashlib.sha256(text.encode()).hexdigest()
            blob.write_text(text, encoding="utf-8")
            (snapshot / file_name).symlink_to(os.path.relpath(blob, snapshot))
        (repo / "refs").mkdir()
        (repo / "refs" / "main").write_text(commit)


def small_tree(root: Path, files: int) -> None:
    per_folder = 100
    for index in range(files):
        folder = root / f"d{index // per_folder // 100:03d}" / f"d{index // per_folder:05d}"
        if index % per_folder == 0:
            folder.mkdir(parents=True)
        (folder / f"f{index % per_folder:03d}.txt").write_bytes(b"x" * 64)


def lineage_lookups(cache: Path) -> tuple[int, int]:
    """(lookups of the base, derivatives) in one in-process scan of `cache`: the lineage walk
    reports each place it asks through `on_lookup`."""
    from scanner.licensing.knowledge_base import default_knowledge_base
    from scanner.pipeline.scan import run_scan
    from scanner.policy.load import load_policy

    asked: list[str] = []
    kb = default_knowledge_base()
    with environment(HF_HUB_CACHE=str(cache)):
        result = run_scan([cache], load_policy("default", kb), kb, on_lookup=asked.append)
    derived = sum(1 for c in result.components if c.name.startswith("org/derived"))
    return sum(1 for name in asked if name.lower() == "org/base"), derived


@contextlib.contextmanager
def environment(**values: str) -> Iterator[None]:
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def linear(label: str, sizes: list[int], samples: list[Sample], unit: str) -> None:
    """Linear when the cost per unit of the larger step is at most twice that of the smaller
    one: a quadratic walk would cost ~10x more per repo from 100 to 1,000 than from 1 to 100,
    and 3x more per file from 100,000 to 200,000 than from 50,000 to 100,000."""
    steps = [
        (samples[i + 1].median - samples[i].median) / (sizes[i + 1] - sizes[i])
        for i in range(len(sizes) - 1)
    ]
    text = ", ".join(
        f"{size:,} {unit}: {s.median:.2f} s, {s.rss_kib / 1024:.0f} MB"
        for size, s in zip(sizes, samples, strict=True)
    )
    per = " then ".join(f"{step * 1000:.3f} ms" for step in steps)
    growth = steps[-1] / steps[0] if steps[0] > 0 else float("inf")
    goal(
        f"scaling, {label}",
        growth <= 2.0,
        f"{text}; per {unit[:-1]}, step by step: {per} ({growth:.2f}x, ≤ 2x)",
    )
    rss = [s.rss_kib for s in samples if s.rss_kib]
    if len(rss) == len(samples):
        print(
            f"    peak RSS grows {rss[-1] / rss[0]:.2f}x for {sizes[-1] / sizes[0]:,.0f}x the size"
        )


def scaling(aiscan: str, tree_files: int, runs: int, env, tmp: Path) -> None:
    print(f"\n== scaling, median of {runs}; {load()}")
    sizes = [1, 100, 1000]
    samples = []
    for repos in sizes:
        cache = tmp / f"hf-cache-{repos}"
        hf_cache(cache, repos)
        command = [aiscan, "scan", str(cache), "-f", "json", "-o", str(tmp / f"hf{repos}.json")]
        cache_env = {**env, "HF_HUB_CACHE": str(cache)}
        samples.append(race({f"{repos} repos": command}, runs, cache_env)[f"{repos} repos"])
    show({f"scan of an HF cache, {n:,} repos": s for n, s in zip(sizes, samples, strict=True)})
    linear("HF cache", sizes, samples, "repos")
    base_lookups, derived = lineage_lookups(tmp / "hf-cache-1000")
    goal(
        "lineage lookups",
        base_lookups == 1 and derived == 999,
        f"the base looked up {base_lookups} time(s) in the HF cache for {derived} derivatives",
    )
    tree_sizes = [tree_files // 4, tree_files // 2, tree_files]
    tree_samples = []
    for files in tree_sizes:
        tree = tmp / f"tree-{files}"
        small_tree(tree, files)
        command = [aiscan, "scan", str(tree), "-f", "json", "-o", str(tmp / f"t{files}.json")]
        tree_samples.append(race({"t": command}, max(1, runs // 2), env)["t"])
        shutil.rmtree(tree, ignore_errors=True)
    show({f"scan of {n:,} small files": s for n, s in zip(tree_sizes, tree_samples, strict=True)})
    linear("small-file tree", tree_sizes, tree_samples, "files")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--folder", type=Path, default=DEFAULT_FOLDER)
    parser.add_argument("--verify-gb", type=float, default=6.0)
    parser.add_argument("--tree-files", type=int, default=200_000)
    parser.add_argument(
        "--peers", type=Path, default=Path(tempfile.gettempdir(), "aiscan-bench-peers")
    )
    parser.add_argument("--no-install", action="store_true", help="use only peers found")
    parser.add_argument("--only", default="scan,python,bom,verify,scaling")
    args = parser.parse_args()
    only = set(args.only.split(","))
    aiscan = shutil.which("aiscan", path=str(Path(sys.executable).parent)) or shutil.which("aiscan")
    if aiscan is None or not args.folder.is_dir():
        print(f"needs aiscan installed and a model folder (got {args.folder})", file=sys.stderr)
        return 2
    print(f"aiscan: {aiscan}; {load()}")
    print("peers:")
    peers = {name: find_peer(name, args.peers, not args.no_install) for name in PEERS}
    with tempfile.TemporaryDirectory(prefix="aiscan-compare-") as name:
        tmp = Path(name)
        env = child_env(tmp / "aiscan-cache")
        out = tmp / "out"
        out.mkdir()
        # the first run compiles the knowledge base into the cache, as any first run does
        run_once([aiscan, "scan", str(out)], env)
        steps: dict[str, Callable[[], None]] = {
            "scan": lambda: scan_folder(aiscan, peers, args.folder, args.runs, env, out),
            "python": lambda: scan_python(aiscan, peers["pip-licenses"], args.runs, env, tmp),
            "bom": lambda: bom(aiscan, peers["aisbom-cli"], args.folder, args.runs, env, out),
            "verify": lambda: reverify(aiscan, args.verify_gb, args.runs, env, tmp),
            "scaling": lambda: scaling(aiscan, args.tree_files, args.runs, env, tmp),
        }
        for step, run in steps.items():
            if step in only:
                run()
    print("\n== summary")
    for item in GOALS:
        verdict = {True: "met", False: "MISSED", None: "not measured"}[item.met]
        print(f"  {verdict:12} {item.name}: {item.text}")
    return 0 if all(g.met is not False for g in GOALS) else 1


if __name__ == "__main__":
    sys.exit(main())
