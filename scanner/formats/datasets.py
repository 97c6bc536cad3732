"""The training-data transparency view every format shares: a model's datasets as plain data.

JSON writes it and reads it back, the HTML report shows it, SPDX 3 turns each dataset into a
`dataset_DatasetPackage`. Kept in one place so every format says the same about the same facts.
"""

from __future__ import annotations

from typing import Any

from scanner.inventory import (
    Component,
    DatasetOrigin,
    Evidence,
    GeneratedBy,
    LicenseFacts,
    TrainingDataset,
)


def origin_document(origin: DatasetOrigin) -> dict[str, Any]:
    return {
        "kind": origin.kind,
        "generated_by": [
            {
                "provider": g.provider,
                "models": list(g.models),
                "terms": g.terms,
                "restriction": g.restriction,
                "section": g.section,
            }
            for g in origin.generated_by
        ],
        "derived_from": list(origin.derived_from),
        "creators": list(origin.creators),
        "notes": list(origin.notes),
        "citation": origin.citation,
    }


def read_origin(raw: dict[str, Any]) -> DatasetOrigin:
    return DatasetOrigin(
        kind=raw.get("kind"),
        generated_by=tuple(
            GeneratedBy(
                provider=g["provider"],
                models=tuple(g.get("models") or ()),
                terms=g.get("terms"),
                restriction=g.get("restriction"),
                section=g.get("section"),
            )
            for g in raw.get("generated_by") or ()
        ),
        derived_from=tuple(raw.get("derived_from") or ()),
        creators=tuple(raw.get("creators") or ()),
        notes=tuple(raw.get("notes") or ()),
        citation=raw.get("citation"),
    )


def dataset_document(dataset: TrainingDataset) -> dict[str, Any]:
    facts = dataset.license
    return {
        "name": dataset.name,
        "role": dataset.role,
        "stated_in": list(dataset.stated_in),
        "found_in": dataset.found_in,
        "ref": dataset.ref,
        "revision": dataset.revision,
        "license": {
            "declared": list(facts.declared),
            "detected": list(facts.detected),
            "effective": facts.effective,
            "category": facts.category,
            "evidence": [{"source": e.source, "value": e.value} for e in facts.evidence],
        },
        "origin": origin_document(dataset.origin),
        "problem": dataset.problem,
    }


def read_dataset(raw: dict[str, Any]) -> TrainingDataset:
    facts = raw.get("license") or {}
    return TrainingDataset(
        name=raw["name"],
        stated_in=tuple(raw.get("stated_in") or ()),
        role=raw.get("role", "training"),
        found_in=raw.get("found_in", "unknown"),
        ref=raw.get("ref"),
        revision=raw.get("revision"),
        license=LicenseFacts(
            declared=tuple(facts.get("declared") or ()),
            detected=tuple(facts.get("detected") or ()),
            effective=facts.get("effective"),
            category=facts.get("category", "unknown"),
            evidence=tuple(Evidence(e["source"], e["value"]) for e in facts.get("evidence", ())),
        ),
        origin=read_origin(raw.get("origin") or {}),
        problem=raw.get("problem"),
    )


def transparency(component: Component) -> dict[str, Any]:
    """What a model's card states about its training data and what it omits: the summary a
    reviewer answering an EU AI Act training-content question starts from. Counts and names
    only; nothing beyond the datasets' own facts."""
    card = component.card
    training = [d for d in component.training_data if d.role == "training"]
    evaluation = [d for d in component.training_data if d.role == "evaluation"]
    linked = [d for d in component.training_data if d.role == "linked"]
    unknown = [d.name for d in training if d.license.category == "unknown"]
    omits = []
    if card is None or not card.datasets:
        omits.append("training data: the card has no `datasets:` field")
    if unknown:
        omits.append(f"the license of {len(unknown)} of {len(training)} training datasets")
    return {
        "training_data_stated": bool(card is not None and card.datasets),
        "training_datasets": len(training),
        "evaluation_datasets": len(evaluation),
        "linked_datasets": len(linked),
        "licenses_known": len(training) - len(unknown),
        "unknown_licenses": unknown,
        "noncommercial": [
            d.name for d in training if d.license.category in ("non-commercial", "research-only")
        ],
        "generated_by_model": [
            d.name for d in training if any(g.restriction for g in d.origin.generated_by)
        ],
        "omits": omits,
    }


def shows_training_data(component: Component) -> bool:
    """Whether a component gets a transparency view: every stored model (a card that names no
    data is itself a fact to show), not a model only named in code."""
    return component.type == "model" and component.code_reference is None
