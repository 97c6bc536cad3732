"""`aiscan verify --hub`: the Hub's published LFS sha256 as a reference for cached files."""

from __future__ import annotations

import hashlib
import json
import os

import numpy as np

from tests import fakehub
from tests.conftest import make_hf_cache, run_cli, safetensors_bytes

fake_hub = fakehub.fake_hub
"""The local fake Hub fixture (tests/fakehub.py)."""

REAL = safetensors_bytes()
OTHER = safetensors_bytes({"w": np.ones((3, 3), dtype=np.float32)})


def _cached_copy(tmp_path, fake_hub):
    """The same revision on the fake Hub and in a local HF cache."""
    files = {"README.md": "---\nlicense: mit\n---\n", "model.safetensors": REAL}
    sha = fake_hub.add_repo("acme/model", files)
    repo_dir, _ = make_hf_cache(tmp_path / "cache", "acme/model", files, commit=sha)
    return repo_dir, sha


def test_intact_cache_verifies(tmp_path, fake_hub):
    repo_dir, _ = _cached_copy(tmp_path, fake_hub)
    result = run_cli("verify", repo_dir, "--hub", "--format", "json")
    assert result.exit_code == 0, result.stdout
    assert '"integrity.hash-mismatch"' not in result.stdout


def test_snapshot_linked_to_the_wrong_blob_is_a_mismatch_against_the_hub(tmp_path, fake_hub):
    repo_dir, sha = _cached_copy(tmp_path, fake_hub)
    # A swapped shard: the snapshot now links to a different (self-consistent) blob.
    other_blob = repo_dir / "blobs" / hashlib.sha256(OTHER).hexdigest()
    other_blob.write_bytes(OTHER)
    link = repo_dir / "snapshots" / sha / "model.safetensors"
    link.unlink()
    link.symlink_to(os.path.relpath(other_blob, link.parent))

    without_hub = run_cli("verify", repo_dir, "--no-cache", "--format", "json")
    assert without_hub.exit_code == 0  # the blob matches its own name: invisible offline

    result = run_cli("verify", repo_dir, "--no-cache", "--hub", "--format", "json")
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    (entry,) = [f for f in report["components"][0]["files"] if f["path"] == "model.safetensors"]
    assert entry["verified"] is False
    assert entry["reference"] == "hub"
    assert entry["expected"] == f"sha256:{hashlib.sha256(REAL).hexdigest()}"
    assert any(f["rule"] == "integrity.hash-mismatch" for f in report["findings"])


INVALID_TOKEN = {"X-Error-Message": "Invalid credentials in Authorization header"}


def test_refused_token_is_one_line_exit_3(tmp_path, fake_hub):
    repo_dir, _ = _cached_copy(tmp_path, fake_hub)
    fake_hub.misbehave("/api/models/", fakehub.raw(401, b"{}", INVALID_TOKEN))
    result = run_cli("verify", repo_dir, "--hub")
    assert result.exit_code == 3
    (line,) = result.stderr.strip().splitlines()
    assert "rejected the token for acme/model@" in line
    assert fakehub.FAKE_TOKEN not in result.stdout + result.stderr


def test_malformed_hub_digests_are_no_reference(tmp_path, fake_hub):
    repo_dir, _ = _cached_copy(tmp_path, fake_hub)

    def break_digests(info):
        for sibling in info["siblings"]:
            if "lfs" in sibling:
                sibling["lfs"] = {"sha256": "not-a-digest"}
        return info

    fake_hub.change_info("acme/model", break_digests)
    result = run_cli("verify", repo_dir, "--hub", "--format", "json")
    assert result.exit_code == 0, result.stdout
    assert '"integrity.hash-mismatch"' not in result.stdout


def test_hub_on_a_plain_folder_says_it_asked_nothing(tmp_path, fake_hub):
    from tests.conftest import make_model_dir

    folder = make_model_dir(tmp_path, "plain")
    result = run_cli("verify", folder, "--hub")
    assert result.exit_code == 0
    assert "--hub asked the Hub nothing" in result.stderr
    repo_dir, _ = _cached_copy(tmp_path, fake_hub)
    assert "asked the Hub nothing" not in run_cli("verify", repo_dir, "--hub").stderr
