"""CycloneDX 1.6 / 1.7 ML-BOM (JSON and XML), built with cyclonedx-python-lib and validated.

The library models components, hashes, licenses, pedigree, dependencies and properties; it has no
`modelCard`, so `_model_card` builds it from facts and `_with_model_cards_json` /
`_with_model_cards_xml` add it to the serialized document, which the library's strict schema
validator then checks. A document that fails validation is never written: that is a bug in aiscan
(exit 3).

Choices:
- Every file of a model is a nested component of type `file` (name = path in the model folder)
  carrying its SHA-256 when it was measured; a multi-file model has no single hash of its own.
  This is also the shape `aiscan verify --against BOM` reads.
- The license is the effective one (`acknowledgement: concluded`), since it already includes
  terms inherited from base models; what the author declared is the `aiscan:license:declared`
  property. A lone non-SPDX license is written by name with its URL and, where it may be
  redistributed, its text; several terms become an SPDX expression with `LicenseRef-…` ids.
- Base models are `pedigree.ancestors`, each with its depth and the card's relation as
  properties; a dataset a card names becomes a `data` component referenced from the modelCard.

`decode_cyclonedx` reads a CycloneDX JSON BOM back (aiscan's or another tool's) into the facts of
`scanner.formats.decoded`, for `aiscan diff`, `aiscan verify --against` and the project source.
"""

from __future__ import annotations

import json
import re
import sys
from dataclasses import replace
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import quote

from scanner.errors import AiscanError
from scanner.formats import aibom
from scanner.formats.decoded import (
    DecodedBom,
    DecodedComponent,
    DecodedFile,
    DecodedFinding,
    JsonObject,
    sha256_digest,
)
from scanner.formats.interface import PLAIN, Display, ReportFormat
from scanner.inventory import (
    Component,
    FileEntry,
    Finding,
    GgufHeader,
    SafetensorsHeader,
    ScanResult,
    Service,
)
from scanner.licensing.knowledge_base import LicenseKnowledgeBase

if TYPE_CHECKING:
    from cyclonedx.model.bom import Bom
    from cyclonedx.model.component import Component as CdxComponent

_TYPES = {
    "model": "MACHINE_LEARNING_MODEL",
    "dataset": "DATA",
    "library": "LIBRARY",
    "file": "FILE",
}
_XML_AFTER_MODEL_CARD = frozenset({"data", "cryptoProperties", "tags", "signature"})
_XML_LIST_ITEMS = {"performanceMetrics": "performanceMetric", "datasets": "dataset"}
"""Component children the schema places after `modelCard`, and the element each item of a
modelCard list is wrapped in."""


SUBJECT_REF = "aiscan:subject"
"""bom-ref of `metadata.component`, what was scanned: it depends on what the targets hold."""


class BomValidationError(AiscanError):
    """A generated document does not validate against the official schema: a bug (exit 3)."""

    exit_code = 3


def _property(name: str, value: str) -> Any:
    from cyclonedx.model import Property

    return Property(name=name, value=value)


def _file_ref(component: Component, entry: FileEntry) -> str:
    return f"{component.ref}|file:{entry.path}"


def _weights_properties(prefix: str, entry: FileEntry) -> list[Any]:
    """What a weights file's header says: tensors, parameters and their types."""
    header: SafetensorsHeader | GgufHeader
    if entry.safetensors is not None:
        header, types = entry.safetensors, entry.safetensors.dtypes
    elif entry.gguf is not None:
        header, types = entry.gguf, entry.gguf.tensor_types
    else:
        return []
    properties = [
        _property(f"{prefix}:tensors", str(header.tensor_count)),
        _property(f"{prefix}:parameters", str(header.parameter_count)),
    ]
    properties += [_property(f"{prefix}:dtype:{name}", str(n)) for name, n in sorted(types.items())]
    if entry.gguf is not None and entry.gguf.quantization:
        properties.append(_property(f"{prefix}:quantization", entry.gguf.quantization))
    return properties


def _file_component(component: Component, entry: FileEntry) -> CdxComponent:
    """A file of a component. Its name is prefixed with the component's name and it carries the
    component's version, so two models' `config.json` stay two components in consumers that
    key components by name and version (lib4sbom); `aiscan:file:path` keeps the path."""
    from cyclonedx.model import HashAlgorithm, HashType
    from cyclonedx.model.component import Component as CdxComponent
    from cyclonedx.model.component import ComponentType

    properties = [
        _property("aiscan:file:path", entry.path),
        _property("aiscan:file:format", entry.format),
    ]
    if entry.size is not None:
        properties.append(_property("aiscan:file:size", str(entry.size)))
    if entry.verified is not None:
        properties.append(_property("aiscan:file:verified", str(entry.verified).lower()))
    properties += _weights_properties("aiscan:weights", entry)
    return CdxComponent(
        type=ComponentType.FILE,
        name=f"{component.name}/{entry.path}",
        version=aibom.bom_version(component),
        bom_ref=_file_ref(component, entry),
        hashes=[HashType(alg=HashAlgorithm.SHA_256, content=entry.sha256)] if entry.sha256 else [],
        properties=properties,
    )


def _licenses(component: Component, kb: LicenseKnowledgeBase) -> list[Any]:
    from cyclonedx.model.license import DisjunctiveLicense, LicenseAcknowledgement

    if component.license.effective:
        return _concluded(component.license.effective, kb)
    # Nothing resolved: the author's words are all there is, kept verbatim.
    return [
        DisjunctiveLicense(name=value, acknowledgement=LicenseAcknowledgement.DECLARED)
        for value in component.license.declared
    ]


def _concluded(effective: str, kb: LicenseKnowledgeBase) -> list[Any]:
    """An effective license (knowledge-base keys): one license by id or name when it is a single
    key, else an SPDX expression."""
    from cyclonedx.model import AttachedText, XsUri
    from cyclonedx.model.license import (
        DisjunctiveLicense,
        LicenseAcknowledgement,
        LicenseExpression,
    )

    keys = aibom.license_keys(effective)
    if len(keys) == 1 and keys[0] in kb and effective == keys[0]:
        entry = kb[keys[0]]
        text = entry.text
        return [
            DisjunctiveLicense(
                id=entry.spdx,
                name=None if entry.spdx else entry.name,
                url=XsUri(entry.url) if entry.url else None,
                text=AttachedText(content=text) if text and not entry.spdx else None,
                acknowledgement=LicenseAcknowledgement.CONCLUDED,
            )
        ]
    from cyclonedx.spdx import is_supported_id

    expression = aibom.spdx_expression(effective, kb)
    if is_supported_id(expression):
        # A lone SPDX id (a package's `MIT`) as a license, not an expression: lib4sbom's XML
        # reader sees licenses only in `<license>` elements.
        return [DisjunctiveLicense(id=expression, acknowledgement=LicenseAcknowledgement.CONCLUDED)]
    return [LicenseExpression(expression, acknowledgement=LicenseAcknowledgement.CONCLUDED)]


def _supplier(component: Component) -> Any:
    from cyclonedx.model.contact import OrganizationalEntity

    name = aibom.supplier(component)
    return OrganizationalEntity(name=name) if name else None


_URI_CHARACTERS = "!#$%&'()*+,-./:;=?@[]_~"
"""The ASCII punctuation RFC 3986 lets a URI hold as it is (beside letters and digits)."""
_STRAY_PERCENT = re.compile(r"%(?![0-9A-Fa-f]{2})")


def uri(url: str) -> str:
    """A URL a scanned file gave (a card's `license_link`, a repo id from an HF-cache folder
    name) as a valid URI reference that points where it did: characters a URI cannot hold
    percent-encoded as UTF-8 (RFC 3986 section 2.1), a `%` that starts no escape as `%25`, a
    second `#` as `%23`. The library and the schema refuse anything else, which would stop the
    whole BOM."""
    head, mark, fragment = url.partition("#")
    joined = head + mark + fragment.replace("#", "%23")
    return quote(_STRAY_PERCENT.sub("%25", joined), safe=_URI_CHARACTERS)


def _external_references(component: Component, kb: LicenseKnowledgeBase) -> list[Any]:
    from cyclonedx.model import ExternalReference, ExternalReferenceType, XsUri

    references = []
    if component.purl and component.purl.startswith("pkg:huggingface/") and component.version:
        base = f"https://huggingface.co/{component.name}"
        references.append(
            ExternalReference(type=ExternalReferenceType.DISTRIBUTION, url=XsUri(uri(base)))
        )
        if component.card is not None:
            references.append(
                ExternalReference(
                    type=ExternalReferenceType.MODEL_CARD,
                    url=XsUri(uri(f"{base}/blob/{component.version}/{component.card.path}")),
                )
            )
    urls = {kb[k].url for k in aibom.license_keys(component.license.effective) if k in kb}
    link = component.card.license_link if component.card else None
    if link and link.startswith(("https://", "http://")):
        urls.add(link)
    references.extend(
        ExternalReference(type=ExternalReferenceType.LICENSE, url=XsUri(uri(url)))
        for url in sorted(u for u in urls if u)
    )
    return references


def _finding_properties(findings: list[Finding]) -> list[Any]:
    properties = []
    for f in findings:
        waived = f" (waived: {f.waived.reason})" if f.waived else ""
        properties.append(
            _property(f"aiscan:finding:{f.rule}", f"{f.severity}: {f.message}{waived}")
        )
    return properties


def _properties(component: Component, findings: list[Finding]) -> list[Any]:
    facts = component.license
    properties = [
        _property("aiscan:ref", component.ref),
        _property("aiscan:source", component.source),
        _property("aiscan:location", component.location),
        _property("aiscan:license:category", facts.category),
    ]
    properties += [_property("aiscan:license:declared", v) for v in facts.declared]
    properties += [_property("aiscan:license:detected", v) for v in facts.detected]
    properties += [_property("aiscan:license:inherited", v) for v in facts.inherited]
    if facts.effective:
        properties.append(_property("aiscan:license:effective", facts.effective))
    if component.card is not None and component.card.error:
        properties.append(_property("aiscan:card:error", component.card.error))
    if component.version and aibom.bom_version(component) is None:
        properties.append(_property("aiscan:revision", component.version))
    weights = [f for f in component.files if f.safetensors or f.gguf]
    if weights:
        headers = [f.safetensors or f.gguf for f in weights]
        properties.append(
            _property("aiscan:model:parameters", str(sum(h.parameter_count for h in headers if h)))
        )
        properties.append(
            _property("aiscan:model:tensors", str(sum(h.tensor_count for h in headers if h)))
        )
    single = aibom.model_weights(component)
    if single is not None:
        properties.append(_property("aiscan:hash:of", single.path))
    return properties + _finding_properties(findings)


def _ancestors(
    component: Component, result: ScanResult, kb: LicenseKnowledgeBase
) -> list[CdxComponent]:
    from cyclonedx.model.component import Component as CdxComponent
    from cyclonedx.model.component import ComponentType
    from packageurl import PackageURL

    ancestors = []
    for ancestor in aibom.lineage(component, result.components):
        scanned = ancestor.component
        properties = [_property("aiscan:lineage:depth", str(ancestor.depth))]
        if ancestor.relation:
            properties.append(_property("aiscan:lineage:relation", ancestor.relation))
        if ancestor.found_in:
            properties.append(_property("aiscan:lineage:found-in", ancestor.found_in))
        if scanned is not None:
            properties.append(_property("aiscan:ref", scanned.ref))
        expression = ancestor.license_expression
        supplier = aibom.hub_namespace(ancestor.name) if ancestor.purl else None
        ancestors.append(
            CdxComponent(
                type=ComponentType.MACHINE_LEARNING_MODEL,
                name=ancestor.name,
                bom_ref=f"{component.ref}|ancestor:{ancestor.name}",
                version=ancestor.version,
                purl=PackageURL.from_string(ancestor.purl) if ancestor.purl else None,
                licenses=_concluded(expression, kb) if expression else [],
                supplier=_supplier(scanned) if scanned is not None else _named_supplier(supplier),
                properties=properties,
            )
        )
    return ancestors


def _named_supplier(name: str | None) -> Any:
    from cyclonedx.model.contact import OrganizationalEntity

    return OrganizationalEntity(name=name) if name else None


def _component(
    component: Component, result: ScanResult, kb: LicenseKnowledgeBase, findings: list[Finding]
) -> CdxComponent:
    from cyclonedx.model import HashAlgorithm, HashType
    from cyclonedx.model.component import Component as CdxComponent
    from cyclonedx.model.component import ComponentType, Pedigree
    from packageurl import PackageURL

    ancestors = _ancestors(component, result, kb) if component.type == "model" else []
    weights = aibom.model_weights(component)
    return CdxComponent(
        type=getattr(ComponentType, _TYPES[component.type]),
        name=component.name,
        bom_ref=component.ref,
        version=aibom.bom_version(component),
        purl=PackageURL.from_string(component.purl) if component.purl else None,
        supplier=_supplier(component),
        hashes=[HashType(alg=HashAlgorithm.SHA_256, content=weights.sha256)]
        if weights is not None and weights.sha256
        else [],
        licenses=_licenses(component, kb),
        external_references=_external_references(component, kb),
        pedigree=Pedigree(ancestors=ancestors) if ancestors else None,
        properties=_properties(component, findings),
        components=[_file_component(component, f) for f in component.files],
    )


def build_bom(result: ScanResult, kb: LicenseKnowledgeBase) -> Bom:
    """The scan as a cyclonedx-python-lib `Bom` (everything but the modelCard)."""
    from cyclonedx.model.bom import Bom, BomMetaData
    from cyclonedx.model.component import Component as CdxComponent
    from cyclonedx.model.component import ComponentType
    from cyclonedx.model.tool import ToolRepository

    per_component: dict[str | None, list[Finding]] = {}
    for f in result.findings:
        per_component.setdefault(f.component, []).append(f)
    components = aibom.ordered(result.components)
    cdx = {c.ref: _component(c, result, kb, per_component.get(c.ref, [])) for c in components}
    named = {}
    for name in aibom.named_datasets(result):
        ref = aibom.dataset_ref(name, result)
        named[ref] = CdxComponent(
            type=ComponentType.DATA,
            name=name,
            bom_ref=ref,
            supplier=_named_supplier(aibom.hub_namespace(name)),
            properties=[_property("aiscan:named-by", "model card datasets")],
        )
    metadata_properties = [_property("aiscan:target", t) for t in result.targets]
    if result.policy:
        metadata_properties.append(_property("aiscan:policy", result.policy))
    metadata_properties += _finding_properties(per_component.get(None, []))
    subject = CdxComponent(
        type=ComponentType.APPLICATION, name=aibom.subject_name(result), bom_ref=SUBJECT_REF
    )
    bom = Bom(
        components=[*cdx.values(), *named.values()],
        serial_number=aibom.document_id(result),
        metadata=BomMetaData(
            timestamp=aibom.document_time(),
            tools=ToolRepository(
                components=[
                    CdxComponent(
                        type=ComponentType.APPLICATION,
                        name="aiscan",
                        version=result.tool_version,
                        bom_ref="tool:aiscan",
                    )
                ]
            ),
            component=subject,
            properties=metadata_properties,
        ),
    )
    services = [_service(s, per_component.get(s.ref, [])) for s in result.services]
    bom.services.update(services)
    every = {**cdx, **named}
    bom.register_dependency(
        subject, [*(every[ref] for ref in aibom.direct_components(result)), *services]
    )
    for ref, needs in aibom.dependencies(result).items():
        bom.register_dependency(cdx[ref], [every[r] for r in needs])
    for data in named.values():
        bom.register_dependency(data, [])
    return bom


def _model_card(component: Component, result: ScanResult) -> dict[str, Any] | None:
    """The CycloneDX modelCard of a model, from facts only; None when there are none."""
    parameters: dict[str, Any] = {}
    if component.card is not None and component.card.pipeline_tag:
        parameters["task"] = component.card.pipeline_tag
    if component.model.model_type:
        parameters["architectureFamily"] = component.model.model_type
    if component.model.architectures:
        parameters["modelArchitecture"] = ", ".join(component.model.architectures)
    if component.datasets:
        # The inline form (componentData): consumers such as lib4sbom read every dataset entry
        # as one and fail on `{"ref": …}`; the model's `dependencies` entry carries the link to
        # the dataset's own component. aiscan does not know how the data is classified.
        parameters["datasets"] = [
            {"type": "dataset", "name": name, "classification": "unknown"}
            for name in sorted(set(component.datasets))
        ]
    card: dict[str, Any] = {"modelParameters": parameters} if parameters else {}
    metrics = component.card.metrics if component.card is not None else ()
    if metrics:
        card["quantitativeAnalysis"] = {
            "performanceMetrics": [
                {
                    "type": m.name or m.metric,
                    "value": m.value,
                    **({"slice": m.dataset} if m.dataset else {}),
                }
                for m in metrics
            ]
        }
    return card or None


def model_cards(result: ScanResult) -> dict[str, dict[str, Any]]:
    """modelCards by component ref, for every model that has facts for one."""
    cards = {}
    for component in result.components:
        if component.type == "model":
            card = _model_card(component, result)
            if card is not None:
                cards[component.ref] = card
    return cards


def _with_model_cards_json(document: str, cards: dict[str, dict[str, Any]]) -> str:
    data = json.loads(document)
    for component in data.get("components", []):
        card = cards.get(component.get("bom-ref"))
        if card is not None:
            component["modelCard"] = card
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def _xml_children(parent: Any, name: str, value: Any, namespace: str) -> None:
    from xml.etree import ElementTree

    if isinstance(value, list):
        holder = ElementTree.SubElement(parent, f"{{{namespace}}}{name}")
        for item in value:
            # modelCard lists wrap each item in a singular element (`<datasets><dataset>`,
            # `<performanceMetrics><performanceMetric>`); a list without one holds its
            # children directly.
            item_name = _XML_LIST_ITEMS.get(name)
            target = (
                ElementTree.SubElement(holder, f"{{{namespace}}}{item_name}")
                if item_name
                else holder
            )
            for key, inner in item.items():
                _xml_children(target, key, inner, namespace)
    elif isinstance(value, dict):
        holder = ElementTree.SubElement(parent, f"{{{namespace}}}{name}")
        for key, inner in value.items():
            _xml_children(holder, key, inner, namespace)
    else:
        ElementTree.SubElement(parent, f"{{{namespace}}}{name}").text = str(value)


_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
"""Characters XML 1.0 cannot hold, even escaped: a NUL in a card's `base_model`, a lone
surrogate in a file name. Shown as U+FFFD, as every output shows lone surrogates."""


def _xml_text(document: str) -> str:
    return _NOT_XML.sub("\ufffd", document)


def _with_model_cards_xml(document: str, cards: dict[str, dict[str, Any]]) -> str:
    from xml.etree import ElementTree

    root = ElementTree.fromstring(_xml_text(document))
    namespace = root.tag[1:].split("}")[0]
    ElementTree.register_namespace("", namespace)
    components = root.find(f"{{{namespace}}}components")
    for element in components if components is not None else []:
        card = cards.get(element.get("bom-ref", ""))
        if card is None:
            continue
        holder = ElementTree.Element(f"{{{namespace}}}modelCard")
        for key, value in card.items():
            _xml_children(holder, key, value, namespace)
        later = [
            i for i, child in enumerate(element) if child.tag.split("}")[1] in _XML_AFTER_MODEL_CARD
        ]
        element.insert(later[0] if later else len(element), holder)
    ElementTree.indent(root, space="  ")
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        + _xml_text(ElementTree.tostring(root, encoding="unicode"))
        + "\n"
    )


UNCHECKED_FORMAT_MODULES = {
    "rfc3987_syntax": ("iri", "iri-reference"),
    "isoduration": ("duration",),
    "uri_template": ("uri-template",),
    "webcolors": ("color",),
    "jsonpointer": ("json-pointer", "relative-json-pointer"),
    "fqdn": ("hostname",),
    "idna": ("idn-hostname",),
}
"""Modules jsonschema imports to check formats no CycloneDX schema uses, with those formats
(the schemas use `iri-reference`, `date-time`, `date`, `idn-email` and, for signatures, `uri`;
a test checks this). rfc3987-syntax builds ~40 Lark grammars when imported (~2.5 s, most of
`aiscan bom`'s time), isoduration imports arrow and dateutil (~25 ms); `iri-reference`, the one
used format rfc3987-syntax also checks, is checked by `_check_iri_references` instead."""


def json_validator(schema: Any) -> Any:
    """The library's strict JSON validator, with jsonschema imported without the modules that
    check formats no CycloneDX schema uses (`UNCHECKED_FORMAT_MODULES`). A `None` entry in
    `sys.modules` makes such an import fail, which jsonschema expects of optional checkers;
    the entries are removed again, so a later import of those modules works as usual (one
    already imported is left alone, and jsonschema uses it)."""
    if "jsonschema" not in sys.modules:
        blocked = [m for m in UNCHECKED_FORMAT_MODULES if m not in sys.modules]
        for module in blocked:
            sys.modules[module] = None  # type: ignore[assignment]
        try:
            import jsonschema  # noqa: F401
        finally:
            for module in blocked:
                del sys.modules[module]
    from cyclonedx.validation.json import JsonStrictValidator
    from jsonschema.validators import Draft7Validator

    _check_iri_references(Draft7Validator.FORMAT_CHECKER)
    return JsonStrictValidator(schema)


def _service(service: Service, findings: list[Finding]) -> Any:
    """An AI service as a CycloneDX service: named by its model (the server's image, or the
    source text of a name known at run time, as for a component), its provider, the endpoint
    only when the code states one, and `file:line` evidence."""
    from cyclonedx.model import XsUri
    from cyclonedx.model.contact import OrganizationalEntity
    from cyclonedx.model.service import Service as CdxService

    properties = [
        _property("aiscan:service:provider", service.provider),
        _property("aiscan:service:hosted", "true" if service.hosted else "false"),
        _property("aiscan:service:call", service.call),
        _property("aiscan:evidence:location", service.where),
    ]
    if service.model is not None:
        properties.append(_property("aiscan:service:model", service.model))
    if service.expression is not None:
        properties.append(_property("aiscan:service:expression", service.expression))
    endpoints = []
    if service.endpoint is not None and "://" in service.endpoint:
        endpoints.append(XsUri(service.endpoint))
    return CdxService(
        name=service.bom_name,
        version=service.version,
        bom_ref=service.ref,
        provider=OrganizationalEntity(name=service.provider),
        group=service.provider,
        endpoints=endpoints,
        properties=[*properties, *_finding_properties(findings)],
    )


def declared_service_names(document: Any) -> list[str]:
    """The names a CycloneDX JSON BOM's `services` (nested ones included) give, with
    `group/name` when a group is given: what a project declares it calls. Anything that is no
    CycloneDX BOM, or not shaped like one, declares nothing."""
    if not isinstance(document, dict) or document.get("bomFormat") != "CycloneDX":
        return []
    names = []
    listed = document.get("services")
    pending = list(listed) if isinstance(listed, list) else []
    while pending:
        raw = pending.pop()
        if not isinstance(raw, dict):
            continue
        name, group = raw.get("name"), raw.get("group")
        if isinstance(name, str):
            names.append(name)
            if isinstance(group, str):
                names.append(f"{group}/{name}")
        if isinstance(raw.get("services"), list):
            pending.extend(raw["services"])
    return names


def _check_iri_references(format_checker: Any) -> None:
    """Give the format checker the library validates with (Draft 7's) an `iri-reference` check
    when it has none: the module jsonschema checks it with is the one `json_validator` leaves
    out, and without a check every URL in a BOM would pass unseen. The IRI is mapped to a URI
    as RFC 3987 section 3.1 says (non-ASCII characters percent-encoded as UTF-8) and checked as
    an RFC 3986 URI reference by rfc3986-validator, a regular expression jsonschema already
    imports for `uri`."""
    if "iri-reference" in format_checker.checkers:
        return
    from urllib.parse import quote

    from rfc3986_validator import validate_rfc3986  # type: ignore[import-untyped]

    @format_checker.checks("iri-reference", raises=ValueError)
    def is_iri_reference(instance: object) -> bool:
        if not isinstance(instance, str):
            return True
        uri = "".join(c if c.isascii() else quote(c, safe="") for c in instance)
        return bool(validate_rfc3986(uri, rule="URI_reference"))


def render_cyclonedx(
    result: ScanResult,
    kb: LicenseKnowledgeBase,
    *,
    output: Literal["json", "xml"],
    spec_version: str = "1.6",
) -> str:
    """The validated CycloneDX document; raises `BomValidationError` if the schema rejects it."""
    from cyclonedx.output import make_outputter
    from cyclonedx.schema import OutputFormat, SchemaVersion
    from cyclonedx.validation.xml import XmlValidator

    schema = SchemaVersion.from_version(spec_version)
    bom = build_bom(result, kb)
    cards = model_cards(result)
    error: object | None
    if output == "json":
        raw = make_outputter(bom, OutputFormat.JSON, schema).output_as_string(indent=2)
        document = _with_model_cards_json(raw, cards)
        error = json_validator(schema).validate_str(document)
    else:
        # Unindented: the library's indenting re-parses its own output, and fails on a
        # character XML 1.0 cannot hold; `_with_model_cards_xml` replaces those and indents.
        raw = make_outputter(bom, OutputFormat.XML, schema).output_as_string()
        document = _with_model_cards_xml(raw, cards)
        error = XmlValidator(schema).validate_str(document)
    if error is not None:
        raise BomValidationError(
            f"generated CycloneDX {spec_version} {output.upper()} does not validate "
            f"(a bug in aiscan, please report it): {error}"
        )
    return document


class CycloneDxJsonFormat(ReportFormat):
    """CycloneDX ML-BOM as JSON."""

    name = "cyclonedx-json"
    output: Literal["json", "xml"] = "json"

    def __init__(self, spec_version: str = "1.6") -> None:
        self.spec_version = spec_version

    def render(
        self, result: ScanResult, kb: LicenseKnowledgeBase, *, display: Display = PLAIN
    ) -> str:
        return render_cyclonedx(result, kb, output=self.output, spec_version=self.spec_version)


class CycloneDxXmlFormat(CycloneDxJsonFormat):
    """CycloneDX ML-BOM as XML."""

    name = "cyclonedx-xml"
    output = "xml"


# --- decoding ---------------------------------------------------------------------------------

_KINDS = {
    "machine-learning-model": "model",
    "data": "dataset",
    "library": "library",
    "file": "file",
}
"""CycloneDX component types that are aiscan component types (the JSON spelling of `_TYPES`)."""
_FINDING = "aiscan:finding:"


def decode_cyclonedx(document: Any) -> DecodedBom | None:
    """The facts of a CycloneDX JSON BOM, or None when `document` is not one.

    Components are read at every depth by iteration, never recursion, so no nesting is too deep;
    a `file` component nested in another is one of that component's files (what `build_bom`
    writes and `verify --against` checks), at its `aiscan:file:path` when it has one. In aiscan's own BOMs, licenses and findings are read
    from its properties (`aiscan:license:*` in knowledge-base keys, `aiscan:finding:<rule>`).
    Other tools' BOMs (aisbom-cli, cyclonedx-py, syft) are read from `licenses[]`: an
    `expression`, or a license's `id` or `name`; entries acknowledged `concluded` are the
    effective license, the others (`declared`, or no acknowledgement) what is declared, as SPDX
    expressions. Raises `BomDecodeError` for a field of the wrong type.
    """
    if not isinstance(document, dict) or document.get("bomFormat") != "CycloneDX":
        return None
    bom = JsonObject(document, "", "CycloneDX BOM")
    metadata = bom.object("metadata")
    own = metadata is not None and _written_by_aiscan(metadata)
    heads: list[DecodedComponent] = []
    files: list[list[DecodedFile]] = []
    pending: list[tuple[JsonObject, int | None]] = [
        (raw, None) for raw in reversed(bom.objects("components"))
    ]
    while pending:
        raw, owner = pending.pop()
        kind, name = raw.required("type"), raw.required("name")
        digest = sha256_digest(raw.objects("hashes"), "alg", "content")
        if kind == "file" and owner is not None:
            path = [v for k, v in _decoded_properties(raw) if k == "aiscan:file:path"]
            files[owner].append(DecodedFile(path[0] if path else name, digest))
        else:
            properties = _decoded_properties(raw)
            if own:
                declared = tuple(v for k, v in properties if k == "aiscan:license:declared")
                effective = [v for k, v in properties if k == "aiscan:license:effective"][-1:]
            else:
                declared, effective = _decoded_licenses(raw)
            heads.append(
                DecodedComponent(
                    kind=_KINDS.get(kind, kind),
                    name=name,
                    version=raw.string("version"),
                    purl=raw.string("purl"),
                    declared=declared,
                    effective=effective[0] if effective else None,
                    sha256=digest,
                    findings=_decoded_findings(properties),
                    named_only=any(k == "aiscan:named-by" for k, _ in properties),
                )
            )
            files.append([])
            owner = len(heads) - 1
        # Whatever is nested in a file belongs to the file's owner: a file holds no components.
        pending.extend((child, owner) for child in reversed(raw.objects("components")))
    return DecodedBom(
        components=(
            *(
                replace(head, files=tuple(held), sha256=_own_digest(head, held))
                for head, held in zip(heads, files, strict=True)
            ),
            *_decoded_services(bom),
        ),
        findings=_decoded_findings(_decoded_properties(metadata)) if metadata is not None else (),
        license_notation="aiscan" if own else "spdx",
        concludes=own,
    )


def _decoded_services(bom: JsonObject) -> list[DecodedComponent]:
    """The BOM's `services`, nested ones included (by iteration), as components of kind
    `service` named `group/name` (aiscan writes the provider as the group), with the findings
    aiscan recorded on them."""
    found = []
    pending = list(reversed(bom.objects("services")))
    while pending:
        raw = pending.pop()
        name, group = raw.required("name"), raw.string("group")
        found.append(
            DecodedComponent(
                kind="service",
                name=f"{group}/{name}" if group else name,
                version=raw.string("version"),
                findings=_decoded_findings(_decoded_properties(raw)),
            )
        )
        pending.extend(reversed(raw.objects("services")))
    return found


def _own_digest(head: DecodedComponent, held: list[DecodedFile]) -> str | None:
    """A component's digest, unless it repeats one of its files': the model-level hash
    `build_bom` writes is its single weights file's, already one of the model's files."""
    return None if any(f.sha256 == head.sha256 for f in held) else head.sha256


def _written_by_aiscan(metadata: JsonObject) -> bool:
    """Whether `metadata.tools` names aiscan (CycloneDX 1.5+ `tools.components`, or the older
    list of tools), so `aiscan:` properties can be trusted to be aiscan's."""
    tools = metadata.raw.get("tools")
    if isinstance(tools, dict):
        listed = metadata.object("tools")
        entries = listed.objects("components") if listed is not None else []
    else:
        entries = metadata.objects("tools")
    return any(entry.string("name") == "aiscan" for entry in entries)


def _decoded_licenses(raw: JsonObject) -> tuple[tuple[str, ...], list[str]]:
    """(declared, concluded) SPDX expressions of another tool's component."""
    declared: list[str] = []
    concluded: list[str] = []
    for entry in raw.objects("licenses"):
        license_ = entry.object("license")
        holder = license_ if license_ is not None else entry
        text = entry.string("expression") or (
            (license_.string("id") or license_.string("name")) if license_ is not None else None
        )
        if not text:
            continue
        if holder.string("acknowledgement") == "concluded":
            concluded.append(text)
        else:
            declared.append(text)
    if len(concluded) > 1:
        concluded = [" AND ".join(f"({c})" if " OR " in c else c for c in concluded)]
    return tuple(declared), concluded


def _decoded_properties(raw: JsonObject) -> list[tuple[str, str]]:
    return [(p.required("name"), p.string("value") or "") for p in raw.objects("properties")]


def _decoded_findings(properties: list[tuple[str, str]]) -> tuple[DecodedFinding, ...]:
    """Findings as `_finding_properties` writes them: `<severity>: <message>[ (waived: …)]`."""
    found = []
    for name, value in properties:
        if not name.startswith(_FINDING):
            continue
        severity, _, message = value.partition(": ")
        waived = " (waived: " in message
        found.append(
            DecodedFinding(
                name.removeprefix(_FINDING),
                severity.split(":", 1)[0],
                not waived,
                message.split(" (waived: ", 1)[0],
            )
        )
    return tuple(found)
