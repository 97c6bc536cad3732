"""`aiscan verify` and `aiscan lock` end to end: references, structure defects, hostile stores.

Every fixture is built by code; the store is checked to be unchanged after each run.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import struct
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner
from safetensors.numpy import save

from scanner.cli.main import main
from tests.conftest import REAL_SNAPSHOT, run_cli

SNAPSHOT = REAL_SNAPSHOT
MINILM_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
COMMIT = "c" * 40


@pytest.fixture(autouse=True)
def _private_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("AISCAN_CACHE_DIR", str(tmp_path / "aiscan-cache"))
    monkeypatch.setenv("CI", "1")


def weights(seed: int = 0) -> bytes:
    rng = np.random.default_rng(seed)
    return save({"w": rng.random((4, 4), dtype=np.float32), "b": np.arange(3, dtype=np.int64)})


def raw_file(header: Any, data: bytes = b"", padding: bytes = b"") -> bytes:
    if isinstance(header, bytes):
        text = header + padding
    else:
        text = (header if isinstance(header, str) else json.dumps(header)).encode() + padding
    return struct.pack("<Q", len(text)) + text + data


def tensor(dtype: str, shape: list[int], begin: int, end: int) -> dict[str, Any]:
    return {"dtype": dtype, "shape": shape, "data_offsets": [begin, end]}


def make_cache(
    root: Path, repo: str, files: dict[str, bytes], blob_names: dict[str, str] | None = None
) -> Path:
    """An HF hub cache: blobs named by sha256 (or as given), snapshot links to them."""
    repo_dir = root / f"models--{repo.replace('/', '--')}"
    snapshot = repo_dir / "snapshots" / COMMIT
    (repo_dir / "blobs").mkdir(parents=True, exist_ok=True)
    snapshot.mkdir(parents=True, exist_ok=True)
    (repo_dir / "refs").mkdir(exist_ok=True)
    (repo_dir / "refs" / "main").write_text(COMMIT)
    for name, content in files.items():
        blob_name = (blob_names or {}).get(name) or hashlib.sha256(content).hexdigest()
        (repo_dir / "blobs" / blob_name).write_bytes(content)
        (snapshot / name).symlink_to(Path("..", "..", "blobs", blob_name))
    return repo_dir


def state(root: Path) -> dict[str, tuple]:
    result = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            path = Path(dirpath, name)
            st = path.lstat()
            result[str(path)] = (st.st_mode, st.st_size, st.st_mtime_ns)
    return result


def verify(*args: object) -> tuple[int, dict[str, Any]]:
    result = CliRunner().invoke(main, ["verify", *map(str, args), "--format", "json"])
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, json.loads(result.stdout)


def files_of(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {f["path"]: f for c in report["components"] for f in c["files"]}


def rules(report: dict[str, Any]) -> list[str]:
    return sorted(f["rule"] for f in report["findings"])


def test_hf_cache_blob_names_verify_content(tmp_path):
    hub = tmp_path / "hub"
    config = b'{"model_type": "bert"}\n'
    git_id = hashlib.sha1(b"blob %d\0" % len(config) + config).hexdigest()
    make_cache(
        hub,
        "acme/m",
        {"model.safetensors": weights(), "config.json": config},
        {"config.json": git_id},
    )
    before = state(hub)
    code, report = verify(hub)
    assert code == 0, report["findings"]
    files = files_of(report)
    assert files["model.safetensors"]["verified"] is True
    assert files["model.safetensors"]["reference"] == "hf-blob"
    assert files["model.safetensors"]["sha256"] == hashlib.sha256(weights()).hexdigest()
    assert files["config.json"]["verified"] is True
    assert files["config.json"]["expected"] == f"git-sha1:{git_id}"
    assert state(hub) == before


def test_tampered_blob_is_a_hash_mismatch(tmp_path):
    hub = tmp_path / "hub"
    repo = make_cache(hub, "acme/m", {"model.safetensors": weights()})
    blob = next((repo / "blobs").iterdir())
    blob.write_bytes(weights(seed=1))  # same layout, other values: structure stays valid
    code, report = verify(hub)
    assert code == 1
    assert rules(report) == ["integrity.hash-mismatch"]
    assert files_of(report)["model.safetensors"]["verified"] is False


def test_xet_shared_blob_is_checked_against_the_repo_blob_name(tmp_path):
    hub = tmp_path / "hub"
    content = weights()
    sha = hashlib.sha256(content).hexdigest()
    xet_hash = "ab" + "0" * 62  # a Xet hash is 64 hex but not the SHA-256
    shared = hub / "blobs" / "ab" / xet_hash
    shared.parent.mkdir(parents=True)
    shared.write_bytes(content)
    repo = make_cache(hub, "acme/x", {"model.safetensors": b""})
    (repo / "blobs" / hashlib.sha256(b"").hexdigest()).unlink()
    link = repo / "snapshots" / COMMIT / "model.safetensors"
    link.unlink()
    (repo / "blobs" / sha).symlink_to(Path("..", "..", "blobs", "ab", xet_hash))
    link.symlink_to(Path("..", "..", "blobs", sha))
    code, report = verify(repo)
    assert code == 0, report["findings"]
    assert files_of(report)["model.safetensors"]["verified"] is True


def test_local_folder_without_reference_is_unverified_with_its_hash(tmp_path):
    folder = tmp_path / "m"
    folder.mkdir()
    (folder / "model.safetensors").write_bytes(weights())
    code, report = verify(folder)
    assert code == 0
    assert rules(report) == ["integrity.unverified"]
    entry = files_of(report)["model.safetensors"]
    assert entry["verified"] is None and entry["sha256"] == hashlib.sha256(weights()).hexdigest()


def test_lock_then_verify_detects_changes(tmp_path):
    folder = tmp_path / "m"
    folder.mkdir()
    (folder / "model.safetensors").write_bytes(weights())
    (folder / "config.json").write_text('{"model_type": "bert"}')
    lock = tmp_path / "aiscan.lock"
    result = CliRunner().invoke(main, ["lock", str(folder), "-o", str(lock)])
    assert result.exit_code == 0, result.output
    document = json.loads(lock.read_text())
    assert document["schema"] == "aiscan-lock/1"
    assert {f["path"] for f in document["components"][0]["files"]} == {
        "model.safetensors",
        "config.json",
    }

    code, report = verify(folder, "--lock", lock)
    assert code == 0 and rules(report) == []
    assert {f["reference"] for f in files_of(report).values()} == {"lockfile"}

    (folder / "model.safetensors").write_bytes(weights(seed=2))
    (folder / "extra.py").write_text("import os\n")
    (folder / "config.json").unlink()
    code, report = verify(folder, "--lock", lock)
    assert code == 1
    assert rules(report) == [
        "integrity.hash-mismatch",
        "integrity.unexpected-file",
        "scan.unreadable",
    ]


def test_a_revision_the_lock_never_saw_is_not_verified(tmp_path):
    """The red-team case: a new snapshot with other weights, and refs/main moved to it. Its blob
    names vouch for it, but the lock is the reference: every file is unexpected."""
    hub = tmp_path / "hub"
    repo = make_cache(hub, "acme/m", {"model.safetensors": weights()})
    lock = tmp_path / "aiscan.lock"
    assert run_cli("lock", hub, "-o", lock).exit_code == 0
    new = "d" * 40
    (repo / "blobs" / hashlib.sha256(weights(seed=5)).hexdigest()).write_bytes(weights(seed=5))
    (repo / "snapshots" / new).mkdir()
    (repo / "snapshots" / new / "model.safetensors").symlink_to(
        Path("..", "..", "blobs", hashlib.sha256(weights(seed=5)).hexdigest())
    )
    (repo / "refs" / "main").write_text(new)
    shutil.rmtree(repo / "snapshots" / COMMIT)
    code, report = verify(hub, "--lock", lock)
    assert code == 1
    unexpected = [f for f in report["findings"] if f["rule"] == "integrity.unexpected-file"]
    assert [f["component"] for f in unexpected] == [f"model:hf/acme/m@{new}"]
    assert not [f for c in report["components"] for f in c["files"] if f["verified"] is True]
    assert "scan.unreadable" in rules(report)  # the locked revision is gone


def test_a_lock_verifies_a_copy_under_another_name(tmp_path):
    """Locks travel: a folder locked as the target verifies a copy elsewhere; a file really
    missing from the copy is still absent."""
    mini = tmp_path / "mini"
    mini.mkdir()
    (mini / "model.safetensors").write_bytes(weights())
    (mini / "config.json").write_text('{"model_type": "bert"}')
    lock = tmp_path / "mini.lock"
    assert run_cli("lock", mini, "-o", lock).exit_code == 0
    assert json.loads(lock.read_text())["components"][0]["root"] is True
    copy = tmp_path / "elsewhere" / "mini-copy"
    shutil.copytree(mini, copy)
    code, report = verify(copy, "--lock", lock)
    assert code == 0, report["findings"]
    assert all(f["verified"] is True for f in files_of(report).values())
    (copy / "config.json").unlink()
    code, report = verify(copy, "--lock", lock)
    assert code == 1
    absent = [f for f in report["findings"] if f["rule"] == "scan.unreadable"]
    assert len(absent) == 1 and "config.json" in absent[0]["message"]


def test_a_single_file_target_is_verified_and_hashed(tmp_path):
    single = tmp_path / "model.safetensors"
    single.write_bytes(weights())
    code, report = verify(single)
    assert code == 0, report["findings"]
    (entry,) = files_of(report).values()
    assert entry["sha256"] == hashlib.sha256(weights()).hexdigest()
    assert rules(report) == ["integrity.unverified"]
    bom = run_cli("bom", single, "--format", "cyclonedx-json")
    assert hashlib.sha256(weights()).hexdigest() in bom.stdout


def test_lock_refuses_a_broken_store(tmp_path):
    folder = tmp_path / "m"
    folder.mkdir()
    (folder / "model.safetensors").write_bytes(weights()[:-3])
    lock = tmp_path / "aiscan.lock"
    result = CliRunner().invoke(main, ["lock", str(folder), "-o", str(lock)])
    assert result.exit_code == 1
    assert not lock.exists()


def test_lock_file_naming_a_missing_component(tmp_path):
    folder = tmp_path / "m"
    folder.mkdir()
    (folder / "model.safetensors").write_bytes(weights())
    lock = tmp_path / "aiscan.lock"
    lock.write_text(
        json.dumps(
            {
                "schema": "aiscan-lock/1",
                "components": [
                    {
                        "ref": "model:local/gone",
                        "files": [{"path": "w.safetensors", "size": 1, "sha256": "0" * 64}],
                    }
                ],
            }
        )
    )
    code, report = verify(folder, "--lock", lock)
    assert code == 1
    assert "scan.unreadable" in rules(report)


def test_bad_lock_file_is_a_usage_error(tmp_path):
    folder = tmp_path / "m"
    folder.mkdir()
    (folder / "model.safetensors").write_bytes(weights())
    (tmp_path / "bad.lock").write_text("{}")
    result = CliRunner().invoke(main, ["verify", str(folder), "--lock", str(tmp_path / "bad.lock")])
    assert result.exit_code == 2


def test_cyclonedx_bom_reference(tmp_path):
    folder = tmp_path / "m"
    folder.mkdir()
    (folder / "model.safetensors").write_bytes(weights())
    bom = {
        "bomFormat": "CycloneDX",
        "specVersion": "1.6",
        "components": [
            {
                "type": "machine-learning-model",
                "name": "m",
                "components": [
                    {
                        "type": "file",
                        "name": "model.safetensors",
                        "hashes": [
                            {"alg": "SHA-256", "content": hashlib.sha256(weights()).hexdigest()}
                        ],
                    }
                ],
            }
        ],
    }
    (tmp_path / "bom.cdx.json").write_text(json.dumps(bom))
    code, report = verify(folder, "--against", tmp_path / "bom.cdx.json")
    assert code == 0
    entry = files_of(report)["model.safetensors"]
    assert entry["verified"] is True and entry["reference"] == "bom"


@pytest.mark.parametrize(
    "content",
    [
        '{"bomFormat": "CycloneDX", "components": '
        + '[{"type": "library", "name": "x", "components": ' * 10_000
        + "[]"
        + "}]" * 10_000
        + "}",
        '{"bomFormat": "CycloneDX", "components": [{"type": "file", "name": ' + "9" * 5000 + "}]}",
        json.dumps({"bomFormat": "CycloneDX", "components": [{"type": "file", "name": 10**4000}]}),
        json.dumps({"bomFormat": "CycloneDX", "components": [{"type": "file", "hashes": {}}]}),
    ],
    ids=["10000-deep", "huge-integer", "long-integer-name", "wrong-types"],
)
def test_hostile_bom_is_one_error_line_and_exit_2(tmp_path, content):
    folder = tmp_path / "m"
    folder.mkdir()
    (folder / "model.safetensors").write_bytes(weights())
    bom = tmp_path / "bom.cdx.json"
    bom.write_text(content)
    result = run_cli("verify", folder, "--against", bom)  # asserts there is no traceback
    assert result.exit_code == 2
    (line,) = result.stderr.splitlines()
    assert line.startswith("aiscan: error: ") and str(bom) in line and len(line) < 400


HEADER_DEFECTS = {
    "zero-byte": (b"", "integrity.truncated"),
    "header-2^40": (struct.pack("<Q", 2**40) + b"{}", "integrity.malformed"),
    "header-past-end": (struct.pack("<Q", 500) + b"{}", "integrity.truncated"),
    "not-utf8": (raw_file(b'{"a": "\xff"}'), "integrity.malformed"),
    "not-json": (raw_file("{nope"), "integrity.malformed"),
    "not-object": (raw_file("[1, 2]"), "integrity.malformed"),
    "bad-metadata": (raw_file({"__metadata__": {"a": 1}}), "integrity.malformed"),
    "duplicate": (
        raw_file(
            '{"t": '
            + json.dumps(tensor("U8", [1], 0, 1))
            + ', "t": '
            + json.dumps(tensor("U8", [1], 0, 1))
            + "}",
            b"\0",
        ),
        "integrity.duplicate-tensor",
    ),
    "unknown-dtype": (
        raw_file({"t": tensor("F128", [1], 0, 16)}, b"\0" * 16),
        "integrity.malformed",
    ),
    "sub-byte": (raw_file({"t": tensor("F4", [3], 0, 2)}, b"\0" * 2), "integrity.malformed"),
    "size-mismatch": (raw_file({"t": tensor("F32", [2], 0, 4)}, b"\0" * 4), "integrity.malformed"),
    "not-from-zero": (raw_file({"t": tensor("U8", [2], 2, 4)}, b"\0" * 4), "integrity.malformed"),
    "overlap": (
        raw_file({"a": tensor("U8", [4], 0, 4), "b": tensor("U8", [4], 2, 6)}, b"\0" * 6),
        "integrity.malformed",
    ),
    "data-short": (raw_file({"t": tensor("U8", [8], 0, 8)}, b"\0" * 5), "integrity.truncated"),
    "data-long": (raw_file({"t": tensor("U8", [2], 0, 2)}, b"\0" * 5), "integrity.malformed"),
    "unknown-field": (
        raw_file({"t": {**tensor("U8", [1], 0, 1), "x": 1}}, b"\0"),
        "integrity.malformed",
    ),
    "non-space-padding": (
        raw_file({"t": tensor("U8", [1], 0, 1)}, b"\0", padding=b"\n\t"),
        "integrity.malformed",
    ),
}


@pytest.mark.parametrize("name", sorted(HEADER_DEFECTS))
@pytest.mark.parametrize("mode", [["--structure-only"], ["--no-cache"]])
def test_each_structural_defect_is_reported(tmp_path, name, mode):
    content, rule = HEADER_DEFECTS[name]
    folder = tmp_path / "m"
    folder.mkdir()
    (folder / "model.safetensors").write_bytes(content)
    before = state(folder)
    code, report = verify(folder, *mode)
    assert code == 1
    assert rule in rules(report)
    entry = files_of(report)["model.safetensors"]
    assert entry["verified"] is not True
    if rule != "integrity.duplicate-tensor":  # laid out soundly, so still hashed
        assert entry["sha256"] is None
    assert state(folder) == before


def test_structure_only_hashes_nothing(tmp_path):
    folder = tmp_path / "m"
    folder.mkdir()
    (folder / "model.safetensors").write_bytes(weights())
    code, report = verify(folder, "--structure-only")
    assert code == 0 and rules(report) == []
    assert files_of(report)["model.safetensors"]["sha256"] is None
    assert not (tmp_path / "aiscan-cache" / "hashes.sqlite3").exists()  # no hash cache opened


def test_sharded_model_with_missing_shard(tmp_path):
    folder = tmp_path / "m"
    folder.mkdir()
    (folder / "model-00001-of-00002.safetensors").write_bytes(weights())
    index = {
        "metadata": {"total_size": 1},
        "weight_map": {
            "w": "model-00001-of-00002.safetensors",
            "b": "model-00001-of-00002.safetensors",
            "x": "model-00002-of-00002.safetensors",
        },
    }
    (folder / "model.safetensors.index.json").write_text(json.dumps(index))
    code, report = verify(folder, "--structure-only")
    assert code == 1
    assert "integrity.missing-shard" in rules(report)


def test_links_outside_the_store_loops_and_missing_blobs(tmp_path):
    outside = tmp_path / "outside.safetensors"
    outside.write_bytes(weights())
    store = tmp_path / "store"
    folder = store / "m"
    folder.mkdir(parents=True)
    (folder / "model.safetensors").write_bytes(weights())
    (folder / "escape.safetensors").symlink_to(outside)
    (folder / "loop.bin").symlink_to("loop.bin")
    code, report = verify(store)
    assert code == 1
    files = files_of(report)
    assert "escape.safetensors" not in files
    (escape,) = [f for f in report["findings"] if f["rule"] == "scan.link-outside-target"]
    assert str(outside) in escape["message"] and "not followed" in escape["message"]
    unreadable = [f["message"] for f in report["findings"] if f["rule"] == "scan.unreadable"]
    assert any("loop" in m for m in unreadable)

    hub = tmp_path / "hub"
    repo = make_cache(hub, "acme/m", {"model.safetensors": weights()})
    for blob in (repo / "blobs").iterdir():
        blob.unlink()
    code, report = verify(hub)
    assert code == 1 and "scan.unreadable" in rules(report)
    assert all(f["verified"] is not True for f in files_of(report).values())


def test_cache_is_used_then_bypassed(tmp_path, monkeypatch):
    import scanner.pipeline.distributed as verify_module  # where the local thread pool is chosen

    folder = tmp_path / "m"
    folder.mkdir()
    (folder / "model.safetensors").write_bytes(weights())
    hashed: list[int] = []
    real = verify_module.hash_files

    def counting(jobs, **kwargs):
        jobs = list(jobs)
        hashed.append(len(jobs))
        return real(jobs, **kwargs)

    monkeypatch.setattr(verify_module, "hash_files", counting)
    verify(folder)
    verify(folder)
    verify(folder, "--rehash")
    verify(folder, "--no-cache")
    assert hashed == [1, 0, 1, 1]
    (tmp_path / "aiscan-cache" / "hashes.sqlite3").write_bytes(b"garbage" * 1000)
    result = CliRunner().invoke(main, ["verify", str(folder), "--format", "json"])
    assert result.exit_code == 0
    assert "rebuilding" in result.stderr


def test_permission_denied_is_reported_not_verified(world_tmp, run_restricted):
    """Runs as a user that mode 000 really stops (conftest's run_restricted), or skips why not."""
    folder = world_tmp / "m"
    folder.mkdir()
    folder.chmod(0o755)
    (folder / "model.safetensors").write_bytes(weights())
    (folder / "config.json").write_text('{"model_type": "bert"}')
    (folder / "config.json").chmod(0o000)
    (folder / "model.safetensors").chmod(0o000)
    proc = run_restricted("verify", folder, "--format", "json")
    assert proc.returncode == 1, proc.stderr
    report = json.loads(proc.stdout)
    files = files_of(report)
    assert all(f["verified"] is not True for f in files.values())
    assert files["config.json"]["error"] and files["model.safetensors"]["error"]
    assert "scan.unreadable" in rules(report)


@pytest.mark.skipif(
    not (SNAPSHOT / "model.safetensors").exists(),
    reason="run .ci/fetch-snapshot for the real snapshot",
)
def test_real_snapshot_verifies_against_its_published_hash(tmp_path):
    hub = tmp_path / "hub"
    repo = hub / "models--sentence-transformers--all-MiniLM-L6-v2"
    (repo / "blobs").mkdir(parents=True)
    (repo / "snapshots" / COMMIT).mkdir(parents=True)
    blob = repo / "blobs" / MINILM_SHA256
    try:
        os.link(SNAPSHOT / "model.safetensors", blob)
    except OSError:
        shutil.copyfile(SNAPSHOT / "model.safetensors", blob)
    (repo / "snapshots" / COMMIT / "model.safetensors").symlink_to(
        Path("..", "..", "blobs", MINILM_SHA256)
    )
    code, report = verify(hub)
    assert code == 0, report["findings"]
    entry = files_of(report)["model.safetensors"]
    assert entry == {
        **entry,
        "sha256": MINILM_SHA256,
        "verified": True,
        "reference": "hf-blob",
        "size": 90868376,
    }

    lock = tmp_path / "aiscan.lock"
    lock.write_text(
        json.dumps(
            {
                "schema": "aiscan-lock/1",
                "components": [
                    {
                        "ref": "model:local/all-MiniLM-L6-v2",
                        "files": [
                            {"path": "model.safetensors", "size": 90868376, "sha256": MINILM_SHA256}
                        ],
                    }
                ],
            }
        )
    )
    code, report = verify(SNAPSHOT, "--lock", lock)
    entry = files_of(report)["model.safetensors"]
    assert entry["verified"] is True and entry["reference"] == "lockfile"
    # The other files of the snapshot are not in this hand-written lock: reported, not passed.
    assert code == 1 and set(rules(report)) == {"integrity.unexpected-file"}
