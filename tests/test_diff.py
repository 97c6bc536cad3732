"""`aiscan diff`: added/removed components, license and hash changes, findings, exit code."""

from __future__ import annotations

import json

import pytest

from scanner.formats.markdown import escape
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
    cells = ("resolved-finding", "model:m", "license.noncommercial (error)")
    assert "| " + " | ".join(map(escape, cells)) + " |" in back.stdout


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


DEEP = "[" * 10_000 + "]" * 10_000
HOSTILE = {
    "report-deep": '{"schema": "aiscan-report/1", "components": ' + DEEP + "}",
    "cyclonedx-deep": '{"bomFormat": "CycloneDX", "components": '
    + '[{"type": "library", "name": "x", "components": ' * 10_000
    + "[]"
    + "}]" * 10_000
    + "}",
    "spdx-deep": '{"spdxVersion": "SPDX-2.3", "packages": ' + DEEP + "}",
    "spdx3-deep": '{"@context": "https://spdx.org/rdf/3.0.1/spdx-context.jsonld", "@graph": '
    + DEEP
    + "}",
    "huge-integer": '{"bomFormat": "CycloneDX", "components": [{"type": "library", "name": '
    + "9" * 5000
    + "}]}",
    "long-integer-for-a-name": json.dumps(
        {"bomFormat": "CycloneDX", "components": [{"type": "library", "name": 10**4000}]}
    ),
    "report-wrong-types": json.dumps(
        {
            "schema": "aiscan-report/1",
            "tool": {"version": "0"},
            "components": [],
            "findings": [{"rule": "r", "severity": {}, "component": None, "message": "m"}],
        }
    ),
    "cyclonedx-wrong-types": json.dumps({"bomFormat": "CycloneDX", "components": {"a": 1}}),
    "spdx-wrong-types": json.dumps({"spdxVersion": "SPDX-2.3", "packages": [{"SPDXID": 1}]}),
    "spdx3-wrong-types": json.dumps(
        {
            "@context": "https://spdx.org/rdf/3.0.1/spdx-context.jsonld",
            "@graph": [{"type": "Relationship", "from": [], "relationshipType": "contains"}],
        }
    ),
}


@pytest.mark.parametrize("case", HOSTILE)
def test_hostile_input_is_one_error_line_and_exit_2(tmp_path, case):
    folder = make_model_dir(tmp_path, "m")
    good = _bom(tmp_path, "good.cdx.json", folder)
    hostile = tmp_path / f"{case}.json"
    hostile.write_text(HOSTILE[case])
    for old, new in ((good, hostile), (hostile, good)):
        result = run_cli("diff", old, new)  # asserts there is no traceback
        assert result.exit_code == 2, result.stderr
        (line,) = result.stderr.splitlines()
        assert line.startswith("aiscan: error: ") and str(hostile) in line
        assert len(line) < 400
