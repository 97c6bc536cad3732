"""Benchmark `aiscan verify` against sha256sum and openssl on a generated store of shards.

    python benchmarks/verify.py [--size-gb 2] [--shards 8] [--headers 1000] [--repeat 3]
    python benchmarks/verify.py --ollama [--size-gb 2] [--shards 8] [--repeat 3]

Builds, in a temporary folder, a store of valid safetensors shards filled with random bytes, then
times (median of --repeat runs, page cache warm for every tool alike):

- `aiscan verify --no-cache` (all cores)
- `sha256sum` over all shards, sequentially
- `xargs -P$(nproc) sha256sum` and `xargs -P$(nproc) openssl dgst -sha256`
- a cached re-verify, as a percentage of the first (cache-filling) run
- the verify step in-process (first and cached), which is what the cache saves once start-up is
  paid
- `aiscan verify --structure-only` on a sharded model of --headers shard headers (whole CLI run,
  and the verification alone in-process)

With --ollama the store is an Ollama models folder instead: --shards models, each a manifest and
one GGUF blob of random tensor bytes named by its SHA-256 (so verify compares every blob with
its name, reference `ollama-blob`), timed against the same sha256sum and openssl runs.

Not a test: numbers depend on the machine. The temporary store is removed at the end.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import statistics
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from timing import median_seconds

AISCAN = [sys.executable, "-c", "from scanner.cli.main import main; main()"]
CHUNK = 16 * 1024 * 1024


def write_shard(path: Path, data_bytes: int, name: str = "w") -> None:
    """One valid safetensors file: a single U8 tensor of random bytes."""
    header = json.dumps(
        {name: {"dtype": "U8", "shape": [data_bytes], "data_offsets": [0, data_bytes]}}
    )
    header += " " * (-len(header) % 8)
    with path.open("wb") as handle:
        handle.write(struct.pack("<Q", len(header)) + header.encode())
        left = data_bytes
        while left:
            step = min(CHUNK, left)
            handle.write(os.urandom(step))
            left -= step


def sharded_model(folder: Path, shards: int, data_bytes: int) -> list[Path]:
    folder.mkdir(parents=True)
    names = [f"model-{i + 1:05d}-of-{shards:05d}.safetensors" for i in range(shards)]
    weight_map = {}
    for i, name in enumerate(names):
        write_shard(folder / name, data_bytes, name=f"layer.{i}.weight")
        weight_map[f"layer.{i}.weight"] = name
    index = {"metadata": {"total_size": shards * data_bytes}, "weight_map": weight_map}
    (folder / "model.safetensors.index.json").write_text(json.dumps(index))
    (folder / "config.json").write_text('{"model_type": "llama"}')
    return [folder / n for n in names]


def write_gguf_blob(blobs: Path, data_bytes: int) -> tuple[str, int]:
    """One valid GGUF v3 file (one I8 tensor of random bytes) stored under its SHA-256 name, as
    `ollama pull` stores a model layer; returns its `sha256:<hex>` digest and size."""

    def string(text: str) -> bytes:
        return struct.pack("<Q", len(text)) + text.encode()

    header = b"GGUF" + struct.pack("<IQQ", 3, 1, 1)
    header += string("general.architecture") + struct.pack("<I", 8) + string("llama")
    header += string("w") + struct.pack("<IQIQ", 1, data_bytes, 24, 0)  # I8, offset 0
    header += b"\0" * (-len(header) % 32)
    digest = hashlib.sha256(header)
    partial = blobs / "partial"
    with partial.open("wb") as handle:
        handle.write(header)
        left = data_bytes
        while left:
            chunk = os.urandom(min(CHUNK, left))
            digest.update(chunk)
            handle.write(chunk)
            left -= len(chunk)
    hexdigest = digest.hexdigest()
    partial.rename(blobs / f"sha256-{hexdigest}")
    return f"sha256:{hexdigest}", len(header) + data_bytes


def ollama_store(store: Path, models: int, data_bytes: int) -> list[Path]:
    """An Ollama models folder of `models` library models, one GGUF model layer each."""
    blobs = store / "blobs"
    blobs.mkdir(parents=True)
    config = json.dumps({"model_format": "gguf", "model_family": "llama"}).encode()
    config_digest = f"sha256:{hashlib.sha256(config).hexdigest()}"
    (blobs / config_digest.replace(":", "-")).write_bytes(config)
    paths = []
    for number in range(models):
        digest, size = write_gguf_blob(blobs, data_bytes)
        manifest = {
            "schemaVersion": 2,
            "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
            "config": {
                "mediaType": "application/vnd.docker.container.image.v1+json",
                "digest": config_digest,
                "size": len(config),
            },
            "layers": [
                {"mediaType": "application/vnd.ollama.image.model", "digest": digest, "size": size}
            ],
        }
        path = store / "manifests" / "registry.ollama.ai" / "library" / f"bench{number}" / "latest"
        path.parent.mkdir(parents=True)
        path.write_text(json.dumps(manifest))
        paths.append(blobs / digest.replace(":", "-"))
    return paths


def timed(command: list[str] | str, env: dict[str, str] | None = None, repeat: int = 1) -> float:
    """No warm-up: the store is read once beforehand for every tool alike; exit codes vary."""
    return median_seconds(command, repeat, env=env, warm_up=False, check=False)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-gb", type=float, default=2.0)
    parser.add_argument("--shards", type=int, default=8)
    parser.add_argument("--headers", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--dir", type=Path, default=None, help="where to build the temporary store")
    parser.add_argument("--ollama", action="store_true", help="an Ollama store of GGUF blobs")
    args = parser.parse_args()
    if args.ollama:
        _ollama(args)
        return

    base = Path(tempfile.mkdtemp(prefix="aiscan-bench-", dir=args.dir))
    try:
        total = int(args.size_gb * 1024**3)
        shards = sharded_model(base / "store" / "big-model", args.shards, total // args.shards)
        files = " ".join(str(p) for p in shards)
        cores = os.cpu_count() or 1
        env = {**os.environ, "AISCAN_CACHE_DIR": str(base / "cache"), "CI": "1"}
        store = str(base / "store")
        subprocess.run(f"cat {files} > /dev/null", shell=True, check=True)  # same warm start

        rows = []
        aiscan = timed([*AISCAN, "verify", store, "--no-cache"], env, args.repeat)
        seq = timed(f"sha256sum {files}", repeat=args.repeat)
        par = timed(f"printf '%s\\n' {files} | xargs -P{cores} -n1 sha256sum", repeat=args.repeat)
        ossl = timed(
            f"printf '%s\\n' {files} | xargs -P{cores} -n1 openssl dgst -sha256",
            repeat=args.repeat,
        )
        first = timed([*AISCAN, "verify", store], env)
        cached = timed([*AISCAN, "verify", store], env, args.repeat)

        headers_dir = base / "headers" / "many-shards"
        sharded_model(headers_dir, args.headers, 64)
        structure_cli = timed(
            [*AISCAN, "verify", str(headers_dir), "--structure-only"], env, args.repeat
        )
        structure_inproc = _in_process(headers_dir, args.repeat, structure_only=True)
        os.environ["AISCAN_CACHE_DIR"] = str(base / "cache-in-process")
        first_inproc = _in_process(Path(store), 1)
        cached_inproc = _in_process(Path(store), args.repeat)

        gib = sum(p.stat().st_size for p in shards) / 1024**3
        rows = [
            ("aiscan verify --no-cache", aiscan, f"{gib / aiscan:.2f} GiB/s"),
            ("sha256sum (sequential)", seq, f"{gib / seq:.2f} GiB/s"),
            (f"xargs -P{cores} sha256sum", par, f"{gib / par:.2f} GiB/s"),
            (f"xargs -P{cores} openssl dgst -sha256", ossl, f"{gib / ossl:.2f} GiB/s"),
            ("aiscan verify, first run (fills cache)", first, ""),
            ("aiscan verify, cached re-run", cached, f"{100 * cached / first:.1f} % of first"),
            ("verify step in-process, first (fills cache)", first_inproc, ""),
            (
                "verify step in-process, cached re-run",
                cached_inproc,
                f"{100 * cached_inproc / first_inproc:.1f} % of first",
            ),
            (f"--structure-only, {args.headers} shards (CLI)", structure_cli, ""),
            (f"--structure-only, {args.headers} shards (in-process)", structure_inproc, ""),
        ]
        print(f"store: {len(shards)} shards, {gib:.2f} GiB; {cores} cores; warm page cache")
        print(f"{'run':48} {'seconds':>8}  note")
        for name, seconds, note in rows:
            print(f"{name:48} {seconds:8.3f}  {note}")
        print()
        print(f"aiscan / parallel openssl: {aiscan / ossl:.2f}x (goal <= 1.0x)")
        print(f"sequential sha256sum / aiscan: {seq / aiscan:.2f}x faster (goal >= 3.5x)")
    finally:
        shutil.rmtree(base, ignore_errors=True)


def _ollama(args: argparse.Namespace) -> None:
    """`aiscan verify` on an Ollama store (every blob checked against its name) next to
    sha256sum and openssl over the same blobs."""
    base = Path(tempfile.mkdtemp(prefix="aiscan-bench-ollama-", dir=args.dir))
    try:
        total = int(args.size_gb * 1024**3)
        store = base / "models"
        blobs = ollama_store(store, args.shards, total // args.shards)
        files = " ".join(str(p) for p in blobs)
        cores = os.cpu_count() or 1
        env = {**os.environ, "AISCAN_CACHE_DIR": str(base / "cache"), "CI": "1"}
        subprocess.run(f"cat {files} > /dev/null", shell=True, check=True)  # same warm start
        done = subprocess.run(
            [*AISCAN, "verify", str(store), "--no-cache", "--format", "json"],
            env=env,
            capture_output=True,
            text=True,
        )
        checked = {
            f["path"]
            for c in json.loads(done.stdout)["components"]
            for f in c.get("files", [])
            if f.get("reference") == "ollama-blob" and f.get("verified") is True
        }
        aiscan = timed([*AISCAN, "verify", str(store), "--no-cache"], env, args.repeat)
        seq = timed(f"sha256sum {files}", repeat=args.repeat)
        par = timed(f"printf '%s\\n' {files} | xargs -P{cores} -n1 sha256sum", repeat=args.repeat)
        ossl = timed(
            f"printf '%s\\n' {files} | xargs -P{cores} -n1 openssl dgst -sha256",
            repeat=args.repeat,
        )
        subprocess.run([*AISCAN, "verify", str(store)], env=env, capture_output=True)  # fills
        cached = timed([*AISCAN, "verify", str(store)], env, args.repeat)
        os.environ["AISCAN_CACHE_DIR"] = str(base / "cache-in-process")
        first_inproc = _in_process(store, 1)
        gib = sum(p.stat().st_size for p in blobs) / 1024**3
        print(
            f"Ollama store: {len(blobs)} GGUF blobs, {gib:.2f} GiB; {cores} cores; warm page "
            f"cache; {len(checked)} blobs (config included) verified against their names "
            f"(exit {done.returncode})"
        )
        rows = [
            ("aiscan verify --no-cache", aiscan, f"{gib / aiscan:.2f} GiB/s"),
            ("sha256sum (sequential)", seq, f"{gib / seq:.2f} GiB/s"),
            (f"xargs -P{cores} sha256sum", par, f"{gib / par:.2f} GiB/s"),
            (f"xargs -P{cores} openssl dgst -sha256", ossl, f"{gib / ossl:.2f} GiB/s"),
            ("aiscan verify, cached re-run", cached, "all of it start-up"),
            (
                "verify step in-process (hashing, no start-up)",
                first_inproc,
                f"{gib / first_inproc:.2f} GiB/s",
            ),
        ]
        print(f"{'run':48} {'seconds':>8}  note")
        for name, seconds, note in rows:
            print(f"{name:48} {seconds:8.3f}  {note}")
        print()
        print(f"aiscan / parallel openssl: {aiscan / ossl:.2f}x (goal <= 1.0x)")
        print(f"verify step alone / parallel openssl: {first_inproc / ossl:.2f}x")
        print(f"sequential sha256sum / aiscan: {seq / aiscan:.2f}x faster")
    finally:
        shutil.rmtree(base, ignore_errors=True)


def _in_process(folder: Path, repeat: int, *, structure_only: bool = False) -> float:
    """The verification alone, without interpreter start-up and imports (median seconds)."""
    from scanner.licensing.knowledge_base import default_knowledge_base
    from scanner.pipeline.verify import VerifyOptions, run_verify
    from scanner.policy.load import resolve_policy

    kb = default_knowledge_base()
    policy = resolve_policy("default", kb)
    options = VerifyOptions(structure_only=structure_only)
    runs = []
    for _ in range(repeat):
        start = time.perf_counter()
        run_verify([folder], policy, kb, options)
        runs.append(time.perf_counter() - start)
    return statistics.median(runs)


if __name__ == "__main__":
    main()
