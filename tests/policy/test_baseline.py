"""`--baseline`: findings already in an earlier report are listed but do not fail the run."""

from __future__ import annotations

import json

from tests.conftest import make_model_dir, run_cli, scan_json


def test_known_findings_do_not_fail_new_ones_do(tmp_path):
    store = tmp_path / "store"
    make_model_dir(store, "old", card={"license": "cc-by-nc-4.0"})
    first, report = scan_json(store)
    assert first.exit_code == 1
    baseline = tmp_path / "baseline.json"
    baseline.write_text(json.dumps(report))

    again, report = scan_json(store, args=["--baseline", baseline])
    assert again.exit_code == 0
    assert report["summary"]["errors"] == 0
    assert all(f["baseline"] for f in report["findings"])

    make_model_dir(store, "new", card={"license": "cc-by-nc-sa-4.0"})
    third, report = scan_json(store, args=["--baseline", baseline])
    assert third.exit_code == 1
    new = [f for f in report["findings"] if not f["baseline"] and f["severity"] == "error"]
    assert [f["component"] for f in new] == ["model:local/new"]


def test_a_sarif_log_works_as_baseline(tmp_path):
    folder = make_model_dir(tmp_path, card={"license": "cc-by-nc-4.0"})
    sarif = tmp_path / "old.sarif"
    sarif.write_text(run_cli("scan", folder, "--format", "sarif").stdout)
    result, _ = scan_json(folder, args=["--baseline", sarif])
    assert result.exit_code == 0


def test_unreadable_baseline_is_a_usage_error(tmp_path):
    folder = make_model_dir(tmp_path)
    bogus = tmp_path / "bogus.json"
    bogus.write_text('{"not": "a report"}')
    result = run_cli("scan", folder, "--baseline", bogus)
    assert result.exit_code == 2
    assert result.stderr.startswith("aiscan: error:") and "bogus.json" in result.stderr
    missing = run_cli("scan", folder, "--baseline", tmp_path / "missing.json")
    assert missing.exit_code == 2
