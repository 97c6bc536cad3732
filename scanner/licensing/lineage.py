"""Follows `base_model` links from every model to its ancestors, wherever their facts are kept.

A derivative's license is only half the story: fine-tunes, quantizations, merges and adapters of
a Llama, Gemma or Qwen-research model carry the base's terms whatever their own card says. The
walk asks, in order, the scan itself, the local Hugging Face cache, the Hub (when allowed) and
the offline catalogue of well-known families, and records for each ancestor where its facts came
from, so the report can show the chain as evidence. Cycles, a depth limit and bases nobody knows
are recorded as ancestors with a `problem`, never silently dropped.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace

from scanner.files import control_character
from scanner.inventory import Ancestor, Component, Evidence, LicenseFacts
from scanner.licensing.catalogue import ModelCatalogue, ModelFamily
from scanner.licensing.expressions import resolve_declared
from scanner.licensing.knowledge_base import LicenseKnowledgeBase

MAX_DEPTH = 8
"""Real chains are short (quantized of a fine-tune of a base); longer ones are data errors."""

RESOLVED = frozenset({"scan", "hfcache", "hub", "catalogue"})
"""`Ancestor.found_in` values of a base whose facts a place gave (its `lookup.name`)."""

UNRESOLVED = frozenset({"missing", "unknown", "too-deep"})
"""`Ancestor.found_in` values of a base whose terms nobody could give. A `cycle` is not one:
every model on the loop was resolved on the way there, only the loop itself is a data error."""


def is_local_path(name: str) -> bool:
    """A model argument naming a folder rather than a Hub repo id (`org/name` or `name`): such a
    name is never looked up, a catalogue glob could match a path that merely contains it."""
    return name.startswith((".", "/", "~")) or name.count("/") > 1 or "\\" in name


@dataclass(frozen=True)
class BaseModelAnswer:
    """What one place knows about a base model.

    `component` holds its facts as the same `Component` a scan of that place would give (one
    reader per fact: a base read from the HF cache or the Hub is read like a scanned model);
    `evidence` says where, for the report. `problem` is set instead when the place gave a
    definite negative answer (the Hub says the repo does not exist); the walk then still asks
    the places after it.
    """

    component: Component | None
    evidence: str = ""
    problem: str | None = None


class BaseModelLookup(ABC):
    """One place to look a base model up by Hub repo id."""

    name: str

    @abstractmethod
    def lookup(self, repo_id: str) -> BaseModelAnswer | None:
        """What this place knows of `repo_id`, or None when it does not know it."""

    def prefetch(self, repo_ids: Sequence[str]) -> None:  # noqa: B027 - optional hook
        """Warm up for a batch of lookups (the Hub asks concurrently); nothing by default."""


class ScanLookup(BaseModelLookup):
    """Bases that are themselves components of this scan, matched by repo id."""

    name = "scan"

    def __init__(self, components: Iterable[Component]) -> None:
        self._by_name = {c.name.lower(): c for c in components if c.type == "model"}

    def lookup(self, repo_id: str) -> BaseModelAnswer | None:
        component = self._by_name.get(repo_id.lower())
        return BaseModelAnswer(component, component.ref) if component is not None else None


class CatalogueLookup(BaseModelLookup):
    """Well-known families from the offline catalogue (`licenses/models.yaml`)."""

    name = "catalogue"

    def __init__(self, catalogue: ModelCatalogue) -> None:
        self.catalogue = catalogue

    def lookup(self, repo_id: str) -> BaseModelAnswer | None:
        family = self.catalogue.lookup(repo_id)
        if family is None:
            return None
        component = Component(
            ref=f"model:catalogue/{repo_id}",
            type="model",
            name=repo_id,
            source=self.name,
            location=family.citation,
            license=LicenseFacts(declared=(family.license,)),
            base_models=(family.base,) if family.base else (),
        )
        return BaseModelAnswer(component, f"catalogue family {family.family}: {family.citation}")


def _license_keys(component: Component, kb: LicenseKnowledgeBase) -> tuple[str, ...]:
    keys: list[str] = []
    for value in component.license.declared:
        keys.extend(resolve_declared(value, kb).keys)
    keys.extend(component.license.detected)
    return tuple(dict.fromkeys(keys))


@dataclass
class _Step:
    owner: int
    name: str
    chain: tuple[str, ...]
    relation: str | None


class LineageWalker:
    """Walks every component's ancestors level by level, asking each place once per repo."""

    def __init__(
        self,
        lookups: Sequence[BaseModelLookup],
        kb: LicenseKnowledgeBase,
        catalogue: ModelCatalogue | None = None,
        on_lookup: Callable[[str], None] | None = None,
    ) -> None:
        self.lookups = tuple(lookups)
        self.kb = kb
        self.catalogue = catalogue
        self.on_lookup = on_lookup
        self._answers: dict[str, tuple[tuple[str, BaseModelAnswer] | None, list[str]]] = {}

    def walk(self, components: Sequence[Component]) -> list[tuple[Ancestor, ...]]:
        """The ancestors of each component, in the order of `components`."""
        found: list[list[Ancestor]] = [[] for _ in components]
        seen = [{c.name.lower()} for c in components]
        relation = [c.card.base_model_relation if c.card else None for c in components]
        frontier = [
            _Step(i, name, (name,), relation[i])
            for i, c in enumerate(components)
            for name in c.base_models
        ]
        while frontier:
            self._prefetch({step.name.lower(): step.name for step in frontier}.values())
            next_frontier: list[_Step] = []
            for step in frontier:
                key = step.name.lower()
                on_path = {n.lower() for n in step.chain[:-1]} | {
                    components[step.owner].name.lower()
                }
                if key in on_path:
                    found[step.owner].append(
                        Ancestor(
                            step.name,
                            step.chain,
                            "cycle",
                            step.relation,
                            problem="cycle: "
                            + " -> ".join((components[step.owner].name, *step.chain)),
                        )
                    )
                    continue
                if key in seen[step.owner]:
                    continue
                seen[step.owner].add(key)
                if len(step.chain) > MAX_DEPTH:
                    found[step.owner].append(
                        Ancestor(
                            step.name,
                            step.chain,
                            "too-deep",
                            step.relation,
                            problem=f"depth limit of {MAX_DEPTH} reached; not followed",
                        )
                    )
                    continue
                ancestor, bases, base_relation = self._resolve(step)
                found[step.owner].append(ancestor)
                next_frontier.extend(
                    _Step(step.owner, base, (*step.chain, base), base_relation) for base in bases
                )
            frontier = next_frontier
        for index, component in enumerate(components):
            found[index].extend(self._mentioned(component, found[index]))
        return [tuple(ancestors) for ancestors in found]

    def identify(self, name: str) -> tuple[str | None, BaseModelAnswer]:
        """The place that first knows model `name` (None when none does) and what it holds: a
        model named in code is looked up exactly as a base model is. The answer's `component`
        carries the catalogue's license when its own facts declare none; without a place,
        `problem` says who was asked."""
        self._prefetch([name])
        found, problems = self._answer(name)
        if found is None:
            return None, BaseModelAnswer(None, problem="; ".join(problems) or self._unknown_to())
        found_in, answer = found
        base = answer.component
        assert base is not None  # _ask returns only answers with facts
        family = self._fallback(base, found_in, name)
        if family is None:
            return found_in, answer
        license = LicenseFacts(
            declared=base.license.declared,
            detected=(family.license,),
            evidence=(
                *base.license.evidence,
                Evidence("catalogue", f"family {family.family}: {family.citation}"),
            ),
        )
        return found_in, BaseModelAnswer(
            replace(base, license=license),
            f"{answer.evidence}; declares no license, catalogue family {family.family}",
        )

    def _unknown_to(self) -> str:
        return "not known to: " + ", ".join(lookup.name for lookup in self.lookups)

    def _fallback(self, base: Component, found_in: str, name: str) -> ModelFamily | None:
        """The catalogue family of a model whose own facts (a re-upload's card) declare no
        license, or None when they declare one or the catalogue does not know it."""
        if _license_keys(base, self.kb) or self.catalogue is None or found_in == "catalogue":
            return None
        return self.catalogue.lookup(name)

    def _prefetch(self, names: Iterable[str]) -> None:
        todo = [n for n in names if n.lower() not in self._answers and control_character(n) is None]
        if todo:
            for lookup in self.lookups:
                lookup.prefetch(todo)

    def _answer(self, name: str) -> tuple[tuple[str, BaseModelAnswer] | None, list[str]]:
        key = name.lower()
        if key not in self._answers:
            self._answers[key] = self._ask(name)
            if self.on_lookup is not None:
                self.on_lookup(name)
        return self._answers[key]

    def _ask(self, name: str) -> tuple[tuple[str, BaseModelAnswer] | None, list[str]]:
        """The first place's answer (with the place's name), and the negative answers before.
        A name with a control character (a NUL from a hostile card) is asked nowhere: it is no
        repo id, and would reach cache paths and the Hub."""
        character = control_character(name)
        if character is not None:
            return None, [f"not a valid model name (it holds {character}); not looked up"]
        problems: list[str] = []
        for lookup in self.lookups:
            answer = lookup.lookup(name)
            if answer is None:
                continue
            if answer.problem is not None or answer.component is None:
                problems.append(answer.problem or f"{lookup.name} has no facts")
                continue
            return (lookup.name, answer), problems
        return None, problems

    def _resolve(self, step: _Step) -> tuple[Ancestor, tuple[str, ...], str | None]:
        found, problems = self._answer(step.name)
        if found is None:
            problem = "; ".join(problems) or self._unknown_to()
            found_in = "missing" if problems else "unknown"
            return (
                Ancestor(step.name, step.chain, found_in, step.relation, problem=problem),
                (),
                None,
            )
        found_in, answer = found
        base = answer.component
        assert base is not None  # _ask returns only answers with facts
        keys = _license_keys(base, self.kb)
        evidence = answer.evidence
        family = self._fallback(base, found_in, step.name)
        if family is not None:
            keys = (family.license,)
            evidence = (
                f"{evidence}; declares no license, catalogue family {family.family}: "
                f"{family.citation}"
            )
        ancestor = Ancestor(
            name=step.name,
            chain=step.chain,
            found_in=found_in,
            relation=step.relation,
            revision=base.version,
            licenses=keys,
            evidence=evidence,
        )
        relation = base.card.base_model_relation if base.card else None
        return ancestor, base.base_models, relation

    def _mentioned(self, component: Component, ancestors: list[Ancestor]) -> list[Ancestor]:
        """Families the card's prose names as its base, unless the declared chain covers them."""
        card = component.card
        if card is None:
            return []
        covered = {key for ancestor in ancestors for key in ancestor.licenses}
        return [
            Ancestor(
                name=mention.family,
                chain=(mention.family,),
                found_in="card-text",
                licenses=(mention.license,),
                evidence=f'{card.path}: "{mention.quote}"',
            )
            for mention in card.mentions
            if mention.license not in covered
        ]
