"""The rule ids are a contract (ARCHITECTURE.md): users' waivers, baselines and CI scripts name
them. New rules may be added; none of these may be renamed or removed."""

from __future__ import annotations

from scanner.policy.rules import RULES

CONTRACT_RULE_IDS = frozenset(
    {
        "license.missing",
        "license.unresolved",
        "license.denied",
        "license.conflict-with-base",
        "license.noncommercial",
        "license.research-only",
        "license.mau-threshold",
        "license.obligation",
        "license.acceptable-use-policy",
        "provenance.unpinned-revision",
        "provenance.remote-code",
        "provenance.unsafe-format",
        "provenance.publisher-denied",
        "provenance.card-missing",
        "provenance.card-incomplete",
        "integrity.malformed",
        "integrity.truncated",
        "integrity.duplicate-tensor",
        "integrity.hash-mismatch",
        "integrity.missing-shard",
        "integrity.unverified",
        "dependency.license-denied",
        "dependency.license-unknown",
        "provenance.undeclared-model",
        "policy.waiver-expired",
        # added since 0.1 and part of the contract from then on
        "license.mismatch",
        "license.undeclared-base",
        "provenance.card-invalid",
        "provenance.base-unresolved",
        "provenance.gated",
        "provenance.unresolved-reference",
        "integrity.unexpected-file",
        "scan.unreadable",
        "scan.nothing-found",
        "policy.waiver-unused",
        "scan.link-outside-target",
        "license.use-restricted",
        "provenance.undeclared-service",
        "provenance.service-denied",
        "dataset.license-unknown",
        "dataset.noncommercial",
        "dataset.generated-by-model",
        "dataset.license-denied",
        "integrity.fleet-drift",
        "scan.unreachable-host",
    }
)


def test_every_contract_rule_id_exists():
    assert CONTRACT_RULE_IDS - set(RULES) == set()


def test_every_rule_is_in_the_contract_list():
    """A new rule is added here too, so it can never be renamed silently afterwards."""
    assert set(RULES) - CONTRACT_RULE_IDS == set()


def test_every_rule_is_documented_in_the_rule_table():
    from tests.conftest import REPO

    table = (REPO / "docs" / "rules.md").read_text(encoding="utf-8")
    assert [rule for rule in RULES if f"| `{rule}` |" not in table] == []
