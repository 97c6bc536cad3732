"""Runs a scan: sources gather components, licenses are resolved, checks judge, policy applies.

The one place that wires the plug-in families together, as pip-audit's `Auditor` does.
"""

from __future__ import annotations

import dataclasses
import datetime
from collections.abc import Sequence
from pathlib import Path

from scanner import __version__
from scanner.checks.completeness import CompletenessCheck
from scanner.checks.integrity import IntegrityCheck
from scanner.checks.interface import Check, CheckContext, finding
from scanner.checks.license import LicenseCheck
from scanner.checks.provenance import ProvenanceCheck
from scanner.config import Policy
from scanner.inventory import SEVERITY_RANK, Component, Finding, ScanResult
from scanner.licensing.knowledge_base import LicenseKnowledgeBase
from scanner.licensing.resolution import resolve_licenses
from scanner.sources.modeldir import ModelDirSource
from scanner.waivers import apply_policy

CHECKS: tuple[Check, ...] = (
    LicenseCheck(),
    ProvenanceCheck(),
    IntegrityCheck(),
    CompletenessCheck(),
)


def _unique(components: list[Component]) -> list[Component]:
    """Drop a folder reached twice (overlapping targets); keep refs unique in the report."""
    seen_locations: set[str] = set()
    refs: dict[str, int] = {}
    unique = []
    for component in components:
        if component.location in seen_locations:
            continue
        seen_locations.add(component.location)
        count = refs.get(component.ref, 0)
        refs[component.ref] = count + 1
        if count:
            component = dataclasses.replace(component, ref=f"{component.ref}#{count + 1}")
        unique.append(component)
    return unique


def _sort_key(f: Finding) -> tuple:
    return (-SEVERITY_RANK[f.severity], f.component or "", f.rule, f.message)


def run_scan(
    targets: Sequence[Path],
    policy: Policy,
    kb: LicenseKnowledgeBase,
    today: datetime.date | None = None,
) -> ScanResult:
    """Scan local targets (model folders, stores, HF caches) and judge them against `policy`."""
    components: list[Component] = []
    empty_targets: list[Finding] = []
    for target in targets:
        found = list(ModelDirSource(target, kb).collect())
        if not found:
            empty_targets.append(
                finding(
                    "scan.nothing-found",
                    None,
                    f"{target}: no model folder or cache repo found",
                    target=str(target),
                )
            )
        components.extend(found)
    resolved = resolve_licenses(_unique(components), kb)
    context = CheckContext(policy=policy, kb=kb)
    raw = [*empty_targets, *(f for check in CHECKS for f in check.run(resolved, context))]
    judged = apply_policy(raw, policy, today or datetime.date.today())
    return ScanResult(
        tool_version=__version__,
        targets=tuple(str(t) for t in targets),
        components=tuple(resolved),
        findings=tuple(sorted(judged, key=_sort_key)),
        fail_on=policy.fail_on,
        policy=policy.source,
    )
