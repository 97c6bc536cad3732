"""SPDX 3.0.1 JSON-LD documents, built with spdx-python-model.

The bindings type every property and refuse to serialize an element that lacks a required one,
so a document they write is well-formed SPDX 3; a refusal is a bug in aiscan (exit 3).

Mapping (the SPDX 2.3 writer's decisions, in SPDX 3 terms):
- A model is an `ai_AIPackage`, a dataset a `dataset_DatasetPackage`, a library (or a loose
  file component) a `software_Package`, each with its purl and version. Every file of a
  component is a `software_File` the component `contains`, verified by its SHA-256 when measured.
- Declared conformance is core, software and simpleLicensing (and expandedLicensing when a
  custom license or NoAssertionLicense is used): the AI and Dataset profiles require a release
  time (and a dataset's build time and originator) that no scanned file states, so they are not
  declared, although their classes are used and every other rule of theirs is met where the
  facts exist: exactly one concluded and one declared license on every model and dataset
  (NoAssertionLicense where no fact gives one), and for a Hub model or dataset its supplier
  (`suppliedBy`, the Hub organisation), version (the commit) and `software_downloadLocation`
  (its Hub git repository at that commit). A package's `suppliedBy` is its author where the
  metadata says, and a package's Requires-Dist graph is `dependsOn`.
- AI and Dataset profile fields come from facts only: `ai_informationAboutApplication` from the
  card's `pipeline_tag` and `library_name`, `ai_informationAboutTraining` from its
  `base_model_relation` (finetune, adapter) and `datasets`. aiscan does not know a model's type
  or domain, or a dataset's modality, so `ai_typeOfModel` and `ai_domain` stay empty and the
  required `dataset_datasetType` is `noAssertion`.
- Licenses: `hasConcludedLicense` points at the effective license, `hasDeclaredLicense` at what
  the author wrote when every value maps to SPDX, both as `simplelicensing_LicenseExpression`.
  SPDX 3 reads a missing license relationship as no assertion; unmapped values are kept
  verbatim in the element's comment. Every `LicenseRef-…` is an `expandedlicensing_CustomLicense`
  (bundled text, or where to read a text that may not be redistributed), linked from the
  expression through `simplelicensing_customIdToUri`.
- Lineage: a model is a `descendantOf` its base; for `base_model_relation: quantized` the base
  `hasVariant` the model instead (SPDX 3 has no variantOf). An adapter also `dependsOn` its base,
  a model `trainedOn` the datasets its card names and `dependsOn` the scanned library it names.

`decode_spdx3` reads an SPDX 3.0.1 JSON-LD document back (aiscan's or another tool's) into the
facts of `scanner.formats.decoded`.
"""

from __future__ import annotations

import hashlib
import json
import re
from types import ModuleType
from typing import Any

from scanner.formats import aibom
from scanner.formats.cyclonedx import BomValidationError
from scanner.formats.decoded import (
    DecodedBom,
    DecodedComponent,
    DecodedFile,
    JsonObject,
    sha256_digest,
)
from scanner.formats.interface import PLAIN, Display, ReportFormat
from scanner.formats.spdx import (
    SpdxIds,
    asserted,
    comment_findings,
    decoded_name,
    named_only,
    service_facts,
)
from scanner.inventory import Component, DatasetOrigin, ScanResult, Service, TrainingDataset
from scanner.licensing.knowledge_base import LicenseKnowledgeBase

SPEC_VERSION = "3.0.1"
_PURPOSE = {"model": "model", "dataset": "data", "library": "library", "file": "file"}
_LICENSE_REF = re.compile(r"LicenseRef-[A-Za-z0-9.-]+")
_TRAINING_RELATIONS = {"finetune": "fine-tuned from", "adapter": "adapter trained on"}
NO_ASSERTION_LICENSE = "https://spdx.org/rdf/3.0.1/terms/ExpandedLicensing/NoAssertionLicense"
"""SPDX 3's NOASSERTION for a license relationship (an ExpandedLicensing individual)."""


def _bindings() -> ModuleType:
    from spdx_python_model import v3_0_1

    return v3_0_1


class _Document:
    """The elements of one document, keyed by spdxId (IRIs under the document's namespace)."""

    def __init__(self, result: ScanResult, kb: LicenseKnowledgeBase) -> None:
        self.m = _bindings()
        self.kb = kb
        self.namespace = f"{aibom.NAMESPACE}/aiscan-{aibom.document_id(result)}"
        self.creation = self.m.CreationInfo(specVersion=SPEC_VERSION, created=aibom.document_time())
        self.elements: dict[str, Any] = {}
        self._local = SpdxIds()
        self._links: dict[tuple[str, str, str | None], list[str]] = {}

    def organization(self, name: str) -> Any:
        """The Organization element for a supplier (one per name)."""
        return self.add(self.m.Organization, self.iri(f"supplier:{name}"), name=name)

    def iri(self, ref: str) -> str:
        return f"{self.namespace}#{self._local(ref)}"

    def add(self, cls: type, spdx_id: str, **properties: Any) -> Any:
        """The element with this id, created once (later calls return the first)."""
        if spdx_id not in self.elements:
            given = {k: v for k, v in properties.items() if v not in (None, [], "")}
            self.elements[spdx_id] = cls(_id=spdx_id, creationInfo=self.creation, **given)
        return self.elements[spdx_id]

    def link(self, source: str, kind: str, target: str, comment: str | None = None) -> None:
        """Record `source kind target`; links sharing source, kind and comment become one
        Relationship with several `to`, as SPDX 3 intends."""
        targets = self._links.setdefault((source, kind, comment), [])
        if target not in targets:
            targets.append(target)

    def links_to(self, target: str) -> bool:
        """Whether any recorded link points at `target`."""
        return any(target in targets for targets in self._links.values())

    def relationships(self) -> None:
        """Turn the recorded links into Relationship elements (once, after the last link)."""
        for (source, kind, comment), targets in self._links.items():
            key = f"{source}|{kind}|{comment}"
            spdx_id = f"{self.namespace}#SPDXRef-Relationship-{_digest(key)}"
            self.add(
                self.m.Relationship,
                spdx_id,
                from_=self.elements[source],
                relationshipType=getattr(self.m.RelationshipType, kind),
                # A target that is no element of the document is an SPDX individual
                # (NoAssertionLicense), written as its IRI.
                to=[self.elements.get(t, t) for t in targets],
                comment=comment,
            )

    def license(self, expression: str) -> str:
        """The id of the LicenseExpression element for an SPDX expression (one per expression)."""
        spdx_id = self.iri(f"license:{expression}")
        if spdx_id in self.elements:
            return spdx_id
        mapping = []
        for ref in sorted(set(_LICENSE_REF.findall(expression))):
            custom = self._custom_license(ref)
            if custom is not None:
                mapping.append(self.m.DictionaryEntry(key=ref, value=custom))
        self.add(
            self.m.simplelicensing_LicenseExpression,
            spdx_id,
            simplelicensing_licenseExpression=expression,
            simplelicensing_customIdToUri=mapping,
        )
        return spdx_id

    def _custom_license(self, ref: str) -> str | None:
        """The id of the CustomLicense for a `LicenseRef-…` the knowledge base knows."""
        entry = next((e for e in self.kb.entries.values() if e.spdx_ref == ref), None)
        if entry is None:
            return None
        text = entry.text or (
            f"The text of {entry.name} is not redistributed with aiscan; "
            f"read it at {entry.text_source or entry.url}."
        )
        spdx_id = f"{self.namespace}#{ref}"
        self.add(
            self.m.expandedlicensing_CustomLicense,
            spdx_id,
            name=entry.name,
            simplelicensing_licenseText=text,
            expandedlicensing_seeAlso=[entry.url] if entry.url else [],
        )
        return spdx_id


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def _ai_properties(component: Component) -> dict[str, Any]:
    """AI-profile fields the model card states; nothing else."""
    card = component.card
    if card is None:
        return {}
    application = []
    if card.pipeline_tag:
        application.append(f"task (model card pipeline_tag): {card.pipeline_tag}")
    if card.library_name:
        application.append(f"runs with (model card library_name): {card.library_name}")
    training = []
    if card.base_model_relation in _TRAINING_RELATIONS and card.base_models:
        verb = _TRAINING_RELATIONS[card.base_model_relation]
        training.append(f"{verb} {', '.join(card.base_models)} (model card base_model)")
    if card.datasets:
        training.append(f"datasets (model card): {', '.join(card.datasets)}")
    return {
        "ai_informationAboutApplication": "; ".join(application) or None,
        "ai_informationAboutTraining": "; ".join(training) or None,
    }


def _element_class(m: ModuleType, component_type: str) -> tuple[type, dict[str, Any]]:
    """The SPDX 3 class for a component type, with its purpose and what the class requires
    (a dataset's type, unknown to aiscan, is `noAssertion`)."""
    purpose = {
        "software_primaryPurpose": getattr(m.software_SoftwarePurpose, _PURPOSE[component_type])
    }
    if component_type == "model":
        return m.ai_AIPackage, purpose
    if component_type == "dataset":
        datatype = [m.dataset_DatasetType.noAssertion]
        return m.dataset_DatasetPackage, {**purpose, "dataset_datasetType": datatype}
    return m.software_Package, purpose


_DATA_TYPES = {"image-text": ("image", "text"), "code": ("text",)}
"""SPDX dataset types of the catalogue's kinds of data; every other kind is text."""


def _dataset_properties(m: ModuleType, origin: DatasetOrigin | None) -> dict[str, Any]:
    """Dataset-profile fields from the facts of a dataset's origin: its type from the kind of
    data the catalogue records, and how it was collected in the words of its card. Nothing is
    said where nothing is known (the type stays `noAssertion`)."""
    if origin is None:
        return {}
    process = []
    for generated in origin.generated_by:
        models = f" ({', '.join(generated.models)})" if generated.models else ""
        process.append(f"generated with {generated.provider}'s models{models}")
    if origin.derived_from:
        process.append(f"derived from {', '.join(origin.derived_from)}")
    if origin.creators:
        process.append(f"created by (card): {', '.join(origin.creators)}")
    process.extend(origin.notes)
    if origin.citation:
        process.append(f"source: {origin.citation}")
    properties: dict[str, Any] = {"dataset_dataCollectionProcess": "; ".join(process) or None}
    if origin.kind:
        types = _DATA_TYPES.get(origin.kind, ("text",))
        properties["dataset_datasetType"] = [getattr(m.dataset_DatasetType, t) for t in types]
    return properties


def _package(doc: _Document, component: Component, findings: list[str]) -> str:
    m = doc.m
    spdx_id = doc.iri(component.ref)
    declared, unmapped = aibom.declared_expression(component, doc.kb)
    comments = [f"aiscan ref {component.ref}; license category {component.license.category}"]
    if unmapped:
        comments.append("declared values not mapped to SPDX: " + "; ".join(unmapped))
    if component.card is not None and component.card.error:
        comments.append(f"model card unreadable: {component.card.error}")
    cls, extra = _element_class(m, component.type)
    if component.type == "model":
        extra.update(_ai_properties(component))
    if component.type == "dataset":
        extra.update(_dataset_properties(m, component.model.origin))
    supplier = aibom.supplier(component)
    doc.add(
        cls,
        spdx_id,
        name=component.name,
        suppliedBy=doc.organization(supplier) if supplier else None,
        software_packageVersion=aibom.bom_version(component),
        software_packageUrl=component.purl,
        software_downloadLocation=aibom.download_location(component),
        summary=f"{component.type} ({component.source}) at {component.location}",
        comment="\n".join([". ".join(comments), *findings]),
        **extra,
    )
    effective = component.license.effective
    _licenses(
        doc,
        spdx_id,
        component.type,
        aibom.spdx_expression(effective, doc.kb) if effective else None,
        declared,
    )
    for entry in component.files:
        file_id = doc.iri(f"{component.ref}|file:{entry.path}")
        size = f", {entry.size} bytes" if entry.size is not None else ""
        doc.add(
            m.software_File,
            file_id,
            name=entry.path,
            software_fileKind=m.software_FileKindType.file,
            verifiedUsing=[m.Hash(algorithm=m.HashAlgorithm.sha256, hashValue=entry.sha256)]
            if entry.sha256
            else [],
            comment=f"format {entry.format}{size}",
        )
        doc.link(spdx_id, "contains", file_id)
    return spdx_id


def _service(doc: _Document, service: Service, findings: list[str]) -> str:
    """An AI service as a `software_Package` of purpose `other` supplied by its provider (SPDX
    3 has no service element), its facts and findings in the comment."""
    m = doc.m
    spdx_id = doc.iri(service.ref)
    doc.add(
        m.software_Package,
        spdx_id,
        name=service.bom_name,
        software_packageVersion=service.version,
        suppliedBy=doc.organization(service.provider),
        software_primaryPurpose=m.software_SoftwarePurpose.other,
        summary=f"service ({service.provider}) at {service.location}",
        comment="\n".join([service_facts(service), *findings]),
    )
    return spdx_id


def _licenses(
    doc: _Document, spdx_id: str, kind: str, concluded: str | None, declared: str | None
) -> None:
    """Link an element to its concluded and declared license expressions.

    The AI and Dataset profiles require exactly one of each on every model and dataset; where
    no fact gives one (a card without a license, a dataset only named) it is
    NoAssertionLicense, SPDX 3's NOASSERTION, never a guess. Other packages leave a license
    they do not have out, which SPDX 3 reads as no assertion too.
    """
    for relation, expression in (
        ("hasConcludedLicense", concluded),
        ("hasDeclaredLicense", declared),
    ):
        if expression is not None:
            doc.link(spdx_id, relation, doc.license(expression))
        elif kind in ("model", "dataset"):
            doc.link(spdx_id, relation, NO_ASSERTION_LICENSE)


def _named(
    doc: _Document,
    ref: str,
    name: str,
    kind: str,
    version: str | None = None,
    purl: str | None = None,
    concluded: str | None = None,
    known: TrainingDataset | None = None,
) -> str:
    """An element for a model or dataset a card names that the scan did not find, with the
    license lineage resolution found for it (`concluded`, SPDX terms) or, for a dataset, what
    dataset resolution found (`known`): its license and origin."""
    spdx_id = doc.iri(ref)
    cls, extra = _element_class(doc.m, kind)
    on_hub = kind == "dataset" or purl is not None
    supplier = aibom.hub_namespace(name) if on_hub else None
    comment = "named by a model card; not found by the scan"
    if known is not None and known.found_in != "unknown":
        extra.update(_dataset_properties(doc.m, known.origin))
        comment += f"; facts from {known.found_in}; license category {known.license.category}"
        version = version or known.revision
        if concluded is None and known.license.effective:
            concluded = aibom.spdx_expression(known.license.effective, doc.kb)
    created = spdx_id in doc.elements
    doc.add(
        cls,
        spdx_id,
        name=name,
        suppliedBy=doc.organization(supplier) if supplier else None,
        software_packageVersion=version,
        software_packageUrl=purl,
        software_downloadLocation=aibom.hub_download_location(name, kind, version)
        if on_hub
        else None,
        comment=comment,
        **extra,
    )
    if not created:
        _licenses(doc, spdx_id, kind, concluded, None)
    return spdx_id


def _lineage(doc: _Document, component: Component, result: ScanResult, scanned: set[str]) -> None:
    """Links to base models, datasets and the library a model's card names."""
    spdx_id = doc.iri(component.ref)
    for ancestor in aibom.lineage(component, result.components):
        if ancestor.depth != 1:
            continue  # deeper links come from the ancestors' own elements
        if ancestor.component is not None:
            base_id = doc.iri(ancestor.component.ref)
        else:
            expression = ancestor.license_expression
            base_id = _named(
                doc,
                f"model:named/{ancestor.name}",
                ancestor.name,
                "model",
                ancestor.revision,
                ancestor.purl,
                aibom.spdx_expression(expression, doc.kb) if expression else None,
            )
        if ancestor.relation == "quantized":
            doc.link(base_id, "hasVariant", spdx_id, ancestor.relation)
        else:
            doc.link(spdx_id, "descendantOf", base_id, ancestor.relation)
        if aibom.adapter_dependencies(component):
            doc.link(spdx_id, "dependsOn", base_id)
    known = {d.name.lower(): d for d in component.training_data}
    for dataset in sorted(set(component.datasets)):
        ref = aibom.dataset_ref(dataset, result)
        data_id = (
            doc.iri(ref)
            if ref in scanned
            else _named(doc, ref, dataset, "dataset", known=known.get(dataset.lower()))
        )
        doc.link(spdx_id, "trainedOn", data_id)


def build_document(result: ScanResult, kb: LicenseKnowledgeBase) -> Any:
    """The scan as a spdx-python-model object set (an SpdxDocument and its elements)."""
    doc = _Document(result, kb)
    m = doc.m
    findings: dict[str | None, list[str]] = {}
    for f in result.findings:
        waived = f" (waived: {f.waived.reason})" if f.waived else ""
        findings.setdefault(f.component, []).append(
            f"aiscan finding {f.rule} [{f.severity}]: {f.message}{waived}"
        )
    agent = doc.add(m.SoftwareAgent, f"{doc.namespace}#SPDXRef-Agent-aiscan", name="aiscan")
    tool = doc.add(
        m.Tool, f"{doc.namespace}#SPDXRef-Tool-aiscan", name=f"aiscan-{result.tool_version}"
    )
    doc.creation.createdBy = [agent]
    doc.creation.createdUsing = [tool]
    components = aibom.ordered(result.components)
    roots = [_package(doc, c, findings.get(c.ref, [])) for c in components]
    roots += [_service(doc, s, findings.get(s.ref, [])) for s in result.services]
    scanned = {c.ref for c in components}
    for component in components:
        _lineage(doc, component, result, scanned)
    kinds = {c.ref: c.type for c in components}
    for ref, needs in aibom.dependencies(result).items():
        for need in needs:
            # Datasets are `trainedOn` and an adapter's base `dependsOn` in `_lineage`.
            if kinds.get(need) in ("library", "file"):
                doc.link(doc.iri(ref), "dependsOn", doc.iri(need))
    doc.relationships()
    data_license = doc.elements[doc.license("CC0-1.0")]
    # The AI and Dataset profiles require facts no scanned file states (a release time; a
    # dataset's build time and originator), so only the profiles every element meets are
    # declared; the AI and Dataset classes are still used (tests/formats/test_spdx3_shacl.py).
    profiles = ["core", "software", "simpleLicensing"]
    custom = any(isinstance(e, m.expandedlicensing_CustomLicense) for e in doc.elements.values())
    if custom or doc.links_to(NO_ASSERTION_LICENSE):
        profiles.append("expandedLicensing")
    document = m.SpdxDocument(
        _id=f"{doc.namespace}#SPDXRef-DOCUMENT",
        creationInfo=doc.creation,
        name="aiscan AI-BOM",
        dataLicense=data_license,
        profileConformance=[getattr(m.ProfileIdentifierType, p) for p in profiles],
        rootElement=[doc.elements[r] for r in roots],
        element=list(doc.elements.values()),
    )
    if None in findings:
        document.comment = "\n".join(findings[None])
    return m.SHACLObjectSet([document, *doc.elements.values()])


def render_spdx3(result: ScanResult, kb: LicenseKnowledgeBase) -> str:
    """The SPDX 3.0.1 JSON-LD document; raises `BomValidationError` if the bindings reject it."""
    objects = build_document(result, kb)
    try:
        data = _bindings().JSONLDSerializer().serialize_data(objects)
    except (ValueError, TypeError) as error:
        raise BomValidationError(
            f"generated SPDX 3 document is not valid (a bug in aiscan, please report it): {error}"
        ) from error
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


class Spdx3JsonLdFormat(ReportFormat):
    """SPDX 3.0.1 as JSON-LD."""

    name = "spdx3-jsonld"

    def render(
        self, result: ScanResult, kb: LicenseKnowledgeBase, *, display: Display = PLAIN
    ) -> str:
        return render_spdx3(result, kb)


# --- decoding ---------------------------------------------------------------------------------

_COMPONENTS = {"ai_AIPackage", "dataset_DatasetPackage", "software_Package", "software_File"}
_KINDS = {"ai_AIPackage": "model", "dataset_DatasetPackage": "dataset"}
_PURPOSE_KINDS = {"model": "model", "data": "dataset", "library": "library", "file": "file"}
_LISTED_LICENSE = "https://spdx.org/licenses/"


def _is_spdx3(document: Any) -> bool:
    """Whether a JSON document is SPDX 3.0.1 JSON-LD (by its `@context`)."""
    if not isinstance(document, dict):
        return False
    context = document.get("@context")
    contexts = context if isinstance(context, list) else [context]
    return any(isinstance(c, str) and "spdx.org/rdf/3.0.1" in c for c in contexts)


def decode_spdx3(document: Any) -> DecodedBom | None:
    """The facts of an SPDX 3.0.1 JSON-LD document (its `@graph` read as plain JSON), or None
    when `document` is not one.

    Package and file elements are components, and the `software_File`s a component `contains`
    its files; licenses are the expressions its license relationships point at (a listed
    license may be pointed at by its spdx.org IRI); findings are read from aiscan's comment
    lines. Raises `BomDecodeError` for a field of the wrong type.
    """
    if not _is_spdx3(document):
        return None
    doc = JsonObject(document, "", "SPDX 3.0.1 document")
    nodes = doc.objects("@graph")
    by_id: dict[str, JsonObject] = {}
    links: dict[str, dict[str, list[str]]] = {}
    for node in nodes:
        node_id = node.string("spdxId") or node.string("@id")
        if node_id is not None:
            by_id[node_id] = node
        if node.string("type") == "Relationship":
            targets = links.setdefault(node.required("from"), {})
            targets.setdefault(node.required("relationshipType"), []).extend(node.strings("to"))
    contained = {
        target
        for by_kind in links.values()
        for target in by_kind.get("contains", [])
        if target in by_id and by_id[target].string("type") == "software_File"
    }

    def licenses(node_id: str, relation: str) -> list[str]:
        found = []
        for target in links.get(node_id, {}).get(relation, []):
            element = by_id.get(target)
            expression = element.string("simplelicensing_licenseExpression") if element else None
            if expression is None and target.startswith(_LISTED_LICENSE):
                expression = target.removeprefix(_LISTED_LICENSE)
            text = asserted(expression)
            if text:
                found.append(text)
        return found

    components = []
    for node in nodes:
        node_type = node.string("type")
        node_id = node.string("spdxId") or node.string("@id") or ""
        if node_type not in _COMPONENTS or node_id in contained:
            continue
        summary = node.string("summary")
        kind = (
            _KINDS.get(node_type)
            or ("service" if decoded_name(summary, "") != "" else None)
            or _PURPOSE_KINDS.get(node.string("software_primaryPurpose") or "")
            or ("file" if node_type == "software_File" else "package")
        )
        files = tuple(
            DecodedFile(by_id[target].required("name"), _hash(by_id[target]))
            for target in links.get(node_id, {}).get("contains", [])
            if target in contained
        )
        concluded = licenses(node_id, "hasConcludedLicense")
        components.append(
            DecodedComponent(
                kind=kind,
                name=decoded_name(summary, node.required("name")),
                version=node.string("software_packageVersion"),
                purl=node.string("software_packageUrl"),
                declared=tuple(licenses(node_id, "hasDeclaredLicense")),
                effective=_conjunction(concluded),
                sha256=_hash(node),
                files=files,
                findings=comment_findings(node.string("comment")),
                named_only=named_only(node.string("comment")),
            )
        )
    about_document = tuple(
        finding
        for node in nodes
        if node.string("type") == "SpdxDocument"
        for finding in comment_findings(node.string("comment"))
    )
    return DecodedBom(tuple(components), about_document, license_notation="spdx")


def _hash(element: JsonObject) -> str | None:
    return sha256_digest(element.objects("verifiedUsing"), "algorithm", "hashValue")


def _conjunction(expressions: list[str]) -> str | None:
    """Several concluded licenses as one expression (all apply), each kept whole."""
    if len(expressions) <= 1:
        return expressions[0] if expressions else None
    return " AND ".join(f"({e})" if " OR " in e else e for e in expressions)
