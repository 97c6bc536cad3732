"""`aiscan verify --scheduler`: hashing on a Dask cluster gives the local run's report.

One LocalCluster-style cluster (two single-threaded process workers on 127.0.0.1) serves the
module; the store is a folder both the client and the workers see at the same path, as a
shared mount would be.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import socket
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest
from safetensors.numpy import save

from scanner.pipeline import distributed
from tests.conftest import aiscan_child, make_hf_cache, run_cli, subprocess_env
from tests.daskcluster import start_cluster, worker_pids


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    env = {"AISCAN_CACHE_DIR": str(tmp_path_factory.mktemp("worker-cache"))}
    with start_cluster({"w1": env, "w2": env}) as running:
        yield running


@pytest.fixture(autouse=True)
def _private_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("AISCAN_CACHE_DIR", str(tmp_path / "aiscan-cache"))
    monkeypatch.setenv("CI", "1")
    monkeypatch.delenv("DASK_SCHEDULER_ADDRESS", raising=False)


def weights(seed: int, rows: int = 4) -> bytes:
    rng = np.random.default_rng(seed)
    return save({"w": rng.random((rows, 4), dtype=np.float32)})


def make_store(root: Path) -> Path:
    """A store with every kind of verdict: verified blobs, a mismatching blob, a truncated
    file, an unverified folder, a shard index with a missing shard."""
    cache = root / "hub"
    files = {"README.md": "---\nlicense: mit\n---\n", "model.safetensors": weights(1, 64)}
    make_hf_cache(cache, "org/good", files)
    bad_repo, _ = make_hf_cache(cache, "org/bad", {"model.safetensors": weights(2)})
    blob = next((bad_repo / "blobs").iterdir())
    data = bytearray(blob.read_bytes())
    data[-1] ^= 1
    blob.write_bytes(bytes(data))
    folder = root / "folder" / "m"
    folder.mkdir(parents=True)
    (folder / "model-00001-of-00002.safetensors").write_bytes(weights(3))
    (folder / "model.safetensors.index.json").write_text(
        json.dumps(
            {
                "metadata": {},
                "weight_map": {
                    "w": "model-00001-of-00002.safetensors",
                    "x": "model-00002-of-00002.safetensors",
                },
            }
        )
    )
    (folder / "truncated.safetensors").write_bytes(weights(4)[:-3])
    (folder / "extra.bin").write_bytes(os.urandom(3 * 1024 * 1024))
    return root


def verify(*args: object) -> tuple[int, str, str]:
    result = run_cli("verify", *args)
    return result.exit_code, result.stdout, result.stderr


def test_a_cluster_gives_the_local_report_byte_for_byte(tmp_path, cluster):
    store = make_store(tmp_path / "store")
    targets = [store / "hub", store / "folder"]
    local = verify(*targets, "--no-cache", "--format", "json")
    remote = verify(
        *targets, "--no-cache", "--format", "json", "--scheduler", cluster.scheduler_address
    )
    assert remote[0] == local[0] == 1
    assert remote[1] == local[1]
    report = json.loads(remote[1])
    rules = {f["rule"] for f in report["findings"]}
    assert {"integrity.hash-mismatch", "integrity.truncated", "integrity.missing-shard"} <= rules
    verified = [f for c in report["components"] for f in c["files"] if f["verified"]]
    assert verified, "the good repo's blobs are verified on the workers"


def test_cluster_runs_fill_and_use_the_clients_cache_and_write_reports(tmp_path, cluster):
    store = make_store(tmp_path / "store")
    address = cluster.scheduler_address
    first = verify(
        store / "hub", "--format", "json", "-o", tmp_path / "a.json", "--scheduler", address
    )
    second = verify(
        store / "hub", "--format", "json", "-o", tmp_path / "b.json", "--scheduler", address
    )
    assert first[0] == second[0] == 1
    a = json.loads((tmp_path / "a.json").read_text())
    b = json.loads((tmp_path / "b.json").read_text())
    assert not any(f.get("from_cache") for c in a["components"] for f in c["files"])
    cached = [f for c in b["components"] for f in c["files"] if f.get("from_cache")]
    assert cached and all(f["sha256"] for f in cached)
    assert a["findings"] == b["findings"]


def test_the_address_can_come_from_the_environment(tmp_path, cluster, monkeypatch):
    store = make_store(tmp_path / "store")
    local = verify(store / "folder", "--no-cache", "--format", "json")
    monkeypatch.setenv("DASK_SCHEDULER_ADDRESS", cluster.scheduler_address)
    seen: list[str] = []
    original = distributed.DaskHasher.digests

    def spy(self, jobs, *, progress):
        seen.extend(j.path for j in jobs)
        return original(self, jobs, progress=progress)

    monkeypatch.setattr(distributed.DaskHasher, "digests", spy)
    remote = verify(store / "folder", "--no-cache", "--format", "json")
    assert remote == local
    assert any(p.endswith("extra.bin") for p in seen)


def test_a_lock_applies_the_same_on_the_cluster(tmp_path, cluster):
    folder = tmp_path / "m"
    folder.mkdir()
    (folder / "model.safetensors").write_bytes(weights(5))
    (folder / "config.json").write_text("{}")
    lock = tmp_path / "aiscan.lock"
    assert run_cli("lock", folder, "-o", lock).exit_code == 0
    (folder / "config.json").write_text('{"changed": true}')
    (folder / "new.bin").write_bytes(b"x")
    local = verify(folder, "--lock", lock, "--no-cache", "--format", "json")
    remote = verify(
        folder, "--lock", lock, "--no-cache", "-f", "json", "--scheduler", cluster.scheduler_address
    )
    assert remote == local and remote[0] == 1
    rules = {f["rule"] for f in json.loads(remote[1])["findings"]}
    assert {"integrity.hash-mismatch", "integrity.unexpected-file"} <= rules


def test_a_file_changed_after_listing_is_never_verified(tmp_path, cluster, monkeypatch):
    cache = tmp_path / "hub"
    repo, _ = make_hf_cache(cache, "org/m", {"model.safetensors": weights(6)})
    blob = next((repo / "blobs").iterdir())
    original = distributed.DaskHasher.digests

    def change_then_hash(self, jobs, *, progress):
        blob.write_bytes(blob.read_bytes())  # same bytes, new mtime: not the file listed
        return original(self, jobs, progress=progress)

    monkeypatch.setattr(distributed.DaskHasher, "digests", change_then_hash)
    code, out, _ = verify(
        cache, "--no-cache", "-f", "json", "--scheduler", cluster.scheduler_address
    )
    report = json.loads(out)
    (entry,) = [f for c in report["components"] for f in c["files"]]
    assert code == 1
    assert entry["verified"] is False and entry["sha256"] is None
    assert "changed" in entry["error"]
    assert {f["rule"] for f in report["findings"]} == {"scan.unreadable"}


def test_a_worker_that_dies_mid_file_is_replaced_by_another(tmp_path, cluster, monkeypatch):
    big = tmp_path / "big" / "m"
    big.mkdir(parents=True)
    size = 768 * 1024 * 1024
    with (big / "huge.bin").open("wb") as handle:
        handle.truncate(size)  # sparse: no disk, but every byte is read and hashed
    (big / "model.safetensors").write_bytes(weights(7))
    pids = worker_pids(cluster.scheduler_address)
    first_bytes = threading.Event()
    original_event = distributed._ClusterProgress.event

    def noticing(self, event):
        first_bytes.set()
        return original_event(self, event)

    monkeypatch.setattr(distributed._ClusterProgress, "event", noticing)
    killed: list[int] = []

    def kill_the_hashing_worker() -> None:
        from distributed import Client

        if not first_bytes.wait(120):
            return
        with Client(cluster.scheduler_address, set_as_default=False) as client:
            for address, keys in client.processing().items():
                if any(str(k).startswith("aiscan-hash") for k in keys) and address in pids:
                    os.kill(pids[address], signal.SIGKILL)
                    killed.append(pids[address])
                    return

    killer = threading.Thread(target=kill_the_hashing_worker)
    killer.start()
    code, out, _ = verify(big, "--no-cache", "-f", "json", "--scheduler", cluster.scheduler_address)
    killer.join()
    assert killed, "a worker was killed while it hashed"
    report = json.loads(out)
    entries = {f["path"]: f for c in report["components"] for f in c["files"]}
    zeros = hashlib.sha256()
    block = bytes(1024 * 1024)
    for _ in range(size // len(block)):
        zeros.update(block)
    assert entries["huge.bin"]["sha256"] == zeros.hexdigest()
    assert "error" not in entries["huge.bin"]
    assert code == 0
    monkeypatch.undo()
    cluster.wait_for_workers(2, timeout=120)  # the nanny restarts the dead worker


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_an_unreachable_scheduler_is_one_line_and_exit_3(tmp_path):
    folder = tmp_path / "m"
    folder.mkdir()
    (folder / "model.safetensors").write_bytes(weights(8))
    address = f"tcp://127.0.0.1:{_closed_port()}"
    done = aiscan_child("verify", folder, "--scheduler", address)
    assert done.returncode == 3
    assert done.stdout == ""
    assert done.stderr.count("\n") == 1, done.stderr
    assert done.stderr.startswith(f"aiscan: error: cannot reach the Dask scheduler at {address}")


def test_a_malformed_address_is_a_usage_error(tmp_path):
    (tmp_path / "m").mkdir()
    code, out, err = verify(tmp_path / "m", "--scheduler", "nosuchproto://x:1")
    assert code == 2 and out == ""
    assert err.startswith("aiscan: error: 'nosuchproto://x:1' is not a Dask scheduler address")


def test_without_the_extra_the_error_says_how_to_install_it(tmp_path):
    (tmp_path / "m").mkdir()
    block = "import sys\nsys.modules['distributed'] = None\nsys.modules['dask'] = None"
    done = aiscan_child("verify", tmp_path / "m", "--scheduler", "tcp://127.0.0.1:1", code=block)
    assert done.returncode == 3
    assert done.stderr == (
        "aiscan: error: --scheduler needs Dask distributed; install the dask extra: "
        'pip install "aiscan[dask]"\n'
    )


def test_a_local_verify_never_imports_dask(tmp_path):
    folder = tmp_path / "m"
    folder.mkdir()
    (folder / "model.safetensors").write_bytes(weights(9))
    probe = (
        "import atexit, sys\natexit.register(lambda: print('dask' in sys.modules, file=sys.stderr))"
    )
    done = aiscan_child("verify", folder, env={"AISCAN_CACHE_DIR": str(tmp_path / "c")}, code=probe)
    assert done.returncode == 0
    assert done.stderr.splitlines()[-1] == "False"


def test_a_retried_file_is_counted_once_on_the_progress_bar():
    advanced: list[int] = []
    tracker = distributed._ClusterProgress(advanced.append, {"a": 100, "b": 10})
    tracker.event((0.0, {"key": "a", "bytes": 60}))
    tracker.event((0.0, {"key": "a", "bytes": 60}))  # the retry, after its first worker died
    tracker.event((0.0, {"key": "unknown", "bytes": 5}))
    tracker.finished("a")
    tracker.event((0.0, {"key": "a", "bytes": 60}))  # a late event of the lost attempt
    tracker.finished("b")
    assert sum(advanced) == 110
    assert advanced == [60, 40, 10]


def test_a_scheduler_lost_mid_run_is_one_line_and_exit_3(tmp_path):
    """A scheduler and a worker of their own, as processes, so the scheduler can be killed."""
    import time

    from distributed import Client

    folder = tmp_path / "m"
    folder.mkdir()
    with (folder / "zeros.bin").open("wb") as handle:
        handle.truncate(4 * 1024**3)  # sparse; still being hashed when the scheduler goes
    details = tmp_path / "scheduler.json"
    python = [sys.executable, "-m"]
    common = ["--host", "127.0.0.1", "--no-dashboard", "--scheduler-file", str(details)]
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL, "env": subprocess_env()}
    daemons = [
        subprocess.Popen(
            [*python, "distributed.cli.dask_scheduler", "--port", "0", *common],
            **quiet,
        )
    ]
    try:
        while not details.exists():
            time.sleep(0.05)
        daemons.append(
            subprocess.Popen(
                [*python, "distributed.cli.dask_worker", "--no-nanny", "--nthreads", "1", *common],
                **quiet,
            )
        )
        with Client(scheduler_file=str(details), set_as_default=False) as watcher:
            watcher.wait_for_workers(1, timeout=120)
            address = watcher.scheduler.address
            child = subprocess.Popen(
                [*python, "scanner", "verify", folder, "--no-cache", "--scheduler", address],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                env={**subprocess_env(), "AISCAN_CACHE_DIR": str(tmp_path / "c")},
            )
            while child.poll() is None and not any(watcher.processing().values()):
                time.sleep(0.05)
            assert child.poll() is None, "the run was still hashing"
            daemons[0].kill()
            out, err = child.communicate(timeout=120)
    finally:
        for daemon in daemons:
            daemon.kill()
            daemon.wait()
    assert child.returncode == 3
    assert out == ""
    assert err == (
        f"aiscan: error: lost the connection to the Dask scheduler at {address}; not verified\n"
    )


def test_a_lock_made_on_the_cluster_is_the_local_lock(tmp_path, cluster):
    store = make_store(tmp_path / "store")
    local = run_cli("lock", store / "hub" / "models--org--good", "--no-cache")
    remote = run_cli(
        "lock",
        store / "hub" / "models--org--good",
        "--no-cache",
        "--scheduler",
        cluster.scheduler_address,
    )
    assert local.exit_code == remote.exit_code == 0
    assert remote.stdout == local.stdout and '"sha256"' in local.stdout


def test_the_address_can_come_from_dasks_own_configuration(tmp_path, cluster):
    folder = tmp_path / "m"
    folder.mkdir()
    (folder / "model.safetensors").write_bytes(weights(10))
    config = tmp_path / "dask-config"
    config.mkdir()
    (config / "cluster.yaml").write_text(f"scheduler-address: {cluster.scheduler_address}\n")
    probe = (
        "import atexit, sys\n"
        "atexit.register(lambda: print('distributed' in sys.modules, file=sys.stderr))"
    )
    env = {"AISCAN_CACHE_DIR": str(tmp_path / "c"), "DASK_CONFIG": str(config)}
    done = aiscan_child("verify", folder, "--no-cache", "-f", "json", env=env, code=probe)
    assert done.returncode == 0, done.stderr
    assert done.stderr.splitlines()[-1] == "True"  # it went to the cluster
    local = verify(folder, "--no-cache", "-f", "json")
    assert done.stdout == local[1]
