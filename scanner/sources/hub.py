"""Models on the Hugging Face Hub as components, never downloading weights.

`HubSource` turns an `hf://org/name[@revision]` target into a component; `HubLookup`
(`scanner.sources.lookups`) answers lineage questions about base models. Both build the component the same way, through the one
card reader, from what `scanner.remote.hub.HubClient` fetched: the card README when its prose
is wanted, otherwise the `cardData` the Hub parsed from the same front matter.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from scanner.errors import TargetMissing
from scanner.inventory import (
    CardFacts,
    Component,
    Evidence,
    FileEntry,
    FileFormat,
    LicenseFacts,
    ModelDetails,
    Problem,
)
from scanner.licensing.knowledge_base import LicenseKnowledgeBase
from scanner.readers.card import (
    MAX_CARD_BYTES,
    card_evidence,
    card_from_mapping,
    declared_licenses,
    read_card,
)
from scanner.readers.model_folder import (
    MAX_LICENSE_FILE_BYTES,
    PICKLE_SUFFIXES,
    is_license_file,
)
from scanner.remote.hub import (
    COMMIT,
    HubClient,
    HubModel,
    is_dataset_target,
    is_hub_target,
    parse_target,
)
from scanner.sources.interface import Source, SourceContext, Target


def _file_format(path: str) -> FileFormat:
    """A Hub file's format from its name alone: no weight byte is ever downloaded."""
    suffix = Path(path).suffix.lower()
    name = Path(path).name.lower()
    if suffix == ".safetensors":
        return "safetensors"
    if suffix in PICKLE_SUFFIXES or (suffix == ".bin" and name.startswith("pytorch_model")):
        return "pickle"
    if suffix == ".gguf":
        return "gguf"
    return "onnx" if suffix == ".onnx" else "other"


def hub_component(
    model: HubModel,
    client: HubClient,
    kb: LicenseKnowledgeBase,
    *,
    revision: str | None,
    with_readme: bool = True,
) -> Component:
    """The component of one Hub revision.

    With `with_readme` the card README is fetched (its prose may say "based on Llama-2");
    without, the card comes from the `cardData` of the `model_info` answer, which the Hub
    parsed from the same front matter: one request fewer per base model in a lineage walk.
    """
    names = {f.path for f in model.files}
    problems = list(model.problems)
    card: CardFacts | None = None
    if "README.md" in names:
        if with_readme:
            text = client.file_text(model, "README.md", MAX_CARD_BYTES)
            if text is None:
                problems.append(Problem("README.md", "model card could not be fetched"))
            else:
                card = read_card(text.encode("utf-8"), "README.md")
        elif model.card_data:
            card = card_from_mapping(model.card_data, "README.md")
    files = tuple(
        FileEntry(
            path=f.path,
            size=f.size,
            format=_file_format(f.path),
            reference="hub" if f.lfs_sha256 else None,
            expected=f"sha256:{f.lfs_sha256}" if f.lfs_sha256 else None,
        )
        for f in model.files
    )
    pinned = revision is not None and COMMIT.match(revision) is not None
    is_model = model.repo_type == "model"
    return Component(
        ref=f"{model.repo_type}:hf/{model.repo_id}@{model.sha}",
        type="model" if is_model else "dataset",
        name=model.repo_id,
        source="hub",
        location=f"{client.shown_endpoint}/{model.path_prefix}{model.repo_id}/tree/{model.sha}",
        version=model.sha,
        # The huggingface purl type names models; a dataset has none (as in the HF cache).
        purl=f"pkg:huggingface/{model.repo_id}@{model.sha}" if is_model else None,
        license=_license(model, card, names, client, kb),
        base_models=card.base_models if card and is_model else (),
        datasets=card.datasets if card and is_model else (),
        files=files,
        problems=tuple(problems),
        details=ModelDetails(
            card=card,
            refs=() if pinned else (revision or "main",),
            gated=model.gated,
            revision_pinned=pinned,
            remote_code=model.auto_map,
        ),
    )


def _license(
    model: HubModel,
    card: CardFacts | None,
    names: set[str],
    client: HubClient,
    kb: LicenseKnowledgeBase,
) -> LicenseFacts:
    """The card's declared licenses; license files are fetched only when the card names none."""
    evidence: list[Evidence] = []
    declared: tuple[str, ...] = ()
    if card is not None and card.error is None:
        declared = declared_licenses(card)
        evidence.extend(card_evidence(card))
    detected: list[str] = []
    if not declared:
        for path in sorted(n for n in names if "/" not in n and is_license_file(n)):
            text = client.file_text(model, path, MAX_LICENSE_FILE_BYTES)
            keys, matches = kb.identify(text or "")
            evidence.extend(
                Evidence(path, match.describe(kb[match.key].name, path)) for match in matches
            )
            evidence.extend(
                Evidence(path, f"text matches the {kb[key].name}")
                for key in keys
                if key not in {match.key for match in matches}
            )
            detected.extend(keys)
    return LicenseFacts(
        declared=declared, detected=tuple(dict.fromkeys(detected)), evidence=tuple(evidence)
    )


class HubSource(Source):
    """One `hf://org/name[@revision]` target (a model) or `hf://datasets/org/name[@revision]`
    (a dataset): card, license, files and gating from the Hub."""

    name = "hub"

    def __init__(self, target: Target, context: SourceContext) -> None:
        assert isinstance(target, str) and context.hub is not None  # as `accepts` requires
        self.target = target
        self.repo_id, self.revision = parse_target(target)
        self.is_dataset = is_dataset_target(target)
        self.client = context.hub
        self.kb = context.kb

    @classmethod
    def accepts(cls, target: Target, context: SourceContext) -> bool:
        return is_hub_target(target) and context.hub is not None

    def collect(self) -> Iterator[Component]:
        ask = self.client.dataset if self.is_dataset else self.client.model
        model = ask(self.repo_id, self.revision)
        if model is None:
            raise TargetMissing(
                f"{self.target}: not found on the Hub (or private, or gated without access)"
            )
        yield hub_component(model, self.client, self.kb, revision=self.revision)
