"""The `provenance.*` rules: cards, lineage, publishers, pinning, pickle weights, bundled code.

Everything judged here was recorded by a source (card fields, pickle opcode scans, `auto_map`,
Hub gating and revisions) or by lineage resolution (ancestors that could not be resolved).
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterator, Sequence

from scanner.checks.interface import Check, CheckContext, finding
from scanner.files import shown_name
from scanner.inventory import Component, FileEntry, Finding
from scanner.licensing.lineage import RESOLVED
from scanner.policy.load import PublisherRules

_DERIVATIVE_TAGS = frozenset(
    {"gguf", "gptq", "awq", "exl2", "quantized", "finetune", "fine-tuned", "lora", "merge", "peft"}
)
_FINETUNE_TAGS = frozenset({"finetune", "fine-tuned", "lora", "peft", "sft"})
_FINETUNE_RELATIONS = frozenset({"finetune", "adapter"})
_HUB_SOURCES = frozenset({"hub", "hfcache"})
_CARDLESS_STORES = frozenset({"ollama", "llamacpp", "lmstudio"})
"""Stores that keep a model's weights without its repo's README by design (an Ollama manifest
carries a license layer and a library name instead; llama.cpp and LM Studio download the GGUF
alone): a missing card says nothing there, while an unknown license still is `license.missing`."""


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


def _looks_finetuned(component: Component) -> bool:
    """A model trained further (not only quantized or merged), which was trained on data."""
    card = component.card
    if card is None:
        return False
    tags = {tag.lower() for tag in card.tags}
    relation = (card.base_model_relation or "").lower()
    return relation in _FINETUNE_RELATIONS or bool(tags & _FINETUNE_TAGS)


def publisher_verdict(repo_id: str, rules: PublisherRules) -> str | None:
    """Why the policy refuses the publisher of `repo_id`, or None when it is acceptable.

    Patterns are globs on the organisation (`meta-llama`, `acme-*`) or on the whole repo id
    (`acme/*-gguf`), compared case-insensitively as the Hub does.
    """
    org = repo_id.split("/", 1)[0].lower()
    candidates = (org, repo_id.lower())

    def matches(patterns: tuple[str, ...]) -> str | None:
        return next(
            (p for p in patterns if any(fnmatch.fnmatchcase(c, p.lower()) for c in candidates)),
            None,
        )

    denied = matches(rules.deny)
    if denied is not None:
        return f"publisher {org!r} matches the deny pattern {denied!r}"
    if rules.allow and matches(rules.allow) is None:
        return f"publisher {org!r} is not on the allow list"
    return None


class ProvenanceCheck(Check):
    """Judges where a model, its documentation, its code and its ancestors come from."""

    name = "provenance"

    def run(self, components: Sequence[Component], context: CheckContext) -> Iterator[Finding]:
        for component in components:
            # A pickle is judged by what its scan found, whatever holds it: a model folder, a
            # dataset, a single file given as the target.
            for entry in component.files:
                if entry.format == "pickle":
                    yield self._pickle(component, entry)
            if component.type == "file":
                yield from self._lineage(component)  # the bases a lone weights file declares
            if component.type != "model":
                continue
            reference = component.code_reference
            if reference is not None:
                # judged by CodeReferenceCheck, but for the lineage of the model it names
                if reference.found_in not in (None, "scan"):
                    yield from self._lineage(component)
                continue
            yield from self._card(component)
            yield from self._lineage(component)
            yield from self._hub(component, context)
            for entry in component.files:
                if entry.path.endswith(".py"):
                    yield finding(
                        "provenance.remote-code",
                        component,
                        f"{entry.path} ships Python code with the model (trust_remote_code would run it)",
                        file=entry.path,
                    )
            if component.model.remote_code:
                yield finding(
                    "provenance.remote-code",
                    component,
                    "config auto_map makes transformers load classes from the repo's code: "
                    + ", ".join(component.model.remote_code),
                    auto_map=list(component.model.remote_code),
                )

    def _pickle(self, component: Component, entry: FileEntry) -> Finding:
        """The verdict on one pickle-based file, from its opcode scan alone.

        Any import outside the exact allowlist is an error, also when the scan stopped early
        (what it found is already enough); a scan that stopped early is otherwise "not
        scanned", never clean; only a scan that decoded every pickle to its end and found
        nothing else says the file imports only tensor-rebuilding globals.
        """
        scan = entry.pickle
        if scan is None:
            return finding(
                "provenance.unsafe-format",
                component,
                f"{entry.path} is pickle-based; loading it can execute arbitrary code "
                "(not scanned: weights are never downloaded)",
                file=entry.path,
                scanned=False,
            )
        from scanner.readers.pickle import is_safe_global  # pickles only: 4 ms of start-up

        unsafe = [name for name in scan.globals if not is_safe_global(name)]
        if unsafe:
            stopped = f"; the scan stopped early ({scan.error})" if scan.error else ""
            return finding(
                "provenance.unsafe-format",
                component,
                f"{entry.path} is a pickle that imports {', '.join(unsafe)}: loading it can run "
                f"that code{stopped}",
                severity="error",
                file=entry.path,
                globals=list(unsafe),
                scanned=scan.error is None,
                error=scan.error,
            )
        if scan.error is not None:
            return finding(
                "provenance.unsafe-format",
                component,
                f"{entry.path} is pickle-based and could not be scanned ({scan.error}); "
                "treat it as unsafe",
                file=entry.path,
                scanned=False,
                error=scan.error,
            )
        pickles = (
            "its pickle imports" if scan.streams == 1 else f"its {scan.streams} pickles import"
        )
        return finding(
            "provenance.unsafe-format",
            component,
            f"{entry.path} is pickle-based; loading it can execute arbitrary code "
            f"({pickles} only tensor-rebuilding globals)",
            file=entry.path,
            scanned=True,
            globals=list(scan.globals),
        )

    def _card(self, component: Component) -> Iterator[Finding]:
        card = component.card
        if card is None:
            if component.source not in _CARDLESS_STORES:
                yield finding("provenance.card-missing", component, "no README.md model card")
            return
        if card.error is not None:
            yield finding(
                "provenance.card-invalid", component, f"{card.path}: {card.error}", card=card.path
            )
            return
        for problem in card.invalid:
            yield finding(
                "provenance.card-invalid", component, f"{card.path}: {problem}", card=card.path
            )
        missing = []
        if not card.license:
            missing.append("license")
        if _looks_derived(component) and not card.base_models:
            missing.append("base_model")
        if _looks_finetuned(component) and not card.datasets:
            missing.append("datasets")
        if missing:
            yield finding(
                "provenance.card-incomplete",
                component,
                f"{card.path} front matter lacks {', '.join(missing)}",
                card=card.path,
                missing=missing,
            )

    def _lineage(self, component: Component) -> Iterator[Finding]:
        for ancestor in component.lineage:
            if ancestor.found_in in RESOLVED or ancestor.found_in == "card-text":
                continue
            chain = " -> ".join(shown_name(name) for name in (component.name, *ancestor.chain))
            yield finding(
                "provenance.base-unresolved",
                component,
                f"base model {shown_name(ancestor.name)} ({chain}): {ancestor.problem}; "
                "its license terms are unknown, and so is the effective license",
                base_model=ancestor.name,
                chain=list(ancestor.chain),
                reason=ancestor.found_in,
            )

    def _hub(self, component: Component, context: CheckContext) -> Iterator[Finding]:
        rules = context.policy.publishers
        if component.source in _HUB_SOURCES and "/" in component.name:
            verdict = publisher_verdict(component.name, rules)
            if verdict is not None:
                yield finding(
                    "provenance.publisher-denied", component, verdict, publisher=component.name
                )
        for ancestor in component.lineage:
            if ancestor.found_in not in RESOLVED or "/" not in ancestor.name:
                continue
            verdict = publisher_verdict(ancestor.name, rules)
            if verdict is not None:
                yield finding(
                    "provenance.publisher-denied",
                    component,
                    f"base model {ancestor.name}: {verdict}",
                    publisher=ancestor.name,
                    chain=list(ancestor.chain),
                )
        if component.model.revision_pinned is False:
            yield finding(
                "provenance.unpinned-revision",
                component,
                f"{component.name} is referenced by {component.model.refs[0] if component.model.refs else 'its default branch'}"
                f", not a 40-hex commit; it resolved to {component.version}, but can change",
                revision=component.model.refs[0] if component.model.refs else None,
                resolved=component.version,
            )
        if component.model.gated:
            yield finding(
                "provenance.gated",
                component,
                f"{component.name} is gated on the Hub ({component.model.gated} approval): access "
                "requires accepting the publisher's terms",
                gated=component.model.gated,
            )
