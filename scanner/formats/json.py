"""The JSON report (`aiscan-report/1`), the contract users' scripts rely on.

Field names and meanings are fixed by ARCHITECTURE.md; additions are documented in the README
and never change an existing field.
"""

from __future__ import annotations

import json
from typing import Any

from scanner.formats.interface import ReportFormat
from scanner.inventory import Component, FileEntry, Finding, ScanResult, Waiver

SCHEMA = "aiscan-report/1"


def _file(entry: FileEntry) -> dict[str, Any]:
    data: dict[str, Any] = {
        "path": entry.path,
        "size": entry.size,
        "sha256": entry.sha256,
        "format": entry.format,
        "verified": entry.verified,
    }
    if entry.safetensors is not None:
        header = entry.safetensors
        data["safetensors"] = {
            "header_size": header.header_size,
            "tensors": header.tensor_count,
            "parameters": header.parameter_count,
            "dtypes": dict(header.dtypes),
            "metadata": dict(header.metadata),
            "defects": [{"kind": d.kind, "message": d.message} for d in header.defects],
        }
    if entry.reference is not None:
        data["reference"] = entry.reference
        data["expected"] = entry.expected
    if entry.defects:
        data["defects"] = [{"kind": d.kind, "message": d.message} for d in entry.defects]
    if entry.license_detected:
        data["license_detected"] = list(entry.license_detected)
    if entry.error:
        data["error"] = entry.error
    return data


def _component(component: Component) -> dict[str, Any]:
    license_facts = component.license
    data: dict[str, Any] = {
        "ref": component.ref,
        "type": component.type,
        "name": component.name,
        "version": component.version,
        "purl": component.purl,
        "source": component.source,
        "location": component.location,
        "license": {
            "declared": list(license_facts.declared),
            "detected": list(license_facts.detected),
            "inherited": list(license_facts.inherited),
            "effective": license_facts.effective,
            "category": license_facts.category,
            "evidence": [{"source": e.source, "value": e.value} for e in license_facts.evidence],
        },
        "base_models": list(component.base_models),
        "datasets": list(component.datasets),
        "files": [_file(f) for f in component.files],
    }
    if component.card is not None:
        card = component.card
        data["card"] = {
            "path": card.path,
            "license": list(card.license),
            "license_name": card.license_name,
            "license_link": card.license_link,
            "base_model_relation": card.base_model_relation,
            "pipeline_tag": card.pipeline_tag,
            "library_name": card.library_name,
            "tags": list(card.tags),
            "error": card.error,
        }
    if component.refs:
        data["refs"] = list(component.refs)
    return data


def _waiver(waiver: Waiver | None) -> dict[str, Any] | None:
    if waiver is None:
        return None
    return {
        "reason": waiver.reason,
        "expires": waiver.expires.isoformat() if waiver.expires else None,
        "approved_by": waiver.approved_by,
    }


def _finding(finding: Finding) -> dict[str, Any]:
    return {
        "rule": finding.rule,
        "severity": finding.severity,
        "component": finding.component,
        "message": finding.message,
        "evidence": dict(finding.evidence),
        "waived": _waiver(finding.waived),
    }


def report_document(result: ScanResult) -> dict[str, Any]:
    """The report as plain data, for formats that embed it."""
    from scanner import __version__

    return {
        "schema": SCHEMA,
        "tool": {"name": "aiscan", "version": result.tool_version or __version__},
        "targets": list(result.targets),
        "policy": result.policy,
        "components": [_component(c) for c in result.components],
        "findings": [_finding(f) for f in result.findings],
        "summary": {
            "components": len(result.components),
            "errors": result.count("error"),
            "warnings": result.count("warning"),
            "notes": result.count("note"),
            "waived": result.waived_count,
            "exit_code": result.exit_code,
        },
    }


class JsonFormat(ReportFormat):
    """Pretty-printed JSON with stable key order."""

    name = "json"

    def render(self, result: ScanResult, *, color: bool = False) -> str:
        return json.dumps(report_document(result), indent=2, ensure_ascii=False) + "\n"
