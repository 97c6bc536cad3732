"""Compares two scans, given as aiscan JSON reports or CycloneDX JSON BOMs.

Both inputs are reduced to the same `Snapshot` (components keyed by type and name, with
version, licenses, file hashes and findings), so a report can be compared with a BOM. A change
introduces a policy violation when the new side has an unwaived finding at or above its fail
level that the old side did not have.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from scanner.errors import UsageError
from scanner.inventory import SEVERITY_RANK
from scanner.jsonfile import load_json_file


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
    """(rule, component key) → severity, unwaived findings only."""
    fail_on: str = "error"


def _key(kind: str, name: str) -> str:
    return f"{kind}:{name}"


def _from_report(document: dict[str, Any]) -> Snapshot:
    names = {}
    components = {}
    for c in document["components"]:
        key = _key(c["type"], c["name"])
        names[c["ref"]] = key
        components[key] = ComponentState(
            c.get("version"),
            tuple(c["license"].get("declared", ())),
            c["license"].get("effective"),
            {f["path"]: f["sha256"] for f in c.get("files", ()) if f.get("sha256")},
        )
    findings = {
        (f["rule"], names.get(f["component"], f["component"] or "")): f["severity"]
        for f in document["findings"]
        if not f.get("waived") and not f.get("baseline")
    }
    return Snapshot(components, findings, document.get("fail_on", "error"))


_CDX_TYPES = {"machine-learning-model": "model", "data": "dataset", "library": "library"}


def _from_cyclonedx(document: dict[str, Any]) -> Snapshot:
    components = {}
    findings = {}
    for c in document.get("components", []):
        key = _key(_CDX_TYPES.get(c.get("type"), c.get("type", "")), c["name"])
        properties = c.get("properties", [])
        values = {p["name"]: p.get("value", "") for p in properties}
        components[key] = ComponentState(
            c.get("version"),
            tuple(p.get("value", "") for p in properties if p["name"] == "aiscan:license:declared"),
            values.get("aiscan:license:effective"),
            {
                f["name"]: h["content"]
                for f in c.get("components", [])
                for h in f.get("hashes", [])
                if h.get("alg") == "SHA-256"
            },
        )
        for p in properties:
            if p["name"].startswith("aiscan:finding:") and "(waived:" not in p.get("value", ""):
                severity = p.get("value", "").split(":", 1)[0]
                findings[(p["name"].removeprefix("aiscan:finding:"), key)] = severity
    return Snapshot(components, findings)


def load_snapshot(path: Path) -> Snapshot:
    """Read an aiscan report or a CycloneDX JSON BOM."""
    document = load_json_file(path, "report or BOM")
    try:
        if isinstance(document, dict) and document.get("schema") == "aiscan-report/1":
            return _from_report(document)
        if isinstance(document, dict) and document.get("bomFormat") == "CycloneDX":
            return _from_cyclonedx(document)
    except (KeyError, TypeError, AttributeError) as exc:
        raise UsageError(f"{path}: malformed document ({exc!r})") from exc
    raise UsageError(f"{path} is neither an aiscan JSON report nor a CycloneDX JSON BOM")


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
