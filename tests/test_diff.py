"""`aiscan diff`: added/removed components, license and hash changes, findings, exit code."""

from __future__ import annotations

import json

from tests.conftest import make_model_dir, run_cli


def _report(tmp_path, name, folder):
    out = tmp_path / name
    run_cli("scan", folder, "--format", "json", "-o", out)
    return out


def _bom(tmp_path, name, folder):
    out = tmp_path / name
    assert run_cli("bom", folder, "-o", out).exit_code == 0
    return out


def test_license_change_that_violates_policy_exits_1(tmp_path):
    folder = make_model_dir(tmp_path / "v1", "m", card={"license": "apache-2.0"})
    old = _report(tmp_path, "old.json", folder)
    make_model_dir(tmp_path / "v1", "m", card={"license": "cc-by-nc-4.0"})
    make_model_dir(tmp_path / "v1", "extra", card={"license": "mit"})
    new = _report(tmp_path, "new.json", tmp_path / "v1")
    result = run_cli("diff", old, new, "--format", "json")
    assert result.exit_code == 1
    changes = json.loads(result.stdout)["changes"]
    kinds = {(c["kind"], c["component"]) for c in changes}
    assert ("effective", "model:m") in kinds and ("declared", "model:m") in kinds
    assert ("added", "model:extra") in kinds
    assert any(c["kind"] == "new-finding" and "license.noncommercial" in c["new"] for c in changes)
    # and back again: the finding is resolved, nothing new fails
    back = run_cli("diff", new, old, "--format", "markdown")
    assert back.exit_code == 0
    assert "| resolved-finding | model:m | license.noncommercial (error) |" in back.stdout


def test_hash_change_between_boms(tmp_path):
    folder = make_model_dir(tmp_path, "m")
    old = _bom(tmp_path, "old.cdx.json", folder)
    (folder / "model.safetensors").write_bytes(b"changed")
    new = _bom(tmp_path, "new.cdx.json", folder)
    result = run_cli("diff", old, new)
    assert result.exit_code == 1  # the new bytes are not safetensors: a new integrity error
    assert "hash" in result.stdout and "model:m/model.safetensors" in result.stdout
    assert "(error)" in result.stdout


def test_identical_inputs_show_no_change(tmp_path):
    folder = make_model_dir(tmp_path, "m")
    report = _report(tmp_path, "r.json", folder)
    result = run_cli("diff", report, report)
    assert result.exit_code == 0 and "0 change(s)" in result.stdout


def test_unknown_input_is_a_usage_error(tmp_path):
    other = tmp_path / "x.json"
    other.write_text("{}")
    result = run_cli("diff", other, other)
    assert result.exit_code == 2 and "neither" in result.stderr
