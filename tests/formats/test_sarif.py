"""SARIF output: schema-valid, one rule per rule id, useful locations, stable fingerprints."""

from __future__ import annotations

import json
import struct

import jsonschema
import pytest

from scanner.policy.rules import RULES
from tests.conftest import (
    DATA,
    make_hf_cache,
    make_model_dir,
    model_repo_files,
    run_cli,
    write_safetensors,
)

SCHEMA = json.loads((DATA / "sarif-schema-2.1.0.json").read_text(encoding="utf-8"))


def sarif_of(*args: object) -> dict:
    result = run_cli("scan", *args, "--format", "sarif")
    document = json.loads(result.stdout)
    jsonschema.validate(document, SCHEMA)
    return document


@pytest.fixture
def every_family(tmp_path, monkeypatch):
    """A tree whose scan yields license, provenance, integrity, scan and policy findings."""
    monkeypatch.chdir(tmp_path)
    root = tmp_path / "store"
    make_model_dir(root, "noncommercial", card={"license": "cc-by-nc-4.0"})
    make_model_dir(
        root,
        "unlicensed",
        card={"tags": ["finetune"]},
        weights=None,
        files={"pytorch_model.bin": b"\x80\x02}q\x00."},
    )
    broken = make_model_dir(root, "broken", weights=None)
    header = b'{"w":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}'
    (broken / "model.safetensors").write_bytes(
        struct.pack("<Q", len(header)) + header + b"\x00" * 8
    )
    make_model_dir(root, "llama", card={"license": "llama3"})
    make_hf_cache(root / "hub", "acme/cached", model_repo_files("mit"))
    policy = tmp_path / "policy.yaml"
    policy.write_text(
        "waivers:\n- rule: license.missing\n  component: nothing/*\n  reason: stale\n"
        "- rule: provenance.card-missing\n  component: '*'\n  reason: old\n  expires: 2000-01-01\n"
    )
    return root, policy


def test_scan_with_every_family_validates_against_the_official_schema(every_family):
    root, policy = every_family
    document = sarif_of(root, "--policy", policy)
    families = {r["ruleId"].split(".")[0] for r in document["runs"][0]["results"]}
    assert {"license", "provenance", "integrity", "policy"} <= families


def test_one_rule_per_rule_id_with_help_and_default_level(every_family):
    root, policy = every_family
    driver = sarif_of(root, "--policy", policy)["runs"][0]["tool"]["driver"]
    assert [r["id"] for r in driver["rules"]] == sorted(RULES)
    for rule in driver["rules"]:
        assert rule["help"]["text"] == RULES[rule["id"]].help
        assert rule["defaultConfiguration"]["level"] == RULES[rule["id"]].severity


def test_results_point_at_card_line_and_weight_file(every_family):
    root, policy = every_family
    results = sarif_of(root, "--policy", policy)["runs"][0]["results"]
    by_rule = {r["ruleId"]: r for r in results}
    license_location = by_rule["license.noncommercial"]["locations"][0]["physicalLocation"]
    assert license_location["artifactLocation"]["uri"] == "store/noncommercial/README.md"
    assert license_location["region"]["startLine"] == 2  # line 1 is '---', line 2 'license: …'
    integrity = by_rule["integrity.truncated"]["locations"][0]["physicalLocation"]
    assert integrity["artifactLocation"]["uri"] == "store/broken/model.safetensors"
    for result in results:
        assert result["ruleIndex"] == sorted(RULES).index(result["ruleId"])


def test_fingerprints_are_stable_across_runs_and_unique(every_family):
    root, policy = every_family
    first = [
        r["partialFingerprints"] for r in sarif_of(root, "--policy", policy)["runs"][0]["results"]
    ]
    second = [
        r["partialFingerprints"] for r in sarif_of(root, "--policy", policy)["runs"][0]["results"]
    ]
    assert first == second
    assert len({p["aiscan/v1"] for p in first}) == len(first)


def test_waived_findings_carry_a_suppression(tmp_path):
    folder = make_model_dir(tmp_path, card={"license": "cc-by-nc-4.0"})
    policy = tmp_path / "p.yaml"
    policy.write_text(
        "waivers:\n- rule: license.noncommercial\n  component: '*'\n  reason: research demo\n"
    )
    results = sarif_of(folder, "--policy", policy)["runs"][0]["results"]
    waived = [r for r in results if r["ruleId"] == "license.noncommercial"]
    assert waived and waived[0]["suppressions"][0]["justification"] == "research demo"


def test_valid_weights_give_no_integrity_results(tmp_path):
    folder = make_model_dir(tmp_path, weights=None)
    write_safetensors(folder / "model.safetensors")
    results = sarif_of(folder)["runs"][0]["results"]
    assert not [r for r in results if r["ruleId"].startswith("integrity.")]
