"""The `license.*` rules: missing, unknown, denied, conflicting and conditional licenses.

Conditions, obligations and restrictions come from the knowledge base entry of every license in
the effective expression, so a fine-tune inherits its base model's obligations too.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from scanner.checks.interface import Check, CheckContext, finding
from scanner.inventory import Ancestor, Component, Finding
from scanner.licensing.expressions import (
    category_rank,
    conjoin,
    expression_category,
    expression_keys,
    resolve_declared,
)
from scanner.licensing.knowledge_base import USES, LicenseEntry, cite
from scanner.licensing.lineage import RESOLVED
from scanner.licensing.resolution import passed_on_notices
from scanner.readers.card import declared_licenses
from scanner.readers.weights_metadata import weights_declarations


def _card_licenses(component: Component) -> tuple[str, ...]:
    """What the component's card declares (nothing for a card that could not be read)."""
    card = component.card
    return declared_licenses(card) if card is not None and card.error is None else ()


class LicenseCheck(Check):
    """Judges the license facts of models and datasets."""

    name = "license"

    def run(self, components: Sequence[Component], context: CheckContext) -> Iterator[Finding]:
        for component in components:
            if _judged_here(component):
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
                        f"{match.describe(kb[match.key].name, path)}; a variant is another "
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
            for ancestor, base_license in passed_on_notices(component.lineage, kb):
                yield from self._obligations(component, base_license, ancestor)
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
        reported: set[str] = set()
        for conflict in self._conflicts(component, context, own_keys):
            reported.add(conflict.evidence["inherited"])
            yield conflict
        yield from self._laundered_in_chain(component, context, reported, own_keys)
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

    def _laundered_in_chain(
        self,
        component: Component,
        context: CheckContext,
        reported: set[str],
        own_keys: set[str] | None,
    ) -> Iterator[Finding]:
        """An ancestor that declares terms less restrictive than a base further up its own chain
        (a GGUF of a fine-tune relabelled apache-2.0 over Llama) is reported on this model too,
        with the whole chain and each step's license, once per laundered license (`reported`
        holds those this model's own conflict already names). It is a warning when this model's
        own terms (`own_keys`) already cover the laundered one: its license is right, the
        step below it is not."""
        kb = context.kb
        linked = [a for a in component.lineage if a.found_in in RESOLVED]
        by_name = {a.name.lower(): a for a in linked}
        own = conjoin(sorted(own_keys)) if own_keys else None
        own_category = expression_category(own, kb) if own else None
        for ancestor in linked:
            if not ancestor.licenses:
                continue
            declared = conjoin(list(ancestor.licenses))
            category = expression_category(declared, kb)
            for deeper in linked:
                depth = len(ancestor.chain)
                if len(deeper.chain) <= depth or deeper.chain[:depth] != ancestor.chain:
                    continue
                for key in deeper.licenses:
                    entry = kb.entries.get(key)
                    if (
                        entry is None
                        or not entry.derivatives_inherit
                        or key in ancestor.licenses
                        or key in reported
                        or category_rank(category) >= category_rank(entry.category)
                    ):
                        continue
                    reported.add(key)
                    steps = [_step(name, by_name.get(name.lower())) for name in deeper.chain]
                    chain = " -> ".join(
                        [f"{component.name} ({own})" if own else component.name, *steps]
                    )
                    covered = own_category is not None and category_rank(
                        own_category
                    ) >= category_rank(entry.category)
                    yield finding(
                        "license.conflict-with-base",
                        component,
                        f"its base model {ancestor.name} declares {declared} ({category}) but is "
                        f"built on {deeper.name}, under {key} ({entry.category}), whose terms flow "
                        f"down to derivatives: {chain} [{deeper.found_in}]",
                        severity="warning" if covered else None,
                        declared=own,
                        inherited=key,
                        laundered_by=ancestor.name,
                        laundered_as=declared,
                        base_models=list(component.base_models),
                        chain=chain,
                        lineage=[
                            " -> ".join((component.name, *deeper.chain)) + f" [{deeper.found_in}]"
                        ],
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
        yield from self._obligations(component, entry)
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

    def _obligations(
        self, component: Component, entry: LicenseEntry, base: Ancestor | None = None
    ) -> Iterator[Finding]:
        """One finding per obligation of `entry`; `base` is the ancestor it comes from when the
        model has no license of its own to carry it."""
        via = (
            f" (base model {base.name} is under {entry.key}; redistributing its work inside this "
            "model is bound by it)"
            if base is not None
            else ""
        )
        for obligation in entry.obligations:
            exact = f'"{obligation.text}". ' if obligation.text else ""
            yield finding(
                "license.obligation",
                component,
                f"{entry.key} {cite(obligation.section)} {obligation.id}: {exact}"
                f"{obligation.summary}{via}",
                license=entry.key,
                obligation=obligation.id,
                section=obligation.section,
                text=obligation.text,
                base_model=base.name if base is not None else None,
                chain=list(base.chain) if base is not None else None,
            )


def _judged_here(component: Component) -> bool:
    """Whether this component's license is judged: every stored model and dataset, a weights
    file given alone whose metadata declares a license or a base, and a model named in code
    whose facts came from the HF cache, the Hub or the catalogue (one the scan holds is judged
    on the scanned component; one nobody knows has no license facts to judge)."""
    if component.type == "file":
        return bool(component.license.declared or component.base_models)
    if component.type not in ("model", "dataset"):
        return False
    reference = component.code_reference
    return reference is None or (reference.found_in is not None and reference.found_in != "scan")


def _step(name: str, ancestor: Ancestor | None) -> str:
    """One step of a chain as shown: the model and the license it declares."""
    if ancestor is None or not ancestor.licenses:
        return name
    return f"{name} ({conjoin(list(ancestor.licenses))})"
