"""Provenance rules beyond the card basics: publishers, pickle globals, auto_map, datasets."""

from __future__ import annotations

import json
import pickle

from scanner.checks.provenance import publisher_verdict
from scanner.policy.load import PublisherRules
from tests.conftest import (
    findings,
    make_hf_cache,
    make_model_dir,
    model_repo_files,
    scan_json,
    write_policy,
)


class _Payload:
    def __reduce__(self):
        import os

        return (os.system, ("echo owned",))


def test_pickle_importing_os_system_is_an_error(tmp_path):
    folder = make_model_dir(
        tmp_path, weights=None, files={"model.pt": pickle.dumps({"w": _Payload()}, protocol=2)}
    )
    result, report = scan_json(folder)
    (hit,) = findings(report, "provenance.unsafe-format")
    assert hit["severity"] == "error"
    assert any(name.endswith(".system") for name in hit["evidence"]["globals"])
    assert result.exit_code == 1
    entry = next(f for f in report["components"][0]["files"] if f["path"] == "model.pt")
    assert entry["pickle"]["error"] is None


def test_unscannable_pickle_is_reported_not_clean(tmp_path):
    folder = make_model_dir(tmp_path, weights=None, files={"pytorch_model.bin": b"\x80\x02junk"})
    _, report = scan_json(folder)
    (hit,) = findings(report, "provenance.unsafe-format")
    assert hit["evidence"]["scanned"] is False
    assert "could not be scanned" in hit["message"]


def test_auto_map_is_remote_code(tmp_path):
    config = {"model_type": "custom", "auto_map": {"AutoModel": "modeling_custom.CustomModel"}}
    folder = make_model_dir(tmp_path, files={"config.json": json.dumps(config)})
    _, report = scan_json(folder)
    hits = findings(report, "provenance.remote-code")
    assert [h["evidence"].get("auto_map") for h in hits] == [
        ["AutoModel=modeling_custom.CustomModel"]
    ]


def test_finetune_without_datasets_is_incomplete(tmp_path):
    folder = make_model_dir(
        tmp_path,
        card={"license": "mit", "base_model": "acme/base", "base_model_relation": "finetune"},
    )
    _, report = scan_json(folder)
    (hit,) = findings(report, "provenance.card-incomplete")
    assert hit["evidence"]["missing"] == ["datasets"]


def test_quantization_needs_no_datasets(tmp_path):
    folder = make_model_dir(
        tmp_path,
        card={"license": "mit", "base_model": "acme/base", "base_model_relation": "quantized"},
    )
    _, report = scan_json(folder)
    assert findings(report, "provenance.card-incomplete") == []


def test_publisher_verdicts():
    deny = PublisherRules(deny=("evil-*", "acme/*-uncensored"))
    assert publisher_verdict("evil-corp/model", deny)
    assert publisher_verdict("acme/llama-uncensored", deny)
    assert publisher_verdict("acme/llama", deny) is None
    allow = PublisherRules(allow=("meta-llama", "Qwen"))
    assert publisher_verdict("qwen/Qwen2.5-7B", allow) is None
    assert "not on the allow list" in publisher_verdict("someone/model", allow)


def test_denied_publisher_of_a_cached_repo_and_of_a_base(tmp_path):
    hub = tmp_path / "hub"
    make_hf_cache(hub, "shady/model", model_repo_files("mit", {"base_model": "shady/base"}))
    make_hf_cache(hub, "shady/base", model_repo_files("mit"))
    policy = write_policy(tmp_path / "p.yaml", "extends: default\npublishers:\n  deny: [shady]\n")
    result, report = scan_json(hub, args=["--policy", policy])
    hits = findings(report, "provenance.publisher-denied")
    assert len(hits) == 3  # two repos, and shady/base again as the base of shady/model
    assert result.exit_code == 1


def test_local_folders_have_no_publisher(tmp_path):
    folder = make_model_dir(tmp_path)
    policy = write_policy(tmp_path / "p.yaml", "extends: default\npublishers:\n  allow: [google]\n")
    _, report = scan_json(folder, args=["--policy", policy])
    assert findings(report, "provenance.publisher-denied") == []
