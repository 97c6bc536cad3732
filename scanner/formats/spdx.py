"""SPDX 2.3 documents (JSON and tag-value), built with spdx-tools and checked by its validator.

Mapping:
- Every component is a package; a model's files are packages of purpose FILE that the model
  CONTAINS, each with its SHA-256 when measured (SPDX 2.3 File elements would require a SHA-1
  aiscan does not record), named `<model>/<path>` with the path as `packageFileName`. A model
  whose weights are one file has that file's SHA-256 as its own checksum.
- Suppliers are the Hub organisation of a Hub or HF-cache repo and the Author (else Maintainer)
  of a package's metadata; NOASSERTION where no fact names one. A package's Requires-Dist
  graph is DEPENDS_ON.
- Licenses: `licenseConcluded` is the effective license (inherited terms included),
  `licenseDeclared` what the author wrote, mapped to SPDX ids; a value nothing maps is
  NOASSERTION and kept verbatim in `licenseComments`. Every `LicenseRef-…` gets a
  hasExtractedLicensingInfos entry with its bundled text (or, for texts that may not be
  redistributed, where to read it).
- purls are PACKAGE-MANAGER external refs; a model is DESCENDANT_OF its base model (VARIANT_OF
  for `base_model_relation: quantized`), GENERATED_FROM the datasets its card names, and
  DEPENDS_ON the scanned library its card names (and on its base when it is an adapter).

`decode_spdx` reads an SPDX 2.3 JSON document back (aiscan's or another tool's) into the facts of
`scanner.formats.decoded`; `comment_findings` and `asserted` are shared with the SPDX 3 decoder.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
from typing import Any, Literal

from scanner.files import one_line
from scanner.formats import aibom
from scanner.formats.cyclonedx import BomValidationError
from scanner.formats.decoded import (
    DecodedBom,
    DecodedComponent,
    DecodedFile,
    DecodedFinding,
    JsonObject,
    sha256_digest,
)
from scanner.formats.interface import PLAIN, Display, ReportFormat
from scanner.inventory import Component, ScanResult, Service
from scanner.licensing.knowledge_base import LicenseKnowledgeBase

_ID_UNSAFE = re.compile(r"[^A-Za-z0-9.-]+")
_PURPOSE = {"model": "OTHER", "dataset": "OTHER", "library": "LIBRARY", "file": "FILE"}
_LICENSE_REF = re.compile(r"LicenseRef-[A-Za-z0-9.-]+")


class SpdxIds:
    """Stable SPDX element ids for aiscan refs (ids allow only letters, digits, `.` and `-`)."""

    def __init__(self) -> None:
        self._ids: dict[str, str] = {}
        self._taken: set[str] = set()

    def __call__(self, ref: str) -> str:
        if ref not in self._ids:
            candidate = "SPDXRef-" + _ID_UNSAFE.sub("-", ref).strip("-")
            if candidate in self._taken:
                candidate += "-" + hashlib.sha256(ref.encode()).hexdigest()[:8]
            self._ids[ref] = candidate
            self._taken.add(candidate)
        return self._ids[ref]


def _expression(text: str) -> Any:
    from spdx_tools.common.spdx_licensing import spdx_licensing

    return spdx_licensing.parse(text)


def _declared(component: Component, kb: LicenseKnowledgeBase) -> tuple[Any, list[str]]:
    """licenseDeclared (NOASSERTION unless every value maps) and the values that map to no
    SPDX identifier."""
    from spdx_tools.spdx.model import SpdxNoAssertion

    expression, unmapped = aibom.declared_expression(component, kb)
    return (SpdxNoAssertion() if expression is None else _expression(expression)), unmapped


def _package(
    component: Component, spdx_id: str, kb: LicenseKnowledgeBase, findings: list[str]
) -> Any:
    from spdx_tools.spdx.model import (
        Checksum,
        ChecksumAlgorithm,
        Package,
        PackagePurpose,
        SpdxNoAssertion,
    )

    declared, unmapped = _declared(component, kb)
    effective = component.license.effective
    weights = aibom.model_weights(component)
    comments = [f"aiscan ref {component.ref}; license category {component.license.category}"]
    if unmapped:
        comments.append("declared values not mapped to SPDX: " + "; ".join(unmapped))
    return Package(
        spdx_id=spdx_id,
        name=component.name,
        download_location=_download_location(aibom.download_location(component)),
        version=aibom.bom_version(component),
        supplier=_supplier(aibom.supplier(component)),
        checksums=[Checksum(ChecksumAlgorithm.SHA256, weights.sha256)]
        if weights is not None and weights.sha256
        else [],
        files_analyzed=False,
        license_concluded=_expression(aibom.spdx_expression(effective, kb))
        if effective
        else SpdxNoAssertion(),
        license_declared=declared,
        license_comment=". ".join(comments),
        copyright_text=SpdxNoAssertion(),
        external_references=_purl_ref(component.purl),
        primary_package_purpose=getattr(PackagePurpose, _PURPOSE[component.type]),
        comment="\n".join(findings) if findings else None,
        summary=f"{component.type} ({component.source}) at {component.location}",
    )


def service_facts(service: Service) -> str:
    """What SPDX, which has no services, says of one in a comment: provider, model, endpoint,
    where it is used (both SPDX writers)."""
    facts = [
        f"aiscan service {service.ref}",
        f"provider {service.provider}" + ("" if service.hosted else " (self-hosted server)"),
        f"model {service.model}"
        if service.model
        else f"model named at run time: {service.expression}"
        if service.expression
        else "",
        f"image {service.image}" if service.image else "",
        f"endpoint {service.endpoint}" if service.endpoint else "",
        f"used at {service.where} ({service.call})",
    ]
    return "; ".join(fact for fact in facts if fact)


def service_package(service: Service, spdx_id: str, findings: list[str]) -> Any:
    """An AI service as an SPDX 2.3 package of purpose OTHER, supplied by its provider, its
    facts and findings in the comment."""
    from spdx_tools.spdx.model import Package, PackagePurpose, SpdxNoAssertion

    return Package(
        spdx_id=spdx_id,
        name=service.bom_name,
        version=service.version,
        download_location=SpdxNoAssertion(),
        supplier=_supplier(service.provider),
        files_analyzed=False,
        license_concluded=SpdxNoAssertion(),
        license_declared=SpdxNoAssertion(),
        copyright_text=SpdxNoAssertion(),
        primary_package_purpose=PackagePurpose.OTHER,
        comment="\n".join([service_facts(service), *findings]),
        summary=f"service ({service.provider}) at {service.location}",
    )


def _download_location(url: str | None) -> Any:
    """Where the package is downloaded from (a Hub repo, see `aibom.hub_download_location`),
    or NOASSERTION when no fact says: a local folder or an installed package does not record
    where it came from."""
    from spdx_tools.spdx.model import SpdxNoAssertion

    return url if url else SpdxNoAssertion()


_SUB_PATH = re.compile(r"[A-Za-z0-9._-]+(/[A-Za-z0-9._-]+)*")
"""A file path that is a VCS sub-path as it stands; any other path (spaces, `#`, `@`) is
NOASSERTION rather than a location a consumer would split wrongly."""


def _file_download_location(component: Component, path: str) -> Any:
    """A file of a Hub model at a known commit: the repository's VCS location with the file as
    its sub-path (`git+https://huggingface.co/org/name@<commit>#<path>`, SPDX 2.3's VCS form)."""
    location = aibom.download_location(component)
    if location is None or not location.startswith("git+") or not _SUB_PATH.fullmatch(path):
        return _download_location(None)
    return f"{location}#{path}"


def _supplier(name: str | None) -> Any:
    """The package's supplier, or NOASSERTION when no fact names one (NTIA counts it missing)."""
    from spdx_tools.spdx.model import Actor, ActorType, SpdxNoAssertion

    return Actor(ActorType.ORGANIZATION, name) if name else SpdxNoAssertion()


def _purl_ref(purl: str | None) -> list[Any]:
    from spdx_tools.spdx.model import ExternalPackageRef, ExternalPackageRefCategory

    if not purl:
        return []
    return [ExternalPackageRef(ExternalPackageRefCategory.PACKAGE_MANAGER, "purl", purl)]


def _file_packages(component: Component, spdx_id: str, ids: SpdxIds) -> tuple[list, list]:
    from spdx_tools.spdx.model import (
        Checksum,
        ChecksumAlgorithm,
        Package,
        PackagePurpose,
        Relationship,
        RelationshipType,
    )

    packages, relationships = [], []
    for entry in component.files:
        file_id = ids(f"{component.ref}|file:{entry.path}")
        packages.append(
            Package(
                spdx_id=file_id,
                # Named per model so two models' config.json stay two packages in consumers
                # keyed by name and version (lib4sbom); packageFileName keeps the path.
                name=f"{component.name}/{entry.path}",
                file_name=entry.path,
                download_location=_file_download_location(component, entry.path),
                version=aibom.bom_version(component),
                supplier=_supplier(aibom.supplier(component)),
                files_analyzed=False,
                checksums=[Checksum(ChecksumAlgorithm.SHA256, entry.sha256)]
                if entry.sha256
                else [],
                primary_package_purpose=PackagePurpose.FILE,
                comment=f"format {entry.format}, {entry.size} bytes"
                if entry.size is not None
                else f"format {entry.format}",
            )
        )
        relationships.append(Relationship(spdx_id, RelationshipType.CONTAINS, file_id))
    return packages, relationships


def _extracted_licenses(packages: list[Any], kb: LicenseKnowledgeBase) -> list[Any]:
    from spdx_tools.spdx.model import ExtractedLicensingInfo

    used: set[str] = set()
    for package in packages:
        for value in (package.license_concluded, package.license_declared):
            used.update(_LICENSE_REF.findall(str(value)))
    by_ref = {entry.spdx_ref: entry for entry in kb.entries.values()}
    infos = []
    for ref in sorted(used):
        entry = by_ref.get(ref)
        if entry is None:
            # A family ref of package metadata ("BSD License" with no version): no text exists.
            infos.append(
                ExtractedLicensingInfo(
                    license_id=ref,
                    extracted_text="The package metadata names this license family without "
                    "saying which license of it; there is no single text.",
                    license_name=ref.removeprefix("LicenseRef-aiscan-"),
                )
            )
            continue
        text = entry.text or (
            f"The text of {entry.name} is not redistributed with aiscan; "
            f"read it at {entry.text_source or entry.url}."
        )
        infos.append(
            ExtractedLicensingInfo(
                license_id=ref,
                extracted_text=text,
                license_name=entry.name,
                cross_references=[entry.url] if entry.url else [],
            )
        )
    return infos


def _base_model(ancestor: aibom.Ancestor, spdx_id: str, kb: LicenseKnowledgeBase) -> Any:
    """A base model lineage resolution found outside the scan, with what it knows of it."""
    from spdx_tools.spdx.model import Package, SpdxNoAssertion

    expression = ancestor.license_expression
    return Package(
        spdx_id=spdx_id,
        name=ancestor.name,
        download_location=_download_location(
            aibom.hub_download_location(ancestor.name, "model", ancestor.version)
            if ancestor.purl
            else None
        ),
        version=ancestor.version,
        supplier=_supplier(aibom.hub_namespace(ancestor.name) if ancestor.purl else None),
        files_analyzed=False,
        license_concluded=_expression(aibom.spdx_expression(expression, kb))
        if expression
        else SpdxNoAssertion(),
        external_references=_purl_ref(ancestor.purl),
        comment=f"{NAMED_ONLY_COMMENT} (a base model; its license found in: "
        f"{ancestor.found_in or 'the scan'})",
    )


def _named_dataset(name: str, spdx_id: str) -> Any:
    """A dataset a model card names that the scan did not find."""
    from spdx_tools.spdx.model import Package

    return Package(
        spdx_id=spdx_id,
        name=name,
        download_location=_download_location(aibom.hub_download_location(name, "dataset", None)),
        supplier=_supplier(aibom.hub_namespace(name)),
        files_analyzed=False,
        comment="named by a model card; not found by the scan",
    )


def build_document(result: ScanResult, kb: LicenseKnowledgeBase) -> Any:
    """The scan as an spdx-tools `Document`."""
    from spdx_tools.spdx.model import (
        Actor,
        ActorType,
        CreationInfo,
        Document,
        Relationship,
        RelationshipType,
    )

    ids = SpdxIds()
    findings: dict[str | None, list[str]] = {}
    for f in result.findings:
        waived = f" (waived: {f.waived.reason})" if f.waived else ""
        findings.setdefault(f.component, []).append(
            f"aiscan finding {f.rule} [{f.severity}]: {f.message}{waived}"
        )
    packages, relationships = [], []
    components = aibom.ordered(result.components)
    for component in components:
        spdx_id = ids(component.ref)
        packages.append(_package(component, spdx_id, kb, findings.get(component.ref, [])))
        relationships.append(Relationship("SPDXRef-DOCUMENT", RelationshipType.DESCRIBES, spdx_id))
        files, contains = _file_packages(component, spdx_id, ids)
        packages += files
        relationships += contains
    for service in result.services:
        spdx_id = ids(service.ref)
        packages.append(service_package(service, spdx_id, findings.get(service.ref, [])))
        relationships.append(Relationship("SPDXRef-DOCUMENT", RelationshipType.DESCRIBES, spdx_id))
    named: dict[str, Any] = {}
    for component in components:
        spdx_id = ids(component.ref)
        for ancestor in aibom.lineage(component, result.components):
            if ancestor.depth != 1:
                continue
            if ancestor.component is not None:
                base_id = ids(ancestor.component.ref)
            else:
                base_id = ids(f"model:named/{ancestor.name}")
                named.setdefault(base_id, _base_model(ancestor, base_id, kb))
            kind = (
                RelationshipType.VARIANT_OF
                if ancestor.relation == "quantized"
                else RelationshipType.DESCENDANT_OF
            )
            relationships.append(
                Relationship(spdx_id, kind, base_id, comment=ancestor.relation or None)
            )
            if aibom.adapter_dependencies(component):
                relationships.append(Relationship(spdx_id, RelationshipType.DEPENDS_ON, base_id))
        for dataset in sorted(set(component.datasets)):
            data_id = ids(aibom.dataset_ref(dataset, result))
            named.setdefault(data_id, _named_dataset(dataset, data_id))
            relationships.append(Relationship(spdx_id, RelationshipType.GENERATED_FROM, data_id))
    kinds = {c.ref: c.type for c in components}
    for ref, needs in aibom.dependencies(result).items():
        for need in needs:
            # Datasets are GENERATED_FROM and an adapter's base DEPENDS_ON above.
            if kinds.get(need) in ("library", "file"):
                relationships.append(Relationship(ids(ref), RelationshipType.DEPENDS_ON, ids(need)))
    scanned_ids = {ids(c.ref) for c in components}
    packages += [
        package for spdx_id, package in sorted(named.items()) if spdx_id not in scanned_ids
    ]
    document_id = aibom.document_id(result)
    creation = CreationInfo(
        spdx_version="SPDX-2.3",
        spdx_id="SPDXRef-DOCUMENT",
        name="aiscan AI-BOM",
        document_namespace=f"{aibom.NAMESPACE}/aiscan-{document_id}",
        creators=[Actor(ActorType.TOOL, f"aiscan-{result.tool_version}")],
        created=aibom.document_time(),
        document_comment="\n".join(findings.get(None, [])) or None,
    )
    return Document(
        creation_info=creation,
        packages=packages,
        relationships=relationships,
        extracted_licensing_info=_extracted_licenses(packages, kb),
    )


def render_spdx(
    result: ScanResult, kb: LicenseKnowledgeBase, *, output: Literal["json", "tag-value"]
) -> str:
    """The validated SPDX 2.3 document; raises `BomValidationError` if the validator rejects it."""
    from spdx_tools.spdx.validation.document_validator import validate_full_spdx_document

    document = build_document(result, kb)
    messages = validate_full_spdx_document(document)
    if messages:
        details = "; ".join(m.validation_message for m in messages[:5])
        raise BomValidationError(
            f"generated SPDX 2.3 document does not validate (a bug in aiscan, please report "
            f"it): {details}"
        )
    if output == "json":
        from spdx_tools.spdx.jsonschema.document_converter import DocumentConverter

        data = DocumentConverter().convert(document)
        for package in data.get("packages", []):
            for reference in package.get("externalRefs", []):
                # spdx-tools writes PACKAGE_MANAGER; the SPDX 2.3 spec spells it PACKAGE-MANAGER
                # (the JSON schema accepts both).
                reference["referenceCategory"] = reference["referenceCategory"].replace("_", "-")
        return json.dumps(data, indent=2, ensure_ascii=False) + "\n"
    for package in document.packages:
        # Tag-value is line-based: a newline in a name or version (a hostile card's base_model,
        # a folder or lock-file entry) would start a forged field of its own.
        package.name = one_line(package.name)
        if isinstance(package.version, str):
            package.version = one_line(package.version)
    stream = io.StringIO()
    from spdx_tools.spdx.writer.tagvalue.tagvalue_writer import write_document_to_stream

    write_document_to_stream(document, stream, validate=False)
    return stream.getvalue()


class SpdxJsonFormat(ReportFormat):
    """SPDX 2.3 as JSON."""

    name = "spdx-json"
    output: Literal["json", "tag-value"] = "json"

    def render(
        self, result: ScanResult, kb: LicenseKnowledgeBase, *, display: Display = PLAIN
    ) -> str:
        return render_spdx(result, kb, output=self.output)


class SpdxTagValueFormat(SpdxJsonFormat):
    """SPDX 2.3 as tag-value."""

    name = "spdx-tv"
    output = "tag-value"


# --- decoding ---------------------------------------------------------------------------------

_FINDING_LINE = re.compile(r"aiscan finding (\S+) \[(\w+)\]: ")
"""How both SPDX writers record a finding in an element's comment, one per line."""
_KINDS = {"LIBRARY": "library", "FRAMEWORK": "library", "FILE": "file"}
_TARGET_KINDS = {"GENERATED_FROM": "dataset", "DESCENDANT_OF": "model", "VARIANT_OF": "model"}
"""What a model's relationship says its target is (a training dataset, a base model)."""


NAMED_ONLY_COMMENT = "named by a model card; not found by the scan"
"""How both SPDX writers mark a base model or dataset that is only named (see `named_only`)."""


def comment_findings(comment: str | None) -> tuple[DecodedFinding, ...]:
    """The findings an SPDX writer put in a comment (`build_document` here, and in spdx3)."""
    found = []
    for line in (comment or "").splitlines():
        match = _FINDING_LINE.match(line)
        if match:
            message = line[match.end() :]
            waived = " (waived: " in message
            found.append(
                DecodedFinding(match[1], match[2], not waived, message.split(" (waived: ")[0])
            )
    return tuple(found)


def named_only(comment: str | None) -> bool:
    """Whether an element's comment says it is only named by a card (`NAMED_ONLY_COMMENT`)."""
    return (comment or "").startswith(NAMED_ONLY_COMMENT)


def asserted(expression: str | None) -> str | None:
    """A license expression as written, or None for NOASSERTION and NONE, which SPDX uses for
    "no license stated" and aiscan reads as no license at all."""
    if not expression or expression.strip() in ("NOASSERTION", "NONE"):
        return None
    return expression.strip()


def _summary_kind(summary: str | None) -> str | None:
    """The component type aiscan's SPDX writers put first in a summary (`model (hub) at …`),
    or `service` for an AI service (`service (openai) at …`)."""
    kind = (summary or "").split(" (", 1)[0]
    return kind if kind in ("model", "dataset", "library", "file", "service") else None


_SERVICE_SUMMARY = re.compile(r"^service \(([^)]*)\) at ")


def decoded_name(summary: str | None, name: str) -> str:
    """A package's name as decoded: an AI service's is `provider/name`, the provider taken
    from the summary both SPDX writers give it, so it is keyed as in reports and CycloneDX."""
    match = _SERVICE_SUMMARY.match(summary or "")
    return f"{match[1]}/{name}" if match else name


def _purl(package: JsonObject) -> str | None:
    for reference in package.objects("externalRefs"):
        if reference.string("referenceType") == "purl":
            return reference.required("referenceLocator")
    return None


def _kind(package: JsonObject) -> str | None:
    purl = _purl(package)
    if purl and purl.startswith("pkg:huggingface/"):
        return "model"
    return _summary_kind(package.string("summary")) or _KINDS.get(
        package.string("primaryPackagePurpose") or ""
    )


def decode_spdx(document: Any) -> DecodedBom | None:
    """The facts of an SPDX 2.3 JSON document, or None when `document` is not one.

    Packages are components, except the files a package CONTAINS (File elements, or packages of
    purpose FILE as aiscan writes them, SPDX 2.3 Files requiring a SHA-1): those are its files.
    A package's kind comes from its purl, aiscan's summary or its purpose, and for the target of
    a model's GENERATED_FROM / DESCENDANT_OF / VARIANT_OF from that relationship. Licenses are
    SPDX expressions; findings are read from aiscan's comment lines. Raises `BomDecodeError` for
    a field of the wrong type.
    """
    if not isinstance(document, dict) or document.get("spdxVersion") != "SPDX-2.3":
        return None
    doc = JsonObject(document, "", "SPDX 2.3 document")
    packages = {p.required("SPDXID"): p for p in doc.objects("packages")}
    files = {f.required("SPDXID"): f for f in doc.objects("files")}
    links = [
        (
            r.required("spdxElementId"),
            r.required("relationshipType"),
            r.required("relatedSpdxElement"),
        )
        for r in doc.objects("relationships")
    ]
    contains = [(a, b) for a, kind, b in links if kind == "CONTAINS"]
    contains += [(b, a) for a, kind, b in links if kind == "CONTAINED_BY"]
    contains += [(spdx_id, f) for spdx_id, p in packages.items() for f in p.strings("hasFiles")]
    contained = {
        b
        for _, b in contains
        if b in files or (b in packages and packages[b].string("primaryPackagePurpose") == "FILE")
    }
    kinds = {spdx_id: _kind(p) for spdx_id, p in packages.items()}
    for source, relation, target in links:
        if kinds.get(source) == "model" and relation in _TARGET_KINDS and target in kinds:
            kinds[target] = kinds[target] or _TARGET_KINDS[relation]
    held: dict[str, list[DecodedFile]] = {i: [] for i in packages if i not in contained}
    for parent, child in contains:
        element = files.get(child) or packages.get(child)
        if parent in held and child in contained and element is not None:
            name = (
                element.string("fileName")
                or element.string("packageFileName")
                or element.required("name")
            )
            held[parent].append(DecodedFile(name.removeprefix("./"), _checksum(element)))
    components = []
    for spdx_id, package_files in held.items():
        package = packages[spdx_id]
        declared = asserted(package.string("licenseDeclared"))
        own = _checksum(package)
        if any(f.sha256 == own for f in package_files):
            own = None  # the model's checksum is its single weights file's (`aibom.model_weights`)
        components.append(
            DecodedComponent(
                kind=kinds[spdx_id] or "package",
                name=decoded_name(package.string("summary"), package.required("name")),
                version=package.string("versionInfo"),
                purl=_purl(package),
                declared=(declared,) if declared else (),
                effective=asserted(package.string("licenseConcluded")),
                sha256=own,
                files=tuple(package_files),
                findings=comment_findings(package.string("comment")),
                named_only=named_only(package.string("comment")),
            )
        )
    return DecodedBom(
        tuple(components), comment_findings(doc.string("comment")), license_notation="spdx"
    )


def _checksum(element: JsonObject) -> str | None:
    return sha256_digest(element.objects("checksums"), "algorithm", "checksumValue")
