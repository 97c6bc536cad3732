"""The GitHub Action and pre-commit hook users copy: their wiring matches the CLI."""

from __future__ import annotations

import yaml

from scanner.formats.registry import FORMATS
from tests.conftest import REPO


def test_action_inputs_and_steps():
    action = yaml.safe_load((REPO / "action.yml").read_text(encoding="utf-8"))
    assert action["runs"]["using"] == "composite"
    assert {"targets", "policy", "format", "output", "fail-on"} <= set(action["inputs"])
    assert action["inputs"]["format"]["default"] in FORMATS
    steps = action["runs"]["steps"]
    scan = next(step for step in steps if step.get("id") == "scan")
    assert 'aiscan scan "${targets[@]}"' in scan["run"]
    assert "--fail-on" in scan["run"] and "--policy" in scan["run"]
    uploads = [
        step
        for step in steps
        if step.get("uses", "").startswith("github/codeql-action/upload-sarif")
    ]
    assert uploads and uploads[0]["with"]["sarif_file"] == "${{ inputs.output }}"


def test_ci_workflow_runs_the_action_on_the_examples():
    workflow = yaml.safe_load(
        (REPO / ".github" / "workflows" / "ci.yml").read_text(encoding="utf-8")
    )
    steps = workflow["jobs"]["action"]["steps"]
    assert {
        "uses": "./",
        "with": {"targets": "examples", "policy": "examples/aiscan.yaml"},
    } in steps


def test_pre_commit_hook_runs_aiscan_scan():
    (hook,) = yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
    assert hook["id"] == "aiscan"
    assert hook["entry"] == "aiscan scan"
    assert hook["pass_filenames"] is False
