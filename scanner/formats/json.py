"""The JSON report (`aiscan-report/1`), the contract users' scripts rely on.

Field names and meanings are fixed (docs/json-report.md has the contract); additions are documented
there and never change an existing field.
"""

from __future__ import annotations

import dataclasses
import datetime
import functools
import json
import types
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from scanner.errors import UsageError
from scanner.files import load_json_file
from scanner.formats.datasets import (
    dataset_document,
    origin_document,
    read_dataset,
    read_origin,
    shows_training_data,
    transparency,
)
from scanner.formats.decoded import (
    BomDecodeError,
    DecodedBom,
    DecodedComponent,
    DecodedFile,
    DecodedFinding,
)
from scanner.formats.interface import PLAIN, Display, ReportFormat
from scanner.inventory import (
    Ancestor,
    CardFacts,
    CardMention,
    CodeReference,
    Component,
    ComponentDetails,
    EvalMetric,
    Evidence,
    FileEntry,
    FileHeader,
    Finding,
    GgufBaseModel,
    GgufHeader,
    HeaderDefect,
    HostLocation,
    LibraryDetails,
    LicenseFacts,
    LicenseText,
    ModelDetails,
    Notice,
    OllamaConfig,
    OllamaModel,
    PickleScan,
    SafetensorsHeader,
    ScanResult,
    Service,
    TextMatch,
    Waiver,
)
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
    if entry.from_cache:
        data["from_cache"] = True
    if entry.media_type is not None:
        data["media_type"] = entry.media_type
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
    if entry.gguf is not None:
        data["gguf"] = _gguf(entry.gguf)
    if entry.reference is not None:
        data["reference"] = entry.reference
        data["expected"] = entry.expected
    if entry.defects:
        data["defects"] = [{"kind": d.kind, "message": d.message} for d in entry.defects]
    if entry.license_detected:
        data["license_detected"] = list(entry.license_detected)
    if entry.license_match:
        data["license_match"] = [_text_match(match) for match in entry.license_match]
    if entry.pickle is not None:
        data["pickle"] = {
            "globals": list(entry.pickle.globals),
            "error": entry.pickle.error,
            "streams": entry.pickle.streams,
        }
    if entry.error:
        data["error"] = entry.error
    if entry.host is not None:
        data["host"] = entry.host
    return data


def _text_match(match: TextMatch) -> dict[str, Any]:
    data: dict[str, Any] = {"license": match.key, "verdict": match.verdict}
    data["coverage"] = match.coverage
    if match.difference is not None:
        data["difference"] = match.difference
    if match.section is not None:
        data["section"] = match.section
    return data


def _read_text_match(raw: dict[str, Any]) -> TextMatch:
    verdict = raw["verdict"]
    if verdict not in ("match", "fragment", "similar"):
        raise ValueError(f"unknown license_match verdict {verdict!r}")
    return TextMatch(
        key=_text(raw, "license"),
        verdict=verdict,
        coverage=float(raw["coverage"]),
        difference=raw.get("difference"),
        section=raw.get("section"),
    )


def _gguf(header: GgufHeader) -> dict[str, Any]:
    return {
        "version": header.version,
        "tensors": header.tensor_count,
        "metadata_entries": header.metadata_count,
        "parameters": header.parameter_count,
        "alignment": header.alignment,
        "architecture": header.architecture,
        "name": header.name,
        "file_type": header.file_type,
        "quantization": header.quantization,
        "tensor_types": dict(header.tensor_types),
        "license": header.license,
        "license_name": header.license_name,
        "license_link": header.license_link,
        "base_models": [
            {
                "name": b.name,
                "organization": b.organization,
                "version": b.version,
                "repo_url": b.repo_url,
            }
            for b in header.base_models
        ],
        "source": dict(header.source),
        "quantized_by": header.quantized_by,
        "defects": [{"kind": d.kind, "message": d.message} for d in header.defects],
    }


def _ollama(model: OllamaModel) -> dict[str, Any]:
    config = model.config
    return {
        "host": model.host,
        "namespace": model.namespace,
        "model": model.model,
        "tag": model.tag,
        "manifest": model.manifest,
        "config": {
            "model_format": config.model_format,
            "model_family": config.model_family,
            "model_families": list(config.model_families),
            "model_type": config.model_type,
            "file_type": config.file_type,
        }
        if config is not None
        else None,
    }


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
    if component.model.model_type or component.model.architectures:
        data["model_type"] = component.model.model_type
        data["architectures"] = list(component.model.architectures)
    if component.model.refs:
        data["refs"] = list(component.model.refs)
    if component.model.ollama is not None:
        data["ollama"] = _ollama(component.model.ollama)
    if component.lineage:
        data["lineage"] = [_ancestor(a) for a in component.lineage]
    if component.training_data or (shows_training_data(component) and component.card):
        data["training_data"] = [dataset_document(d) for d in component.training_data]
        data["transparency"] = transparency(component)
    if component.model.origin is not None:
        data["origin"] = origin_document(component.model.origin)
    if component.model.gated:
        data["gated"] = component.model.gated
    if component.model.revision_pinned is not None:
        data["revision_pinned"] = component.model.revision_pinned
    if component.model.remote_code:
        data["remote_code"] = list(component.model.remote_code)
    if component.type == "library":
        data["direct"] = component.library.direct
        data["declared_only"] = component.library.declared_only
        data["depends_on"] = list(component.library.depends_on)
    if component.library.declared_in:
        data["declared_in"] = list(component.library.declared_in)
    if component.code_reference is not None:
        data["code_reference"] = dataclasses.asdict(component.code_reference)
        data["code_reference"]["declared_in"] = list(component.code_reference.declared_in)
    if component.hosts:
        data["hosts"] = [{"host": h.host, "location": h.location} for h in component.hosts]
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


_SERVICE_FIELDS = tuple(f.name for f in dataclasses.fields(Service))


def _service(service: Service) -> dict[str, Any]:
    """A service as the report writes it: its facts, `resolved` spelled out."""
    data = dataclasses.asdict(service)
    data["declared_in"] = list(service.declared_in)
    data["resolved"] = service.resolved
    return data


def _read_service(raw: dict[str, Any]) -> Service:
    values = {key: raw[key] for key in _SERVICE_FIELDS if key in raw}
    return Service(**{**values, "declared_in": _items(raw, "declared_in")})


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
        "services": [_service(s) for s in result.services],
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

    def render(
        self, result: ScanResult, kb: LicenseKnowledgeBase, *, display: Display = PLAIN
    ) -> str:
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
    return FileEntry(
        path=raw["path"],
        size=raw.get("size"),
        format=raw.get("format", "other"),
        sha256=raw.get("sha256"),
        verified=raw.get("verified"),
        from_cache=raw.get("from_cache", False),
        media_type=raw.get("media_type"),
        header=_read_header(raw),
        license_detected=_items(raw, "license_detected"),
        license_match=tuple(_read_text_match(m) for m in _items(raw, "license_match")),
        error=raw.get("error"),
        reference=raw.get("reference"),
        expected=raw.get("expected"),
        defects=_defects(raw.get("defects")),
        host=raw.get("host"),
    )


def _read_header(raw: dict[str, Any]) -> FileHeader:
    """A file's header facts, from the key its format writes them under."""
    header = raw.get("safetensors")
    if header is not None:
        return SafetensorsHeader(
            header_size=header["header_size"],
            tensor_count=header["tensors"],
            parameter_count=header["parameters"],
            dtypes=header.get("dtypes", {}),
            metadata=header.get("metadata", {}),
            defects=_defects(header.get("defects")),
        )
    gguf = raw.get("gguf")
    if gguf is not None:
        return GgufHeader(
            version=gguf["version"],
            tensor_count=gguf["tensors"],
            metadata_count=gguf["metadata_entries"],
            parameter_count=gguf["parameters"],
            alignment=gguf.get("alignment", 32),
            architecture=gguf.get("architecture"),
            name=gguf.get("name"),
            file_type=gguf.get("file_type"),
            quantization=gguf.get("quantization"),
            tensor_types=gguf.get("tensor_types", {}),
            license=gguf.get("license"),
            license_name=gguf.get("license_name"),
            license_link=gguf.get("license_link"),
            base_models=tuple(GgufBaseModel(**b) for b in _items(gguf, "base_models")),
            source=gguf.get("source", {}),
            quantized_by=gguf.get("quantized_by"),
            defects=_defects(gguf.get("defects")),
        )
    scan = raw.get("pickle")
    if scan is not None:
        return PickleScan(_items(scan, "globals"), scan.get("error"), scan.get("streams", 0))
    return None


def _read_ancestor(raw: dict[str, Any]) -> Ancestor:
    return Ancestor(
        name=raw["name"],
        chain=_items(raw, "chain"),
        found_in=raw["found_in"],
        relation=raw.get("relation"),
        revision=raw.get("revision"),
        licenses=_items(raw, "licenses"),
        evidence=raw.get("evidence", ""),
        problem=raw.get("problem"),
    )


def _read_component(raw: dict[str, Any]) -> Component:
    lic = raw.get("license") or {}
    return Component(
        ref=raw["ref"],
        type=raw["type"],
        name=raw["name"],
        source=raw["source"],
        location=raw["location"],
        version=raw.get("version"),
        purl=raw.get("purl"),
        license=LicenseFacts(
            declared=_items(lic, "declared"),
            detected=_items(lic, "detected"),
            effective=lic.get("effective"),
            category=lic.get("category", "unknown"),
            inherited=_items(lic, "inherited"),
            evidence=tuple(Evidence(e["source"], e["value"]) for e in lic.get("evidence", ())),
        ),
        base_models=_items(raw, "base_models"),
        datasets=_items(raw, "datasets"),
        files=tuple(_read_file(f) for f in raw.get("files", ())),
        lineage=tuple(_read_ancestor(a) for a in raw.get("lineage", ())),
        training_data=tuple(read_dataset(d) for d in _items(raw, "training_data")),
        notices=tuple(Notice(_text(n, "file"), _text(n, "text")) for n in _items(raw, "notices")),
        license_texts=tuple(
            LicenseText(_text(t, "file"), _text(t, "text"), _items(t, "licenses"))
            for t in _items(raw, "license_texts")
        ),
        details=_read_details(raw),
        hosts=tuple(HostLocation(h["host"], h["location"]) for h in _items(raw, "hosts")),
    )


def _read_details(raw: dict[str, Any]) -> ComponentDetails:
    """The facts of the component's kind: a model named in code, a package, a stored model."""
    reference = raw.get("code_reference")
    if reference:
        return CodeReference(**{**reference, "declared_in": _items(reference, "declared_in")})
    if raw["type"] == "library":
        return LibraryDetails(
            depends_on=_items(raw, "depends_on"),
            direct=raw.get("direct"),
            declared_only=bool(raw.get("declared_only", False)),
            declared_in=_items(raw, "declared_in"),
        )
    if raw["type"] not in ("model", "dataset"):
        return None
    card = raw.get("card")
    return ModelDetails(
        card=CardFacts(
            path=card["path"],
            license=_items(card, "license"),
            license_name=card.get("license_name"),
            license_link=card.get("license_link"),
            base_models=_items(raw, "base_models"),
            base_model_relation=card.get("base_model_relation"),
            datasets=_items(raw, "datasets"),
            pipeline_tag=card.get("pipeline_tag"),
            library_name=card.get("library_name"),
            tags=_items(card, "tags"),
            error=card.get("error"),
            mentions=tuple(
                CardMention(m["family"], m["license"], m["quote"]) for m in card.get("mentions", ())
            ),
            metrics=tuple(EvalMetric(**m) for m in card.get("metrics", ())),
        )
        if card is not None
        else None,
        refs=_items(raw, "refs"),
        ollama=_read_ollama(raw.get("ollama")),
        gated=raw.get("gated"),
        revision_pinned=raw.get("revision_pinned"),
        remote_code=_items(raw, "remote_code"),
        model_type=raw.get("model_type"),
        architectures=_items(raw, "architectures"),
        origin=read_origin(raw["origin"]) if raw.get("origin") is not None else None,
    )


def _read_ollama(raw: dict[str, Any] | None) -> OllamaModel | None:
    if raw is None:
        return None
    config = raw.get("config")
    return OllamaModel(
        host=raw["host"],
        namespace=raw["namespace"],
        model=raw["model"],
        tag=raw["tag"],
        manifest=raw["manifest"],
        config=OllamaConfig(
            model_format=config.get("model_format"),
            model_family=config.get("model_family"),
            model_families=_items(config, "model_families"),
            model_type=config.get("model_type"),
            file_type=config.get("file_type"),
        )
        if config is not None
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


def _items(raw: dict[str, Any], key: str) -> tuple[Any, ...]:
    """A list field as a tuple (absent or null: empty). Anything else is refused: `tuple()` would
    make a string its characters and an object its keys."""
    value = raw.get(key)
    if value is None:
        return ()
    if not isinstance(value, list):
        raise TypeError(f"{key!r} must be a list, not {type(value).__name__}")
    return tuple(value)


def _objects(document: dict[str, Any], key: str) -> tuple[dict[str, Any], ...]:
    """The report's required list of components or findings, each an object."""
    if key not in document:
        raise KeyError(key)
    items = _items(document, key)
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            raise TypeError(f"{key}[{index}] must be an object")
    return items


def _optional_objects(document: dict[str, Any], key: str) -> tuple[dict[str, Any], ...]:
    """A list of objects reports written before it was added lack (`services`)."""
    return _objects(document, key) if key in document else ()


@functools.cache
def _field_hints(cls: type) -> dict[str, Any]:
    hints = typing.get_type_hints(cls)
    return {f.name: hints[f.name] for f in dataclasses.fields(cls)}


@functools.cache
def _shape(hint: Any) -> tuple[Any, tuple[Any, ...]]:
    return typing.get_origin(hint), typing.get_args(hint)


def _wrong(hint: Any, where: str) -> TypeError:
    if typing.get_origin(hint) is Literal:
        expected = "one of " + ", ".join(str(a) for a in typing.get_args(hint))
    else:
        expected = getattr(hint, "__name__", None) or str(hint).replace("typing.", "")
    return TypeError(f"{where or 'the report'} must be {expected}")


def _check(value: Any, hint: Any, where: str) -> None:
    """Raise TypeError naming `where` unless `value` is of the type `hint` describes.

    A report is read into the typed facts every format renders, so a value of another type (a
    number for a name, an unknown component type) would otherwise surface as a traceback in
    whatever reads it next; the whole result is checked against the dataclass annotations
    once, here. The depth of the check is that of the types, not of the document.
    """
    if hint is str:
        if not isinstance(value, str):
            raise _wrong(hint, where)
        return
    origin, args = _shape(hint)
    if hint is Any:
        return
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return
        arms = [a for a in args if a is not type(None)]
        if len(arms) == 1:
            _check(value, arms[0], where)
            return
        for arm in arms:
            try:
                _check(value, arm, where)
            except TypeError:
                continue
            return
        raise _wrong(hint, where)
    if origin is Literal:
        if not isinstance(value, str) or value not in args:
            raise _wrong(hint, where)
    elif origin in (tuple, list):
        if not isinstance(value, origin):
            raise _wrong(hint, where)
        same = origin is list or (len(args) == 2 and args[1] is Ellipsis)
        if not same and len(value) != len(args):
            raise _wrong(hint, where)
        for index, item in enumerate(value):
            _check(item, args[0] if same else args[index], f"{where}[{index}]")
    elif origin in (dict, Mapping):
        if not isinstance(value, Mapping):
            raise _wrong(hint, where)
        for key, item in value.items():
            _check(key, args[0], f"{where} key")
            _check(item, args[1], f"{where}[{repr(key)[:40]}]")
    elif origin is not None:
        if not isinstance(value, origin):
            raise _wrong(hint, where)
    elif isinstance(hint, type) and dataclasses.is_dataclass(hint):
        if not isinstance(value, hint):
            raise _wrong(hint, where)
        for name, field_hint in _field_hints(hint).items():
            _check(getattr(value, name), field_hint, f"{where}.{name}" if where else name)
    elif hint is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise _wrong(hint, where)
    elif (isinstance(value, bool) and hint is not bool) or not isinstance(value, hint):
        raise _wrong(hint, where)  # JSON true is no number


_READ_ERRORS = (KeyError, TypeError, ValueError, AttributeError)
"""What reading a malformed report raises: a missing key, a value of the wrong type or form."""


def _read_error(exc: Exception) -> str:
    """What is wrong with a report, in words (a KeyError's own text is just the key)."""
    return f"{exc.args[0]!r} is missing" if isinstance(exc, KeyError) else str(exc)


def _is_report(document: Any) -> bool:
    return isinstance(document, dict) and document.get("schema") == SCHEMA


def _result(document: dict[str, Any]) -> ScanResult:
    result = ScanResult(
        tool_version=document["tool"]["version"],
        targets=_items(document, "targets"),
        components=tuple(_read_component(c) for c in _objects(document, "components")),
        findings=tuple(_read_finding(f) for f in _objects(document, "findings")),
        fail_on=document.get("fail_on", "error"),
        policy=document.get("policy"),
        rules_off=_items(document, "rules_off"),
        services=tuple(_read_service(s) for s in _optional_objects(document, "services")),
    )
    _check(result, ScanResult, "")
    return result


def parse_report(document: Any, where: str) -> ScanResult:
    """Turn an `aiscan-report/1` document back into the `ScanResult` it was rendered from.

    Exists so a saved report can be rendered again (`aiscan bom --from`) without rescanning.
    Reports written before `fail_on` was recorded are read with the default fail level.
    """
    if not _is_report(document):
        raise ReportReadError(f"{where} is not an aiscan report (schema must be {SCHEMA})")
    try:
        return _result(document)
    except _READ_ERRORS as exc:
        raise ReportReadError(f"{where}: malformed aiscan report: {_read_error(exc)}") from exc


def decode_report(document: Any) -> DecodedBom | None:
    """A saved report's facts in the terms BOMs are decoded to (for `aiscan diff`), or None when
    `document` is not a report. Raises `BomDecodeError` for a malformed one."""
    if not _is_report(document):
        return None
    try:
        result = _result(document)
    except _READ_ERRORS as exc:
        raise BomDecodeError(f"malformed aiscan report: {_read_error(exc)}") from exc
    return decoded_result(result)


def decoded_result(result: ScanResult) -> DecodedBom:
    """What a BOM of `result` would say, with licenses as knowledge-base keys.

    A finding about a ref the result does not list (a report edited by hand) is kept as one
    about no single component, so it is still compared.
    """
    findings: dict[str | None, list[DecodedFinding]] = {}
    refs = {c.ref for c in result.components} | {s.ref for s in result.services}
    for f in result.findings:
        subject = f.component if f.component in refs else None
        findings.setdefault(subject, []).append(
            DecodedFinding(f.rule, f.severity, f.counts, f.message)
        )
    return DecodedBom(
        components=tuple(
            DecodedComponent(
                kind=c.type,
                name=c.name,
                version=c.version,
                purl=c.purl,
                declared=c.license.declared,
                effective=c.license.effective,
                files=tuple(DecodedFile(f.path, f.sha256) for f in c.files),
                findings=tuple(findings.get(c.ref, ())),
            )
            for c in result.components
        )
        + tuple(
            DecodedComponent(
                kind="service",
                name=f"{s.provider}/{s.bom_name}",
                version=s.version,
                findings=tuple(findings.get(s.ref, ())),
            )
            for s in result.services
        ),
        findings=tuple(findings.get(None, ())),
        fail_on=result.fail_on,
    )


def read_report(path: Path) -> ScanResult:
    """Read an `aiscan-report/1` JSON file written by `aiscan scan --format json`."""
    return parse_report(load_json_file(path, "report", ReportReadError), str(path))
