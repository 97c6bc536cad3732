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
import re
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import PurePath

from scanner.errors import UsageError
from scanner.inventory import Component, FileEntry, ScanResult
from scanner.licensing.expressions import resolve_declared
from scanner.licensing.knowledge_base import LicenseKnowledgeBase
from scanner.licensing.python_licenses import classifiers_to_spdx

WEIGHTS_FORMATS = frozenset({"safetensors", "gguf", "pickle", "onnx"})
"""File formats that hold a model's weights: the bytes that are the model."""

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
    licenses: tuple[str, ...] = ()
    """Knowledge-base keys of the ancestor's own terms, as lineage resolution found them."""
    found_in: str | None = None

    @property
    def version(self) -> str | None:
        """The scanned component's version, else the commit lineage resolution found."""
        return self.component.version if self.component is not None else self.revision

    @property
    def purl(self) -> str | None:
        """The scanned component's purl; for a base found elsewhere under a Hub repo id, its
        `pkg:huggingface` purl (with the commit when known). None for a name the Hub said
        does not exist, or one that is no repo id."""
        if self.component is not None:
            return self.component.purl
        if self.found_in in ("missing", "card-text") or hub_namespace(self.name) is None:
            return None
        return f"pkg:huggingface/{self.name}" + (f"@{self.revision}" if self.revision else "")

    @property
    def license_expression(self) -> str | None:
        """The ancestor's license (knowledge-base keys): the scanned component's effective one,
        else the terms lineage resolution found for it."""
        if self.component is not None and self.component.license.effective:
            return self.component.license.effective
        return " AND ".join(self.licenses) or None


def lineage(component: Component, components: tuple[Component, ...]) -> list[Ancestor]:
    """The base-model chain of a model, breadth first, each ancestor once (cycle-safe).

    Lineage resolution's record (`Component.lineage`, which also knows bases found in the HF
    cache, on the Hub or in the catalogue) is used when present; otherwise the chain is followed
    through `base_model` links between the scanned components.
    """
    by_name = {c.name.lower(): c for c in components if c.type == "model"}
    if component.lineage:
        return [
            Ancestor(
                a.name,
                len(a.chain),
                a.relation,
                by_name.get(a.name.lower()),
                a.revision,
                a.licenses,
                a.found_in,
            )
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
        # A package's Trove classifiers are declared as one `; `-joined value (already in
        # SPDX terms); a card's or a License field's value is a name, id or expression.
        expression = (
            spdx_expression(resolved.expression, kb)
            if resolved.expression is not None
            else classifiers_to_spdx(value, kb)
        )
        if expression is None:
            unmapped.append(value)
        else:
            parts.append(f"({expression})" if " OR " in expression else expression)
    if unmapped or not parts:
        return None, unmapped
    return " AND ".join(dict.fromkeys(parts)), unmapped


_HUB_NAMESPACE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,95}")
"""What the Hub accepts as a user or organisation name; anything else names no supplier."""


def hub_namespace(name: str) -> str | None:
    """The organisation or user of a Hub repo id (`org/name`): who publishes it on the Hub.
    None for a name that is no repo id (a hostile card's `base_model` with a newline in it
    names no one, and so forges no supplier line)."""
    namespace, slash, rest = name.partition("/")
    if not slash or not rest or "/" in rest or not _HUB_NAMESPACE.fullmatch(namespace):
        return None
    return namespace


def supplier(component: Component) -> str | None:
    """Who supplies a component, where the facts say: the Hub organisation of a model or dataset
    read from the Hub or the HF cache (its repo id), or the author or maintainer a package's
    metadata names. None when nothing says (a local folder's name is not a publisher)."""
    if component.type == "library":
        metadata = component.library.metadata
        return metadata.supplier if metadata is not None else None
    from_hub = component.source in ("hub", "hfcache") or (component.purl or "").startswith(
        "pkg:huggingface/"
    )
    return hub_namespace(component.name) if from_hub else None


def model_weights(component: Component) -> FileEntry | None:
    """The one measured weights file of a model, whose SHA-256 identifies the model itself.

    Consumers count hashes on components, not on nested files; a model whose weights are one
    file is exactly that file's bytes, so its digest is the model's. A model sharded over
    several files (or with none hashed) gets no model-level hash: a digest of digests would be
    one no tool can check.
    """
    weights = [f for f in component.files if f.format in WEIGHTS_FORMATS]
    if len(weights) == 1 and weights[0].sha256:
        return weights[0]
    return None


def dependencies(result: ScanResult) -> dict[str, list[str]]:
    """What each component needs, by ref: a package's Requires-Dist graph (as the project source
    recorded it), a model's library (card `library_name`), the datasets its card names and, for
    an adapter, its base. Only refs a BOM writes are kept; every component has an entry."""
    present = {c.ref for c in result.components}
    graph: dict[str, list[str]] = {}
    for component in ordered(result.components):
        needs = [r for r in component.library.depends_on if r in present]
        if component.type == "model":
            needs += library_dependencies(component, result)
            needs += [dataset_ref(name, result) for name in component.datasets]
            if adapter_dependencies(component):
                needs += [
                    a.component.ref
                    for a in lineage(component, result.components)
                    if a.depth == 1 and a.component is not None
                ]
        graph[component.ref] = sorted(set(needs) - {component.ref})
    return graph


def direct_components(result: ScanResult) -> list[str]:
    """Refs of what the scanned targets themselves hold: every model, dataset and file, and the
    packages a project requires directly (all of them when it declares no requirements). The
    document's subject depends on these; the rest are reached through them."""
    return [
        c.ref
        for c in ordered(result.components)
        if c.type != "library" or c.library.direct is not False
    ]


def subject_name(result: ScanResult) -> str:
    """A name for what was scanned: the target's folder or repo name, or all targets' names."""
    names = [
        t.removeprefix("hf://").split("@", 1)[0]
        if t.startswith("hf://")
        else PurePath(t.rstrip("/\\")).name or t
        for t in result.targets
    ]
    return ", ".join(dict.fromkeys(names)) or "aiscan scan"


_COMMIT = re.compile(r"[0-9a-f]{40}")


def bom_version(component: Component) -> str | None:
    """The version a BOM states: a model loaded in code names a revision, which is a version
    only when it is a commit (`revision="main"` is a branch whose content moves)."""
    reference = component.code_reference
    if reference is not None and not _COMMIT.fullmatch(component.version or ""):
        return None
    return component.version


HUB_URL = "https://huggingface.co"
"""Where `pkg:huggingface` purls point (the purl type's default repository)."""


def hub_download_location(name: str, kind: str, revision: str | None) -> str | None:
    """Where a Hub repo is downloaded from, for SPDX `downloadLocation`: its git repository, at
    the commit when one is known (`git+https://huggingface.co/org/name@<commit>`, SPDX's VCS
    form; a dataset's under `/datasets/`). None for a name that is no Hub repo id (the repo
    part in the Hub's own alphabet too): nothing else says where a local folder or an installed
    package came from."""
    if hub_namespace(name) is None or not _HUB_NAMESPACE.fullmatch(name.partition("/")[2]):
        return None  # a card's hostile name writes no URL
    url = f"{HUB_URL}/{'datasets/' if kind == 'dataset' else ''}{name}"
    if revision is not None and _COMMIT.fullmatch(revision):
        return f"git+{url}@{revision}"
    return url


def download_location(component: Component) -> str | None:
    """`hub_download_location` of a model or dataset read from the Hub or the HF cache (the
    components `supplier` names by their Hub organisation); None for anything else."""
    if component.type not in ("model", "dataset") or supplier(component) is None:
        return None
    return hub_download_location(component.name, component.type, bom_version(component))
