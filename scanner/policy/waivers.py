"""Applies the policy to raw findings: per-rule severities, then waivers.

Waived findings stay in the report (marked `waived`) so a reader sees what was accepted and why.
An expired waiver stops applying and is itself reported; one that matched nothing is reported
as unused so stale exceptions get cleaned up.
"""

from __future__ import annotations

import dataclasses
import datetime
import fnmatch
from collections.abc import Iterable

from scanner.inventory import Finding, Waiver
from scanner.policy.load import Policy


def _component_names(ref: str | None) -> list[str]:
    """A waiver's glob may name the full ref, the ref without its type, or the bare name."""
    if ref is None:
        return []
    without_type = ref.split(":", 1)[-1]
    bare = without_type.split("/", 1)[-1].split("@", 1)[0]
    return [ref, without_type, bare]


def waiver_matches(waiver: Waiver, finding: Finding) -> bool:
    """True when the waiver's rule and component globs both match the finding."""
    if not fnmatch.fnmatchcase(finding.rule, waiver.rule):
        return False
    return any(
        fnmatch.fnmatchcase(name, waiver.component) for name in _component_names(finding.component)
    )


def _policy_finding(rule: str, message: str, waiver: Waiver, policy: Policy) -> Finding | None:
    severity = policy.severity(rule)
    if severity is None:
        return None
    return Finding(
        rule=rule,
        severity=severity,
        component=None,
        message=message,
        evidence={
            "waiver_rule": waiver.rule,
            "waiver_component": waiver.component,
            "reason": waiver.reason,
            **({"expires": waiver.expires.isoformat()} if waiver.expires else {}),
        },
    )


def apply_policy(
    findings: Iterable[Finding], policy: Policy, today: datetime.date
) -> list[Finding]:
    """Set severities from the policy, drop rules switched off, and apply waivers."""
    active = [
        (i, w) for i, w in enumerate(policy.waivers) if w.expires is None or w.expires >= today
    ]
    used: set[int] = set()
    result: list[Finding] = []
    for raw in findings:
        configured = policy.rules.get(raw.rule)
        if configured == "off":
            continue
        current = dataclasses.replace(raw, severity=configured) if configured else raw
        for index, waiver in active:
            if waiver_matches(waiver, current):
                used.add(index)
                current = dataclasses.replace(current, waived=waiver)
                break
        result.append(current)
    for index, waiver in enumerate(policy.waivers):
        if waiver.expires is not None and waiver.expires < today:
            extra = _policy_finding(
                "policy.waiver-expired",
                f"waiver for {waiver.rule} on {waiver.component} expired on {waiver.expires.isoformat()}",
                waiver,
                policy,
            )
        elif index not in used:
            extra = _policy_finding(
                "policy.waiver-unused",
                f"waiver for {waiver.rule} on {waiver.component} matched no finding",
                waiver,
                policy,
            )
        else:
            continue
        if extra is not None:
            result.append(extra)
    return result
