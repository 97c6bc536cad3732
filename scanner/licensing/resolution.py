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
    """Return the components with their effective license and category filled in.

    Inheritance walks every ancestor reachable through `base_model` links (breadth first, each
    visited once), so the outcome is the same whatever order the components were found in and
    a cycle in card data cannot loop.
    """
    by_name = {c.name.lower(): c for c in components if c.type == "model"}
    own = {c.ref: _own_terms(c, kb) for c in components}
    resolved = []
    for component in components:
        inherited: list[str] = []
        evidence: list[Evidence] = []
        for ancestor, path in _ancestors(component, by_name):
            for key in own[ancestor.ref].keys:
                entry = kb.entries.get(key)
                if entry is None or not entry.derivatives_inherit or key in inherited:
                    continue
                inherited.append(key)
                via = f" (via {' -> '.join(path[:-1])})" if len(path) > 1 else ""
                evidence.append(
                    Evidence(
                        f"base model {ancestor.name}",
                        f"{ancestor.ref}{via} is under {key} ({entry.name}), "
                        "whose terms flow down to derivatives",
                    )
                )
        resolved.append(
            dataclasses.replace(
                component,
                license=own[component.ref].conclude(component.license, inherited, evidence, kb),
            )
        )
    return resolved


def _ancestors(
    component: Component, by_name: dict[str, Component]
) -> list[tuple[Component, list[str]]]:
    """Every scanned ancestor of `component` with the chain of names leading to it."""
    found: list[tuple[Component, list[str]]] = []
    seen = {component.ref}
    queue = [(component, [])]
    while queue:
        current, path = queue.pop(0)
        for name in current.base_models:
            base = by_name.get(name.lower())
            if base is None or base.ref in seen:
                continue
            seen.add(base.ref)
            chain = [*path, base.name]
            found.append((base, chain))
            queue.append((base, chain))
    return found


@dataclasses.dataclass(frozen=True)
class _OwnTerms:
    """A component's own license terms, before anything is inherited."""

    expressions: tuple[str, ...]
    keys: frozenset[str]
    unresolved: bool
    evidence: tuple[Evidence, ...]

    def conclude(
        self,
        facts: LicenseFacts,
        inherited: list[str],
        inherited_evidence: list[Evidence],
        kb: LicenseKnowledgeBase,
    ) -> LicenseFacts:
        added = [key for key in inherited if key not in self.keys]
        effective = conjoin([*self.expressions, *added])
        return LicenseFacts(
            declared=facts.declared,
            detected=facts.detected,
            effective=effective,
            category="unknown" if self.unresolved else expression_category(effective, kb),
            inherited=tuple(inherited),
            evidence=(*facts.evidence, *self.evidence, *inherited_evidence),
        )


def _own_terms(component: Component, kb: LicenseKnowledgeBase) -> _OwnTerms:
    """Declared licenses mapped to the knowledge base, plus licenses detected in files."""
    facts = component.license
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
        else:
            evidence.append(
                Evidence("knowledge base", f"declared {value!r} is not a known license")
            )
    keys = {key for expression in expressions for key in expression_keys(expression)}
    for key in facts.detected:
        if key not in keys:
            expressions.append(key)
            keys.add(key)
    return _OwnTerms(tuple(expressions), frozenset(keys), unresolved, tuple(evidence))
