"""Decides which license governs each component: declared, detected and inherited terms.

This is the one step between facts and findings: it fills `LicenseFacts.effective` and
`category` and says why in the evidence. A derivative carries its base model's terms when the
base's license flows down (`derivatives_inherit`); bases are found by `lineage.py` in the scan,
the HF cache, the Hub or the offline catalogue.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence

from scanner.inventory import Ancestor, Component, Evidence, LicenseFacts
from scanner.licensing.catalogue import ModelCatalogue, ModelFamily
from scanner.licensing.expressions import (
    conjoin,
    expression_category,
    expression_keys,
    resolve_declared,
)
from scanner.licensing.knowledge_base import LicenseEntry, LicenseKnowledgeBase
from scanner.licensing.lineage import (
    RESOLVED,
    UNRESOLVED,
    BaseModelLookup,
    LineageWalker,
    ScanLookup,
    is_local_path,
)


def resolve_licenses(
    components: Sequence[Component],
    kb: LicenseKnowledgeBase,
    lookups: Sequence[BaseModelLookup] = (),
    catalogue: ModelCatalogue | None = None,
    on_lookup: Callable[[str], None] | None = None,
) -> list[Component]:
    """Return the components with their lineage, effective license and category filled in.

    Bases are looked up among the scanned components first, then in `lookups` (HF cache, Hub,
    catalogue) in order. Inheritance takes every ancestor reachable through `base_model` links
    (and families the card's prose names), each visited once, so the outcome is the same
    whatever order the components were found in and a cycle in card data cannot loop. A model
    named in code is looked up in the same places by the id it is loaded by, and concluded from
    what the first place holds, like any scanned model.
    """
    if catalogue is not None:
        components = [
            _with_ollama_reference(
                _with_library_family(_with_mentions(c, catalogue), catalogue), catalogue
            )
            for c in components
        ]
    stored = [c for c in components if c.code_reference is None]
    walker = LineageWalker([ScanLookup(stored), *lookups], kb, catalogue, on_lookup)
    components = [_with_referenced_facts(c, walker) for c in components]
    own = {c.ref: own_terms(c.license, kb) for c in components}
    resolved = []
    for component, lineage in zip(components, walker.walk(components), strict=True):
        inherited: list[str] = []
        evidence: list[Evidence] = []
        for ancestor in lineage:
            for key in ancestor.licenses:
                entry = kb.entries.get(key)
                if entry is None or not entry.derivatives_inherit or key in inherited:
                    continue
                inherited.append(key)
                evidence.append(_inheritance_evidence(ancestor, key, entry.name))
        resolved.append(
            dataclasses.replace(
                component,
                lineage=lineage,
                license=own[component.ref].conclude(
                    component.license, lineage, inherited, evidence, kb
                ),
            )
        )
    return resolved


_PLACES = {"scan": "this scan", "hfcache": "the HF cache", "hub": "the Hub"}


def _with_referenced_facts(component: Component, walker: LineageWalker) -> Component:
    """A model named in code (`from_pretrained("meta-llama/Llama-2-7b-hf")`) with the license
    facts and base models of the model that id names, from the first place that knows it, and
    evidence saying which; one that no place knows keeps no license, with evidence saying who
    was asked. Local paths and names computed at run time are no repo ids and are not asked."""
    reference = component.code_reference
    if (
        reference is None
        or component.type != "model"
        or not reference.resolved
        or reference.registry != "hub"
        or is_local_path(component.name)
    ):
        return component
    found_in, answer = walker.identify(component.name)
    if found_in is None or answer.component is None:
        evidence = Evidence(
            "code reference",
            f"{component.name} could not be looked up ({answer.problem}); its license is unknown",
        )
        return dataclasses.replace(
            component,
            license=dataclasses.replace(
                component.license, evidence=(*component.license.evidence, evidence)
            ),
        )
    model = answer.component
    where = f"{_PLACES[found_in]}: " if found_in in _PLACES else ""
    evidence = Evidence(
        f"code reference ({found_in})",
        f"{component.name} is known to {where}{answer.evidence}",
    )
    license = LicenseFacts(
        declared=model.license.declared,
        detected=model.license.detected,
        evidence=(*component.license.evidence, evidence, *model.license.evidence),
    )
    return dataclasses.replace(
        component,
        license=license,
        base_models=model.base_models,
        details=dataclasses.replace(reference, found_in=found_in),
    )


def _with_mentions(component: Component, catalogue: ModelCatalogue) -> Component:
    """The component with the model families its card's prose names as its base (the name
    lets a model-zoo table's row for this very model count)."""
    card = component.card
    if card is None or not card.prose:
        return component
    mentions = catalogue.mentions(card.prose, component.name)
    details = dataclasses.replace(
        component.model, card=dataclasses.replace(card, mentions=mentions)
    )
    return dataclasses.replace(component, details=details)


def _with_library_family(component: Component, catalogue: ModelCatalogue) -> Component:
    """An Ollama library model (`ollama pull llama3.1`) that declares no license and ships no
    license layer aiscan recognises is recognised by its name: the catalogue family it belongs
    to gives its license (as `detected`, with the citation as evidence), and the family's own
    base, if any, continues its lineage."""
    ollama = component.model.ollama
    facts = component.license
    if ollama is None or not ollama.library or facts.declared or facts.detected:
        return component
    family = catalogue.lookup_ollama(ollama.model, ollama.tag)
    if family is None:
        return component
    return _with_family(component, family, f"{ollama.model}:{ollama.tag}")


def _with_family(component: Component, family: ModelFamily, name: str) -> Component:
    """An Ollama library model (`name` is `model:tag`) with its catalogue family's license, as
    `detected` with the citation as evidence, and the family's own base continuing its
    lineage."""
    facts = component.license
    evidence = Evidence(
        "catalogue",
        f"Ollama library model {name} is {family.family}, under "
        f"{family.license}: {family.citation}",
    )
    bases = component.base_models
    if family.base and family.base.lower() not in {b.lower() for b in bases}:
        bases = (*bases, family.base)
    license = dataclasses.replace(
        facts, detected=(family.license,), evidence=(*facts.evidence, evidence)
    )
    return dataclasses.replace(component, license=license, base_models=bases)


def _with_ollama_reference(component: Component, catalogue: ModelCatalogue) -> Component:
    """A model that code or a deployment file names by its Ollama library name
    (`ollama pull llama3.1:8b`, `ChatOllama(model="gemma2")`) with the license of the catalogue
    family the name belongs to, as for an Ollama store's library model; a name the catalogue
    does not know keeps no license, with evidence saying so."""
    reference = component.code_reference
    if reference is None or reference.registry != "ollama" or not reference.resolved:
        return component
    name = component.name.removeprefix("library/")
    model, _, tag = name.partition(":")
    family = catalogue.lookup_ollama(model, tag or "latest")
    facts = component.license
    if family is None:
        evidence = Evidence(
            "catalogue",
            f"Ollama model {component.name} is not a library model the catalogue knows; "
            "its license is unknown",
        )
        return dataclasses.replace(
            component, license=dataclasses.replace(facts, evidence=(*facts.evidence, evidence))
        )
    named = _with_family(component, family, f"{model}:{tag or 'latest'}")
    return dataclasses.replace(named, details=dataclasses.replace(reference, found_in="catalogue"))


def resolve_package_licenses(
    components: Sequence[Component], kb: LicenseKnowledgeBase
) -> list[Component]:
    """Packages with their license concluded from the metadata their source recorded; the
    evidence of an answer from the package index says so."""
    if all(component.library.metadata is None for component in components):
        return list(components)
    from scanner.licensing.python_licenses import resolve_package_license  # packages only: 5 ms

    resolved = []
    for component in components:
        metadata = component.library.metadata
        if metadata is None:
            resolved.append(component)
            continue
        concluded = resolve_package_license(
            license_expression=metadata.license_expression,
            license_field=metadata.license,
            classifiers=metadata.classifiers,
            license_files=metadata.license_files,
            kb=kb,
        )
        evidence = concluded.evidence
        if metadata.origin == "index":
            evidence = tuple(Evidence(f"PyPI {e.source}", e.value) for e in evidence)
        facts = dataclasses.replace(concluded, evidence=(*component.license.evidence, *evidence))
        resolved.append(dataclasses.replace(component, license=facts))
    return resolved


_WHERE = {"hfcache": "HF cache ", "hub": "Hub "}


def _inheritance_evidence(ancestor: Ancestor, key: str, license_name: str) -> Evidence:
    """Say which ancestor passes `key` down, through which chain, and where that is known."""
    flows = f"is under {key} ({license_name}), whose terms flow down to derivatives"
    if ancestor.found_in == "card-text":
        return Evidence(
            "card text", f"says it is built on {ancestor.name}: {ancestor.evidence}; {flows}"
        )
    via = f" (via {' -> '.join(ancestor.chain[:-1])})" if len(ancestor.chain) > 1 else ""
    where = _WHERE.get(ancestor.found_in, "") + ancestor.evidence
    return Evidence(f"base model {ancestor.name}", f"{where}{via} {flows}")


@dataclasses.dataclass(frozen=True)
class OwnTerms:
    """A component's own license terms, before anything is inherited (`own_terms`)."""

    expressions: tuple[str, ...]
    keys: frozenset[str]
    unresolved: bool
    evidence: tuple[Evidence, ...]

    def conclude(
        self,
        facts: LicenseFacts,
        lineage: tuple[Ancestor, ...],
        inherited: list[str],
        inherited_evidence: list[Evidence],
        kb: LicenseKnowledgeBase,
    ) -> LicenseFacts:
        """The verdict. A base nobody could resolve makes the category `unknown` while the
        effective expression keeps the terms that are known: the base's terms may flow down,
        so the model's own declaration alone would be a false clean."""
        added = [key for key in inherited if key not in self.keys]
        effective = conjoin([*self.expressions, *added])
        unresolved = [a for a in lineage if a.found_in in UNRESOLVED]
        unknown = self.unresolved or bool(unresolved)
        return LicenseFacts(
            declared=facts.declared,
            detected=facts.detected,
            effective=effective,
            category="unknown" if unknown else expression_category(effective, kb),
            inherited=tuple(inherited),
            evidence=(
                *facts.evidence,
                *self.evidence,
                *inherited_evidence,
                *(_unresolved_evidence(a) for a in unresolved),
                *(() if effective else _notice_evidence(lineage, kb)),
            ),
        )


def _unresolved_evidence(ancestor: Ancestor) -> Evidence:
    chain = " -> ".join(ancestor.chain)
    return Evidence(
        f"base model {ancestor.name}",
        f"could not be resolved ({chain}): {ancestor.problem}; its terms may flow down, so the "
        "effective license is unknown until it is",
    )


def _notice_evidence(lineage: tuple[Ancestor, ...], kb: LicenseKnowledgeBase) -> list[Evidence]:
    """Why a model with no license of its own still carries its bases' obligations: the base's
    license does not flow down, so it grants nothing for the derivative, but redistributing
    the base's work inside it is still bound by that license's conditions."""
    found = []
    for ancestor, entry in passed_on_notices(lineage, kb):
        found.append(
            Evidence(
                f"base model {ancestor.name}",
                f"is under {entry.key} ({entry.name}), whose terms do not flow down: this model "
                "declares no license of its own, so no right to use it is granted, while the "
                f"base's obligations ({', '.join(o.id for o in entry.obligations)}) apply to "
                "redistributing it",
            )
        )
    return found


def passed_on_notices(
    lineage: tuple[Ancestor, ...], kb: LicenseKnowledgeBase
) -> list[tuple[Ancestor, LicenseEntry]]:
    """The bases (each license once, nearest first) whose license does not flow down but has
    obligations, for a model that has no license of its own to carry them."""
    found: list[tuple[Ancestor, LicenseEntry]] = []
    seen: set[str] = set()
    for ancestor in sorted(lineage, key=lambda a: len(a.chain)):
        if ancestor.found_in not in RESOLVED:
            continue
        for key in ancestor.licenses:
            entry = kb.entries.get(key)
            if entry is None or entry.derivatives_inherit or not entry.obligations or key in seen:
                continue
            seen.add(key)
            found.append((ancestor, entry))
    return found


def own_terms(facts: LicenseFacts, kb: LicenseKnowledgeBase) -> OwnTerms:
    """Declared licenses mapped to the knowledge base, plus licenses detected in files: a
    model's or a dataset's own terms, before anything is inherited."""
    expressions: list[str] = []
    evidence: list[Evidence] = []
    unresolved = False
    for value in facts.declared:
        declared = resolve_declared(value, kb)
        unresolved = unresolved or bool(declared.unresolved)
        if declared.expression:
            expressions.append(declared.expression)
            evidence.append(
                Evidence("knowledge base", f"declared {value!r} is {declared.expression}")
            )
            if declared.note:
                evidence.append(Evidence("knowledge base", declared.note))
        else:
            evidence.append(
                Evidence("knowledge base", f"declared {value!r} is not a known license")
            )
    keys = {key for expression in expressions for key in expression_keys(expression)}
    for key in facts.detected:
        if key not in keys:
            expressions.append(key)
            keys.add(key)
    return OwnTerms(tuple(expressions), frozenset(keys), unresolved, tuple(evidence))
