"""Models named in code reach the same license resolution as model folders, end to end through
`aiscan scan`: looked up by the id they are loaded by in the scan, the HF cache, the Hub (with
`--hub`) and the catalogue, with evidence of where their license came from, and judged like a
stored model (obligations, conflicts, policy)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests import fakehub
from tests.conftest import (
    findings,
    make_hf_cache,
    model_repo_files,
    rules_of,
    scan_json,
    write_policy,
)

fake_hub = fakehub.fake_hub
"""The local fake Hub fixture (tests/fakehub.py)."""


@pytest.fixture(autouse=True)
def _empty_hf_cache(monkeypatch, tmp_path):
    """No test here may read the HF cache of the machine it runs on."""
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hf-cache"))


def _project(tmp_path: Path, *ids: str) -> Path:
    root = tmp_path / "proj"
    root.mkdir()
    (root / "requirements.txt").write_text("transformers\n")
    lines = ["from transformers import AutoModel"]
    lines += [f"m{i} = AutoModel.from_pretrained({name!r})" for i, name in enumerate(ids)]
    (root / "app.py").write_text("\n".join(lines) + "\n")
    return root


def _reference(report, name):
    (found,) = [c for c in report["components"] if c["name"] == name and c["source"] == "code"]
    return found


def test_a_catalogued_model_in_code_gets_its_license_and_its_findings(tmp_path):
    _, report = scan_json(_project(tmp_path, "meta-llama/Llama-2-7b-hf"))
    model = _reference(report, "meta-llama/Llama-2-7b-hf")
    facts = model["license"]
    assert (facts["effective"], facts["category"]) == ("llama2", "restricted")
    assert model["code_reference"]["found_in"] == "catalogue"
    (where,) = [e for e in facts["evidence"] if e["source"] == "code reference (catalogue)"]
    assert "meta-llama/Llama-2-7b-hf is known to catalogue family" in where["value"]
    mine = {f["rule"] for f in report["findings"] if f["component"] == model["ref"]}
    assert {"license.obligation", "license.acceptable-use-policy", "license.mau-threshold"} <= mine
    assert "provenance.undeclared-model" in mine  # still shadow AI


def test_a_policy_denying_the_license_denies_the_model_in_code(tmp_path):
    policy = write_policy(tmp_path / "p.yaml", "extends: default\nlicenses:\n  deny: [llama2]\n")
    result, report = scan_json(
        _project(tmp_path, "meta-llama/Llama-2-7b-hf"), args=["--policy", policy]
    )
    (denied,) = findings(report, "license.denied")
    assert denied["component"] == _reference(report, "meta-llama/Llama-2-7b-hf")["ref"]
    assert result.exit_code == 1


def test_a_model_in_the_hf_cache_is_read_from_there(tmp_path):
    make_hf_cache(tmp_path / "hf-cache", "acme/nc-model", model_repo_files("cc-by-nc-4.0"))
    result, report = scan_json(_project(tmp_path, "acme/nc-model"))
    model = _reference(report, "acme/nc-model")
    assert model["license"]["effective"] == "cc-by-nc-4.0"
    assert model["code_reference"]["found_in"] == "hfcache"
    assert any(e["source"] == "code reference (hfcache)" for e in model["license"]["evidence"])
    (hit,) = findings(report, "license.noncommercial", severity="error")
    assert hit["component"] == model["ref"]
    assert result.exit_code == 1


def test_a_model_on_the_hub_is_asked_with_hub_and_its_lineage_followed(fake_hub, tmp_path):
    fake_hub.card_repo("meta-llama/Meta-Llama-3-8B", {"license": "llama3"})
    fake_hub.card_repo(
        "acme/chat", {"license": "apache-2.0", "base_model": "meta-llama/Meta-Llama-3-8B"}
    )
    root = _project(tmp_path, "acme/chat")
    _, offline = scan_json(root)
    assert _reference(offline, "acme/chat")["license"]["effective"] is None
    _, report = scan_json(root, args=["--hub"])
    model = _reference(report, "acme/chat")
    assert model["code_reference"]["found_in"] == "hub"
    assert model["license"]["inherited"] == ["llama3"]
    assert [a["name"] for a in model["lineage"]] == ["meta-llama/Meta-Llama-3-8B"]
    (conflict,) = findings(report, "license.conflict-with-base")
    assert conflict["component"] == model["ref"]
    assert conflict["evidence"]["lineage"] == ["acme/chat -> meta-llama/Meta-Llama-3-8B [hub]"]


def test_an_unknown_model_in_code_has_no_license_and_says_who_was_asked(tmp_path):
    _, report = scan_json(_project(tmp_path, "acme/private-thing"))
    model = _reference(report, "acme/private-thing")
    assert (model["license"]["effective"], model["license"]["category"]) == (None, "unknown")
    assert model["code_reference"]["found_in"] is None
    (why,) = model["license"]["evidence"]
    assert why["source"] == "code reference"
    assert "not known to: scan, hfcache, catalogue" in why["value"]
    # nothing to judge: its license is unknown, not missing
    mine = {f["rule"] for f in report["findings"] if f["component"] == model["ref"]}
    assert "license.missing" not in mine and "provenance.undeclared-model" in mine


def test_a_model_the_scan_holds_is_judged_once_on_that_component(tmp_path):
    store = tmp_path / "store"
    make_hf_cache(store, "acme/tuned", model_repo_files("llama3"))
    _, report = scan_json(_project(tmp_path, "acme/tuned"), store)
    model = _reference(report, "acme/tuned")
    assert model["code_reference"]["found_in"] == "scan"
    assert model["license"]["effective"] == "llama3"
    mine = {f["rule"] for f in report["findings"] if f["component"] == model["ref"]}
    assert not {rule for rule in mine if rule.startswith("license.")}
    (cached,) = [c for c in report["components"] if c["source"] == "hfcache"]
    assert findings(report, "license.obligation", component=cached["ref"])


def test_a_local_path_is_never_looked_up(tmp_path):
    _, report = scan_json(_project(tmp_path, "./checkpoints/meta-llama/Llama-2-7b-hf"))
    model = _reference(report, "./checkpoints/meta-llama/Llama-2-7b-hf")
    assert model["license"]["effective"] is None and model["license"]["evidence"] == []
    assert "license.obligation" not in rules_of(report)
