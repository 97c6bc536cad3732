"""The offline catalogue of well-known model families (`licenses/models.yaml`).

Lineage needs a base model's license even when the base is not on disk and the Hub cannot be
asked (offline CI, HF_HUB_OFFLINE=1). The catalogue maps Hub repo-id patterns of the families
derivatives are built on (Llama, Gemma, Qwen, Mistral, DeepSeek, Stable Diffusion, ...) to a
knowledge-base key, with the model card that says so, and knows the names Ollama's library gives
them (`llama3.1`), for Ollama models that carry no license of their own. It also knows how each family is named in
prose, so a card that says "based on Llama-2" while declaring Apache-2.0 can be caught.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from scanner.inventory import CardMention
from scanner.licensing.knowledge_base import KnowledgeBaseError, LicenseKnowledgeBase, safe_loader

CATALOGUE_FILE = "models.yaml"

_MENTION_PREFIX = (
    r"\b(?:based\s+on|built\s+(?:up)?on(?:\s+top\s+of)?|fine-?tuned\s+(?:version\s+)?(?:of|from|on)"
    r"|derived\s+from|trained\s+(?:on\s+top\s+of|from)|continued\s+pre-?training\s+(?:of|on)"
    r"|(?:quantized|distilled)\s+(?:version\s+)?(?:of|from))\s+"
    r"(?:the\s+|a\s+)?(?:(?:meta|google|alibaba|qwen)(?:'s|’s)?\s+)?"
)
"""What a card says before naming the model it was made from."""

_FIELDS = frozenset({"family", "license", "citation", "repos", "mentions", "base", "ollama"})


@dataclass(frozen=True)
class ModelFamily:
    """A family of Hub repos under one license, with the card that states it."""

    family: str
    license: str
    citation: str
    repos: tuple[str, ...]
    mentions: tuple[str, ...] = ()
    """Regular expressions naming the family in prose, each matched after `_MENTION_PREFIX`
    (compiled on first use, `_mention_pattern`: most scans never need them)."""
    base: str | None = None
    ollama: tuple[str, ...] = ()
    """Ollama library names of the family (`llama3.1`, or a `qwen2.5:72b*` tag glob)."""

    def matches(self, repo_id: str) -> bool:
        lowered = repo_id.lower()
        return any(fnmatch.fnmatchcase(lowered, pattern.lower()) for pattern in self.repos)

    def names_ollama_model(self, model: str, tag: str) -> bool:
        name = f"{model}:{tag}".lower()
        return any(
            fnmatch.fnmatchcase(name, pattern.lower() if ":" in pattern else f"{pattern.lower()}:*")
            for pattern in self.ollama
        )


class ModelCatalogue:
    """The families in catalogue order: the first match wins, so exceptions come first."""

    def __init__(self, families: Iterable[ModelFamily]) -> None:
        self.families = tuple(families)

    def lookup(self, repo_id: str) -> ModelFamily | None:
        """The family a Hub repo id belongs to, or None when the catalogue does not know it."""
        return next((f for f in self.families if f.matches(repo_id)), None)

    def lookup_ollama(self, model: str, tag: str) -> ModelFamily | None:
        """The family an Ollama library model (`llama3.1`, tag `8b`) belongs to, or None."""
        return next((f for f in self.families if f.names_ollama_model(model, tag)), None)

    def mentions(self, text: str, own_name: str | None = None) -> tuple[CardMention, ...]:
        """Families a card's prose says the model is based on, one quote per family.

        Besides sentences ("based on Llama-2"), a markdown table with a "base model" column
        counts in the row that names the model itself (`own_name`, its repo name), because
        model-zoo cards list their bases that way.
        """
        found: dict[str, CardMention] = {}
        if own_name:
            for repo, row in _table_bases(text, own_name.rsplit("/", 1)[-1]):
                family = self.lookup(repo)
                if family is not None and family.family not in found:
                    found[family.family] = CardMention(family.family, family.license, row)
        if _mention_prefix().search(text) is None:
            return tuple(found.values())  # no family pattern can match without its prefix
        for family in self.families:
            if family.family in found:
                continue
            for mention in family.mentions:
                match = _mention_pattern(mention).search(text)
                if match:
                    found[family.family] = CardMention(
                        family.family, family.license, _quote(text, match)
                    )
                    break
        return tuple(found.values())


@cache
def _mention_prefix() -> re.Pattern[str]:
    return re.compile(_MENTION_PREFIX, re.IGNORECASE)


@cache
def _mention_pattern(mention: str) -> re.Pattern[str]:
    return re.compile(_MENTION_PREFIX + mention, re.IGNORECASE)


_HUB_LINK = re.compile(r"huggingface\.co/([\w.-]+/[\w.-]+)")


def _cells(line: str) -> list[str]:
    return [cell.strip() for cell in line.strip().strip("|").split("|")]


def _table_bases(text: str, own: str) -> list[tuple[str, str]]:
    """(repo id, row) for Hub links in the "base model" column of rows naming `own`."""
    found = []
    column = None
    for line in text.splitlines():
        if not line.lstrip().startswith("|"):
            column = None
            continue
        cells = _cells(line)
        if column is None:
            column = next((i for i, c in enumerate(cells) if "base model" in c.lower()), -1)
            continue
        if column < 0 or column >= len(cells) or own.lower() not in cells[0].lower():
            continue
        for repo in _HUB_LINK.findall(cells[column]):
            found.append((repo, " ".join(line.split())))
    return found


def _quote(text: str, match: re.Match[str]) -> str:
    """The matched phrase with a little context, on one line."""
    start = max(0, match.start() - 40)
    end = min(len(text), match.end() + 40)
    snippet = " ".join(text[start:end].split())
    return ("…" if start else "") + snippet + ("…" if end < len(text) else "")


def _fail(where: str, message: str) -> KnowledgeBaseError:
    return KnowledgeBaseError(f"{CATALOGUE_FILE}: {where}: {message}")


def _family(raw: Any, index: int, kb: LicenseKnowledgeBase) -> ModelFamily:
    where = f"families[{index}]"
    if not isinstance(raw, dict):
        raise _fail(where, "must be a mapping")
    unknown = set(raw) - _FIELDS
    if unknown:
        raise _fail(where, f"unknown fields {sorted(unknown)}")
    for required in ("family", "license", "citation"):
        if not isinstance(raw.get(required), str) or not raw[required].strip():
            raise _fail(where, f"`{required}` is required")
    if raw["license"] not in kb:
        raise _fail(where, f"license {raw['license']!r} is not a knowledge-base key")
    repos = raw.get("repos")
    if not isinstance(repos, list) or not repos or not all(isinstance(r, str) for r in repos):
        raise _fail(where, "`repos` must be a non-empty list of repo-id patterns")
    ollama = raw.get("ollama") or []
    if not isinstance(ollama, list) or not all(isinstance(n, str) and n for n in ollama):
        raise _fail(where, "`ollama` must be a list of Ollama library names")
    mentions = raw.get("mentions") or []
    try:
        for mention in mentions:  # checked here; compiled for matching on first use
            re.compile(_MENTION_PREFIX + mention, re.IGNORECASE)
    except (re.error, TypeError) as exc:
        raise _fail(where, f"bad mention pattern: {exc}") from exc
    return ModelFamily(
        family=raw["family"],
        license=raw["license"],
        citation=raw["citation"],
        repos=tuple(repos),
        mentions=tuple(mentions),
        base=raw.get("base"),
        ollama=tuple(ollama),
    )


def load_catalogue(path: Path, kb: LicenseKnowledgeBase) -> ModelCatalogue:
    """Read and validate the catalogue; every license must be a knowledge-base key."""
    import yaml

    try:
        raw = yaml.load(path.read_text(encoding="utf-8"), Loader=safe_loader())
    except yaml.YAMLError as exc:
        raise KnowledgeBaseError(f"{CATALOGUE_FILE}: invalid YAML: {exc}") from exc
    if not isinstance(raw, dict) or not isinstance(raw.get("families"), list):
        raise KnowledgeBaseError(f"{CATALOGUE_FILE}: must hold a `families` list")
    return ModelCatalogue(_family(item, i, kb) for i, item in enumerate(raw["families"]))


@cache
def default_catalogue() -> ModelCatalogue:
    """The catalogue shipped with aiscan, checked against the shipped knowledge base."""
    from scanner.licensing.compiled import load_default

    return load_default()[1]
