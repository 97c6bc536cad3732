"""`aiscan scan` and `aiscan verify` of an S3 prefix (moto on 127.0.0.1): the same components,
files and findings as a local run on the same bytes, the store's SHA-256 as a reference, locks
made from a local folder, the ETag-keyed cache, and objects that change under the run."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from safetensors.numpy import save_file

from scanner.formats.registry import FORMATS
from scanner.remote import objectstore
from tests.conftest import make_model_dir, rules_of, run_cli
from tests.s3server import SECRET, LocalS3

MIT = "MIT License\n\nPermission is hereby granted, free of charge, to any person obtaining a copy"


@pytest.fixture(autouse=True)
def _private_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("AISCAN_CACHE_DIR", str(tmp_path / "aiscan-cache"))


def _store(root: Path) -> Path:
    """A store of three model folders: a licensed one, a non-commercial one, a sharded one."""
    store = root / "store"
    make_model_dir(store, "mini", license_text=MIT, card={"license": "mit"})
    make_model_dir(store, "nc", card={"license": "cc-by-nc-4.0"}, files={"config.json": "{}"})
    sharded = store / "org" / "sharded"
    sharded.mkdir(parents=True)
    save_file({"a": np.zeros(4, np.float32)}, sharded / "s1.safetensors")
    save_file({"c": np.ones(2, np.float32)}, sharded / "s2.safetensors")
    index = {
        "metadata": {"total_size": 24},
        "weight_map": {"a": "s1.safetensors", "c": "s2.safetensors"},
    }
    (sharded / "model.safetensors.index.json").write_text(json.dumps(index))
    return store


def _report(*args: object) -> tuple[int, dict[str, Any], str]:
    result = run_cli(*args, "--format", "json")
    assert result.stdout, result.stderr
    return result.exit_code, json.loads(result.stdout), result.stdout + result.stderr


def _normalised(report: dict[str, Any], root: str) -> dict[str, Any]:
    """The report with where it was read from taken out: the root's path or URL, and the
    name of the source that read it."""
    document = json.loads(json.dumps(report).replace(root, "<root>"))
    for component in document["components"]:
        component.pop("source")
    return document


@pytest.mark.parametrize("command", ["scan", "verify"])
def test_same_report_as_a_local_run_on_the_same_bytes(tmp_path, local_s3: LocalS3, command):
    store = _store(tmp_path)
    url = local_s3.upload_tree(store, "team/store")
    options = ["--no-cache"] if command == "verify" else []
    local_code, local, _ = _report(command, store, *options)
    remote_code, remote, text = _report(command, url, *options)
    assert remote_code == local_code
    assert _normalised(remote, url) == _normalised(local, str(store))
    assert {c["source"] for c in remote["components"]} == {"objectstore"}
    assert remote["targets"] == [url]
    assert SECRET not in text


def test_store_checksums_are_the_reference(tmp_path, local_s3: LocalS3):
    store = _store(tmp_path)
    url = local_s3.upload_tree(store, "store", sha256=True)
    code, report, _ = _report("verify", url)
    files = [f for c in report["components"] for f in c["files"]]
    assert files and all(f["verified"] is True for f in files)
    for entry in files:
        assert entry["reference"] == "store-checksum"
        assert entry["expected"] == f"sha256:{entry['sha256']}"
    assert "integrity.unverified" not in rules_of(report)
    assert code == 0


def test_objects_without_checksums_are_hashed_but_unverified(tmp_path, local_s3: LocalS3):
    store = _store(tmp_path)
    url = local_s3.upload_tree(store, "store")
    local_s3.put("store/mini/extra.bin", b"\x00" * 10, sha256=True)
    _, report, _ = _report("verify", url)
    mini = next(c for c in report["components"] if c["name"] == "mini")
    by_path = {f["path"]: f for f in mini["files"]}
    assert by_path["extra.bin"]["verified"] is True
    assert by_path["model.safetensors"]["verified"] is None
    assert by_path["model.safetensors"]["sha256"] is not None
    assert "integrity.unverified" in rules_of(report)


def test_a_local_lock_applies_and_a_flipped_byte_is_a_mismatch(tmp_path, local_s3: LocalS3):
    store = _store(tmp_path)
    lock = tmp_path / "aiscan.lock"
    assert run_cli("lock", store, "-o", lock).exit_code == 0
    damaged = tmp_path / "damaged"
    shutil.copytree(store, damaged)
    weights = damaged / "mini" / "model.safetensors"
    data = bytearray(weights.read_bytes())
    data[-1] ^= 0x01
    weights.write_bytes(bytes(data))
    (damaged / "nc" / "config.json").unlink()  # locked, and now absent
    # The store's checksum is of the damaged bytes: the lock must win over it.
    url = local_s3.upload_tree(damaged, "copy", sha256=True)
    local_code, local, _ = _report("verify", damaged, "--lock", lock, "--no-cache")
    remote_code, remote, _ = _report("verify", url, "--lock", lock, "--no-cache")
    assert remote_code == local_code == 1
    assert _normalised(remote, url) == _normalised(local, str(damaged))
    mini = next(c for c in remote["components"] if c["name"] == "mini")
    entry = next(f for f in mini["files"] if f["path"] == "model.safetensors")
    assert entry["reference"] == "lockfile" and entry["verified"] is False
    assert "integrity.hash-mismatch" in rules_of(remote)
    nc = next(c for c in remote["components"] if c["name"] == "nc")
    absent = next(f for f in nc["files"] if f["path"] == "config.json")
    assert absent["verified"] is False and absent["size"] is None


def test_a_lock_of_a_local_folder_matches_the_same_folder_in_the_store(tmp_path, local_s3: LocalS3):
    folder = make_model_dir(tmp_path, "only-model", license_text=MIT)
    lock = tmp_path / "aiscan.lock"
    assert run_cli("lock", folder, "-o", lock).exit_code == 0
    url = local_s3.upload_tree(folder, "elsewhere/renamed")
    code, report, _ = _report("verify", url, "--lock", lock)
    files = report["components"][0]["files"]
    assert all(f["verified"] is True and f["reference"] == "lockfile" for f in files)
    assert code == 0


def test_a_missing_shard_is_found_as_locally(tmp_path, local_s3: LocalS3):
    store = _store(tmp_path)
    (store / "org" / "sharded" / "s2.safetensors").unlink()
    url = local_s3.upload_tree(store, "store")
    local_code, local, _ = _report("verify", store, "--no-cache")
    remote_code, remote, _ = _report("verify", url, "--no-cache")
    assert "integrity.missing-shard" in rules_of(remote)
    assert remote_code == local_code == 1
    assert _normalised(remote, url) == _normalised(local, str(store))


def test_reverification_reads_the_cache_until_the_etag_changes(tmp_path, local_s3: LocalS3):
    store = _store(tmp_path)
    url = local_s3.upload_tree(store, "store")
    _, first, _ = _report("verify", url)
    assert not any(f.get("from_cache") for c in first["components"] for f in c["files"])
    _, second, _ = _report("verify", url)
    cached = [f for c in second["components"] for f in c["files"]]
    assert all(f.get("from_cache") for f in cached)
    local_s3.put(
        "store/mini/model.safetensors", (store / "nc" / "model.safetensors").read_bytes() + b""
    )
    local_s3.put("store/mini/LICENSE", b"changed")
    _, third, _ = _report("verify", url)
    mini = next(c for c in third["components"] if c["name"] == "mini")
    by_path = {f["path"]: f for f in mini["files"]}
    assert not by_path["LICENSE"].get("from_cache")
    assert by_path["README.md"].get("from_cache")


def test_an_object_deleted_after_listing_is_never_verified(
    tmp_path, local_s3: LocalS3, monkeypatch
):
    store = _store(tmp_path)
    url = local_s3.upload_tree(store, "store", sha256=True)
    listed = objectstore.ObjectStore.list

    def list_then_delete(self):
        objects = listed(self)
        local_s3.delete("store/mini/model.safetensors")
        return objects

    monkeypatch.setattr(objectstore.ObjectStore, "list", list_then_delete)
    code, report, text = _report("verify", url)
    mini = next(c for c in report["components"] if c["name"] == "mini")
    entry = next(f for f in mini["files"] if f["path"] == "model.safetensors")
    assert entry["verified"] is not True and entry["sha256"] is None
    assert any("vanished" in f["message"] for f in report["findings"])
    assert code == 1
    assert "Traceback" not in text


def test_an_object_deleted_before_hashing_is_never_verified(
    tmp_path, local_s3: LocalS3, monkeypatch
):
    from scanner.pipeline import objects

    store = _store(tmp_path)
    url = local_s3.upload_tree(store, "store", sha256=True)
    hashed = objects.hash_object

    def delete_then_hash(url, options, size, etag, progress=None):
        if url.endswith("mini/model.safetensors"):
            local_s3.delete("store/mini/model.safetensors")
        return hashed(url, options, size, etag, progress)

    monkeypatch.setattr(objects, "hash_object", delete_then_hash)
    code, report, _ = _report("verify", url, "--no-cache")
    mini = next(c for c in report["components"] if c["name"] == "mini")
    entry = next(f for f in mini["files"] if f["path"] == "model.safetensors")
    assert entry["verified"] is False and entry["sha256"] is None
    assert entry["reference"] == "store-checksum"
    assert code == 1


def test_structure_checks_read_ranges_not_whole_objects(tmp_path, local_s3: LocalS3, monkeypatch):
    import s3fs.core

    folder = tmp_path / "big"
    folder.mkdir()
    save_file({"w": np.zeros(4 * 1024 * 1024, np.float32)}, folder / "model.safetensors")
    url = local_s3.upload_tree(folder, "big")
    fetched: list[int] = []
    original = s3fs.core.S3File._fetch_range

    def counting(self, start, end):
        fetched.append(end - start)
        return original(self, start, end)

    monkeypatch.setattr(s3fs.core.S3File, "_fetch_range", counting)
    _, report, _ = _report("verify", url, "--structure-only")
    assert report["components"][0]["files"][0]["safetensors"]["tensors"] == 1
    assert 0 < sum(fetched) <= 2 * 1024 * 1024 < (folder / "model.safetensors").stat().st_size


def test_a_bom_of_a_bucket_carries_the_hashes_of_its_objects(tmp_path, local_s3: LocalS3):
    folder = make_model_dir(tmp_path, "m")
    url = local_s3.upload_tree(folder, "boms/m")
    out = tmp_path / "bom.cdx.json"
    result = run_cli("bom", url, "-o", out)
    assert result.exit_code == 0, result.stderr
    files = {f["name"]: f for f in json.loads(out.read_text())["components"][0]["components"]}
    digest = hashlib.sha256((folder / "model.safetensors").read_bytes()).hexdigest()
    assert files["m/model.safetensors"]["hashes"][0]["content"] == digest
    assert SECRET not in out.read_text()


def test_any_fsspec_url_is_read_the_same_way(tmp_path):
    import fsspec

    store = _store(tmp_path)
    memory = fsspec.filesystem("memory")
    for path in store.rglob("*"):
        if path.is_file():
            memory.pipe(
                f"/aiscan-test/store/{path.relative_to(store).as_posix()}", path.read_bytes()
            )
    try:
        local_code, local, _ = _report("verify", store, "--no-cache")
        remote_code, remote, _ = _report("verify", "memory://aiscan-test/store", "--no-cache")
    finally:
        memory.rm("/aiscan-test", recursive=True)
    assert remote_code == local_code
    assert _normalised(remote, "memory://aiscan-test/store") == _normalised(local, str(store))


def test_access_denied_is_one_line_and_exit_3(local_s3: LocalS3, monkeypatch):
    import s3fs

    def denied(self, *args, **kwargs):
        raise PermissionError(13, "Access Denied")

    monkeypatch.setattr(s3fs.S3FileSystem, "find", denied)
    result = run_cli("verify", local_s3.url("models"))
    assert result.exit_code == 3
    assert result.stderr == f"aiscan: error: cannot list {local_s3.url('models')}: access denied\n"


def test_exclude_patterns_leave_out_the_same_objects(tmp_path, local_s3: LocalS3):
    store = _store(tmp_path)
    (store / "mini" / "notes.bin").write_bytes(b"\x00" * 8)
    url = local_s3.upload_tree(store, "store")
    options = ("--exclude", "nc/", "--exclude", "*.bin", "--no-cache")
    local_code, local, _ = _report("verify", store, *options)
    remote_code, remote, _ = _report("verify", url, *options)
    assert remote_code == local_code
    assert _normalised(remote, url) == _normalised(local, str(store))
    assert {c["name"] for c in remote["components"]} == {"mini", "org/sharded"}
    assert all(f["path"] != "notes.bin" for c in remote["components"] for f in c["files"])


def test_a_lock_of_the_store_verifies_a_local_copy(tmp_path, local_s3: LocalS3):
    folder = make_model_dir(tmp_path, "model", license_text=MIT)
    url = local_s3.upload_tree(folder, "locked/model")
    lock = tmp_path / "aiscan.lock"
    assert run_cli("lock", url, "-o", lock).exit_code == 0
    assert json.loads(lock.read_text())["components"][0]["location"] == url
    code, report, _ = _report("verify", folder, "--lock", lock)
    assert all(f["verified"] is True for f in report["components"][0]["files"])
    assert code == 0


@pytest.mark.parametrize("output_format", sorted(FORMATS))
def test_every_format_renders_a_scan_of_a_bucket(tmp_path, local_s3: LocalS3, output_format):
    url = local_s3.upload_tree(_store(tmp_path), "store")
    result = run_cli("scan", url, "--format", output_format)
    assert result.exit_code == 1, result.stderr  # the non-commercial model fails the policy
    assert result.stdout and SECRET not in result.stdout


def test_a_multipart_checksum_is_not_taken_for_the_objects_sha256(tmp_path, local_s3: LocalS3):
    from boto3.s3.transfer import TransferConfig

    folder = tmp_path / "parts"
    folder.mkdir()
    save_file({"w": np.zeros(3 * 1024 * 1024, np.float32)}, folder / "model.safetensors")
    parts = TransferConfig(multipart_threshold=5 * 1024 * 1024, multipart_chunksize=5 * 1024 * 1024)
    local_s3.client.upload_file(
        str(folder / "model.safetensors"),
        local_s3.bucket,
        "parts/model.safetensors",
        ExtraArgs={"ChecksumAlgorithm": "SHA256"},
        Config=parts,
    )
    code, report, _ = _report("verify", local_s3.url("parts"))
    (entry,) = report["components"][0]["files"]
    assert entry.get("reference") is None and entry["verified"] is None
    assert (
        entry["sha256"] == hashlib.sha256((folder / "model.safetensors").read_bytes()).hexdigest()
    )
    assert "integrity.hash-mismatch" not in rules_of(report)
    assert code == 0


def test_the_hashing_unit_runs_in_a_fresh_process(tmp_path, local_s3: LocalS3):
    """What a Dask worker would do: unpickle a job and call `hash_object` with its fields,
    with credentials and endpoint from its own environment."""
    import multiprocessing
    import pickle
    from concurrent.futures import ProcessPoolExecutor

    data = b"weights" * 1000
    local_s3.put("unit/model.bin", data)
    store = objectstore.ObjectStore(local_s3.url("unit"))
    (listed,) = store.list()
    job = pickle.loads(pickle.dumps(objects_job(store, listed)))
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        digest = pool.submit(
            objectstore.hash_object, job.url, job.storage_options, job.size, job.etag
        ).result(timeout=120)
    assert digest.error is None
    assert digest.sha256 == hashlib.sha256(data).hexdigest()


def objects_job(store: objectstore.ObjectStore, listed: objectstore.StoreObject) -> Any:
    from scanner.pipeline.objects import ObjectJob

    url = store.url_of(listed.path)
    return ObjectJob(
        url, store.storage_options, listed.size, listed.etag, objectstore.shown_url(url)
    )


def test_a_second_bom_of_an_unchanged_bucket_reads_no_object(
    tmp_path, local_s3: LocalS3, monkeypatch
):
    from scanner.pipeline import objects

    url = local_s3.upload_tree(make_model_dir(tmp_path, "m"), "boms/m")
    streamed: list[str] = []
    hashed = objects.hash_object

    def counting(url, options, size, etag, progress=None):
        streamed.append(url)
        return hashed(url, options, size, etag, progress)

    monkeypatch.setattr(objects, "hash_object", counting)
    first = run_cli("bom", url, "-o", tmp_path / "first.json")
    assert first.exit_code == 0 and len(streamed) == 2  # README.md and model.safetensors
    second = run_cli("bom", url, "-o", tmp_path / "second.json")
    assert second.exit_code == 0 and len(streamed) == 2
    assert (tmp_path / "first.json").read_text().count('"content"') == (
        tmp_path / "second.json"
    ).read_text().count('"content"')
