"""The `license.*` rules: missing, unknown, denied, conflicting and conditional licenses.

Conditions, obligations and restrictions come from the knowledge base entry of every license in
the effective expression, so a fine-tune inherits its base model's obligations too.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from scanner.checks.interface import Check, CheckContext, finding
from scanner.inventory import Component, Finding
from scanner.licensing.expressions import (
    category_rank,
    conjoin,
    expression_category,
    expression_keys,
    resolve_declared,
)
from scanner.licensing.knowledge_base import USES, LicenseEntry
from scanner.licensing.matching import describe
from scanner.readers.card import declared_licenses
from scanner.readers.weights_metadata import weights_declarations


def _card_licenses(component: Component) -> tuple[str, ...]:
    """What the component's card declares (nothing for a card that could not be read)."""
    card = component.card
    return declared_licenses(card) if card is not None and card.error is None else ()


def cite(section: str) -> str:
    """'§1.b.i' for bare section numbers; headings such as 'Section 3(a)' stay as written."""
    return f"§{section}" if section[:1].isdigit() else section


class LicenseCheck(Check):
    """Judges the license facts of models and datasets."""

    name = "license"

    def run(self, components: Sequence[Component], context: CheckContext) -> Iterator[Finding]:
        for component in components:
            if component.type in ("model", "dataset") and component.code_reference is None:
                yield from self._check(component, context)

    def _check(self, component: Component, context: CheckContext) -> Iterator[Finding]:
        facts = component.license
        kb = context.kb
        declared = [resolve_declared(value, kb) for value in facts.declared]
        for item in declared:
            for name in item.unresolved:
                yield finding(
                    "license.unresolved",
                    component,
                    f"declared license {name!r} is not in the knowledge base; review its terms by hand",
                    declared=item.written,
                )
        if facts.effective is None:
            similar = [
                (entry.path, match)
                for entry in component.files
                for match in entry.license_match
                if match.verdict == "similar" and match.key in kb
            ]
            if not facts.declared and similar:
                for path, match in similar:
                    yield finding(
                        "license.unresolved",
                        component,
                        f"{describe(match, kb[match.key].name, path)}; a variant is another "
                        "license: review its terms by hand",
                        file=path,
                        similar_to=match.key,
                    )
            elif not facts.declared:
                yield finding(
                    "license.missing",
                    component,
                    "no license declared in a model card and no license file recognised",
                    card=component.card.path if component.card else None,
                )
            return

        declared_keys = {key for item in declared for key in item.keys}
        card_values = _card_licenses(component)
        undeclared_detected = [key for key in facts.detected if key not in declared_keys]
        if declared_keys and undeclared_detected:
            yield finding(
                "license.mismatch",
                component,
                f"{'card' if card_values else 'weights metadata'} declares "
                f"{', '.join(facts.declared)} but the license file contains "
                f"{', '.join(undeclared_detected)}",
                declared=list(facts.declared),
                detected=list(facts.detected),
            )
        yield from self._metadata_mismatches(component, context, card_values)

        # The card is the publisher's statement; the weights' metadata stands in without one.
        stated = (
            {key for value in card_values for key in resolve_declared(value, kb).keys}
            if card_values
            else declared_keys
        )
        own_keys = stated | set(facts.detected)
        yield from self._conflicts(component, context, own_keys)
        for key in expression_keys(facts.effective):
            entry = kb.entries.get(key)
            if entry is not None:
                yield from self._policy(component, context, entry)
                yield from self._terms(component, context, entry)

    def _metadata_mismatches(
        self, component: Component, context: CheckContext, card_values: tuple[str, ...]
    ) -> Iterator[Finding]:
        """A weights file whose own metadata declares a license the card does not."""
        if not card_values:
            return
        kb = context.kb
        card_keys = {key for value in card_values for key in resolve_declared(value, kb).keys}
        written = {value.lower() for value in card_values}
        for declaration in weights_declarations(component.files):
            differing = []
            for value in declaration.licenses:
                keys = resolve_declared(value, kb).keys
                if (keys and not set(keys) <= card_keys) or (
                    not keys and value.lower() not in written
                ):
                    differing.append(value)
            if differing:
                yield finding(
                    "license.mismatch",
                    component,
                    f"card declares {', '.join(card_values)} but the metadata of "
                    f"{declaration.file} declares {', '.join(differing)}",
                    declared=list(card_values),
                    metadata=list(declaration.licenses),
                    file=declaration.file,
                )

    def _conflicts(
        self, component: Component, context: CheckContext, own_keys: set[str]
    ) -> Iterator[Finding]:
        kb = context.kb
        own_expression = conjoin(sorted(own_keys))
        own_category = expression_category(own_expression, kb) if own_keys else None
        for key in component.license.inherited:
            if key in own_keys or own_category is None:
                continue
            inherited = kb[key]
            if category_rank(own_category) >= category_rank(inherited.category):
                continue
            carriers = [a for a in component.lineage if key in a.licenses]
            linked = [a for a in carriers if a.found_in != "card-text"]
            lineage = [" -> ".join((component.name, *a.chain)) + f" [{a.found_in}]" for a in linked]
            if linked:
                chain = [
                    e.value for e in component.license.evidence if e.source.startswith("base model")
                ]
                yield finding(
                    "license.conflict-with-base",
                    component,
                    f"declares {own_expression} ({own_category}) but its base model is under "
                    f"{key} ({inherited.category}), whose terms flow down to derivatives: "
                    + "; ".join(lineage),
                    declared=own_expression,
                    inherited=key,
                    base_models=list(component.base_models),
                    chain=chain,
                    lineage=lineage,
                )
            else:
                quotes = [a.evidence for a in carriers]
                yield finding(
                    "license.undeclared-base",
                    component,
                    f"declares {own_expression} ({own_category}) but its card says it is built on "
                    f"{', '.join(a.name for a in carriers)}, under {key} ({inherited.category}), "
                    "whose terms flow down to derivatives; the card names no such base_model",
                    declared=own_expression,
                    inherited=key,
                    quotes=quotes,
                )

    def _policy(
        self, component: Component, context: CheckContext, entry: LicenseEntry
    ) -> Iterator[Finding]:
        rules = context.policy.licenses
        if entry.key in rules.deny:
            yield finding(
                "license.denied",
                component,
                f"{entry.key} is denied by the policy",
                license=entry.key,
            )
        elif entry.category in rules.deny_categories:
            yield finding(
                "license.denied",
                component,
                f"{entry.key} is {entry.category}, a category the policy denies",
                license=entry.key,
                category=entry.category,
            )
        elif rules.allow and entry.key not in rules.allow:
            yield finding(
                "license.denied",
                component,
                f"{entry.key} is not on the policy's allow list",
                license=entry.key,
            )

    def _terms(
        self, component: Component, context: CheckContext, entry: LicenseEntry
    ) -> Iterator[Finding]:
        commercial = context.policy.context.commercial_use
        if entry.category == "research-only" and commercial is not False:
            yield finding(
                "license.research-only",
                component,
                f"{entry.name} limits use to research"
                + ("; the policy context says the use is commercial" if commercial else ""),
                severity=None if commercial else "warning",
                license=entry.key,
            )
        elif not entry.commercial_use and commercial is not False:
            yield finding(
                "license.noncommercial",
                component,
                f"{entry.name} forbids commercial use"
                + ("; the policy context says the use is commercial" if commercial else ""),
                severity=None if commercial else "warning",
                license=entry.key,
            )
        mau = context.policy.context.monthly_active_users
        for condition in entry.conditions:
            threshold = condition.parameters.get("monthly_active_users_over")
            if condition.id != "monthly-active-users" or threshold is None:
                continue
            evidence = {"license": entry.key, "section": condition.section, "threshold": threshold}
            if mau is None:
                yield finding(
                    "license.mau-threshold",
                    component,
                    f"{entry.key}: {condition.summary} (policy context does not state monthly_active_users)",
                    severity="note",
                    **evidence,
                )
            elif mau > threshold:
                yield finding(
                    "license.mau-threshold",
                    component,
                    f"{entry.key}: {mau:,} monthly active users exceed {threshold:,}; {condition.summary}",
                    severity="error",
                    monthly_active_users=mau,
                    **evidence,
                )
        for obligation in entry.obligations:
            exact = f'"{obligation.text}". ' if obligation.text else ""
            yield finding(
                "license.obligation",
                component,
                f"{entry.key} {cite(obligation.section)} {obligation.id}: {exact}{obligation.summary}",
                license=entry.key,
                obligation=obligation.id,
                section=obligation.section,
                text=obligation.text,
            )
        uses = context.policy.context.uses
        for restriction in entry.restrictions:
            conflicting = [use for use in uses if restriction.id in USES[use]]
            if conflicting:
                yield finding(
                    "license.use-restricted",
                    component,
                    f"{entry.key} {cite(restriction.section)} {restriction.id}: "
                    f"{restriction.summary} The policy context says the product uses it for "
                    f"{', '.join(conflicting)}.",
                    license=entry.key,
                    restriction=restriction.id,
                    section=restriction.section,
                    uses=conflicting,
                )
            if restriction.id == "acceptable-use-policy":
                yield finding(
                    "license.acceptable-use-policy",
                    component,
                    f"{entry.key} {cite(restriction.section)}: {restriction.summary}"
                    + (f" ({restriction.url})" if restriction.url else ""),
                    license=entry.key,
                    section=restriction.section,
                    url=restriction.url,
                )
