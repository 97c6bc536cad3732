"""Licenses and base models a weights file declares in its own metadata, quoted as written.

GGUF converters copy a card's `license`, `license_name`, `license_link` and `base_model` into
`general.license`, `general.license.name`, `general.license.link` and
`general.base_model.{i}.*` (gguf-py's `Metadata`), and record the repository converted from in
`general.source.*`; safetensors writers may put the card's keys in `__metadata__`. The copy
travels with the weights where the card does not (an Ollama blob, a file downloaded alone), and
it may disagree with the card beside it, so it is a declaration like the card's: read here once
for the folder reader, the Ollama source and the mismatch check.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from scanner.inventory import Evidence, FileEntry

_HUB_URL = re.compile(
    r"^https?://(?:www\.)?huggingface\.co/(?!datasets/|spaces/)([\w.-]+/[\w.-]+?)/?$"
)
_URL = re.compile(r"^[a-z][a-z0-9+.-]*://", re.IGNORECASE)
_SOURCE_REPOSITORIES = ("huggingface.repository", "hugginface.repository")
"""Where converters record the Hub repo a GGUF was made from (the second is the misspelling
early gguf-py wrote)."""


@dataclass(frozen=True)
class WeightsDeclaration:
    """What one weights file's metadata declares: licenses (`other` resolved to its name or link,
    as for a card), base models as Hub repo ids, and the quoted evidence."""

    file: str
    licenses: tuple[str, ...] = ()
    base_models: tuple[str, ...] = ()
    evidence: tuple[Evidence, ...] = ()


def _split(value: str | None) -> list[str]:
    """A metadata value as a list: gguf-py joins a card's list of licenses with commas."""
    return [part.strip() for part in (value or "").split(",") if part.strip()]


def _licenses(license: str | None, name: str | None, link: str | None) -> tuple[str, ...]:
    values = _split(license)
    declared = [value for value in values if value.lower() != "other"]
    if len(declared) < len(values) or (not values and (name or link)):
        declared.append(name or link or "other")
    return tuple(declared)


def hub_repo_id(value: str) -> str | None:
    """The Hub repo id a base-model value names: an id as written, or a Hub model URL; None for
    any other URL (a GitHub repository says nothing the lineage can follow)."""
    match = _HUB_URL.match(value.strip())
    if match:
        return match.group(1)
    return None if _URL.match(value) or not value.strip() else value.strip()


def weights_declaration(entry: FileEntry) -> WeightsDeclaration | None:
    """The declaration in one file's GGUF or safetensors metadata, or None when it has none."""
    source = f"{entry.path} metadata"
    quoted: list[tuple[str, str | None]]
    if entry.gguf is not None:
        header = entry.gguf
        quoted = [
            ("general.license", header.license),
            ("general.license.name", header.license_name),
            ("general.license.link", header.license_link),
        ]
        licenses = _licenses(header.license, header.license_name, header.license_link)
        bases = [
            (f"general.base_model.{i}.repo_url", b.repo_url)
            for i, b in enumerate(header.base_models)
        ]
        bases += [(f"general.source.{key}", header.source.get(key)) for key in _SOURCE_REPOSITORIES]
        bases.append(("general.source.repo_url", header.source.get("repo_url")))
    elif entry.safetensors is not None:
        metadata = entry.safetensors.metadata
        quoted = [(key, metadata.get(key)) for key in ("license", "license_name", "license_link")]
        licenses = _licenses(*(value for _, value in quoted))
        bases = [("base_model", value) for value in _split(metadata.get("base_model"))]
    else:
        return None
    base_models: list[str] = []
    evidence = [Evidence(source, f"{key}: {value}") for key, value in quoted if value]
    for key, value in bases:
        repo = hub_repo_id(value) if value else None
        if repo is not None and repo.lower() not in {b.lower() for b in base_models}:
            base_models.append(repo)
            evidence.append(Evidence(source, f"{key}: {value}"))
    if not licenses and not base_models:
        return None
    return WeightsDeclaration(entry.path, licenses, tuple(base_models), tuple(evidence))


def weights_declarations(entries: Iterable[FileEntry]) -> tuple[WeightsDeclaration, ...]:
    """The declarations of every file that makes one, in file order."""
    found = (weights_declaration(entry) for entry in entries)
    return tuple(declaration for declaration in found if declaration is not None)
