"""The `provenance.*` rules that need no network: cards, pickle weights, bundled code."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from scanner.checks.interface import Check, CheckContext, finding
from scanner.inventory import Component, Finding

_DERIVATIVE_TAGS = frozenset(
    {"gguf", "gptq", "awq", "exl2", "quantized", "finetune", "fine-tuned", "lora", "merge", "peft"}
)


def _looks_derived(component: Component) -> bool:
    """Tags and relations that say a model was made from another one."""
    card = component.card
    if card is None:
        return False
    tags = {tag.lower() for tag in card.tags}
    return (
        bool(card.base_model_relation)
        or bool(tags & _DERIVATIVE_TAGS)
        or any(tag.startswith("base_model:") for tag in tags)
    )


class ProvenanceCheck(Check):
    """Judges where a model's documentation and code come from."""

    name = "provenance"

    def run(self, components: Sequence[Component], context: CheckContext) -> Iterator[Finding]:
        for component in components:
            if component.type != "model":
                continue
            yield from self._card(component)
            for entry in component.files:
                if entry.format == "pickle":
                    yield finding(
                        "provenance.unsafe-format",
                        component,
                        f"{entry.path} is pickle-based; loading it can execute arbitrary code",
                        file=entry.path,
                    )
                elif entry.path.endswith(".py"):
                    yield finding(
                        "provenance.remote-code",
                        component,
                        f"{entry.path} ships Python code with the model (trust_remote_code would run it)",
                        file=entry.path,
                    )

    def _card(self, component: Component) -> Iterator[Finding]:
        card = component.card
        if card is None:
            yield finding("provenance.card-missing", component, "no README.md model card")
            return
        if card.error is not None:
            yield finding(
                "provenance.card-invalid", component, f"{card.path}: {card.error}", card=card.path
            )
            return
        missing = []
        if not card.license:
            missing.append("license")
        if _looks_derived(component) and not card.base_models:
            missing.append("base_model")
        if missing:
            yield finding(
                "provenance.card-incomplete",
                component,
                f"{card.path} front matter lacks {', '.join(missing)}",
                card=card.path,
                missing=missing,
            )
