"""Reads what `aiscan diff` compares out of a report or BOM: one `Snapshot` per document.

Accepted: aiscan JSON reports, CycloneDX JSON, SPDX 2.3 JSON and SPDX 3.0.1 JSON-LD (its
`@graph` read as plain JSON). Every reader keys a component as `kind:name`, taking the name from
the purl when there is one (without version), so the same component matches across versions,
across formats and across tools that spell the display name differently. Document ids (SPDXID,
spdxId, bom-ref) are never keys: they embed commits and random document namespaces.

Reports and CycloneDX BOMs carry licenses as knowledge-base keys (`apache-2.0`), SPDX documents
as SPDX expressions (`Apache-2.0`); `in_spdx_terms` rewrites the former the way the SPDX writers
do, so a mixed comparison does not report a notation as a license change.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import unquote

from scanner.licensing.knowledge_base import LicenseKnowledgeBase


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
    spdx_licenses: bool = False
    """Licenses are SPDX expressions (SPDX inputs), not knowledge-base keys."""


def component_key(kind: str, name: str, purl: str | None = None) -> str:
    """`kind:name`, the name being the purl's namespace/name when a purl is given."""
    if purl and purl.startswith("pkg:"):
        path = purl.split("#", 1)[0].split("?", 1)[0].removeprefix("pkg:").strip("/")
        _, _, path = path.partition("/")  # the purl type
        head, _, last = path.rpartition("/")
        last = last.split("@", 1)[0]
        name = unquote(f"{head}/{last}" if head else last) or name
    return f"{kind}:{name}"


def read_snapshot(document: Any) -> Snapshot | None:
    """The snapshot of a document of a kind diff knows, else None."""
    if not isinstance(document, dict):
        return None
    if document.get("schema") == "aiscan-report/1":
        return _from_report(document)
    if document.get("bomFormat") == "CycloneDX":
        return _from_cyclonedx(document)
    if document.get("spdxVersion") == "SPDX-2.3":
        return _from_spdx2(document)
    context = document.get("@context")
    contexts = context if isinstance(context, list) else [context]
    if any(isinstance(c, str) and "spdx.org/rdf/3.0.1" in c for c in contexts):
        return _from_spdx3(document)
    return None


def _from_report(document: dict[str, Any]) -> Snapshot:
    names = {}
    components = {}
    for c in document["components"]:
        key = component_key(c["type"], c["name"], c.get("purl"))
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
        kind = _CDX_TYPES.get(c.get("type"), c.get("type", ""))
        key = component_key(kind, c["name"], c.get("purl"))
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


_FINDING_LINE = re.compile(r"aiscan finding (\S+) \[(\w+)\]: ")
"""How both SPDX writers record a finding in an element's comment, one per line."""


def _comment_findings(comment: str | None, key: str) -> Iterator[tuple[tuple[str, str], str]]:
    for line in (comment or "").splitlines():
        match = _FINDING_LINE.match(line)
        if match and "(waived: " not in line:
            yield (match[1], key), match[2]


def _spdx_text(expression: str | None) -> str | None:
    """An SPDX expression in one spelling (NOASSERTION and NONE are no license at all), so
    documents written by different tools compare equal when they mean the same."""
    if not expression or expression.strip() in ("NOASSERTION", "NONE"):
        return None
    from license_expression import ExpressionError, Licensing

    try:
        return str(Licensing().parse(expression, validate=False))
    except ExpressionError:
        return expression.strip()


_SPDX2_KINDS = {"LIBRARY": "library", "FRAMEWORK": "library", "FILE": "file"}
_SPDX2_TARGET_KINDS = {"GENERATED_FROM": "dataset", "DESCENDANT_OF": "model", "VARIANT_OF": "model"}
"""What a model's relationship says its target is (a training dataset, a base model)."""


def _summary_kind(summary: str | None) -> str | None:
    """The component type aiscan's SPDX writers put first in a summary (`model (hub) at …`)."""
    kind = (summary or "").split(" (", 1)[0]
    return kind if kind in ("model", "dataset", "library", "file") else None


def _from_spdx2(document: dict[str, Any]) -> Snapshot:
    """Packages are components, except files a package CONTAINS (File elements, or packages of
    purpose FILE as aiscan writes them, SPDX 2.3 Files requiring a SHA-1): those are its hashes."""
    packages = {p["SPDXID"]: p for p in document.get("packages", [])}
    files = {f["SPDXID"]: f for f in document.get("files", [])}
    links = [
        (r["spdxElementId"], r["relationshipType"], r["relatedSpdxElement"])
        for r in document.get("relationships", [])
    ]
    contains = [(a, b) for a, kind, b in links if kind == "CONTAINS"]
    contains += [(b, a) for a, kind, b in links if kind == "CONTAINED_BY"]
    contains += [(p["SPDXID"], f) for p in packages.values() for f in p.get("hasFiles", [])]
    contained = {
        b
        for _, b in contains
        if b in files or packages.get(b, {}).get("primaryPackagePurpose") == "FILE"
    }

    def kind_of(package: dict[str, Any]) -> str | None:
        purl = _spdx2_purl(package)
        if purl and purl.startswith("pkg:huggingface/"):
            return "model"
        return _summary_kind(package.get("summary")) or _SPDX2_KINDS.get(
            package.get("primaryPackagePurpose", "")
        )

    kinds = {spdx_id: kind_of(p) for spdx_id, p in packages.items()}
    for source, relation, target in links:
        if kinds.get(source) == "model" and relation in _SPDX2_TARGET_KINDS:
            kinds[target] = kinds.get(target) or _SPDX2_TARGET_KINDS[relation]
    keys = {
        spdx_id: component_key(kinds[spdx_id] or "package", p["name"], _spdx2_purl(p))
        for spdx_id, p in packages.items()
        if spdx_id not in contained
    }
    hashes: dict[str, dict[str, str]] = {key: {} for key in keys.values()}
    for parent, child in contains:
        element = files.get(child) or packages.get(child)
        if parent in keys and child in contained and element is not None:
            digest = _sha256(element.get("checksums", []), "algorithm", "checksumValue")
            if digest:
                name = element.get("fileName") or element["name"]
                hashes[keys[parent]][name.removeprefix("./")] = digest
    components, findings = {}, {}
    for spdx_id, key in keys.items():
        package = packages[spdx_id]
        declared = _spdx_text(package.get("licenseDeclared"))
        components[key] = ComponentState(
            package.get("versionInfo"),
            (declared,) if declared else (),
            _spdx_text(package.get("licenseConcluded")),
            hashes[key],
        )
        findings.update(_comment_findings(package.get("comment"), key))
    return Snapshot(components, findings, spdx_licenses=True)


def _spdx2_purl(package: dict[str, Any]) -> str | None:
    return next(
        (
            ref["referenceLocator"]
            for ref in package.get("externalRefs", [])
            if ref.get("referenceType") == "purl"
        ),
        None,
    )


def _sha256(entries: Iterable[dict[str, Any]], algorithm: str, value: str) -> str | None:
    return next(
        (e[value] for e in entries if e.get(algorithm, "").replace("-", "").upper() == "SHA256"),
        None,
    )


_SPDX3_COMPONENTS = {"ai_AIPackage", "dataset_DatasetPackage", "software_Package", "software_File"}
_SPDX3_KINDS = {"ai_AIPackage": "model", "dataset_DatasetPackage": "dataset"}
_SPDX3_PURPOSES = {"model": "model", "data": "dataset", "library": "library", "file": "file"}
_LISTED_LICENSE = "https://spdx.org/licenses/"


def _from_spdx3(document: dict[str, Any]) -> Snapshot:
    """Package elements are components and the `software_File`s they contain their hashes;
    licenses are the expressions their license relationships point at."""
    elements = {e.get("spdxId", e.get("@id")): e for e in document.get("@graph", [])}
    links: dict[str, dict[str, list[str]]] = {}
    for e in elements.values():
        if e.get("type") == "Relationship":
            targets = links.setdefault(e["from"], {}).setdefault(e["relationshipType"], [])
            targets.extend(e.get("to", []))
    contained = {
        t
        for by_kind in links.values()
        for t in by_kind.get("contains", [])
        if elements.get(t, {}).get("type") == "software_File"
    }

    def licenses(spdx_id: str, relation: str) -> list[str]:
        found = []
        for target in links.get(spdx_id, {}).get(relation, []):
            expression = elements.get(target, {}).get("simplelicensing_licenseExpression")
            if expression is None and target.startswith(_LISTED_LICENSE):
                expression = target.removeprefix(_LISTED_LICENSE)
            text = _spdx_text(expression)
            if text:
                found.append(text)
        return found

    components, findings = {}, {}
    for spdx_id, e in elements.items():
        if e.get("type") not in _SPDX3_COMPONENTS or spdx_id in contained:
            continue
        kind = (
            _SPDX3_KINDS.get(e["type"])
            or _SPDX3_PURPOSES.get(e.get("software_primaryPurpose", ""))
            or ("file" if e["type"] == "software_File" else "package")
        )
        key = component_key(kind, e["name"], e.get("software_packageUrl"))
        concluded = licenses(spdx_id, "hasConcludedLicense")
        hashes = {}
        for target in links.get(spdx_id, {}).get("contains", []):
            if target in contained:
                digest = _sha256(
                    elements[target].get("verifiedUsing", []), "algorithm", "hashValue"
                )
                if digest:
                    hashes[elements[target]["name"]] = digest
        components[key] = ComponentState(
            e.get("software_packageVersion"),
            tuple(licenses(spdx_id, "hasDeclaredLicense")),
            " AND ".join(concluded) or None,
            hashes,
        )
        findings.update(_comment_findings(e.get("comment"), key))
    return Snapshot(components, findings, spdx_licenses=True)


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
