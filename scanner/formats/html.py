"""The self-contained HTML report for legal review.

One file, inline CSS, no JavaScript, no external assets, printable. For each model: the
effective license and why (declared, detected, inherited through the lineage), the license's
conditions, obligations with their exact text, restrictions with the acceptable-use policy link,
file hashes and verification state; then dependencies grouped by license category; then
findings and waivers. Every value from a card or a file goes through Jinja2's autoescaping.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from scanner.formats.datasets import shows_training_data, transparency
from scanner.formats.interface import PLAIN, SOURCE_LABELS, Display, ReportFormat
from scanner.inventory import SEVERITY_RANK, Component, Finding, ScanResult
from scanner.licensing.expressions import expression_keys
from scanner.licensing.knowledge_base import LicenseEntry, LicenseKnowledgeBase


@dataclass(frozen=True)
class _ModelView:
    """What the template shows for one model or dataset."""

    component: Component
    licenses: tuple[LicenseEntry, ...]
    findings: tuple[Finding, ...]
    conditions_status: dict[str, str]


@dataclass(frozen=True)
class _Overview:
    """The report's first screen: what fails the policy, what to review, what is waived."""

    failing: tuple[Finding, ...]
    review: tuple[Finding, ...]
    waived: tuple[Finding, ...]
    verdicts: dict[str, int]
    hashed: int
    files: int


_FOLDED_RULES = frozenset({"license.obligation"})
"""Findings each model's license tables already show clause by clause: listed once, there."""


def _overview(result: ScanResult) -> _Overview:
    threshold = SEVERITY_RANK[result.fail_on]
    failing = tuple(
        f for f in result.findings if f.counts and SEVERITY_RANK[f.severity] >= threshold
    )
    review = tuple(
        f
        for f in result.findings
        if f.counts and f.severity == "warning" and SEVERITY_RANK["warning"] < threshold
    )
    verdicts = {"fail the policy": 0, "to review": 0, "pass": 0}
    for component in result.components:
        if any(f.component == component.ref for f in failing):
            verdicts["fail the policy"] += 1
        elif any(f.component == component.ref for f in review):
            verdicts["to review"] += 1
        else:
            verdicts["pass"] += 1
    files = [f for c in result.components for f in c.files]
    return _Overview(
        failing=failing,
        review=review,
        waived=tuple(f for f in result.findings if f.waived is not None),
        verdicts=verdicts,
        hashed=sum(f.sha256 is not None for f in files),
        files=len(files),
    )


def _condition_status(findings: list[Finding]) -> dict[str, str]:
    """Whether each license's user-count condition is triggered, from the mau-threshold findings."""
    status = {}
    for finding in findings:
        if finding.rule == "license.mau-threshold":
            license_key = str(finding.evidence.get("license"))
            status[license_key] = (
                "triggered: the policy context exceeds the threshold"
                if finding.severity == "error"
                else "not assessed: the policy context does not state monthly_active_users"
            )
    return status


def _views(
    result: ScanResult, kb: LicenseKnowledgeBase
) -> tuple[list[_ModelView], dict[str, list[Component]]]:
    by_component: dict[str | None, list[Finding]] = defaultdict(list)
    for finding in result.findings:
        by_component[finding.component].append(finding)
    models: list[_ModelView] = []
    libraries: dict[str, list[Component]] = defaultdict(list)
    for component in result.components:
        if component.type == "library":
            libraries[component.license.category].append(component)
            continue
        keys = expression_keys(component.license.effective)
        entries = tuple(kb[key] for key in keys if key in kb)
        findings = by_component.get(component.ref, [])
        shown = tuple(f for f in findings if f.rule not in _FOLDED_RULES)
        models.append(_ModelView(component, entries, shown, _condition_status(findings)))
    return models, dict(sorted(libraries.items()))


def _size(value: int | None) -> str:
    if value is None:
        return "-"
    size = float(value)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if size < 1024 or unit == "TiB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return str(value)


def _training_views(result: ScanResult) -> list[tuple[Component, dict[str, Any]]]:
    """The data section: each stored model with its datasets and the transparency summary."""
    return [(c, transparency(c)) for c in result.components if shows_training_data(c)]


def render_html(
    result: ScanResult, kb: LicenseKnowledgeBase, context: dict[str, Any] | None = None
) -> str:
    """Render the report template for `result`, explaining its licenses from `kb`."""
    import jinja2

    environment = jinja2.Environment(
        loader=jinja2.PackageLoader("scanner", "templates"),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=jinja2.StrictUndefined,
    )
    environment.filters["size"] = _size
    environment.filters["source_label"] = lambda source: SOURCE_LABELS.get(source, source)
    models, libraries = _views(result, kb)
    return environment.get_template("report.html.j2").render(
        result=result,
        models=models,
        libraries=libraries,
        policy_findings=[f for f in result.findings if f.component is None],
        overview=_overview(result),
        listed_findings=[f for f in result.findings if f.rule not in _FOLDED_RULES],
        folded=sum(f.rule in _FOLDED_RULES for f in result.findings),
        names={
            **{c.ref: c.name for c in result.components},
            **{s.ref: s.label for s in result.services},
        },
        training=_training_views(result),
        **(context or {}),
    )


class HtmlFormat(ReportFormat):
    """The legal review report."""

    name = "html"

    def render(
        self, result: ScanResult, kb: LicenseKnowledgeBase, *, display: Display = PLAIN
    ) -> str:
        return render_html(result, kb)
