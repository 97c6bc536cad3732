"""Compares two scans, given as aiscan JSON reports or CycloneDX, SPDX 2.3 or SPDX 3.0.1 BOMs.

Each input is read by its format's decoder (`scanner.formats.decoded`) and reduced to the same
`Snapshot`, so a report can be compared with a BOM of another format. A component is keyed as
`kind:name`, the name taken from the purl when there is one (without version), so the same
component matches across versions, across formats and across tools that spell the display name
differently. Document ids (SPDXID, spdxId, bom-ref) are never keys: they embed commits and random
document namespaces.

Reports and CycloneDX BOMs carry licenses as knowledge-base keys (`apache-2.0`), SPDX documents as
SPDX expressions (`Apache-2.0`); `in_spdx_terms` rewrites the former the way the SPDX writers do,
so a mixed comparison does not report a notation as a license change.

A change introduces a policy violation when the new side has an unwaived finding at or above its
fail level that the old side did not have.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from pathlib import Path
from urllib.parse import unquote

from scanner.errors import UsageError
from scanner.files import load_json_file
from scanner.formats.cyclonedx import decode_cyclonedx
from scanner.formats.decoded import BomDecodeError, DecodedBom
from scanner.formats.json import decode_report
from scanner.formats.spdx import decode_spdx
from scanner.formats.spdx3 import decode_spdx3
from scanner.inventory import SEVERITY_RANK
from scanner.licensing.knowledge_base import LicenseKnowledgeBase

DECODERS = (decode_report, decode_cyclonedx, decode_spdx, decode_spdx3)
"""Every format diff reads; each returns None for a document of another format."""


@dataclass(frozen=True)
class ComponentState:
    """What diff compares of one component."""

    version: str | None
    declared: tuple[str, ...]
    effective: str | None
    hashes: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Snapshot:
    """One side of a diff."""

    components: dict[str, ComponentState]
    findings: dict[tuple[str, str], str]
    """(rule, component key) → severity, unwaived findings only; the key of a finding about no
    single component is empty."""
    fail_on: str = "error"
    spdx_licenses: bool = False
    """Licenses are SPDX expressions (SPDX inputs), not knowledge-base keys."""


def load_snapshot(path: Path) -> Snapshot:
    """Read an aiscan report or a CycloneDX, SPDX 2.3 or SPDX 3.0.1 JSON BOM."""
    document = load_json_file(path, "report or BOM")
    try:
        bom = next((b for b in (decode(document) for decode in DECODERS) if b is not None), None)
    except BomDecodeError as exc:
        raise UsageError(f"{path}: {exc}") from exc
    if bom is None:
        raise UsageError(
            f"{path} is neither an aiscan JSON report nor a CycloneDX JSON, SPDX 2.3 JSON or "
            "SPDX 3.0.1 JSON-LD BOM"
        )
    return snapshot(bom)


def component_key(kind: str, name: str, purl: str | None = None) -> str:
    """`kind:name`, the name being the purl's namespace/name when a purl is given."""
    if purl and purl.startswith("pkg:"):
        path = purl.split("#", 1)[0].split("?", 1)[0].removeprefix("pkg:").strip("/")
        _, _, path = path.partition("/")  # the purl type
        head, _, last = path.rpartition("/")
        last = last.split("@", 1)[0]
        name = unquote(f"{head}/{last}" if head else last) or name
    return f"{kind}:{name}"


def snapshot(bom: DecodedBom) -> Snapshot:
    """What diff compares of a decoded document; SPDX expressions in one spelling."""
    spdx = bom.license_notation == "spdx"
    components: dict[str, ComponentState] = {}
    findings = {(f.rule, ""): f.severity for f in bom.findings if f.counts}
    for c in bom.components:
        key = component_key(c.kind, c.name, c.purl)
        declared = tuple(filter(None, map(_spdx_text, c.declared))) if spdx else c.declared
        components[key] = ComponentState(
            c.version,
            declared,
            _spdx_text(c.effective) if spdx else c.effective,
            {f.path: f.sha256 for f in c.files if f.sha256},
        )
        findings.update(((f.rule, key), f.severity) for f in c.findings if f.counts)
    return Snapshot(components, findings, bom.fail_on, spdx_licenses=spdx)


def _spdx_text(expression: str | None) -> str | None:
    """An SPDX expression in one spelling, so documents written by different tools compare equal
    when they mean the same."""
    if not expression:
        return None
    from license_expression import ExpressionError, Licensing

    try:
        return str(Licensing().parse(expression, validate=False))
    except ExpressionError:
        return expression.strip()


def in_spdx_terms(snapshot: Snapshot, kb: LicenseKnowledgeBase) -> Snapshot:
    """A report's or CycloneDX BOM's licenses as the SPDX writers would have written them:
    the effective license mapped to SPDX ids, the declared ones only when every value maps."""
    from scanner.formats import aibom

    if snapshot.spdx_licenses:
        return snapshot
    components = {}
    for key, state in snapshot.components.items():
        declared = _spdx_text(aibom.declared_values_expression(state.declared, kb)[0])
        effective = aibom.spdx_expression(state.effective, kb) if state.effective else None
        components[key] = replace(
            state, declared=(declared,) if declared else (), effective=_spdx_text(effective)
        )
    return replace(snapshot, components=components, spdx_licenses=True)


@dataclass(frozen=True)
class Change:
    """One difference: `kind` is added, removed, version, declared, effective, hash,
    new-finding or resolved-finding."""

    kind: str
    component: str
    old: str | None = None
    new: str | None = None


@dataclass(frozen=True)
class Changes:
    changes: tuple[Change, ...]
    introduces_violation: bool


def compare(old: Snapshot, new: Snapshot) -> Changes:
    """Every difference between two snapshots, in a stable order."""
    if old.spdx_licenses != new.spdx_licenses:
        from scanner.licensing.knowledge_base import default_knowledge_base

        kb = default_knowledge_base()
        old, new = in_spdx_terms(old, kb), in_spdx_terms(new, kb)
    changes: list[Change] = []
    for key in sorted(old.components.keys() | new.components.keys()):
        before, after = old.components.get(key), new.components.get(key)
        if before is None or after is None:
            if after is not None:
                changes.append(Change("added", key, None, after.version))
            elif before is not None:
                changes.append(Change("removed", key, before.version, None))
            continue
        if before.version != after.version:
            changes.append(Change("version", key, before.version, after.version))
        if before.declared != after.declared:
            changes.append(
                Change("declared", key, ", ".join(before.declared), ", ".join(after.declared))
            )
        if before.effective != after.effective:
            changes.append(Change("effective", key, before.effective, after.effective))
        for path in sorted(before.hashes.keys() & after.hashes.keys()):
            if before.hashes[path] != after.hashes[path]:
                changes.append(
                    Change("hash", f"{key}/{path}", before.hashes[path], after.hashes[path])
                )
    threshold = SEVERITY_RANK.get(new.fail_on, SEVERITY_RANK["error"])
    violation = False
    for rule, key in sorted(new.findings.keys() - old.findings.keys()):
        severity = new.findings[(rule, key)]
        changes.append(Change("new-finding", key, None, f"{rule} ({severity})"))
        violation = violation or SEVERITY_RANK.get(severity, 0) >= threshold
    for rule, key in sorted(old.findings.keys() - new.findings.keys()):
        changes.append(Change("resolved-finding", key, f"{rule} ({old.findings[(rule, key)]})"))
    return Changes(tuple(changes), violation)


def render_diff(changes: Changes, output_format: str) -> str:
    """The changes as a table, JSON or Markdown (for a pull-request comment)."""
    if output_format == "json":
        return (
            json.dumps(
                {
                    "changes": [vars(c) for c in changes.changes],
                    "introduces_violation": changes.introduces_violation,
                },
                indent=2,
            )
            + "\n"
        )
    rows = [(c.kind, c.component, c.old or "", c.new or "") for c in changes.changes]
    verdict = (
        "a change introduces a policy violation"
        if changes.introduces_violation
        else "no change introduces a policy violation"
    )
    if output_format == "markdown":
        lines = ["## aiscan diff", "", f"{len(rows)} change(s); {verdict}.", ""]
        if rows:
            lines += ["| change | component | old | new |", "|---|---|---|---|"]
            lines += ["| " + " | ".join(v.replace("|", "\\|") for v in row) + " |" for row in rows]
        return "\n".join(lines) + "\n"
    widths = [
        max([len(h), *(len(r[i]) for r in rows)])
        for i, h in enumerate(("change", "component", "old", "new"))
    ]
    lines = [
        "  ".join(
            h.ljust(w) for h, w in zip(("change", "component", "old", "new"), widths, strict=True)
        )
    ]
    lines += [
        "  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)).rstrip() for row in rows
    ]
    return "\n".join(lines) + f"\n{len(rows)} change(s); {verdict}\n"
