"""`aiscan bom` and `aiscan scan --format <bom>`: files written, validated, hashed, --from."""

from __future__ import annotations

import hashlib
import json

from tests.conftest import make_model_dir, run_cli
from tests.formats.test_cyclonedx import llama_chain


def test_bom_hashes_files_by_default(tmp_path):
    folder = make_model_dir(tmp_path, "m")
    out = tmp_path / "bom.cdx.json"
    result = run_cli("bom", folder, "-o", out)
    assert result.exit_code == 0, result.stderr
    document = json.loads(out.read_text())
    files = {f["name"]: f for f in document["components"][0]["components"]}
    digest = hashlib.sha256((folder / "model.safetensors").read_bytes()).hexdigest()
    assert files["m/model.safetensors"]["hashes"][0]["content"] == digest

    plain = run_cli("bom", folder, "--no-hash")
    assert plain.exit_code == 0
    assert all("hashes" not in f for f in json.loads(plain.stdout)["components"][0]["components"])


def test_bom_reads_a_project_with_the_options_of_scan(tmp_path):
    """`--no-env` / `--no-deps` mean what they mean for `scan`: the project's packages are in
    the BOM, with their graph, only when they are read; a contradiction is a usage error."""
    from tests.formats.test_bom_consumers import make_project

    project = make_project(tmp_path)
    read = run_cli("bom", project, "--no-hash")
    assert read.exit_code == 0, read.stderr
    document = json.loads(read.stdout)
    names = {c["name"] for c in document["components"]}
    assert {"alpha", "beta", "gamma"} <= names
    edges = {d["ref"]: d.get("dependsOn", []) for d in document["dependencies"]}
    assert edges["library:pypi/alpha@1.0"] == ["library:pypi/beta@2.0"]
    assert document["metadata"]["component"]["name"] == "project"

    unread = run_cli("bom", project, "--no-hash", "--no-env", "--no-deps")
    assert unread.exit_code == 0, unread.stderr
    assert not {"alpha", "beta", "gamma"} & {
        c["name"] for c in json.loads(unread.stdout).get("components", [])
    }
    contradiction = run_cli("bom", project, "--no-env", "--python", "/bin/sh")
    assert contradiction.exit_code == 2 and "contradict" in contradiction.stderr


def test_every_format_from_a_saved_report(tmp_path):
    targets = llama_chain(tmp_path)
    report = tmp_path / "report.json"
    scanned = run_cli("scan", *targets, "--format", "json", "-o", report)
    assert scanned.exit_code in (0, 1), scanned.stderr
    outputs = {}
    for fmt in ("cyclonedx-json", "cyclonedx-xml", "spdx-json", "spdx-tv"):
        result = run_cli("bom", "--from", report, "--format", fmt)
        assert result.exit_code == 0, result.stderr
        outputs[fmt] = result.stdout
    assert json.loads(outputs["cyclonedx-json"])["bomFormat"] == "CycloneDX"
    assert outputs["cyclonedx-xml"].startswith("<?xml")
    assert json.loads(outputs["spdx-json"])["spdxVersion"] == "SPDX-2.3"
    assert "SPDXVersion: SPDX-2.3" in outputs["spdx-tv"]
    v17 = run_cli("bom", "--from", report, "--spec-version", "1.7")
    assert json.loads(v17.stdout)["specVersion"] == "1.7"


def test_scan_writes_a_bom_and_keeps_its_exit_code(tmp_path):
    folder = make_model_dir(tmp_path, "nc", card={"license": "cc-by-nc-4.0"})
    out = tmp_path / "bom.cdx.json"
    result = run_cli("scan", folder, "--format", "cyclonedx-json", "-o", out)
    assert result.exit_code == 1
    document = json.loads(out.read_text())
    names = {p["name"] for p in document["components"][0]["properties"]}
    assert "aiscan:finding:license.noncommercial" in names


def test_bom_output_is_reproducible_with_source_date_epoch(tmp_path):
    folder = make_model_dir(tmp_path, "m")
    env = {"SOURCE_DATE_EPOCH": "1700000000"}
    first = run_cli("bom", folder, "--format", "spdx-json", env=env).stdout
    assert first == run_cli("bom", folder, "--format", "spdx-json", env=env).stdout


def test_verify_accepts_the_bom_as_reference(tmp_path):
    folder = make_model_dir(tmp_path, "m")
    out = tmp_path / "bom.cdx.json"
    assert run_cli("bom", folder, "-o", out).exit_code == 0
    result = run_cli("verify", folder, "--against", out, "--no-cache", "--format", "json")
    files = json.loads(result.stdout)["components"][0]["files"]
    weights = next(f for f in files if f["path"] == "model.safetensors")
    assert weights["reference"] == "bom" and weights["verified"] is True


def test_usage_errors(tmp_path):
    assert run_cli("bom").exit_code == 2
    folder = make_model_dir(tmp_path, "m")
    assert run_cli("bom", folder, "--from", tmp_path / "r.json").exit_code == 2
    missing = run_cli("bom", "--from", tmp_path / "absent.json")
    assert missing.exit_code == 2 and "cannot read" in missing.stderr


def test_validation_failure_exits_3(tmp_path, monkeypatch):
    from scanner.formats import cyclonedx

    monkeypatch.setattr(cyclonedx, "_model_card", lambda c, r: {"bogus": True})
    folder = make_model_dir(tmp_path, "m", card={"license": "mit", "pipeline_tag": "fill-mask"})
    result = run_cli("bom", folder)
    assert result.exit_code == 3
    assert "does not validate" in result.stderr
