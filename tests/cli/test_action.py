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


def test_the_scan_step_scans_once_and_writes_the_summary_once(tmp_path):
    """Run the action's own scan script, with its inputs filled in as GitHub would."""
    import os
    import subprocess
    import sys

    from tests.conftest import make_model_dir, subprocess_env

    action = yaml.safe_load((REPO / "action.yml").read_text(encoding="utf-8"))
    scan = next(step for step in action["runs"]["steps"] if step.get("id") == "scan")
    inputs = {"format": "sarif", "output": str(tmp_path / "aiscan.sarif"), "summary": "true"}
    script = scan["run"]
    for name, value in inputs.items():
        script = script.replace("${{ inputs." + name + " }}", value)
    assert "${{" not in script
    folder = make_model_dir(tmp_path, "m", card={"license": "cc-by-nc-4.0"})
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "aiscan").write_text(f'#!/bin/sh\nexec {sys.executable} -m scanner "$@"\n')
    (bin_dir / "aiscan").chmod(0o755)
    summary, outputs = tmp_path / "summary.md", tmp_path / "outputs"
    env = {
        **subprocess_env(),
        "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
        "AISCAN_TARGETS": str(folder),
        "AISCAN_POLICY": "",
        "AISCAN_FAIL_ON": "",
        "GITHUB_STEP_SUMMARY": str(summary),
        "GITHUB_OUTPUT": str(outputs),
    }
    subprocess.run(["bash", "-c", script], env=env, check=True, timeout=120)
    assert script.count("aiscan scan") == 1
    assert summary.read_text(encoding="utf-8").count("## aiscan:") == 1
    assert (tmp_path / "aiscan.sarif").is_file()
    assert outputs.read_text() == "exit-code=1\n"
