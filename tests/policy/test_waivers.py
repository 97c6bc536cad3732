"""Waivers: accepted exceptions stay visible, expire, and are reported when unused."""

from __future__ import annotations

import datetime

import pytest

from scanner.errors import UsageError
from scanner.inventory import Finding, Waiver
from scanner.policy.load import load_policy
from scanner.policy.waivers import apply_policy, waiver_matches
from tests.conftest import findings, make_model_dir, scan_json, write_policy


def _unlicensed_model(tmp_path, name="acme-model"):
    """A model folder whose only error is license.missing."""
    return make_model_dir(tmp_path, name, card={"pipeline_tag": "text-generation"})


def _scan_with_waivers(tmp_path, waivers_yaml, name="acme-model"):
    folder = _unlicensed_model(tmp_path, name)
    policy = write_policy(tmp_path / "policy.yaml", "extends: default\nwaivers:\n" + waivers_yaml)
    return scan_json(folder, args=["--policy", policy])


def test_matching_waiver_marks_the_finding_waived(tmp_path):
    result, report = _scan_with_waivers(
        tmp_path,
        "- rule: license.missing\n"
        "  component: acme-*\n"
        "  reason: vendor confirmed terms in writing\n"
        "  approved_by: legal@example.com\n"
        "  expires: 2099-12-31\n",
    )
    (missing,) = findings(report, "license.missing")
    assert missing["waived"] == {
        "reason": "vendor confirmed terms in writing",
        "expires": "2099-12-31",
        "approved_by": "legal@example.com",
    }
    assert missing["severity"] == "error"  # still listed at its severity
    assert report["summary"]["waived"] == 1
    assert report["summary"]["errors"] == 0
    assert result.exit_code == 0
    assert findings(report, "policy.waiver-unused") == []
    assert findings(report, "policy.waiver-expired") == []


def test_waiver_without_expiry(tmp_path):
    result, report = _scan_with_waivers(
        tmp_path, "- rule: license.missing\n  component: '*'\n  reason: internal model\n"
    )
    (missing,) = findings(report, "license.missing")
    assert missing["waived"]["reason"] == "internal model"
    assert missing["waived"]["expires"] is None
    assert result.exit_code == 0


def test_expired_waiver_is_reported_and_does_not_apply(tmp_path):
    result, report = _scan_with_waivers(
        tmp_path,
        "- rule: license.missing\n  component: acme-*\n  reason: old deal\n  expires: 2020-01-31\n",
    )
    (missing,) = findings(report, "license.missing")
    assert missing["waived"] is None
    (expired,) = findings(report, "policy.waiver-expired")
    assert expired["severity"] == "warning"
    assert "2020-01-31" in expired["message"]
    assert expired["evidence"]["waiver_rule"] == "license.missing"
    assert report["summary"]["waived"] == 0
    assert result.exit_code == 1


def test_unused_waiver_is_reported(tmp_path):
    result, report = _scan_with_waivers(
        tmp_path,
        "- rule: license.missing\n  component: acme-*\n  reason: used\n"
        "- rule: license.noncommercial\n  component: 'hf/other/*'\n  reason: stale\n",
    )
    (unused,) = findings(report, "policy.waiver-unused")
    assert unused["severity"] == "note"
    assert unused["evidence"]["waiver_rule"] == "license.noncommercial"
    assert unused["evidence"]["waiver_component"] == "hf/other/*"
    assert result.exit_code == 0


def test_waiver_for_another_component_does_not_apply(tmp_path):
    result, report = _scan_with_waivers(
        tmp_path, "- rule: license.missing\n  component: other-*\n  reason: not this one\n"
    )
    (missing,) = findings(report, "license.missing")
    assert missing["waived"] is None
    assert findings(report, "policy.waiver-unused")
    assert result.exit_code == 1


def test_waiver_for_another_rule_does_not_apply(tmp_path):
    result, report = _scan_with_waivers(
        tmp_path, "- rule: license.denied\n  component: acme-*\n  reason: wrong rule\n"
    )
    assert findings(report, "license.missing")[0]["waived"] is None
    assert result.exit_code == 1


def test_waiver_matches_full_ref_and_rule_glob(tmp_path):
    result, report = _scan_with_waivers(
        tmp_path,
        "- rule: 'license.*'\n  component: 'model:local/acme-model'\n  reason: all license rules\n",
    )
    assert findings(report, "license.missing")[0]["waived"] is not None
    assert result.exit_code == 0


# --- unit level: apply_policy with a fixed date --------------------------------------------


def _finding(rule="license.missing", component="model:hf/acme/thing@" + "a" * 40):
    return Finding(rule=rule, severity="error", component=component, message="m")


@pytest.mark.parametrize(
    ("glob", "matches"),
    [
        ("model:hf/acme/thing@" + "a" * 40, True),
        ("hf/acme/*", True),
        ("acme/thing", True),
        ("acme/*", True),
        ("hf/other/*", False),
        ("thing", False),
    ],
)
def test_waiver_component_globs(glob, matches):
    assert (
        waiver_matches(Waiver(rule="license.missing", component=glob, reason="r"), _finding())
        is matches
    )


def test_waiver_expiring_today_still_applies(default_policy):
    import dataclasses

    today = datetime.date(2026, 6, 30)
    waiver = Waiver(rule="license.missing", component="*", reason="r", expires=today)
    policy = dataclasses.replace(default_policy, waivers=(waiver,))
    (result,) = apply_policy([_finding()], policy, today)
    assert result.waived == waiver
    expired = apply_policy([_finding()], policy, today + datetime.timedelta(days=1))
    assert {f.rule for f in expired} == {"license.missing", "policy.waiver-expired"}
    assert all(f.waived is None for f in expired)


def test_one_waiver_covers_every_matching_finding(default_policy):
    import dataclasses

    waiver = Waiver(rule="license.missing", component="*", reason="r")
    policy = dataclasses.replace(default_policy, waivers=(waiver,))
    results = apply_policy(
        [_finding(component="model:local/a"), _finding(component="model:local/b")],
        policy,
        datetime.date(2026, 1, 1),
    )
    assert len(results) == 2
    assert all(f.waived == waiver for f in results)


# --- waiver validation ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("waiver", "complaint"),
    [
        ("- component: x\n  reason: r\n", "rule"),
        ("- rule: license.missing\n  reason: r\n", "component"),
        ("- rule: license.missing\n  component: x\n", "reason"),
        ("- rule: license.mising\n  component: x\n  reason: r\n", "license.mising"),
        ("- rule: license.missing\n  component: x\n  reason: r\n  expires: someday\n", "date"),
        ("- rule: license.missing\n  component: x\n  reason: r\n  ticket: LEGAL-1\n", "ticket"),
    ],
    ids=["no-rule", "no-component", "no-reason", "unknown-rule", "bad-expiry", "unknown-key"],
)
def test_invalid_waivers_are_usage_errors(tmp_path, kb, waiver, complaint):
    path = write_policy(tmp_path / "p.yaml", "waivers:\n" + waiver)
    with pytest.raises(UsageError) as caught:
        load_policy(str(path), kb)
    assert complaint in str(caught.value)
    assert str(path) in str(caught.value)
