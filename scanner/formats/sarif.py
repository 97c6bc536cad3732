"""SARIF 2.1.0 for code-scanning services (GitHub code scanning and others).

One SARIF rule per aiscan rule id, results pointing at the file a reviewer should open (the
card's `license:` line for license findings, the weight file for integrity, `file:line` for code
references), and stable `partialFingerprints` so re-runs de-duplicate instead of piling up.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from scanner.formats.interface import PLAIN, Display, ReportFormat
from scanner.inventory import Component, Finding, ScanResult
from scanner.licensing.knowledge_base import LicenseKnowledgeBase
from scanner.policy.fingerprints import FINGERPRINT_KEY, fingerprint
from scanner.policy.rules import RULES

SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
INFORMATION_URI = "https://github.com/aiscan/aiscan#rules"
_LEVEL = {"error": "error", "warning": "warning", "note": "note"}
_CODE_LOCATION = re.compile(r"^(?P<path>.+):(?P<line>\d+)$")
_CARD_RULES = ("license.", "provenance.card-")


def _uri(path: str) -> str:
    """A path relative to the working directory when below it (how code scanning maps files)."""
    absolute = Path(path).absolute()
    try:
        return absolute.relative_to(Path.cwd()).as_posix()
    except ValueError:
        return absolute.as_uri()


def _physical(path: str, line: int | None) -> dict[str, Any]:
    location: dict[str, Any] = {"artifactLocation": {"uri": _uri(path)}}
    if line is not None:
        location["region"] = {"startLine": line}
    return {"physicalLocation": location}


def _location(
    finding: Finding, component: Component | None, result: ScanResult
) -> dict[str, Any] | None:
    """Where a reader should look for this finding."""
    evidence = finding.evidence
    if component is None:
        target = evidence.get("target") or (result.targets[0] if result.targets else None)
        if finding.rule.startswith("policy.") and result.policy and Path(result.policy).is_file():
            target = result.policy
        return _physical(str(target), None) if target else None
    code = _CODE_LOCATION.match(component.location)
    if code and component.source == "code":
        return _physical(code["path"], int(code["line"]))
    if "file" in evidence:
        return _physical(component.path_of(str(evidence["file"])), None)
    if "location" in evidence:
        return _physical(str(evidence["location"]), None)
    card = component.card
    if card is not None and finding.rule.startswith(_CARD_RULES):
        line = card.license_line if finding.rule.startswith("license.") else None
        return _physical(str(Path(component.location) / card.path), line or 1)
    return _physical(component.location, None)


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
        "properties": {"tags": [rule.id.split(".", 1)[0], "compliance"]},
    }


def sarif_document(result: ScanResult) -> dict[str, Any]:
    """The SARIF log as plain data."""
    rule_ids = sorted(RULES)
    index = {rule_id: i for i, rule_id in enumerate(rule_ids)}
    components = {c.ref: c for c in result.components}
    results = []
    for finding in result.findings:
        entry: dict[str, Any] = {
            "ruleId": finding.rule,
            "ruleIndex": index[finding.rule],
            "level": _LEVEL[finding.severity],
            "message": {"text": finding.message},
            "partialFingerprints": {FINGERPRINT_KEY: fingerprint(finding)},
            "baselineState": "unchanged" if finding.in_baseline else "new",
            "properties": {"component": finding.component, "evidence": dict(finding.evidence)},
        }
        location = _location(finding, components.get(finding.component or ""), result)
        if location is not None:
            entry["locations"] = [location]
        if finding.waived is not None:
            entry["suppressions"] = [
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
                "results": results,
                "properties": {"targets": list(result.targets), "policy": result.policy},
            }
        ],
    }


class SarifFormat(ReportFormat):
    """SARIF 2.1.0 JSON."""

    name = "sarif"

    def render(
        self, result: ScanResult, kb: LicenseKnowledgeBase, *, display: Display = PLAIN
    ) -> str:
        return json.dumps(sarif_document(result), indent=2, ensure_ascii=False) + "\n"
