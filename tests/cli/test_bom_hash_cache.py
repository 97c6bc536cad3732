"""`aiscan bom` hashes through verify's hash cache: an unchanged file is not read again, a
changed one is, and `--no-cache` reads every file."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

from scanner.integrity.cache import HashCache
from scanner.integrity.hashing import FileIdentity
from tests.conftest import make_model_dir, run_cli


def _digests(bom: Path) -> dict[str, str]:
    """Every nested file component's path and SHA-256."""
    found = {}
    pending = json.loads(bom.read_text(encoding="utf-8"))["components"]
    while pending:
        component = pending.pop()
        pending.extend(component.get("components", []))
        paths = [
            p["value"] for p in component.get("properties", []) if p["name"] == "aiscan:file:path"
        ]
        if component["type"] == "file" and paths:
            (digest,) = [h["content"] for h in component["hashes"] if h["alg"] == "SHA-256"]
            found[paths[0]] = digest
    return found


def test_bom_reads_digests_from_the_cache_and_rehashes_a_changed_file(tmp_path, monkeypatch):
    cache_dir = tmp_path / "cache"
    monkeypatch.setenv("AISCAN_CACHE_DIR", str(cache_dir))
    models = tmp_path / "models"
    folder = make_model_dir(models, "m", files={"config.json": "{}"})
    config = folder / "config.json"
    bom = tmp_path / "bom.json"

    run_cli("bom", models, "-o", bom)
    first = _digests(bom)
    assert first["config.json"] == hashlib.sha256(b"{}").hexdigest()

    # Whatever the cache holds for an unchanged file is what the BOM states: it was not read.
    planted = "f" * 64
    cache = HashCache.open(cache_dir, [])
    assert cache is not None
    cache.put(FileIdentity.of(config.stat()), planted, None)
    cache.close()
    run_cli("bom", models, "-o", bom)
    assert _digests(bom)["config.json"] == planted
    assert _digests(bom)["model.safetensors"] == first["model.safetensors"]

    # --no-cache reads the file; so does a run after the file changed (its ctime moved on).
    run_cli("bom", models, "--no-cache", "-o", bom)
    assert _digests(bom)["config.json"] == first["config.json"]
    stat = config.stat()
    config.write_text("[]", encoding="utf-8")
    os.utime(config, ns=(stat.st_atime_ns, stat.st_mtime_ns))  # same size and mtime
    run_cli("bom", models, "-o", bom)
    assert _digests(bom)["config.json"] == hashlib.sha256(b"[]").hexdigest()


def test_an_unusable_cache_is_a_warning_and_every_file_is_hashed(tmp_path, monkeypatch):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("", encoding="utf-8")
    monkeypatch.setenv("AISCAN_CACHE_DIR", str(blocker / "cache"))
    models = tmp_path / "models"
    make_model_dir(models, "m", files={"config.json": "{}"})
    bom = tmp_path / "bom.json"
    result = run_cli("bom", models, "-o", bom)
    assert result.exit_code == 0
    assert "aiscan: warning: hash cache disabled" in result.stderr
    assert _digests(bom)["config.json"] == hashlib.sha256(b"{}").hexdigest()
