"""What every AI-BOM format (CycloneDX, SPDX 2.3, SPDX 3) derives from a scan the same way.

One place for the rules the issue fixes for all of them: license identifiers, lineage, the
components a card only names, stable order, and the document's time and identity (byte-identical
output under `SOURCE_DATE_EPOCH`). Nothing here invents a value: a name a card mentions becomes a
component with that name only.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import os
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from scanner.errors import UsageError
from scanner.inventory import Component, ScanResult
from scanner.licensing.expressions import resolve_declared
from scanner.licensing.knowledge_base import LicenseKnowledgeBase

NAMESPACE = "https://aiscan.dev/spdxdocs"
"""Prefix of SPDX document namespaces aiscan writes."""


def reproducible() -> bool:
    """True when SOURCE_DATE_EPOCH asks for byte-identical output (reproducible-builds.org)."""
    return bool(os.environ.get("SOURCE_DATE_EPOCH", "").strip())


def document_time() -> datetime.datetime:
    """The document's creation time: SOURCE_DATE_EPOCH when set, else now (whole seconds, UTC)."""
    if reproducible():
        value = os.environ["SOURCE_DATE_EPOCH"].strip()
        if not value.isdigit():
            raise UsageError(f"SOURCE_DATE_EPOCH must be whole seconds since 1970, not {value!r}")
        seconds = int(value)
        return datetime.datetime.fromtimestamp(seconds, tz=datetime.timezone.utc)
    return datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)


def document_id(result: ScanResult) -> uuid.UUID:
    """A fresh UUID per document, or one derived from the report when output must be
    reproducible (the same scan then names the same document)."""
    if not reproducible():
        return uuid.uuid4()
    from scanner.formats.json import report_document

    digest = hashlib.sha256(
        json.dumps(report_document(result), sort_keys=True).encode("utf-8")
    ).hexdigest()
    return uuid.uuid5(uuid.NAMESPACE_URL, f"{NAMESPACE}/{digest}")


def ordered(components: tuple[Component, ...]) -> list[Component]:
    """Components in a stable order (by ref), whatever order the sources found them in."""
    return sorted(components, key=lambda c: c.ref)


def spdx_expression(expression: str, kb: LicenseKnowledgeBase) -> str:
    """An effective license (knowledge-base keys) as an SPDX expression: each key becomes its
    SPDX id, ScanCode `LicenseRef-scancode-*` or `LicenseRef-aiscan-*`."""
    from license_expression import LicenseSymbol, Licensing

    licensing = Licensing()
    parsed = licensing.parse(expression, validate=False)
    mapping = {
        symbol: LicenseSymbol(kb[symbol.key].spdx_ref)
        for symbol in licensing.license_symbols(parsed, unique=True)
        if symbol.key in kb
    }
    return str(parsed.subs(mapping)) if mapping else str(parsed)


def license_keys(expression: str | None) -> list[str]:
    """The distinct knowledge-base keys of an expression, sorted."""
    from scanner.licensing.expressions import expression_keys

    return sorted(set(expression_keys(expression)))


@dataclass(frozen=True)
class Ancestor:
    """One model a component derives from, directly (`depth` 1) or through others.

    `relation` is what the card of the model one step below says (`finetune`, `adapter`,
    `quantized`, `merge`), or None when unstated. `component` is the scanned component with that
    name, when the scan found it; `revision` the commit lineage resolution found elsewhere.
    """

    name: str
    depth: int
    relation: str | None
    component: Component | None
    revision: str | None = None


def lineage(component: Component, components: tuple[Component, ...]) -> list[Ancestor]:
    """The base-model chain of a model, breadth first, each ancestor once (cycle-safe).

    Lineage resolution's record (`Component.lineage`, which also knows bases found in the HF
    cache, on the Hub or in the catalogue) is used when present; otherwise the chain is followed
    through `base_model` links between the scanned components.
    """
    by_name = {c.name.lower(): c for c in components if c.type == "model"}
    if component.lineage:
        return [
            Ancestor(a.name, len(a.chain), a.relation, by_name.get(a.name.lower()), a.revision)
            for a in component.lineage
            if a.name.lower() != component.name.lower()
        ]
    found: list[Ancestor] = []
    seen = {component.name.lower()}
    frontier = [component]
    depth = 0
    while frontier:
        depth += 1
        following = []
        for child in frontier:
            relation = child.card.base_model_relation if child.card else None
            for name in child.base_models:
                if name.lower() in seen:
                    continue
                seen.add(name.lower())
                scanned = by_name.get(name.lower())
                found.append(Ancestor(name, depth, relation, scanned))
                if scanned is not None:
                    following.append(scanned)
        frontier = following
    return found


def named_datasets(result: ScanResult) -> Iterator[str]:
    """Datasets cards name that the scan did not find as components, sorted and unique."""
    scanned = {c.name.lower() for c in result.components if c.type == "dataset"}
    names = {d for c in result.components for d in c.datasets if d.lower() not in scanned}
    yield from sorted(names)


def dataset_ref(name: str, result: ScanResult) -> str:
    """The ref of the dataset component a card names: the scanned one, else `dataset:named/…`."""
    for component in result.components:
        if component.type == "dataset" and component.name.lower() == name.lower():
            return component.ref
    return f"dataset:named/{name}"


def library_dependencies(component: Component, result: ScanResult) -> list[str]:
    """Refs of scanned libraries a model's card says it runs on (`library_name`)."""
    wanted = component.card.library_name if component.card else None
    if not wanted:
        return []
    return sorted(
        c.ref for c in result.components if c.type == "library" and c.name.lower() == wanted.lower()
    )


def adapter_dependencies(component: Component) -> bool:
    """An adapter cannot run without its base model, so its base is a dependency too."""
    return component.card is not None and component.card.base_model_relation == "adapter"


def declared_expression(
    component: Component, kb: LicenseKnowledgeBase
) -> tuple[str | None, list[str]]:
    """The declared license as one SPDX expression (None unless every value maps), and the
    values that map to no SPDX identifier."""
    return declared_values_expression(component.license.declared, kb)


def declared_values_expression(
    values: Iterable[str], kb: LicenseKnowledgeBase
) -> tuple[str | None, list[str]]:
    """`declared_expression` for bare declared values, so `aiscan diff` can put a report's
    licenses in the terms an SPDX writer would have used."""
    parts, unmapped = [], []
    for value in values:
        resolved = resolve_declared(value, kb)
        if resolved.expression is None:
            unmapped.append(value)
        else:
            expression = spdx_expression(resolved.expression, kb)
            parts.append(f"({expression})" if " OR " in expression else expression)
    if unmapped or not parts:
        return None, unmapped
    return " AND ".join(dict.fromkeys(parts)), unmapped
