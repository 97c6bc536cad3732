"""The JSON report (`aiscan-report/1`), the contract users' scripts rely on.

Field names and meanings are fixed by ARCHITECTURE.md; additions are documented in the README
and never change an existing field.
"""

from __future__ import annotations

import dataclasses
import datetime
import json
from pathlib import Path
from typing import Any

from scanner.errors import UsageError
from scanner.formats.interface import ReportFormat
from scanner.inventory import (
    Ancestor,
    CardFacts,
    CardMention,
    CodeReference,
    Component,
    EvalMetric,
    Evidence,
    FileEntry,
    Finding,
    HeaderDefect,
    LicenseFacts,
    LicenseText,
    Notice,
    PickleScan,
    SafetensorsHeader,
    ScanResult,
    Waiver,
)
from scanner.jsonfile import load_json_file
from scanner.licensing.knowledge_base import LicenseKnowledgeBase
from scanner.policy.fingerprints import fingerprint

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
    if entry.pickle is not None:
        data["pickle"] = {"globals": list(entry.pickle.globals), "error": entry.pickle.error}
    if entry.error:
        data["error"] = entry.error
    return data


def _ancestor(ancestor: Ancestor) -> dict[str, Any]:
    return {
        "name": ancestor.name,
        "chain": list(ancestor.chain),
        "relation": ancestor.relation,
        "found_in": ancestor.found_in,
        "revision": ancestor.revision,
        "licenses": list(ancestor.licenses),
        "evidence": ancestor.evidence,
        "problem": ancestor.problem,
    }


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
            "mentions": [
                {"family": m.family, "license": m.license, "quote": m.quote} for m in card.mentions
            ],
            "metrics": [
                {
                    "metric": m.metric,
                    "value": m.value,
                    "task": m.task,
                    "dataset": m.dataset,
                    "name": m.name,
                }
                for m in card.metrics
            ],
        }
    if component.notices:
        data["notices"] = [{"file": n.file, "text": n.text} for n in component.notices]
    if component.license_texts:
        data["license_texts"] = [
            {"file": t.file, "licenses": list(t.licenses), "text": t.text}
            for t in component.license_texts
        ]
    if component.model_type or component.architectures:
        data["model_type"] = component.model_type
        data["architectures"] = list(component.architectures)
    if component.refs:
        data["refs"] = list(component.refs)
    if component.lineage:
        data["lineage"] = [_ancestor(a) for a in component.lineage]
    if component.gated:
        data["gated"] = component.gated
    if component.revision_pinned is not None:
        data["revision_pinned"] = component.revision_pinned
    if component.remote_code:
        data["remote_code"] = list(component.remote_code)
    if component.type == "library":
        data["direct"] = component.direct
        data["declared_only"] = component.declared_only
        data["depends_on"] = list(component.depends_on)
    if component.declared_in:
        data["declared_in"] = list(component.declared_in)
    if component.code_reference is not None:
        data["code_reference"] = dataclasses.asdict(component.code_reference)
        data["code_reference"]["declared_in"] = list(component.code_reference.declared_in)
    if component.problems:
        data["problems"] = [
            {"location": p.location, "message": p.message, "kind": p.kind}
            for p in component.problems
        ]
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
        "baseline": finding.in_baseline,
        "fingerprint": fingerprint(finding),
    }


def report_document(result: ScanResult) -> dict[str, Any]:
    """The report as plain data, for formats that embed it."""
    from scanner import __version__

    return {
        "schema": SCHEMA,
        "tool": {"name": "aiscan", "version": result.tool_version or __version__},
        "targets": list(result.targets),
        "policy": result.policy,
        "rules_off": list(result.rules_off),
        "fail_on": result.fail_on,
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

    def render(self, result: ScanResult, kb: LicenseKnowledgeBase, *, color: bool = False) -> str:
        return json.dumps(report_document(result), indent=2, ensure_ascii=False) + "\n"


class ReportReadError(UsageError):
    """A file given as an aiscan report is not one (exit 2)."""


def _text(raw: dict[str, Any], key: str) -> str:
    """A field that must be a string: NOTICE and license texts are written out as they are."""
    value = raw[key]
    if not isinstance(value, str):
        raise TypeError(f"{key!r} must be a string, not {type(value).__name__}")
    return value


def _defects(raw: Any) -> tuple[HeaderDefect, ...]:
    return tuple(HeaderDefect(d["kind"], d["message"]) for d in raw or ())


def _read_file(raw: dict[str, Any]) -> FileEntry:
    header = raw.get("safetensors")
    return FileEntry(
        path=raw["path"],
        size=raw.get("size"),
        format=raw.get("format", "other"),
        sha256=raw.get("sha256"),
        verified=raw.get("verified"),
        safetensors=SafetensorsHeader(
            header_size=header["header_size"],
            tensor_count=header["tensors"],
            parameter_count=header["parameters"],
            dtypes=header.get("dtypes", {}),
            metadata=header.get("metadata", {}),
            defects=_defects(header.get("defects")),
        )
        if header is not None
        else None,
        license_detected=tuple(raw.get("license_detected", ())),
        error=raw.get("error"),
        reference=raw.get("reference"),
        expected=raw.get("expected"),
        defects=_defects(raw.get("defects")),
        pickle=PickleScan(tuple(raw["pickle"]["globals"]), raw["pickle"].get("error"))
        if raw.get("pickle") is not None
        else None,
    )


def _read_ancestor(raw: dict[str, Any]) -> Ancestor:
    return Ancestor(
        name=raw["name"],
        chain=tuple(raw.get("chain", ())),
        found_in=raw["found_in"],
        relation=raw.get("relation"),
        revision=raw.get("revision"),
        licenses=tuple(raw.get("licenses", ())),
        evidence=raw.get("evidence", ""),
        problem=raw.get("problem"),
    )


def _read_component(raw: dict[str, Any]) -> Component:
    lic = raw.get("license") or {}
    card = raw.get("card")
    return Component(
        ref=raw["ref"],
        type=raw["type"],
        name=raw["name"],
        source=raw["source"],
        location=raw["location"],
        version=raw.get("version"),
        purl=raw.get("purl"),
        license=LicenseFacts(
            declared=tuple(lic.get("declared", ())),
            detected=tuple(lic.get("detected", ())),
            effective=lic.get("effective"),
            category=lic.get("category", "unknown"),
            inherited=tuple(lic.get("inherited", ())),
            evidence=tuple(Evidence(e["source"], e["value"]) for e in lic.get("evidence", ())),
        ),
        base_models=tuple(raw.get("base_models", ())),
        datasets=tuple(raw.get("datasets", ())),
        files=tuple(_read_file(f) for f in raw.get("files", ())),
        card=CardFacts(
            path=card["path"],
            license=tuple(card.get("license", ())),
            license_name=card.get("license_name"),
            license_link=card.get("license_link"),
            base_models=tuple(raw.get("base_models", ())),
            base_model_relation=card.get("base_model_relation"),
            datasets=tuple(raw.get("datasets", ())),
            pipeline_tag=card.get("pipeline_tag"),
            library_name=card.get("library_name"),
            tags=tuple(card.get("tags", ())),
            error=card.get("error"),
            mentions=tuple(
                CardMention(m["family"], m["license"], m["quote"]) for m in card.get("mentions", ())
            ),
            metrics=tuple(EvalMetric(**m) for m in card.get("metrics", ())),
        )
        if card is not None
        else None,
        refs=tuple(raw.get("refs", ())),
        lineage=tuple(_read_ancestor(a) for a in raw.get("lineage", ())),
        gated=raw.get("gated"),
        revision_pinned=raw.get("revision_pinned"),
        remote_code=tuple(raw.get("remote_code", ())),
        model_type=raw.get("model_type"),
        notices=tuple(Notice(_text(n, "file"), _text(n, "text")) for n in raw.get("notices", ())),
        license_texts=tuple(
            LicenseText(_text(t, "file"), _text(t, "text"), tuple(t["licenses"]))
            for t in raw.get("license_texts", ())
        ),
        architectures=tuple(raw.get("architectures", ())),
        depends_on=tuple(raw.get("depends_on", ())),
        direct=raw.get("direct"),
        declared_only=bool(raw.get("declared_only", False)),
        declared_in=tuple(raw.get("declared_in", ())),
        code_reference=CodeReference(
            **{**raw["code_reference"], "declared_in": tuple(raw["code_reference"]["declared_in"])}
        )
        if raw.get("code_reference")
        else None,
    )


def _read_finding(raw: dict[str, Any]) -> Finding:
    waived = raw.get("waived")
    return Finding(
        rule=raw["rule"],
        severity=raw["severity"],
        component=raw.get("component"),
        message=raw["message"],
        evidence=raw.get("evidence") or {},
        waived=Waiver(
            rule=raw["rule"],
            component=raw.get("component") or "",
            reason=waived["reason"],
            approved_by=waived.get("approved_by"),
            expires=datetime.date.fromisoformat(waived["expires"])
            if waived.get("expires")
            else None,
        )
        if waived
        else None,
        in_baseline=bool(raw.get("baseline", False)),
    )


def parse_report(document: Any, where: str) -> ScanResult:
    """Turn an `aiscan-report/1` document back into the `ScanResult` it was rendered from.

    Exists so a saved report can be rendered again (`aiscan bom --from`) or compared
    (`aiscan diff`) without rescanning. Reports written before `fail_on` was recorded are read
    with the default fail level.
    """
    if not isinstance(document, dict) or document.get("schema") != SCHEMA:
        raise ReportReadError(f"{where} is not an aiscan report (schema must be {SCHEMA})")
    try:
        return ScanResult(
            tool_version=document["tool"]["version"],
            targets=tuple(document.get("targets", ())),
            components=tuple(_read_component(c) for c in document["components"]),
            findings=tuple(_read_finding(f) for f in document["findings"]),
            fail_on=document.get("fail_on", "error"),
            policy=document.get("policy"),
            rules_off=tuple(str(rule) for rule in document.get("rules_off") or ()),
        )
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise ReportReadError(f"{where}: malformed aiscan report ({exc!r})") from exc


def read_report(path: Path) -> ScanResult:
    """Read an `aiscan-report/1` JSON file written by `aiscan scan --format json`."""
    return parse_report(load_json_file(path, "report", ReportReadError), str(path))
