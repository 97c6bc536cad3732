"""The `dataset.*` rules: the licenses and origins of the data a model was trained on.

Each model's training data (its card's `datasets:`, with what dataset resolution found about
each) is judged, and so is each dataset scanned on its own. Training on data is not the same as
distributing it, so these findings say what is known (the dataset's license, who generated its
content and under which terms) and leave the weight to the policy: `dataset.license-denied` is
an error because the policy named the license; the others are warnings.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from scanner.checks.interface import Check, CheckContext, finding
from scanner.inventory import Component, DatasetOrigin, Finding, LicenseFacts, TrainingDataset
from scanner.licensing.expressions import expression_keys
from scanner.licensing.knowledge_base import LicenseKnowledgeBase

_NOT_COMMERCIAL = frozenset({"non-commercial", "research-only"})


def _noncommercial(facts: LicenseFacts, kb: LicenseKnowledgeBase) -> list[str]:
    """The license keys of the expression that forbid commercial use."""
    found = []
    for key in expression_keys(facts.effective):
        entry = kb.entries.get(key)
        if entry is not None and (not entry.commercial_use or entry.category in _NOT_COMMERCIAL):
            found.append(key)
    return found


class DatasetCheck(Check):
    """Judges the datasets behind each model, and each dataset scanned on its own."""

    name = "datasets"

    def run(self, components: Sequence[Component], context: CheckContext) -> Iterator[Finding]:
        for component in components:
            if component.type == "dataset":
                yield from self._own(component, context)
                continue
            for dataset in component.training_data:
                if dataset.role == "training":
                    yield from self._training(component, dataset, context)

    def _own(self, component: Component, context: CheckContext) -> Iterator[Finding]:
        """A scanned dataset: its license against the policy's dataset rules, and its origin.
        A missing or unknown license of its own is `license.missing`/`license.unresolved`."""
        origin = component.model.origin or DatasetOrigin()
        yield from self._denied(component, component.name, component.license, context)
        yield from self._generated(component, component.name, origin, "is")

    def _training(
        self, component: Component, dataset: TrainingDataset, context: CheckContext
    ) -> Iterator[Finding]:
        facts = dataset.license
        if facts.effective is None or facts.category == "unknown":
            declared = f" (declared: {', '.join(facts.declared)})" if facts.declared else ""
            reason = dataset.problem or (
                "its card states no license aiscan can identify"
                + declared
                + (
                    f" (dataset catalogue: {dataset.origin.citation})"
                    if dataset.found_in == "catalogue"
                    else ""
                )
            )
            yield finding(
                "dataset.license-unknown",
                component,
                f"trained on {dataset.name}, whose license is unknown: {reason}",
                citation=dataset.origin.citation,
                dataset=dataset.name,
                found_in=dataset.found_in,
            )
        commercial = context.policy.context.commercial_use
        keys = _noncommercial(facts, context.kb)
        if keys and commercial is not False:
            names = ", ".join(f"{k} ({context.kb[k].name})" for k in keys)
            yield finding(
                "dataset.noncommercial",
                component,
                f"trained on {dataset.name}, whose license {names} does not allow commercial "
                "use"
                + ("; the policy context says the use is commercial" if commercial else "")
                + ". Training on data is not distributing it: whether the data's terms reach "
                "the model is for the policy and legal review to decide",
                severity=None if commercial else "note",
                license=facts.effective,
                citation=dataset.origin.citation,
                dataset=dataset.name,
                found_in=dataset.found_in,
            )
        yield from self._denied(component, dataset.name, facts, context, trained=True)
        yield from self._generated(component, dataset.name, dataset.origin, "trained on")

    def _denied(
        self,
        component: Component,
        name: str,
        facts: LicenseFacts,
        context: CheckContext,
        *,
        trained: bool = False,
    ) -> Iterator[Finding]:
        rules = context.policy.datasets
        denied = [k for k in expression_keys(facts.effective) if k in rules.deny]
        if facts.effective and facts.category in rules.deny_categories:
            reason = f"its category {facts.category} is denied by the policy's datasets rules"
        elif denied:
            reason = f"{', '.join(denied)} is denied by the policy's datasets rules"
        else:
            return
        yield finding(
            "dataset.license-denied",
            component,
            f"{'trained on ' if trained else ''}{name} is under {facts.effective}: {reason}",
            dataset=name,
            license=facts.effective,
            category=facts.category,
        )

    def _generated(
        self, component: Component, name: str, origin: DatasetOrigin, verb: str
    ) -> Iterator[Finding]:
        for generated in origin.generated_by:
            if generated.restriction is None:
                continue
            models = f" ({', '.join(generated.models)})" if generated.models else ""
            subject = "" if verb == "is" else f"{verb} {name}, "
            yield finding(
                "dataset.generated-by-model",
                component,
                f"{subject}{name if verb == 'is' else 'which'} was generated with "
                f"{generated.provider}'s models{models}, whose terms restrict using outputs "
                f'to train competing models: "{generated.restriction}" ({generated.section}, '
                f"{generated.terms}); whether they bind this use depends on who accepted them",
                dataset=name,
                provider=generated.provider,
                models=list(generated.models),
                terms=generated.terms,
                section=generated.section,
                citation=origin.citation,
            )
