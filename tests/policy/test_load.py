"""Policy loading: shipped policies, `extends`, strict validation, target policies, overrides."""

from __future__ import annotations

import pytest

from scanner.errors import UsageError
from scanner.policy.load import load_policy, resolve_policy
from tests.conftest import (
    billion_laughs,
    findings,
    make_model_dir,
    measured,
    run_cli,
    scan_json,
    write_policy,
)

# --- shipped policies -----------------------------------------------------------------------


def test_default_policy(kb):
    policy = load_policy("default", kb)
    assert policy.fail_on == "error"
    assert policy.context.commercial_use is True
    assert policy.context.monthly_active_users is None
    assert policy.licenses.deny == ()
    assert policy.waivers == ()


def test_strict_policy(kb):
    policy = load_policy("strict", kb)
    assert policy.fail_on == "warning"
    assert policy.context.commercial_use is True  # from default through `extends`
    assert "research-only" in policy.licenses.deny_categories
    assert policy.severity("provenance.unsafe-format") == "error"
    assert policy.severity("provenance.card-missing") == "error"


def test_permissive_only_policy(kb):
    policy = load_policy("permissive-only", kb)
    assert policy.fail_on == "error"
    assert policy.context.commercial_use is True
    assert {"restricted", "non-commercial", "strong-copyleft"} <= set(
        policy.licenses.deny_categories
    )
    assert "permissive" not in policy.licenses.deny_categories


def test_extends_default_merges(tmp_path, kb):
    path = write_policy(
        tmp_path / "mine.yaml",
        "extends: default\nfail_on: warning\ncontext:\n  monthly_active_users: 1000\n",
    )
    policy = load_policy(str(path), kb)
    assert policy.fail_on == "warning"
    assert policy.context.monthly_active_users == 1000
    assert policy.context.commercial_use is True  # kept from default: mappings merge key by key


def test_extends_a_relative_path(tmp_path, kb):
    write_policy(tmp_path / "base.yaml", "extends: strict\nlicenses:\n  deny: [mit]\n")
    path = write_policy(tmp_path / "team" / "child.yaml", "extends: ../base.yaml\nfail_on: error\n")
    policy = load_policy(str(path), kb)
    assert policy.fail_on == "error"
    assert policy.licenses.deny == ("mit",)
    assert policy.severity("provenance.unsafe-format") == "error"  # from strict


def test_extends_loop_is_a_usage_error(tmp_path, kb):
    write_policy(tmp_path / "a.yaml", "extends: b.yaml\n")
    write_policy(tmp_path / "b.yaml", "extends: a.yaml\n")
    with pytest.raises(UsageError, match="loop"):
        load_policy(str(tmp_path / "a.yaml"), kb)


def test_unknown_policy_name(kb):
    with pytest.raises(UsageError, match="not found"):
        load_policy("no-such-policy", kb)


def test_deny_list_accepts_spdx_ids_and_names(tmp_path, kb):
    path = write_policy(
        tmp_path / "p.yaml", "licenses:\n  deny: [Apache-2.0, MIT License, llama3]\n"
    )
    assert load_policy(str(path), kb).licenses.deny == ("apache-2.0", "mit", "llama3")


# --- validation errors name the file and line -----------------------------------------------


def test_unknown_key_names_file_and_line(tmp_path, kb):
    path = write_policy(
        tmp_path / "p.yaml",
        "fail_on: error\nlicenses:\n  deny_categorys: [non-commercial]\n",
    )
    with pytest.raises(UsageError) as caught:
        load_policy(str(path), kb)
    message = str(caught.value)
    assert f"{path}:3" in message
    assert "deny_categorys" in message


def test_unknown_top_level_key(tmp_path, kb):
    path = write_policy(tmp_path / "p.yaml", "# comment\nfail_on: error\nfail_level: warning\n")
    with pytest.raises(UsageError, match=r":3\b.*fail_level"):
        load_policy(str(path), kb)


def test_unknown_key_is_exit_2_on_the_command_line(tmp_path):
    path = write_policy(tmp_path / "p.yaml", "extends: default\ncontext:\n  comercial_use: true\n")
    folder = make_model_dir(tmp_path)
    result = run_cli("scan", folder, "--policy", path)
    assert result.exit_code == 2
    assert f"{path}:3" in result.stderr
    assert "comercial_use" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert result.stdout == ""


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        ("fail_on: 3\n", 1, "error, warning, note"),
        ("fail_on: fatal\n", 1, "error, warning, note"),
        ("context:\n  commercial_use: sometimes\n", 2, "true or false"),
        ("context:\n  monthly_active_users: lots\n", 2, "integer"),
        ("context:\n  monthly_active_users: -1\n", 2, "integer"),
        ("licenses:\n  deny: apache-2.0\n", 2, "list"),
        ("licenses:\n  deny_categories: [nonsense]\n", 2, "nonsense"),
        ("publishers: [meta-llama]\n", 1, "mapping"),
        ("waivers:\n  rule: license.missing\n", 1, "list"),
    ],
    ids=[
        "fail_on-int",
        "fail_on-word",
        "commercial_use",
        "mau-word",
        "mau-negative",
        "deny-string",
        "bad-category",
        "publishers-list",
        "waivers-mapping",
    ],
)
def test_wrong_types_name_file_and_line(tmp_path, kb, text, line, words):
    path = write_policy(tmp_path / "p.yaml", text)
    with pytest.raises(UsageError) as caught:
        load_policy(str(path), kb)
    assert f"{path}:{line}" in str(caught.value)
    assert words in str(caught.value)


def test_unknown_rule_id(tmp_path, kb):
    path = write_policy(
        tmp_path / "p.yaml", "rules:\n  license.missing: note\n  license.mising: off\n"
    )
    with pytest.raises(UsageError) as caught:
        load_policy(str(path), kb)
    assert f"{path}:3" in str(caught.value)
    assert "license.mising" in str(caught.value)


def test_bad_rule_severity(tmp_path, kb):
    path = write_policy(tmp_path / "p.yaml", "rules:\n  license.missing: critical\n")
    with pytest.raises(UsageError, match="critical"):
        load_policy(str(path), kb)


def test_unknown_license_in_deny(tmp_path, kb):
    path = write_policy(tmp_path / "p.yaml", "licenses:\n  deny: [frobnicate-license-9]\n")
    with pytest.raises(UsageError, match="frobnicate-license-9"):
        load_policy(str(path), kb)


def test_unknown_license_in_deny_is_exit_2(tmp_path):
    path = write_policy(tmp_path / "p.yaml", "licenses:\n  deny: [frobnicate-license-9]\n")
    result = run_cli("scan", make_model_dir(tmp_path), "--policy", path)
    assert result.exit_code == 2
    assert "frobnicate-license-9" in result.stderr


def test_invalid_yaml_policy_names_the_line(tmp_path, kb):
    path = write_policy(tmp_path / "p.yaml", "fail_on: error\nlicenses:\n  deny: [mit\n")
    with pytest.raises(UsageError) as caught:
        load_policy(str(path), kb)
    assert str(path) in str(caught.value)
    assert "invalid YAML" in str(caught.value)


def test_unknown_key_in_a_parent_policy_is_reported_in_the_parent(tmp_path, kb):
    parent = write_policy(tmp_path / "parent.yaml", "fail_on: error\nbogus: 1\n")
    child = write_policy(tmp_path / "child.yaml", "extends: parent.yaml\n")
    with pytest.raises(UsageError) as caught:
        load_policy(str(child), kb)
    assert f"{parent}:2" in str(caught.value)


# --- target policies ------------------------------------------------------------------------

_DENY_APACHE_TOML = '[project]\nname = "my-product"\n\n[tool.aiscan]\nfail_on = "error"\n\n[tool.aiscan.licenses]\ndeny = ["apache-2.0"]\n'


def test_pyproject_tool_aiscan_where_aiscan_runs_is_used(tmp_path, monkeypatch):
    folder = make_model_dir(tmp_path, files={"pyproject.toml": _DENY_APACHE_TOML})
    monkeypatch.chdir(folder)
    result, report = scan_json(".")
    assert "pyproject.toml" in report["policy"]
    assert findings(report, "license.denied")
    assert result.exit_code == 1


def test_pyproject_without_tool_aiscan_is_ignored(tmp_path):
    folder = make_model_dir(tmp_path, files={"pyproject.toml": '[project]\nname = "x"\n'})
    result, report = scan_json(folder)
    assert findings(report, "license.denied") == []
    assert result.exit_code == 0


def test_pyproject_unknown_key_is_a_usage_error(tmp_path, monkeypatch):
    folder = make_model_dir(
        tmp_path, files={"pyproject.toml": "[tool.aiscan]\nfail_onn = 'note'\n"}
    )
    monkeypatch.chdir(folder)
    result = run_cli("scan", folder)
    assert result.exit_code == 2
    assert "pyproject.toml" in result.stderr
    assert "fail_onn" in result.stderr


def test_aiscan_yaml_where_aiscan_runs_is_used(tmp_path, monkeypatch):
    folder = make_model_dir(
        tmp_path, files={"aiscan.yaml": "extends: default\nlicenses:\n  deny: [apache-2.0]\n"}
    )
    monkeypatch.chdir(folder)
    result, report = scan_json(folder)
    assert report["policy"].endswith("aiscan.yaml")
    assert findings(report, "license.denied")
    assert result.exit_code == 1


def test_aiscan_yaml_extends_relative_to_its_folder(tmp_path, monkeypatch):
    folder = make_model_dir(
        tmp_path,
        files={
            "aiscan.yaml": "extends: policies/base.yaml\n",
            "policies/base.yaml": "extends: default\nlicenses:\n  deny: [apache-2.0]\n",
        },
    )
    monkeypatch.chdir(folder)
    _result, report = scan_json(folder)
    assert findings(report, "license.denied")


def test_explicit_policy_wins_over_local_policies(tmp_path, monkeypatch):
    folder = make_model_dir(
        tmp_path,
        files={
            "pyproject.toml": _DENY_APACHE_TOML,
            "aiscan.yaml": "licenses:\n  deny: [apache-2.0]\n",
        },
    )
    monkeypatch.chdir(folder)
    result, report = scan_json(folder, args=["--policy", "default"])
    assert findings(report, "license.denied") == []
    assert result.exit_code == 0


def test_resolve_policy_prefers_aiscan_yaml_then_pyproject_then_default(tmp_path, kb):
    here = tmp_path / "t"
    here.mkdir()
    assert resolve_policy(None, kb, here).fail_on == "error"
    (here / "pyproject.toml").write_text("[tool.aiscan]\nfail_on = 'warning'\n")
    assert resolve_policy(None, kb, here).fail_on == "warning"
    (here / "aiscan.yaml").write_text("fail_on: note\n")
    assert resolve_policy(None, kb, here).fail_on == "note"
    assert resolve_policy("default", kb, here).fail_on == "error"


def test_policy_at_the_repository_root_applies_in_its_subfolders(tmp_path, kb):
    (tmp_path / ".git").mkdir()
    (tmp_path / "aiscan.yaml").write_text("fail_on: note\n")
    below = tmp_path / "src" / "app"
    below.mkdir(parents=True)
    assert resolve_policy(None, kb, below).fail_on == "note"


def test_a_scanned_folder_cannot_switch_rules_off_for_itself(tmp_path, monkeypatch):
    """The red-team case: a stranger's model folder ships an aiscan.yaml that turns off the
    unsafe-format rule and waives everything; it must have no effect."""
    silencer = (
        "rules:\n  provenance.unsafe-format: off\n  integrity.hash-mismatch: off\n"
        "waivers:\n- rule: '*'\n  component: '*'\n  reason: trust me\n"
    )
    folder = make_model_dir(
        tmp_path / "store",
        weights=None,
        files={"aiscan.yaml": silencer, "pytorch_model.bin": b"\x80\x02}q\x00."},
    )
    (tmp_path / "work").mkdir()
    monkeypatch.chdir(tmp_path / "work")
    for target in (folder, folder.parent):
        _, report = scan_json(target)
        assert report["policy"] == "default"
        assert findings(report, "provenance.unsafe-format")
        assert not [f for f in report["findings"] if f["waived"]]


# --- rules and fail_on ----------------------------------------------------------------------


def test_rule_severity_override(tmp_path):
    folder = make_model_dir(tmp_path, card={"license": "apache-2.0"})
    policy = write_policy(
        tmp_path / "p.yaml", "extends: default\nrules:\n  license.obligation: error\n"
    )
    result, report = scan_json(folder, args=["--policy", policy])
    obligations = findings(report, "license.obligation")
    assert obligations and all(f["severity"] == "error" for f in obligations)
    assert result.exit_code == 1


@pytest.mark.parametrize("off", ["off", "'off'"], ids=["plain", "quoted"])
def test_rule_off(tmp_path, off):
    # ARCHITECTURE.md documents `rule: off`; YAML 1.1 reads a plain `off` as false, which must
    # still mean "switched off" rather than a usage error
    folder = make_model_dir(tmp_path, card={"pipeline_tag": "text-generation"})
    policy = write_policy(
        tmp_path / "p.yaml",
        f"extends: default\nrules:\n  license.missing: {off}\n  provenance.card-incomplete: {off}\n",
    )
    result, report = scan_json(folder, args=["--policy", policy])
    assert findings(report, "license.missing") == []
    assert findings(report, "provenance.card-incomplete") == []
    assert result.exit_code == 0


def test_rule_downgraded_to_warning_no_longer_fails(tmp_path):
    folder = make_model_dir(tmp_path, card={"license": "cc-by-nc-4.0"})
    policy = write_policy(
        tmp_path / "p.yaml", "extends: default\nrules:\n  license.noncommercial: warning\n"
    )
    result, report = scan_json(folder, args=["--policy", policy])
    (hit,) = findings(report, "license.noncommercial")
    assert hit["severity"] == "warning"
    assert result.exit_code == 0


@pytest.mark.parametrize(("fail_on", "exit_code"), [("error", 0), ("warning", 0), ("note", 1)])
def test_fail_on_flag(tmp_path, fail_on, exit_code):
    folder = make_model_dir(tmp_path, card={"license": "apache-2.0"})  # apache yields notes only
    result, report = scan_json(folder, args=["--fail-on", fail_on])
    assert report["summary"]["notes"] > 0
    assert report["summary"]["warnings"] == 0
    assert result.exit_code == exit_code


def test_fail_on_warning_catches_warnings(tmp_path):
    folder = make_model_dir(tmp_path, weights=None, files={"model.pt": b"\x80\x04."})
    result, report = scan_json(folder, args=["--fail-on", "warning"])
    assert findings(report, "provenance.unsafe-format", severity="warning")
    assert result.exit_code == 1
    result, report = scan_json(folder)
    assert result.exit_code == 0


def test_fail_on_flag_overrides_policy_fail_on(tmp_path):
    folder = make_model_dir(tmp_path, weights=None, files={"model.pt": b"\x80\x04."})
    policy = write_policy(tmp_path / "p.yaml", "extends: default\nfail_on: warning\n")
    result, _ = scan_json(folder, args=["--policy", policy])
    assert result.exit_code == 1
    result, _ = scan_json(folder, args=["--policy", policy, "--fail-on", "error"])
    assert result.exit_code == 0


def test_bad_fail_on_flag_is_exit_2(tmp_path):
    result = run_cli("scan", make_model_dir(tmp_path), "--fail-on", "fatal")
    assert result.exit_code == 2


def test_every_output_names_the_policy_and_the_rules_it_switched_off(tmp_path):
    folder = make_model_dir(tmp_path, card={"license": "apache-2.0"})
    policy = write_policy(
        tmp_path / "p.yaml", "extends: default\nrules:\n  license.obligation: off\n"
    )
    _, report = scan_json(folder, args=["--policy", policy])
    assert report["policy"] == str(policy) and report["rules_off"] == ["license.obligation"]
    table = run_cli("scan", folder, "--policy", policy).stdout
    assert f"policy: {policy}; rules off: license.obligation" in " ".join(table.split())
    markdown = run_cli("scan", folder, "--policy", policy, "--format", "markdown").stdout
    assert "rules off: `license.obligation`" in markdown


@pytest.mark.parametrize("value", ["2030-01-01 10:00:00", "soon", "99999-01-01", "[2030]"])
def test_a_waiver_expiry_that_is_not_a_day_is_a_usage_error(tmp_path, value):
    folder = make_model_dir(tmp_path, card=None)
    policy = write_policy(
        tmp_path / "p.yaml",
        f"waivers:\n- rule: license.missing\n  component: '*'\n  reason: x\n  expires: {value}\n",
    )
    result = run_cli("scan", folder, "--policy", policy)
    assert result.exit_code == 2
    assert result.stderr.startswith(f"aiscan: error: {policy}:5: must be a date")


def test_alias_bomb_policy_is_a_usage_error_naming_the_file_quickly(tmp_path):
    path = write_policy(tmp_path / "p.yaml", billion_laughs())
    message = measured(
        f"""_message({str(path)!r})""",
        imports=(
            "from scanner.errors import UsageError\n"
            "from scanner.licensing.knowledge_base import default_knowledge_base\n"
            "from scanner.policy.load import load_policy\n"
            "def _message(path):\n"
            "    try:\n"
            "        load_policy(path, default_knowledge_base())\n"
            "    except UsageError as exc:\n"
            "        return [str(exc), exc.exit_code]\n"
        ),
        seconds=2,
        megabytes=64,
    )
    text, exit_code = message
    assert text.startswith(f"{path}: refused: aliases expand it by more than 100,000 nodes")
    assert exit_code == 2


def test_alias_bomb_policy_on_the_command_line_is_exit_2(tmp_path):
    path = write_policy(tmp_path / "p.yaml", billion_laughs())
    result = run_cli("scan", make_model_dir(tmp_path), "--policy", path)
    assert result.exit_code == 2
    assert str(path) in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize(
    "text",
    [
        "[" * 1_000 + "]" * 1_000,
        "a:\n" + "".join(f"{'  ' * depth}- \n" for depth in range(1, 1_000)),
    ],
    ids=["flow", "block"],
)
def test_deeply_nested_policy_is_a_usage_error(tmp_path, kb, text):
    path = write_policy(tmp_path / "p.yaml", text)
    with pytest.raises(UsageError, match="invalid YAML: nested too deeply"):
        load_policy(str(path), kb)


def test_a_value_yaml_cannot_build_is_a_one_line_usage_error(tmp_path, kb):
    path = write_policy(tmp_path / "p.yaml", "fail_on: error\nwaivers:\n  - expires: 2025-13-01\n")
    with pytest.raises(UsageError) as caught:
        load_policy(str(path), kb)
    assert str(caught.value) == (
        f"{path}:3: invalid YAML: cannot read '2025-13-01' as timestamp (month must be in 1..12)"
    )


def test_a_character_yaml_refuses_is_a_one_line_usage_error(tmp_path, kb):
    path = write_policy(tmp_path / "p.yaml", "fail_on: error\x1f\n")
    with pytest.raises(UsageError) as caught:
        load_policy(str(path), kb)
    assert "\n" not in str(caught.value)
    assert "unacceptable character #x001f" in str(caught.value)
