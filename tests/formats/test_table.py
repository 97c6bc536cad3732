"""The terminal table: licenses, weights facts and verification state per component."""

from __future__ import annotations

import re

from tests.conftest import make_model_dir, run_cli


def test_verify_table_counts_verified_files(tmp_path, monkeypatch):
    monkeypatch.setenv("AISCAN_CACHE_DIR", str(tmp_path / "cache"))
    folder = make_model_dir(tmp_path, "m", card={"license": "apache-2.0"})
    lock = tmp_path / "aiscan.lock"
    assert run_cli("lock", folder, "-o", lock).exit_code == 0
    result = run_cli("verify", folder, "--lock", lock)
    assert result.exit_code == 0
    assert "2/2 files verified" in result.stdout
    assert "Effective license" not in result.stdout  # verify reads bytes, not licenses

    (folder / "model.safetensors").write_bytes(
        (folder / "model.safetensors").read_bytes()[:-1] + b"\x01"
    )
    tampered = run_cli("verify", folder, "--lock", lock)
    assert tampered.exit_code == 1
    assert "1/2 files verified, 1 mismatched" in tampered.stdout


def test_scan_table_shows_licenses_and_does_not_claim_verification(tmp_path):
    result = run_cli("scan", make_model_dir(tmp_path, "m"))
    assert "verified" not in result.stdout
    assert "apache-2.0" in result.stdout and "permissive" in result.stdout


_HEAD = re.compile(r"^(error|warning|note)( \(waived\)| \(in baseline\))?  (\S+)( ×\d+)?")


def finding_heads(stdout: str) -> dict[str, str]:
    """Rule → the severity label of its line in the findings list."""
    heads = {}
    for line in stdout.splitlines():
        match = _HEAD.match(line)
        if match:
            heads[match.group(3)] = match.group(1) + (match.group(2) or "") + (match.group(4) or "")
    return heads


def test_each_finding_shows_its_own_severity(tmp_path):
    folder = make_model_dir(tmp_path, "m", card={"license": "cc-by-nc-4.0"})
    labels = finding_heads(run_cli("scan", folder).stdout)
    assert labels["license.noncommercial"] == "error"
    assert labels["license.obligation"] == "note ×3"


def test_obligations_are_one_line_unless_verbose(tmp_path):
    folder = make_model_dir(tmp_path, "m", card={"license": "apache-2.0"})
    normal = run_cli("scan", folder).stdout
    assert normal.count("license.obligation") == 1
    assert "apache-2.0: include-license, state-changes, attribution, notice-file" in normal
    verbose = run_cli("scan", folder, "-v").stdout
    assert verbose.count("license.obligation") == 4
    assert "Findings (4)" in normal and "Findings (4)" in verbose


def test_quiet_and_severity_show_less_and_say_so(tmp_path):
    folder = make_model_dir(tmp_path, "m", card={"license": "cc-by-nc-4.0"})
    quiet = run_cli("scan", folder, "-q")
    assert quiet.exit_code == 1
    assert "Component" not in quiet.stdout and "license.obligation" not in quiet.stdout
    assert "license.noncommercial" in quiet.stdout
    assert "3 findings below warning not shown" in quiet.stdout
    floor = run_cli("scan", folder, "--severity", "error").stdout
    assert "Component" in floor and "license.obligation" not in floor
    both = run_cli("scan", folder, "-q", "-v")
    assert both.exit_code == 2 and "contradict" in both.stderr


def test_waived_and_baseline_findings_are_marked(tmp_path, monkeypatch):
    folder = make_model_dir(tmp_path, "m", card={"license": "cc-by-nc-4.0"})
    report = tmp_path / "before.json"
    run_cli("scan", folder, "--format", "json", "-o", report)
    again = run_cli("scan", folder, "--baseline", report)
    assert again.exit_code == 0
    assert finding_heads(again.stdout)["license.noncommercial"] == "error (in baseline)"
    assert "0 errors" in again.stdout and "in the baseline" in again.stdout
    policy = tmp_path / "policy.yaml"
    policy.write_text(
        "waivers:\n  - rule: license.noncommercial\n    component: '*'\n"
        "    reason: internal demo only\n    approved_by: legal@example.com\n"
        "    expires: 2099-01-01\n"
    )
    waived = run_cli("scan", folder, "--policy", policy).stdout
    assert finding_heads(waived)["license.noncommercial"].endswith(" (waived)")
    assert "waived until 2099-01-01, approved by legal@example.com: internal demo only" in waived
    assert f"policy: {policy}" in waived and "it waived 1 finding" in waived


def test_color_follows_the_option_then_no_color_then_force_color(tmp_path):
    folder = make_model_dir(tmp_path, "m")
    assert "\x1b[" in run_cli("scan", folder, "--color", "always").stdout
    assert "\x1b[" not in run_cli("scan", folder).stdout  # NO_COLOR=1 in the test environment
    forced = run_cli("scan", folder, env={"NO_COLOR": "", "FORCE_COLOR": "1"}).stdout
    assert "\x1b[" in forced
    assert (
        "\x1b[" not in run_cli("scan", folder, "--color", "never", env={"FORCE_COLOR": "1"}).stdout
    )


def test_verify_says_how_many_digests_came_from_the_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("AISCAN_CACHE_DIR", str(tmp_path / "cache"))
    folder = make_model_dir(tmp_path, "m")
    first = run_cli("verify", folder)
    assert "hashed: 2 file(s), 0 of them from the hash cache" in first.stdout
    again = run_cli("verify", folder)
    assert "hashed: 2 file(s), 2 of them from the hash cache" in again.stdout
    assert "(2 from the hash cache)" in again.stdout
    assert "0 of them" in run_cli("verify", folder, "--rehash").stdout


def test_control_characters_and_markup_from_a_stranger_never_reach_the_terminal(tmp_path):
    """OSC 0 (window title), OSC 8 (hyperlink), ESC[2J (clear screen) and rich markup in a
    folder name and a card's base_model are shown escaped, in colour and without."""
    evil = "x\x1b]0;pwned\x07\x1b]8;;http://evil.example\x1b\\y\x1b[2J[link=http://e]z[/link]"
    folder = make_model_dir(tmp_path, evil, card={"license": "mit", "base_model": f"a/{evil}"})
    for args in ((), ("--format", "table")):
        out = run_cli("scan", folder, *args).stdout
        assert "\x1b]" not in out and "\x1b[2J" not in out and "\x07" not in out
        assert "\\x1b]0;pwned\\x07" in "".join(out.split())
    from scanner.files import printable

    assert printable("ok\tline\nnext") == "ok\tline\nnext"
    assert printable("\x9b2J") == "\\x9b2J"
