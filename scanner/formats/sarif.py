"""SARIF 2.1.0 for code-scanning services (GitHub code scanning and others).

One SARIF rule per aiscan rule id, results pointing at the file a reviewer should open (the
card's `license:` line for license findings, the weight file for integrity, `file:line` for code
references), and stable `partialFingerprints` so re-runs de-duplicate instead of piling up.

What GitHub code scanning reads, and how aiscan fills it (docs/sarif.md has the details):
- `artifactLocation.uri` relative to the repository root, with `uriBaseId: SRCROOT`; a file
  outside that root is relative to the folder holding its scan target (`TARGET1`, …) or holding
  the file (`OTHER1`, …), whose `originalUriBaseIds` entry describes it without an absolute
  path, so a SARIF log never carries a runner's `file:///…` path.
- a `region.startLine` on every result that names a file (the line the finding is about, else
  1), which GitHub requires to place an alert;
- `partialFingerprints.primaryLocationLineHash`, GitHub's own line hash (the rolling hash of
  github/codeql-action's `fingerprints.ts`, re-implemented in `line_hashes`) of the text file a
  result points at, given by the caller that read it; `aiscan/v1` stays the aiscan fingerprint
  baselines match on;
- `properties.security-severity`, `precision` and a `security` tag per rule, and
  `automationDetails.id` naming the scanned targets, so two uploads for different targets do not
  close each other's alerts.

Waived findings and findings already in the baseline are SARIF `suppressions` (accepted) at level
`note`, their real severity kept in `properties.severity`: they do not count for aiscan's exit
code, so they do not count as errors for consumers that tally levels (`sarif summary`) either.
"""

from __future__ import annotations

import json
import os
import re
import struct
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import quote

from scanner.formats.interface import PLAIN, Display, ReportFormat
from scanner.inventory import Component, Finding, ScanResult, Service
from scanner.licensing.knowledge_base import LicenseKnowledgeBase
from scanner.policy.fingerprints import FINGERPRINT_KEY, fingerprint
from scanner.policy.rules import RULES

SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
INFORMATION_URI = "https://github.com/aiscan/aiscan#rules"
LINE_HASH_KEY = "primaryLocationLineHash"
SOURCE_ROOT_ID = "SRCROOT"
_LEVEL = {"error": "error", "warning": "warning", "note": "note"}
_CODE_LOCATION = re.compile(r"^(?P<path>.+):(?P<line>\d+)$")
_CARD_RULES = ("license.", "provenance.card-")
_MANIFEST_SOURCES = frozenset({"requirements", "lockfile"})
"""Sources whose component location is the manifest file that declares it."""

_SECURITY_SEVERITY = {"error": "7.0", "warning": "5.0", "note": "2.0"}
"""GitHub's security severity (0.0-10.0: 9+ critical, 7+ high, 4+ medium, else low) by a rule's
default severity; `_SECURITY_SEVERITY_OF` raises it for rules whose findings can run or swap code."""
_SECURITY_SEVERITY_OF = {
    "integrity.hash-mismatch": "9.0",
    "provenance.remote-code": "8.0",
    "provenance.unsafe-format": "7.5",
    "scan.link-outside-target": "7.5",
}
_PRECISION_OF = {
    "integrity.malformed": "very-high",
    "integrity.truncated": "very-high",
    "integrity.duplicate-tensor": "very-high",
    "integrity.hash-mismatch": "very-high",
    "integrity.missing-shard": "very-high",
    "integrity.unexpected-file": "very-high",
    "license.missing": "very-high",
    "license.denied": "very-high",
    "provenance.card-missing": "very-high",
    "policy.waiver-expired": "very-high",
    "policy.waiver-unused": "very-high",
    "scan.unreadable": "very-high",
    "scan.link-outside-target": "very-high",
    "license.undeclared-base": "medium",
    "provenance.base-unresolved": "medium",
    "provenance.undeclared-model": "medium",
    "provenance.unresolved-reference": "medium",
}
"""GitHub's `precision` (how often a rule's results are true) where it is not `high`: facts read
from a file's structure are very-high; conclusions from free text or code are medium."""


def security_severity(rule_id: str) -> str:
    return _SECURITY_SEVERITY_OF.get(rule_id) or _SECURITY_SEVERITY[RULES[rule_id].severity]


def precision(rule_id: str) -> str:
    return _PRECISION_OF.get(rule_id, "high")


# --- GitHub's line hash -------------------------------------------------------------------------

_HASH_WINDOW = 100
_HASH_BASE = 37
_HASH_MASK = (1 << 64) - 1
_HASH_FIRST = pow(_HASH_BASE, _HASH_WINDOW, 1 << 64)
_HASH_EOF = 0xFFFF


def line_hashes(text: str) -> dict[int, str]:
    """GitHub's `primaryLocationLineHash` of every line (1-based) of a text file.

    A rolling hash over the next 100 characters that are not spaces or tabs, counted from the
    start of each line, with line endings normalised to `\\n`, an end marker after the last
    character, and `:<n>` telling apart the n-th line of the same hash; characters are UTF-16
    code units, as in the JavaScript the upload action runs. It must be exactly GitHub's: the
    upload action computes it again for every file in the checkout and keeps a different value
    only with a warning.
    """
    encoded = text.encode("utf-16-le", "surrogatepass")
    units = [*struct.unpack(f"<{len(encoded) // 2}H", encoded), _HASH_EOF]
    window = [0] * _HASH_WINDOW
    starts = [0] * _HASH_WINDOW  # the line starting at each window slot, 0 for none
    hashes: dict[int, str] = {}
    seen: dict[str, int] = {}
    value = index = line = 0
    line_start, after_cr = True, False

    def emit() -> None:
        digest = format(value, "x")
        seen[digest] = seen.get(digest, 0) + 1
        hashes[starts[index]] = f"{digest}:{seen[digest]}"
        starts[index] = 0

    def push(unit: int) -> None:
        nonlocal value, index
        value = (_HASH_BASE * value + unit - _HASH_FIRST * window[index]) & _HASH_MASK
        window[index] = unit
        index = (index + 1) % _HASH_WINDOW

    for unit in units:
        if unit in (0x20, 0x09) or (after_cr and unit == 0x0A):
            after_cr = False
            continue
        after_cr = unit == 0x0D
        if after_cr:
            unit = 0x0A
        if starts[index]:
            emit()
        if line_start:
            line_start = False
            line += 1
            starts[index] = line
        line_start = unit == 0x0A
        push(unit)
    for _ in range(_HASH_WINDOW):
        if starts[index]:
            emit()
        push(0)
    return hashes


# --- where a result points ------------------------------------------------------------------------


@dataclass(frozen=True)
class Spot:
    """The place a result points at: a path as the facts spell it (or a URL), the line when the
    path names a file (1 when no better line is known; None for a folder or URL), and whether
    the file is text, so its line hash can be computed by whoever may read it."""

    path: str
    line: int | None = None
    text: bool = False


def _spot(finding: Finding, component: Component | None, result: ScanResult) -> Spot | None:
    evidence = finding.evidence
    if component is None:
        if finding.rule.startswith("policy.") and result.policy and _is_policy_file(result):
            return Spot(result.policy, 1, text=True)
        target = evidence.get("target") or (result.targets[0] if result.targets else None)
        return Spot(str(target)) if target else None
    code = _CODE_LOCATION.match(component.location)
    if code and component.source == "code":
        return Spot(code["path"], int(code["line"]), text=True)
    if "file" in evidence:
        line = evidence.get("line")
        known = line if isinstance(line, int) and line > 0 else None
        return Spot(component.path_of(str(evidence["file"])), known or 1)
    card = component.card
    if card is not None and finding.rule.startswith(_CARD_RULES):
        line = card.license_line if finding.rule.startswith("license.") else None
        return Spot(str(Path(component.location) / card.path), line or 1, text=True)
    if not component.location:
        return None
    if component.type == "file" or component.source in _MANIFEST_SOURCES:
        return Spot(component.location, 1, text=component.source in _MANIFEST_SOURCES)
    return Spot(component.location)


def _is_policy_file(result: ScanResult) -> bool:
    """Whether the run's policy is a file (not a shipped policy's name): a YAML path."""
    return bool(result.policy) and str(result.policy).endswith((".yaml", ".yml", ".toml"))


def result_spots(result: ScanResult) -> list[Spot | None]:
    """Where each finding of `result` points, in finding order."""
    components = {c.ref: c for c in result.components}
    services = {s.ref: s for s in result.services}
    return [
        _service_spot(services[f.component])
        if f.component in services
        else _spot(f, components.get(f.component or ""), result)
        for f in result.findings
    ]


def _service_spot(service: Service) -> Spot:
    """A finding on an AI service points at the line of code or deployment file using it."""
    suffix = (f":cell{service.cell}" if service.cell else "") + f":{service.line}"
    path = service.location.removesuffix(suffix)
    return Spot(path, service.line, text=True)


def _absolute(path: str) -> PurePosixPath:
    return PurePosixPath(os.path.normpath(Path(path).absolute().as_posix()))


def spot_key(path: str) -> str:
    """The key under which a caller gives the line hashes of the file at `path`."""
    return str(_absolute(path))


class _UriBases:
    """Turns paths into artifact locations relative to a named base, and lists the bases."""

    def __init__(self, source_root: Path, targets: tuple[str, ...]) -> None:
        self.root = _absolute(str(source_root))
        self.bases: dict[str, tuple[PurePosixPath, str]] = {}
        for number, target in enumerate(targets, 1):
            if "://" in target:
                continue
            holder = _absolute(target).parent
            if not holder.is_relative_to(self.root):
                # Named by the target's last part only: the absolute path is the runner's.
                name = _absolute(target).name
                self._base(holder, "TARGET", f"the folder holding scan target {number} ({name})")

    def _base(self, folder: PurePosixPath, prefix: str, description: str) -> str:
        for name, (known, _) in self.bases.items():
            if known == folder:
                return name
        name = f"{prefix}{1 + sum(n.startswith(prefix) for n in self.bases)}"
        self.bases[name] = (folder, description)
        return name

    def locate(self, path: str) -> dict[str, Any]:
        if "://" in path:
            return {"uri": path}
        absolute = _absolute(path)
        if absolute.is_relative_to(self.root):
            return _relative(absolute.relative_to(self.root), SOURCE_ROOT_ID)
        holders = [(f, n) for n, (f, _) in self.bases.items() if absolute.is_relative_to(f)]
        if holders:
            folder, name = max(holders, key=lambda pair: len(pair[0].parts))
        else:
            folder = absolute.parent
            name = self._base(folder, "OTHER", "a folder outside the source root")
        return _relative(absolute.relative_to(folder), name)

    def original(self, source_root: Path) -> dict[str, Any]:
        bases: dict[str, Any] = {
            SOURCE_ROOT_ID: {
                "uri": Path(str(self.root)).as_uri().rstrip("/") + "/",
                "description": {"text": "the source root (the repository root, or --source-root)"},
            }
        }
        for name, (_, description) in self.bases.items():
            bases[name] = {"description": {"text": description}}
        return bases


def _relative(path: PurePosixPath, base: str) -> dict[str, Any]:
    return {"uri": quote(path.as_posix()) if path.parts else "", "uriBaseId": base}


def _category(result: ScanResult, bases: _UriBases) -> str:
    """`automationDetails.id`: `aiscan/<targets>/`, the targets relative to their base, so the
    category is the same on every machine and differs between uploads for different targets."""
    names = []
    for target in result.targets:
        location = bases.locate(target)
        names.append(location["uri"] or ".")
    return "aiscan/" + "+".join(sorted(names)) + "/"


# --- the document ---------------------------------------------------------------------------------


def _rule(rule_id: str) -> dict[str, Any]:
    rule = RULES[rule_id]
    return {
        "id": rule.id,
        "name": "".join(part.capitalize() for part in re.split(r"[.\-]", rule.id)),
        "shortDescription": {"text": rule.summary},
        "fullDescription": {"text": rule.help},
        "help": {"text": rule.help, "markdown": f"**{rule.summary}**\n\n{rule.help}"},
        "helpUri": INFORMATION_URI,
        "defaultConfiguration": {"level": _LEVEL[rule.severity]},
        "properties": {
            "tags": [rule.id.split(".", 1)[0], "compliance", "security", "supply-chain"],
            "security-severity": security_severity(rule_id),
            "precision": precision(rule_id),
        },
    }


def _suppressions(finding: Finding) -> list[dict[str, Any]]:
    if finding.waived is not None:
        return [
            {
                "kind": "external",
                "status": "accepted",
                "justification": finding.waived.reason,
                "properties": {
                    "approved_by": finding.waived.approved_by,
                    "expires": finding.waived.expires.isoformat()
                    if finding.waived.expires
                    else None,
                },
            }
        ]
    if finding.in_baseline:
        return [
            {
                "kind": "external",
                "status": "accepted",
                "justification": "already reported in the --baseline given to this run",
            }
        ]
    return []


def sarif_document(
    result: ScanResult,
    *,
    source_root: Path | None = None,
    hashes: Mapping[str, Mapping[int, str]] | None = None,
) -> dict[str, Any]:
    """The SARIF log as plain data. `source_root` is the folder URIs are relative to (default:
    the working directory); `hashes` are the line hashes of the text files results point at, by
    `spot_key(path)`, from a caller that read them (a format never re-reads the target)."""
    root = source_root if source_root is not None else Path.cwd()
    bases = _UriBases(root, result.targets)
    rule_ids = sorted(RULES)
    index = {rule_id: i for i, rule_id in enumerate(rule_ids)}
    results = []
    for finding, spot in zip(result.findings, result_spots(result), strict=True):
        prints = {FINGERPRINT_KEY: fingerprint(finding)}
        entry: dict[str, Any] = {
            "ruleId": finding.rule,
            "ruleIndex": index[finding.rule],
            "level": _LEVEL[finding.severity] if finding.counts else "note",
            "message": {"text": finding.message},
            "partialFingerprints": prints,
            "baselineState": "unchanged" if finding.in_baseline else "new",
            "properties": {
                "severity": finding.severity,
                "component": finding.component,
                "evidence": dict(finding.evidence),
            },
        }
        if spot is not None:
            physical: dict[str, Any] = {"artifactLocation": bases.locate(spot.path)}
            if spot.line is not None:
                physical["region"] = {"startLine": spot.line}
                line_hash = (hashes or {}).get(spot_key(spot.path), {}).get(spot.line)
                if line_hash:
                    prints[LINE_HASH_KEY] = line_hash
            entry["locations"] = [{"physicalLocation": physical}]
        suppressions = _suppressions(finding)
        if suppressions:
            entry["suppressions"] = suppressions
        results.append(entry)
    return {
        "$schema": SCHEMA_URI,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "aiscan",
                        "version": result.tool_version,
                        "semanticVersion": result.tool_version,
                        "informationUri": INFORMATION_URI,
                        "rules": [_rule(rule_id) for rule_id in rule_ids],
                    }
                },
                "automationDetails": {"id": _category(result, bases)},
                "originalUriBaseIds": bases.original(root),
                "results": results,
                "properties": {"targets": list(result.targets), "policy": result.policy},
            }
        ],
    }


class SarifFormat(ReportFormat):
    """SARIF 2.1.0 JSON."""

    name = "sarif"

    def __init__(
        self,
        source_root: Path | None = None,
        hashes: Mapping[str, Mapping[int, str]] | None = None,
    ) -> None:
        self.source_root = source_root
        self.hashes = hashes

    def render(
        self, result: ScanResult, kb: LicenseKnowledgeBase, *, display: Display = PLAIN
    ) -> str:
        document = sarif_document(result, source_root=self.source_root, hashes=self.hashes)
        return json.dumps(document, indent=2, ensure_ascii=False) + "\n"
