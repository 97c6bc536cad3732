"""`aiscan verify --fleet`: every host verifies its own stores; drift between them is found.

Two "hosts" on one machine: process workers named host-a and host-b, each with its own home,
HF cache and hash cache through its environment, as two GPU hosts would have.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from safetensors.numpy import save

from scanner.formats.json import read_report
from tests.conftest import make_hf_cache, make_model_dir, run_cli
from tests.daskcluster import start_cluster

REPO = "org/sharded"
SHARD_1 = "model-00001-of-00002.safetensors"
SHARD_2 = "model-00002-of-00002.safetensors"


@pytest.fixture(scope="module")
def hosts(tmp_path_factory) -> dict[str, Path]:
    return {name: tmp_path_factory.mktemp(name) for name in ("host-a", "host-b")}


@pytest.fixture(scope="module")
def fleet(hosts):
    env = {
        name: {
            "HOME": str(root / "home"),
            "HF_HUB_CACHE": str(root / "hub"),
            "OLLAMA_MODELS": str(root / "ollama"),
            "AISCAN_CACHE_DIR": str(root / "aiscan-cache"),
        }
        for name, root in hosts.items()
    }
    with start_cluster(env) as running:
        yield running


@pytest.fixture(autouse=True)
def _fresh_stores(hosts, tmp_path, monkeypatch):
    for root in hosts.values():
        for part in ("home", "hub", "ollama"):
            shutil.rmtree(root / part, ignore_errors=True)
        (root / "home").mkdir()
    monkeypatch.setenv("AISCAN_CACHE_DIR", str(tmp_path / "client-cache"))
    monkeypatch.setenv("CI", "1")
    monkeypatch.delenv("DASK_SCHEDULER_ADDRESS", raising=False)


def shard(seed: int) -> bytes:
    rng = np.random.default_rng(seed)
    return save({f"t{seed}": rng.random((8, 8), dtype=np.float32)})


def sharded_files() -> dict[str, bytes | str]:
    index = {"metadata": {}, "weight_map": {"t1": SHARD_1, "t2": SHARD_2}}
    return {
        "README.md": "---\nlicense: apache-2.0\n---\n",
        "model.safetensors.index.json": json.dumps(index),
        SHARD_1: shard(1),
        SHARD_2: shard(2),
    }


def fleet_verify(fleet: Any, *args: object) -> tuple[int, dict[str, Any], str]:
    result = run_cli(
        "verify", "--fleet", "--scheduler", fleet.scheduler_address, "-f", "json", *args
    )
    assert result.stdout, result.stderr
    return result.exit_code, json.loads(result.stdout), result.stderr


def by_rule(report: dict[str, Any], rule: str) -> list[dict[str, Any]]:
    return [f for f in report["findings"] if f["rule"] == rule]


def test_identical_hosts_merge_into_one_clean_component_per_revision(fleet, hosts):
    for root in hosts.values():
        make_hf_cache(root / "hub", REPO, sharded_files())
    code, report, _ = fleet_verify(fleet)
    assert code == 0, report["findings"]
    (component,) = report["components"]
    assert component["ref"].startswith(f"model:hf/{REPO}@")
    assert [h["host"] for h in component["hosts"]] == ["host-a", "host-b"]
    assert {h["location"] for h in component["hosts"]} == {
        str(next((root / "hub").glob("models--*/snapshots/*"))) for root in hosts.values()
    }
    weights = [f for f in component["files"] if f["path"].endswith(".safetensors")]
    assert [(f["path"], f["host"]) for f in weights] == [
        (SHARD_1, "host-a"),
        (SHARD_1, "host-b"),
        (SHARD_2, "host-a"),
        (SHARD_2, "host-b"),
    ]
    assert all(f["verified"] for f in weights)
    assert report["targets"] == [f"{h}:{hosts[h] / 'hub'}" for h in ("host-a", "host-b")]


def test_a_flipped_byte_and_a_missing_shard_are_drift(fleet, hosts):
    make_hf_cache(hosts["host-a"] / "hub", REPO, sharded_files())
    repo, _ = make_hf_cache(hosts["host-b"] / "hub", REPO, sharded_files())
    flipped = repo / "blobs" / hashlib.sha256(shard(1)).hexdigest()
    data = bytearray(flipped.read_bytes())
    data[-1] ^= 0x01
    flipped.write_bytes(bytes(data))
    next((repo / "snapshots").iterdir()).joinpath(SHARD_2).unlink()
    code, report, _ = fleet_verify(fleet)
    assert code == 1
    mismatch = by_rule(report, "integrity.hash-mismatch")
    assert [(f["evidence"]["host"], f["evidence"].get("file")) for f in mismatch] == [
        ("host-b", SHARD_1)
    ]
    assert mismatch[0]["message"].startswith("host-b: ")
    missing = by_rule(report, "integrity.missing-shard")
    assert {f["evidence"]["host"] for f in missing} == {"host-b"}
    drift = {f["evidence"]["file"]: f for f in by_rule(report, "integrity.fleet-drift")}
    assert set(drift) == {SHARD_1, SHARD_2}
    assert set(drift[SHARD_1]["evidence"]["sha256"]) == {"host-a", "host-b"}
    assert drift[SHARD_1]["evidence"]["sha256"]["host-a"] == hashlib.sha256(shard(1)).hexdigest()
    assert drift[SHARD_2]["evidence"] == {
        "file": SHARD_2,
        "present": ["host-a"],
        "missing": ["host-b"],
    }
    bad = [f for c in report["components"] for f in c["files"] if f["verified"] is False]
    assert [(f["path"], f["host"]) for f in bad] == [(SHARD_1, "host-b")]


def test_a_model_on_only_some_hosts_and_a_host_that_never_answered(fleet, hosts):
    make_hf_cache(hosts["host-a"] / "hub", REPO, sharded_files())
    make_hf_cache(hosts["host-a"] / "hub", "org/only-a", {"README.md": "only here"})
    make_hf_cache(hosts["host-b"] / "hub", REPO, sharded_files())
    code, report, _ = fleet_verify(fleet, "--expect-host", "host-c", "--expect-host", "host-a")
    assert code == 1
    (only,) = by_rule(report, "integrity.fleet-drift")
    assert only["component"].startswith("model:hf/org/only-a@")
    assert only["evidence"] == {"present": ["host-a"], "missing": ["host-b"]}
    (unreachable,) = by_rule(report, "scan.unreachable-host")
    assert unreachable["evidence"] == {"host": "host-c"}
    assert unreachable["severity"] == "error"


def test_store_paths_are_resolved_on_each_host(fleet, hosts, tmp_path):
    for name, root in hosts.items():
        make_model_dir(root / "home" / "models", "m", files={"extra.bin": name})
    code, report, _ = fleet_verify(fleet, "--store", "~/models")
    assert report["targets"] == [f"{h}:{hosts[h] / 'home' / 'models'}" for h in sorted(hosts)]
    (component,) = report["components"]
    assert [h["host"] for h in component["hosts"]] == ["host-a", "host-b"]
    drift = by_rule(report, "integrity.fleet-drift")
    assert [f["evidence"]["file"] for f in drift] == ["extra.bin"]
    assert code == 1


def test_one_lock_applies_on_every_host(fleet, hosts, tmp_path):
    pristine = tmp_path / "pristine"
    make_hf_cache(pristine, REPO, sharded_files())
    lock = tmp_path / "aiscan.lock"
    assert run_cli("lock", pristine, "-o", lock).exit_code == 0
    make_hf_cache(hosts["host-a"] / "hub", REPO, sharded_files())
    repo, _ = make_hf_cache(hosts["host-b"] / "hub", REPO, sharded_files())
    next((repo / "snapshots").iterdir()).joinpath("README.md").unlink()
    code, report, _ = fleet_verify(fleet, "--lock", lock)
    assert code == 1
    files = [f for c in report["components"] for f in c["files"]]
    assert {f["reference"] for f in files} == {"lockfile"}
    assert all(f["verified"] for f in files if f["host"] == "host-a")
    unreadable = by_rule(report, "scan.unreadable")
    assert [(f["evidence"]["host"], f["evidence"]["file"]) for f in unreadable] == [
        ("host-b", "README.md")
    ]
    assert [f["evidence"]["file"] for f in by_rule(report, "integrity.fleet-drift")] == [
        "README.md"
    ]


def test_a_host_without_stores_is_reported_not_passed(fleet, hosts):
    make_hf_cache(hosts["host-a"] / "hub", REPO, sharded_files())
    code, report, _ = fleet_verify(fleet)
    assert code == 1
    nothing = by_rule(report, "scan.nothing-found")
    assert [f["evidence"]["host"] for f in nothing] == ["host-b"]
    assert nothing[0]["message"].startswith("host-b: no store on this host")


def test_the_merged_report_reads_back(fleet, hosts, tmp_path):
    for root in hosts.values():
        make_hf_cache(root / "hub", REPO, sharded_files())
    out = tmp_path / "fleet.json"
    result = run_cli(
        "verify", "--fleet", "--scheduler", fleet.scheduler_address, "-f", "json", "-o", out
    )
    assert result.exit_code == 0
    (component,) = read_report(out).components
    assert [h.host for h in component.hosts] == ["host-a", "host-b"]
    assert {f.host for f in component.files} == {"host-a", "host-b"}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--fleet",), "--fleet needs a Dask scheduler"),
        (("--fleet", "--scheduler", "tcp://127.0.0.1:1", "somewhere"), "--fleet takes no TARGET"),
        (
            ("--fleet", "--scheduler", "tcp://127.0.0.1:1", "--hub"),
            "--hub does not go with --fleet",
        ),
        (("somewhere", "--store", "x"), "--store and --expect-host go with --fleet"),
        ((), "give at least one TARGET"),
    ],
)
def test_fleet_usage_errors(args, message):
    result = run_cli("verify", *args)
    assert result.exit_code == 2
    assert result.stderr.startswith(f"aiscan: error: {message}")


def test_a_host_whose_worker_dies_is_unreachable_not_clean(fleet, hosts, monkeypatch):
    import os
    import signal
    import threading

    from scanner.pipeline import fleet as fleet_module
    from tests.daskcluster import worker_pids

    for root in hosts.values():
        make_hf_cache(root / "hub", REPO, sharded_files())
    huge = hosts["host-b"] / "home" / "huge"
    huge.mkdir()
    with (huge / "zeros.bin").open("wb") as handle:
        handle.truncate(1024 * 1024 * 1024)  # sparse; host-b is still hashing when it dies
    pids = worker_pids(fleet.scheduler_address)
    started = threading.Event()
    original = fleet_module._FleetProgress.event

    def noticing(self, event):
        if isinstance(event[1], dict) and event[1].get("total", 0) > 2**29:
            started.set()
        return original(self, event)

    monkeypatch.setattr(fleet_module._FleetProgress, "event", noticing)
    killed: list[str] = []

    def kill_host_b() -> None:
        if started.wait(120):
            os.kill(pids["host-b"], signal.SIGKILL)
            killed.append("host-b")

    killer = threading.Thread(target=kill_host_b)
    killer.start()
    code, report, _ = fleet_verify(fleet, "--store", "~/huge", "--store", hosts["host-a"] / "hub")
    killer.join()
    assert killed
    assert code == 1
    (lost,) = by_rule(report, "scan.unreachable-host")
    assert lost["evidence"] == {"host": "host-b"}
    assert report["targets"][0].startswith("host-a:")
    assert all(f["host"] == "host-a" for c in report["components"] for f in c["files"])
    monkeypatch.undo()
    fleet.wait_for_workers(2, timeout=120)


def test_structure_only_compares_sizes(fleet, hosts):
    for name, root in hosts.items():
        make_model_dir(
            root / "home" / "models", "m", files={"extra.bin": "x" * (3 if name == "host-a" else 4)}
        )
    code, report, _ = fleet_verify(fleet, "--store", "~/models", "--structure-only")
    (drift,) = by_rule(report, "integrity.fleet-drift")
    assert drift["evidence"] == {"file": "extra.bin", "sizes": {"host-a": 3, "host-b": 4}}
    assert all(f["sha256"] is None for c in report["components"] for f in c["files"])
    assert code == 1
