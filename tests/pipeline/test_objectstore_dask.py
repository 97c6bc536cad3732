"""`aiscan verify s3://… --scheduler`: object-store files are streamed on the Dask workers, with
the workers' own credentials, and the report is the local run's."""

from __future__ import annotations

import json

import pytest

from scanner.pipeline import objects
from tests.conftest import make_model_dir, run_cli
from tests.daskcluster import start_cluster
from tests.s3server import SECRET, LocalS3


@pytest.fixture(scope="module")
def cluster(moto_endpoint, tmp_path_factory):
    """Two workers that reach the local S3 endpoint through their own environment."""
    env = {
        "AWS_ENDPOINT_URL": moto_endpoint,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": SECRET,
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_CONFIG_FILE": "/nonexistent/aws-config",
        "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent/aws-credentials",
        "AWS_EC2_METADATA_DISABLED": "true",
        "AISCAN_CACHE_DIR": str(tmp_path_factory.mktemp("worker-cache")),
    }
    with start_cluster({"w1": env, "w2": env}) as running:
        yield running


@pytest.fixture(autouse=True)
def _private_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("AISCAN_CACHE_DIR", str(tmp_path / "aiscan-cache"))
    monkeypatch.setenv("CI", "1")
    monkeypatch.delenv("DASK_SCHEDULER_ADDRESS", raising=False)


def test_objects_are_hashed_on_the_workers(tmp_path, local_s3: LocalS3, cluster, monkeypatch):
    store = tmp_path / "store"
    make_model_dir(store, "a", files={"extra.bin": b"x" * 4096})
    make_model_dir(store, "b", card={"license": "mit"})
    url = local_s3.upload_tree(store, "shared", sha256=True)
    local = run_cli("verify", url, "--no-cache", "--format", "json")

    def no_local_hashing(*args, **kwargs):
        raise AssertionError("with a scheduler, objects are streamed on the workers")

    monkeypatch.setattr(objects, "hash_all", no_local_hashing)
    remote = run_cli(
        "verify", url, "--no-cache", "--format", "json", "--scheduler", cluster.scheduler_address
    )
    assert remote.exit_code == local.exit_code == 0, remote.stderr
    assert remote.stdout == local.stdout
    files = [f for c in json.loads(remote.stdout)["components"] for f in c["files"]]
    assert files and all(f["verified"] for f in files if f["reference"] == "store-checksum")
    assert SECRET not in remote.stdout + remote.stderr


def test_a_flipped_object_is_a_mismatch_on_the_workers(tmp_path, local_s3: LocalS3, cluster):
    store = tmp_path / "store"
    make_model_dir(store, "m")
    url = local_s3.upload_tree(store, "flipped")
    lock = tmp_path / "aiscan.lock"
    assert run_cli("lock", store, "-o", lock, "--no-cache").exit_code == 0
    weights = bytearray((store / "m" / "model.safetensors").read_bytes())
    weights[-1] ^= 1
    local_s3.put("flipped/m/model.safetensors", bytes(weights))
    result = run_cli(
        "verify", url, "--lock", lock, "--no-cache", "--format", "json",
        "--scheduler", cluster.scheduler_address,
    )  # fmt: skip
    assert result.exit_code == 1
    (entry,) = [
        f
        for c in json.loads(result.stdout)["components"]
        for f in c["files"]
        if f["path"] == "model.safetensors"
    ]
    assert entry["verified"] is False and entry["reference"] == "lockfile"
