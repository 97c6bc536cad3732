"""Decides which license governs each component: declared, detected and inherited terms.

This is the one step between facts and findings: it fills `LicenseFacts.effective` and
`category` and says why in the evidence. A derivative carries its base model's terms when the
base's license flows down (`derivatives_inherit`); the base is looked up among the scanned
components by repository id.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from scanner.inventory import Component, Evidence, LicenseFacts
from scanner.licensing.expressions import (
    conjoin,
    expression_category,
    expression_keys,
    resolve_declared,
)
from scanner.licensing.knowledge_base import LicenseKnowledgeBase


def resolve_licenses(components: Sequence[Component], kb: LicenseKnowledgeBase) -> list[Component]:
    """Return the components with their effective license and category filled in."""
    by_name = {c.name.lower(): c for c in components if c.type == "model"}
    resolved: dict[str, Component] = {}

    def resolve(component: Component, chain: tuple[str, ...]) -> Component:
        if component.ref in resolved:
            return resolved[component.ref]
        bases = []
        for base_name in component.base_models:
            base = by_name.get(base_name.lower())
            if base is not None and base.ref not in chain and base.ref != component.ref:
                bases.append(resolve(base, (*chain, component.ref)))
        result = dataclasses.replace(component, license=_conclude(component, bases, kb))
        resolved[component.ref] = result
        return result

    return [resolve(c, ()) for c in components]


def _conclude(
    component: Component, bases: list[Component], kb: LicenseKnowledgeBase
) -> LicenseFacts:
    facts = component.license
    evidence = list(facts.evidence)
    own: list[str] = []
    unresolved: list[str] = []
    for value in facts.declared:
        declared = resolve_declared(value, kb)
        unresolved.extend(declared.unresolved)
        if declared.expression:
            own.append(declared.expression)
            evidence.append(
                Evidence("knowledge base", f"declared {value!r} is {declared.expression}")
            )
        else:
            evidence.append(
                Evidence("knowledge base", f"declared {value!r} is not a known license")
            )
    own_keys = {key for expression in own for key in expression_keys(expression)}
    for key in facts.detected:
        if key not in own_keys:
            own.append(key)
            own_keys.add(key)

    inherited: list[str] = []
    for base in bases:
        for key in expression_keys(base.license.effective):
            entry = kb.entries.get(key)
            if entry is None or not entry.derivatives_inherit or key in inherited:
                continue
            inherited.append(key)
            evidence.append(
                Evidence(
                    f"base model {base.name}",
                    f"{base.ref} is under {key} ({entry.name}), whose terms flow down to derivatives",
                )
            )
    effective = conjoin(own + [key for key in inherited if key not in own_keys])
    category = "unknown" if unresolved else expression_category(effective, kb)
    return LicenseFacts(
        declared=facts.declared,
        detected=facts.detected,
        effective=effective,
        category=category,
        inherited=tuple(inherited),
        evidence=tuple(evidence),
    )
