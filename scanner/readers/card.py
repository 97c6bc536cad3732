"""The one reader of model cards: front matter to `CardFacts`, the same for every store.

A card read from a folder, the HF cache, the Hub (its README, or the `cardData` the Hub parsed
from it) goes through here, so a local copy and the Hub's copy of one card give identical facts.
The reader works on bytes, not paths, so any store can feed it. It quotes the card as written
and concludes nothing: which license a value names is for `licensing/`.

The front matter is parsed with PyYAML's safe loader through `files.load_yaml`, which refuses an
alias bomb before anything is built from it; its size is bounded first, since megabytes of YAML
would stall the scan. The `model-index` is read with huggingface_hub's own parser, so evaluation
results are the ones the Hub shows.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator, Mapping
from typing import Any

from scanner.files import YamlExpansionError, control_character, load_yaml
from scanner.inventory import CardFacts, EvalMetric, Evidence
from scanner.licensing.expressions import name_with_link

MAX_CARD_BYTES = 2 * 1024 * 1024
"""How much of a README is read; real cards are under 100 KiB."""
MAX_FRONT_MATTER_BYTES = 1024 * 1024
"""Front matter beyond this is refused: parsing megabytes of YAML would stall the scan."""

FRONT_MATTER = re.compile(r"\A\ufeff?\s*---[ \t]*\r?\n(.*?)\r?\n---[ \t]*(?:\r?\n|\Z)", re.DOTALL)
_LICENSE_KEY = re.compile(r"^license\s*:", re.MULTILINE)


def strings(value: Any) -> tuple[str, ...]:
    """Card fields may be a string or a list; both become a tuple of non-empty strings."""
    if value is None:
        return ()
    items = value if isinstance(value, list) else [value]
    return tuple(str(item).strip() for item in items if item is not None and str(item).strip())


def optional_string(value: Any) -> str | None:
    found = strings(value)
    return found[0] if found else None


def _yaml_error_message(exc: Exception) -> str:
    """Say what is wrong with card YAML, with the card line number when YAML knows it."""
    import yaml

    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    where = f" at line {mark.line + 2}" if mark is not None else ""
    if isinstance(exc, yaml.constructor.ConstructorError) and "constructor for the tag" in str(exc):
        tag = re.search(r"tag '([^']+)'", str(exc))
        return (
            f"front matter uses the unsafe YAML tag {tag.group(1) if tag else ''}{where}; refused"
        )
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    return f"front matter is not valid YAML{where}: {problem}"


def read_card(raw: bytes, path: str) -> CardFacts:
    """Parse a model card (`path` is where it is shown to be, e.g. `README.md`).

    The prose after the front matter is kept (`prose`) so licensing can look for the model
    families it says the model is built on.
    """
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        return CardFacts(
            path=path, error=f"card is not UTF-8 text ({exc.reason} at byte {exc.start})"
        )
    stripped = text.lstrip("\ufeff \t\r\n")
    if not stripped.startswith("---"):
        return CardFacts(path=path, prose=text)
    match = FRONT_MATTER.match(text)
    if match is None:
        if len(raw) >= MAX_FRONT_MATTER_BYTES:
            return CardFacts(
                path=path,
                error=f"front matter is not closed within {MAX_FRONT_MATTER_BYTES // 1024} KiB; refused as too large",
            )
        return CardFacts(path=path, error="front matter starts with '---' but is never closed")
    if len(match.group(1).encode("utf-8")) > MAX_FRONT_MATTER_BYTES:
        return CardFacts(
            path=path,
            error=f"front matter exceeds {MAX_FRONT_MATTER_BYTES // 1024} KiB; refused as too large",
        )

    import yaml

    try:
        data, _ = load_yaml(match.group(1))
    except YamlExpansionError as exc:
        return CardFacts(path=path, error=f"front matter refused: {exc}")
    except yaml.YAMLError as exc:
        return CardFacts(path=path, error=_yaml_error_message(exc))
    except RecursionError:
        return CardFacts(path=path, error="front matter is nested too deeply")
    if data is None:
        data = {}
    if not isinstance(data, dict):
        return CardFacts(
            path=path,
            error=f"front matter is a {type(data).__name__}, not a mapping of card fields",
        )

    license_line = None
    license_match = _LICENSE_KEY.search(match.group(1))
    if license_match:
        license_line = match.group(1).count("\n", 0, license_match.start()) + 2
    prose = text[match.end() :]
    facts = card_from_mapping(
        data,
        path,
        license_line=license_line,
        prose=prose,
        metrics=_eval_metrics(data.get("model-index")),
    )
    return dataclasses.replace(facts, linked_datasets=linked_datasets(prose))


CARD_FIELDS = (
    "license",
    "license_name",
    "license_link",
    "base_model",
    "base_model_relation",
    "datasets",
    "pipeline_tag",
    "library_name",
    "tags",
    "extra_gated_prompt",
)
"""The front-matter fields `card_from_mapping` reads: all the Hub's `cardData` needs to carry."""

DATASET_CARD_FIELDS = (
    *CARD_FIELDS,
    "source_datasets",
    "annotations_creators",
    "language_creators",
)
"""The fields a dataset card's `cardData` needs to carry: the model fields and its origin."""


def card_from_mapping(
    data: Mapping[str, Any],
    path: str,
    *,
    license_line: int | None = None,
    prose: str = "",
    metrics: tuple[EvalMetric, ...] = (),
) -> CardFacts:
    """Card facts from front matter already parsed (by `read_card`, or the Hub's `cardData`)."""
    facts = CardFacts(
        path=path,
        license=strings(data.get("license")),
        license_name=optional_string(data.get("license_name")),
        license_link=optional_string(data.get("license_link")),
        license_line=license_line,
        base_models=strings(data.get("base_model")),
        base_model_relation=optional_string(data.get("base_model_relation")),
        datasets=strings(data.get("datasets")),
        pipeline_tag=optional_string(data.get("pipeline_tag")),
        library_name=optional_string(data.get("library_name")),
        tags=tuple(dict.fromkeys(strings(data.get("tags")))),  # the Hub lists a tag once
        metrics=metrics,
        prose=prose,
        extra_gated_prompt=optional_string(data.get("extra_gated_prompt")),
        eval_datasets=_eval_datasets(data.get("model-index")),
        source_datasets=strings(data.get("source_datasets")),
        creators=tuple(
            dict.fromkeys(
                (
                    *strings(data.get("annotations_creators")),
                    *strings(data.get("language_creators")),
                )
            )
        ),
    )
    return dataclasses.replace(facts, invalid=tuple(_invalid_names(facts)))


_NAME_FIELDS = (
    ("license", "license"),
    ("license_name", "license_name"),
    ("license_link", "license_link"),
    ("base_model", "base_models"),
    ("base_model_relation", "base_model_relation"),
    ("datasets", "datasets"),
    ("pipeline_tag", "pipeline_tag"),
    ("library_name", "library_name"),
    ("tags", "tags"),
)
"""Card fields whose values name something (a license, a model, a dataset): (key, attribute)."""


def _invalid_names(card: CardFacts) -> Iterator[str]:
    """Say which name values hold a control character; the values stay as the card wrote them."""
    for key, attribute in _NAME_FIELDS:
        value = getattr(card, attribute)
        for item in value if isinstance(value, tuple) else (value,) if value else ():
            character = control_character(item)
            if character is not None:
                shown = item if len(item) <= 80 else item[:77] + "..."
                yield f"{key} {shown!r} contains the control character {character}; not a valid name"


def _eval_metrics(model_index: Any) -> tuple[EvalMetric, ...]:
    """The card's `model-index` results, parsed by huggingface_hub, as plain facts. A
    model-index its parser rejects gives no results, as huggingface_hub's own card loader does
    (lenient), rather than making the whole card invalid."""
    if not model_index:
        return ()
    from huggingface_hub.repocard_data import model_index_to_eval_results  # only then: 0.04 s

    try:
        _, results = model_index_to_eval_results(model_index)
    except (KeyError, TypeError, AttributeError, ValueError):
        return ()
    return tuple(
        EvalMetric(
            metric=str(result.metric_type),
            value=str(result.metric_value),
            task=_text(result.task_type),
            dataset=_text(result.dataset_name or result.dataset_type),
            name=_text(result.metric_name),
        )
        for result in results
        if result.metric_type is not None and result.metric_value is not None
    )


_DATASET_LINK = re.compile(
    r"https?://(?:www\.)?huggingface\.co/datasets/([A-Za-z0-9][\w.-]{0,95}/[A-Za-z0-9][\w.-]{0,95})"
)
MAX_LINKED_DATASETS = 50
"""Dataset links kept per card; a card linking more is listing, not describing, its data."""


def linked_datasets(prose: str) -> tuple[str, ...]:
    """The Hub datasets a card's text links to, in order of first appearance, once each (a
    trailing `.` of a sentence is not part of the id)."""
    found: dict[str, None] = {}
    for match in _DATASET_LINK.finditer(prose):
        name = match.group(1).rstrip(".")
        if name.lower() not in {f.lower() for f in found}:
            found[name] = None
        if len(found) >= MAX_LINKED_DATASETS:
            break
    return tuple(found)


MAX_EVAL_DATASETS = 200
"""More evaluation datasets than this in one model-index are not listed (real cards: < 50)."""


def _eval_datasets(model_index: Any) -> tuple[str, ...]:
    """The datasets a card's `model-index` results name, once each, as written: the Hub id
    (`dataset.type`) where given, else the dataset's `name`. Read from the raw front matter
    rather than huggingface_hub's parse, which drops a result without a metric value though
    it still names the data; anything not shaped like a model-index is skipped."""
    found: dict[str, None] = {}
    for entry in model_index if isinstance(model_index, list) else ():
        results = entry.get("results") if isinstance(entry, dict) else None
        for result in results if isinstance(results, list) else ():
            dataset = result.get("dataset") if isinstance(result, dict) else None
            if not isinstance(dataset, dict):
                continue
            name = optional_string(dataset.get("type")) or optional_string(dataset.get("name"))
            if name and name.lower() != "unknown" and len(found) < MAX_EVAL_DATASETS:
                found.setdefault(name, None)
    return tuple(found)


def _text(value: Any) -> str | None:
    """An optional result field as text: YAML may give a number or a list where a name is due."""
    return None if value is None else str(value)


def declared_licenses(card: CardFacts) -> tuple[str, ...]:
    """The license(s) a card declares, resolving `license: other` to its license_name, its
    license_link, or both as `name <link>` (licensing tries the link when the name is unknown)."""
    declared = [value for value in card.license if value.lower() != "other"]
    if len(declared) < len(card.license):
        name = card.license_name
        declared.append(
            name_with_link(name, card.license_link) if name else card.license_link or "other"
        )
    return tuple(declared)


def card_evidence(card: CardFacts) -> tuple[Evidence, ...]:
    """Quote the license fields of a card exactly as written."""
    source = f"{card.path} front matter"
    evidence = [Evidence(source, f"license: {value}") for value in card.license]
    if card.license_name:
        evidence.append(Evidence(source, f"license_name: {card.license_name}"))
    if card.license_link:
        evidence.append(Evidence(source, f"license_link: {card.license_link}"))
    return tuple(evidence)
