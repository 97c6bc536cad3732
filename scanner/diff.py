"""Compares two scans, given as aiscan JSON reports or CycloneDX, SPDX 2.3 or SPDX 3.0.1 BOMs.

Both inputs are reduced to the same `Snapshot` (see `scanner.diff_readers`: components keyed by
type and name, with version, licenses, file hashes and findings), so a report can be compared
with a BOM of another format. A change introduces a policy violation when the new side has an
unwaived finding at or above its fail level that the old side did not have.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from scanner.diff_readers import Snapshot, in_spdx_terms, read_snapshot
from scanner.errors import UsageError
from scanner.inventory import SEVERITY_RANK
from scanner.jsonfile import load_json_file


def load_snapshot(path: Path) -> Snapshot:
    """Read an aiscan report or a CycloneDX, SPDX 2.3 or SPDX 3.0.1 JSON BOM."""
    document = load_json_file(path, "report or BOM")
    try:
        snapshot = read_snapshot(document)
    except (KeyError, TypeError, AttributeError) as exc:
        raise UsageError(f"{path}: malformed document ({exc!r})") from exc
    if snapshot is None:
        raise UsageError(
            f"{path} is neither an aiscan JSON report nor a CycloneDX JSON, SPDX 2.3 JSON or "
            "SPDX 3.0.1 JSON-LD BOM"
        )
    return snapshot


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
