"""The `aiscan` command line: verbs, output, exit codes (0, 1, 2, 3)."""

from __future__ import annotations

import json

from scanner import __version__
from tests.conftest import make_model_dir, run_cli, write_safetensors
from tests.licensing.test_knowledge_base import REQUIRED_KEYS


def test_version():
    result = run_cli("--version")
    assert result.exit_code == 0
    assert __version__ in result.stdout
    assert "aiscan" in result.stdout


def test_help_lists_the_verbs():
    result = run_cli("--help")
    assert result.exit_code == 0
    assert "scan" in result.stdout
    assert "licenses" in result.stdout


def test_scan_help_documents_exit_codes():
    result = run_cli("scan", "--help")
    assert result.exit_code == 0
    for code in ("0", "1", "2", "3"):
        assert f"  {code}  " in result.stdout
    assert "--policy" in result.stdout
    assert "--fail-on" in result.stdout


def test_no_arguments_is_usage_not_crash():
    result = run_cli("scan")
    assert result.exit_code == 2


def test_unknown_flag_is_exit_2(tmp_path):
    result = run_cli("scan", tmp_path, "--frobnicate")
    assert result.exit_code == 2


# --- licenses -------------------------------------------------------------------------------


def test_licenses_list_table_shows_every_key(kb):
    result = run_cli("licenses", "list")
    assert result.exit_code == 0
    missing = [key for key in kb.entries if key not in result.stdout]
    assert missing == [], f"keys not shown (whole) in `aiscan licenses list`: {missing}"


def test_licenses_list_json(kb):
    result = run_cli("licenses", "list", "--format", "json")
    assert result.exit_code == 0
    rows = json.loads(result.stdout)
    keys = [row["key"] for row in rows]
    assert sorted(keys) == sorted(kb.entries)
    assert set(REQUIRED_KEYS) <= set(keys)
    apache = next(r for r in rows if r["key"] == "apache-2.0")
    assert apache["id"] == "Apache-2.0"
    assert apache["category"] == "permissive"
    assert apache["commercial_use"] is True


def test_licenses_show_llama3():
    result = run_cli("licenses", "show", "llama3")
    assert result.exit_code == 0
    out = result.stdout
    assert "Meta Llama 3 Community License" in out
    assert "Built with Meta Llama 3" in out
    for section in ("§2. Additional Commercial Terms", "§1.b.i (B)", "§1.b.iv", "§1.b.v"):
        assert section in out
    assert "700,000,000" in out or "700000000" in out
    assert "https://llama.meta.com/llama3/use-policy" in out


def test_licenses_show_prints_clause_ids():
    result = run_cli("licenses", "show", "llama3")
    for clause_id in (
        "monthly-active-users",
        "attribution",
        "acceptable-use-policy",
        "no-improving-other-models",
    ):
        assert clause_id in result.stdout, f"clause id {clause_id} missing from `licenses show`"


def test_licenses_show_by_spdx_id_and_url():
    assert "Apache License" in run_cli("licenses", "show", "Apache-2.0").stdout
    assert (
        "(llama3.1)"
        in run_cli("licenses", "show", "https://llama.meta.com/llama3_1/license/").stdout
    )


def test_licenses_show_json():
    result = run_cli("licenses", "show", "llama3", "--format", "json")
    document = json.loads(result.stdout)
    assert document["key"] == "llama3"
    assert {"id": "attribution"}.items() <= next(
        o for o in document["obligations"] if o["id"] == "attribution"
    ).items()
    assert any(o.get("text") == "Built with Meta Llama 3" for o in document["obligations"])
    mau = next(c for c in document["conditions"] if c["id"] == "monthly-active-users")
    assert mau["monthly_active_users_over"] == 700_000_000


def test_licenses_show_text():
    result = run_cli("licenses", "show", "mit", "--text")
    assert "Permission is hereby granted, free of charge" in result.stdout


def test_licenses_show_unknown_suggests():
    result = run_cli("licenses", "show", "lama3")
    assert result.exit_code == 2
    assert "did you mean" in result.stderr
    assert "llama3" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


# --- scan ----------------------------------------------------------------------------------


def test_scan_missing_path_is_one_line_exit_2(tmp_path):
    result = run_cli("scan", tmp_path / "nope")
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert "nope" in lines[0]
    assert lines[0].startswith("aiscan: error:")
    assert result.stdout == ""


def test_scan_table_output(tmp_path):
    folder = make_model_dir(tmp_path, "tiny-model", card={"license": "apache-2.0"})
    result = run_cli("scan", folder)
    assert result.exit_code == 0
    assert "tiny-model" in result.stdout
    assert "apache-2.0" in result.stdout


def test_scan_output_file(tmp_path):
    folder = make_model_dir(tmp_path, card={"license": "apache-2.0"})
    out = tmp_path / "report.json"
    result = run_cli("scan", folder, "--format", "json", "-o", out)
    assert result.exit_code == 0
    report = json.loads(out.read_text(encoding="utf-8"))
    assert report["schema"] == "aiscan-report/1"
    assert report["summary"]["exit_code"] == 0
    assert "{" not in result.stdout  # the report went to the file, not stdout
    assert str(out) in result.stderr


def test_scan_output_to_unwritable_place_is_exit_2(tmp_path):
    folder = make_model_dir(tmp_path)
    result = run_cli("scan", folder, "-o", tmp_path / "no-such-dir" / "r.json")
    assert result.exit_code == 2
    assert len(result.stderr.strip().splitlines()) == 1


def test_exit_0_for_clean_apache_model(tmp_path):
    result = run_cli("scan", make_model_dir(tmp_path, card={"license": "apache-2.0"}))
    assert result.exit_code == 0


def test_exit_1_for_noncommercial_model(tmp_path):
    result = run_cli("scan", make_model_dir(tmp_path, card={"license": "cc-by-nc-4.0"}))
    assert result.exit_code == 1
    assert "license.noncommercial" in result.stdout


def test_exit_2_for_bad_policy(tmp_path):
    result = run_cli("scan", make_model_dir(tmp_path), "--policy", "no-such-policy")
    assert result.exit_code == 2
    assert "no-such-policy" in result.stderr


def test_exit_3_for_unreadable_target_root(world_tmp, run_restricted):
    target = make_model_dir(world_tmp, "locked")
    target.chmod(0)
    done = run_restricted("scan", target, "--format", "json")
    assert done.returncode == 3, done.stderr
    assert "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("aiscan: error:")
    assert "locked" in lines[0]


def test_single_file_target(tmp_path):
    path = write_safetensors(tmp_path / "loose.safetensors")
    result = run_cli("scan", path, "--format", "json")
    report = json.loads(result.stdout)
    (c,) = report["components"]
    assert c["type"] == "file"
    assert c["files"][0]["safetensors"]["tensors"] == 2


def test_click_errors_are_one_line_in_aiscan_style(tmp_path):
    for args in (("scan", "--bogus", tmp_path), ("scan",), ("nosuch",), ("scan", "-f", "x", ".")):
        result = run_cli(*args)
        assert result.exit_code == 2
        (line,) = result.stderr.strip().splitlines()
        assert line.startswith("aiscan: error: ") and "--help`)" in line
        assert "Usage:" not in result.stderr and result.stdout == ""


def test_licenses_show_suggests_keys_holding_the_word():
    result = run_cli("licenses", "show", "tongyi")
    assert result.exit_code == 2
    assert "did you mean tongyi-qianwen" in result.stderr


def test_document_commands_exit_0_once_written_whatever_the_findings(tmp_path):
    folder = make_model_dir(tmp_path, "m", card={"license": "cc-by-nc-4.0"})
    assert run_cli("scan", folder).exit_code == 1
    report = run_cli("report", folder, "-o", tmp_path / "r.html")
    assert report.exit_code == 0 and "1 error" in report.stderr
    assert run_cli("bom", folder, "-o", tmp_path / "b.json").exit_code == 0
    assert run_cli("notice", folder, "-o", tmp_path / "notice").exit_code == 0


def test_main_options_can_come_from_aiscan_environment_variables(tmp_path):
    folder = make_model_dir(tmp_path, "m", card={"license": "apache-2.0"})
    report = json.loads(
        run_cli("scan", folder, "-f", "json", env={"AISCAN_POLICY": "strict"}).stdout
    )
    assert report["policy"] == "strict"
    failing = run_cli("scan", folder, env={"AISCAN_FAIL_ON": "note"})
    assert failing.exit_code == 1  # obligations are notes
    assert (
        run_cli("scan", folder, "--fail-on", "error", env={"AISCAN_FAIL_ON": "note"}).exit_code == 0
    )
    assert "\x1b[" in run_cli("scan", folder, env={"AISCAN_COLOR": "always"}).stdout
