"""The facts aiscan gathers and the findings it derives from them.

Sources fill these frozen dataclasses and never judge; checks read them and never touch files.
Keeping facts immutable lets every stage pass them on without defensive copies.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import PurePath
from typing import Any, Literal

ComponentType = Literal["model", "dataset", "library", "file"]
FileFormat = Literal["safetensors", "pickle", "gguf", "onnx", "other"]
Severity = Literal["error", "warning", "note"]

SEVERITY_RANK: Mapping[str, int] = {"note": 0, "warning": 1, "error": 2}


@dataclass(frozen=True)
class Evidence:
    """Where a conclusion came from, quoted so a reader can check it."""

    source: str
    value: str


@dataclass(frozen=True)
class HeaderDefect:
    """One structural problem found in a weights file header.

    `kind` is the integrity rule it maps to: `truncated`, `malformed`, `duplicate-tensor`,
    `missing-shard` for a shard index naming a shard or tensor that is not there, or
    `unexpected-file` for a store file no manifest names (an unreferenced Ollama blob). A store
    blob whose size differs from its manifest's is `truncated` (shorter) or `malformed`.
    """

    kind: Literal["truncated", "malformed", "duplicate-tensor", "missing-shard", "unexpected-file"]
    message: str


@dataclass(frozen=True)
class SafetensorsHeader:
    """What a safetensors header says, measured without reading the tensor data."""

    header_size: int
    tensor_count: int
    parameter_count: int
    dtypes: Mapping[str, int]
    metadata: Mapping[str, str]
    defects: tuple[HeaderDefect, ...] = ()
    tensor_names: tuple[str, ...] = ()
    """Kept so a shard index can be checked against what each shard really holds."""


@dataclass(frozen=True)
class PickleScan:
    """What a pickle opcode scan found, without unpickling anything.

    `globals` are every `module.name` the file's pickles import (GLOBAL, STACK_GLOBAL, INST,
    copyreg extension codes), in order of first appearance; `error` says why the scan stopped
    before the end, in which case the file must not be treated as clean (what was found up to
    there is kept). `streams` counts the pickles decoded in full (a legacy torch file has five,
    a torch zip one per `.pkl` member).
    """

    globals: tuple[str, ...] = ()
    error: str | None = None
    streams: int = 0


@dataclass(frozen=True)
class GgufBaseModel:
    """One `general.base_model.{i}.*` group of a GGUF header, as written."""

    name: str | None = None
    organization: str | None = None
    version: str | None = None
    repo_url: str | None = None


@dataclass(frozen=True)
class GgufHeader:
    """What a GGUF header says, measured without reading the tensor data.

    `tensor_count` and `metadata_count` are the counts the header declares; `parameter_count`
    and `tensor_types` (ggml type name → tensors) cover the tensor infos that could be read.
    `file_type` is `general.file_type` as written and `quantization` its llama.cpp name
    (`Q4_K_M`), None when absent or unknown. The `general.*` strings are kept as written:
    `source` maps what follows `general.source.` (`url`, `repo_url`,
    `huggingface.repository`, and the misspelled `hugginface.repository` of early converters)
    to its value.
    """

    version: int
    tensor_count: int
    metadata_count: int
    parameter_count: int
    alignment: int = 32
    architecture: str | None = None
    name: str | None = None
    file_type: int | None = None
    quantization: str | None = None
    tensor_types: Mapping[str, int] = field(default_factory=dict)
    license: str | None = None
    license_name: str | None = None
    license_link: str | None = None
    base_models: tuple[GgufBaseModel, ...] = ()
    source: Mapping[str, str] = field(default_factory=dict)
    quantized_by: str | None = None
    defects: tuple[HeaderDefect, ...] = ()


FileHeader = SafetensorsHeader | GgufHeader | PickleScan | None
"""A weights file's header facts, by format."""


@dataclass(frozen=True)
class TextMatch:
    """What a license text is, compared word by word with a reference text
    (`scanner.licensing.matching`).

    `verdict` is `match` (the license, `coverage` of its reference present and nothing added),
    `fragment` (a piece of the license only it has, `coverage` of it present) or `similar`
    (close to the license but not it: `difference` quotes what the text adds or lacks; the
    license stays unresolved). `section` is the heading of the card section the text is in.
    """

    key: str
    verdict: Literal["match", "fragment", "similar"]
    coverage: float
    difference: str | None = None
    section: str | None = None

    def describe(self, name: str, file: str) -> str:
        """The match as evidence, `name` being the license's: "LICENSE: 100 % of the Apache
        License 2.0", "README.md § License: similar to the MIT License, not it: adds '…'"."""
        where = f"{file} § {self.section}" if self.section else file
        share = f"{self.coverage * 100:.0f} %"
        if self.verdict == "match":
            return f"{where}: {share} of the {name}"
        if self.verdict == "fragment":
            return f"{where}: a fragment, {share} of the {name}"
        return f"{where}: similar to the {name}, not it: {self.difference or 'it differs'}"


@dataclass(frozen=True)
class FileEntry:
    """One file of a component, with what is known about its bytes.

    `sha256` is set only when every byte was read (or a cache entry for the same unchanged inode
    says so). `reference` names where the expected digest came from (`lockfile`, `bom`,
    `hf-blob`) and `expected` is that digest as `sha256:<hex>` or `git-sha1:<hex>`; `verified` is
    True when they agree, False when they differ or the file could not be fully read, and None
    when nothing was compared. `defects` holds structural problems found outside a safetensors
    header (a shard index). `header` is what the reader of the file's format measured; a new
    weights format adds a header type here, not a field.
    """

    path: str
    size: int | None
    format: FileFormat
    sha256: str | None = None
    verified: bool | None = None
    header: FileHeader = None
    license_detected: tuple[str, ...] = ()
    error: str | None = None
    reference: str | None = None
    expected: str | None = None
    defects: tuple[HeaderDefect, ...] = ()
    from_cache: bool = False
    """True when `sha256` came from the hash cache, trusted because the file's device, inode,
    size, mtime and ctime are unchanged since it was last read in full, not from reading it."""
    media_type: str | None = None
    """The media type a store's manifest gives the file (an Ollama layer); None elsewhere."""
    license_match: tuple[TextMatch, ...] = ()
    """How the license text of the file (a LICENSE, or a card body) compares with the
    references: matches and fragments are also in `license_detected`, similar texts only here."""
    host: str | None = None
    """The host (Dask worker name) that measured this file in `verify --fleet`; None for a
    file read on this machine or a shared store."""
    etag: str | None = None
    """The version tag an object store listed for the file (None on a local disk): hashing
    checks it is unchanged, and the hash cache is keyed by it. Not reported."""

    @property
    def safetensors(self) -> SafetensorsHeader | None:
        return self.header if isinstance(self.header, SafetensorsHeader) else None

    @property
    def gguf(self) -> GgufHeader | None:
        return self.header if isinstance(self.header, GgufHeader) else None

    @property
    def pickle(self) -> PickleScan | None:
        return self.header if isinstance(self.header, PickleScan) else None

    @property
    def header_defects(self) -> tuple[HeaderDefect, ...]:
        """The structural defects the reader of the file's format found in its header."""
        header = self.safetensors or self.gguf
        return header.defects if header is not None else ()


@dataclass(frozen=True)
class CardMention:
    """A passage of a card's prose saying the model is built on a known model family."""

    family: str
    license: str
    quote: str


@dataclass(frozen=True)
class Notice:
    """A NOTICE file shipped with a component, quoted so an attribution bundle can carry it."""

    file: str
    text: str


@dataclass(frozen=True)
class LicenseText:
    """A license file a component ships, quoted at scan time because its text was recognised.

    `licenses` are the knowledge-base keys the text matched. Kept so the attribution bundle can
    pass on the component's own copy of a license whose text aiscan may not redistribute, also
    when it is written from a saved report after the scanned folder is gone.
    """

    file: str
    text: str
    licenses: tuple[str, ...]


@dataclass(frozen=True)
class EvalMetric:
    """One evaluation result from a card's `model-index`, as its author reported it."""

    metric: str
    value: str
    task: str | None = None
    dataset: str | None = None
    name: str | None = None


@dataclass(frozen=True)
class CardFacts:
    """The model card's front matter as written, plus where it is.

    `error` is set when the card exists but could not be read or parsed; the other fields are
    then empty, because nothing from a broken card can be trusted.
    """

    path: str
    license: tuple[str, ...] = ()
    license_name: str | None = None
    license_link: str | None = None
    license_line: int | None = None
    base_models: tuple[str, ...] = ()
    base_model_relation: str | None = None
    datasets: tuple[str, ...] = ()
    pipeline_tag: str | None = None
    library_name: str | None = None
    tags: tuple[str, ...] = ()
    error: str | None = None
    invalid: tuple[str, ...] = ()
    """Values kept as written but unfit to be names (a control character in `base_model`): each
    is reported as `provenance.card-invalid`, and such a base model is never looked up."""
    mentions: tuple[CardMention, ...] = ()
    """Model families the prose says the model is built on; filled in by license resolution."""
    metrics: tuple[EvalMetric, ...] = ()
    prose: str = field(default="", repr=False)
    extra_gated_prompt: str | None = field(default=None, repr=False)
    """The text a gated repository shows before granting access: often the license itself."""
    """The card's text after the front matter, kept for resolution to read; not reported."""
    eval_datasets: tuple[str, ...] = ()
    """Datasets the card's `model-index` results were measured on (`dataset.type`, else its
    `name`), as written: evaluation data, reported apart from the training data."""
    source_datasets: tuple[str, ...] = ()
    """A dataset card's `source_datasets`: what the data was derived from, as written."""
    creators: tuple[str, ...] = ()
    """A dataset card's `annotations_creators` and `language_creators` (`machine-generated`,
    `crowdsourced`, `found`, ...), as written."""
    linked_datasets: tuple[str, ...] = ()
    """Hub datasets the card's text links to (`huggingface.co/datasets/org/name`), once each:
    named by the card, though the link alone does not say they are training data."""


@dataclass(frozen=True)
class LicenseFacts:
    """A component's license: what its author declared, what aiscan recognised, and the verdict.

    `declared` and `detected` are facts from the source. `effective` (knowledge-base keys as an
    SPDX-style expression) and `category` are filled in by license resolution, which also appends
    the evidence for its conclusion.
    """

    declared: tuple[str, ...] = ()
    detected: tuple[str, ...] = ()
    effective: str | None = None
    category: str = "unknown"
    inherited: tuple[str, ...] = ()
    evidence: tuple[Evidence, ...] = ()


ProblemKind = Literal["unreadable", "link-outside-target"]


@dataclass(frozen=True)
class Problem:
    """Something a source could not read: recorded so nothing skipped is reported clean.

    `kind` names the `scan.*` rule it becomes: `unreadable`, or `link-outside-target` for a
    symbolic link that leaves the scanned target and was therefore not followed.
    """

    location: str
    message: str
    kind: ProblemKind = "unreadable"


@dataclass(frozen=True)
class Ancestor:
    """One base model reached by following `base_model` links, and where its facts came from.

    `chain` runs from the component's direct base to this one. `found_in` is `scan`, `hfcache`,
    `hub` or `catalogue`, `card-text` for a base only named in the card's prose; when the base
    could not be resolved it is `missing` (a place such as the Hub said it does not exist),
    `unknown` (no place asked knew it), `cycle` or `too-deep`, with `problem` saying why.
    `licenses` are the
    knowledge-base keys of the ancestor's own terms; `evidence` quotes where they come from.
    """

    name: str
    chain: tuple[str, ...]
    found_in: str
    relation: str | None = None
    revision: str | None = None
    licenses: tuple[str, ...] = ()
    evidence: str = ""
    problem: str | None = None


@dataclass(frozen=True)
class CodeReference:
    """A place in source code that loads a model, with the loading options that carry risk.

    `expression` is the source text of a model argument that could not be resolved to a string;
    the component's name is then that text and `resolved` is False. `revision` is the literal
    `revision=` argument (None when absent); `revision_literal` is False when one was passed
    but is not a constant. `trust_remote_code` and `use_safetensors` are the literal keyword
    values, None when not passed. `declared_in` names the project inventories (aiscan lock file,
    BOM) that list the model. `found_in` is filled in by license resolution: the place whose
    facts the model's license is concluded from (`scan`, `hfcache`, `hub`, `catalogue`), None
    when no place knows the id or it is no repo id.
    """

    file: str
    line: int
    call: str
    cell: int | None = None
    """The notebook code cell (1-based) for references in `.ipynb` files; `line` is within it."""
    resolved: bool = True
    expression: str | None = None
    revision: str | None = None
    revision_literal: bool = True
    trust_remote_code: bool | None = None
    use_safetensors: bool | None = None
    declared_in: tuple[str, ...] = ()
    found_in: str | None = None
    registry: Literal["hub", "ollama"] = "hub"
    """Where the name is looked up: a Hugging Face id (or local path), or an Ollama library name
    (`llama3.1:8b`, from `ollama pull`, the `ollama` client, `ChatOllama`), whose family the
    catalogue knows."""
    loads_weights: bool = True
    """False when the code asks a server that holds the weights (Ollama, a hosted inference
    endpoint): the call has no revision to pin."""


@dataclass(frozen=True)
class Service:
    """A hosted AI service (or a self-hosted inference server) a project calls or deploys.

    Found in code (`client.chat.completions.create(model="gpt-4o")`) or in a deployment file
    (an `ollama/ollama` image, `OPENAI_MODEL=gpt-4o` in `.env`), at `file:line` (`cell` for a
    notebook). `provider` is aiscan's name for who runs it (`openai`, `anthropic`,
    `aws-bedrock`, `ollama`, ...); `model` the model name as the code gives it, None when
    unresolved (then `expression` holds the source text) or when none applies (an inference
    server's image). `endpoint` is only what the code or file states (`base_url=`,
    `azure_endpoint=`), never a default filled in. `hosted` is False for a self-hosted inference
    server, whose `image` is the container image. `declared_in` names the project inventories
    (a CycloneDX BOM's `services`) that list it.
    """

    ref: str
    provider: str
    file: str
    line: int
    call: str
    location: str
    model: str | None = None
    endpoint: str | None = None
    hosted: bool = True
    image: str | None = None
    cell: int | None = None
    expression: str | None = None
    declared_in: tuple[str, ...] = ()

    @property
    def resolved(self) -> bool:
        """False when the model is named at run time (an environment variable, an argument)."""
        return self.expression is None

    @property
    def version(self) -> str | None:
        """A self-hosted server's version: its image's digest or tag (`v0.6.3`), None for
        `latest` or no tag, which name whatever was pushed last. Hosted APIs state none."""
        if self.image is None:
            return None
        tag = _image_parts(self.image)[1]
        return None if tag == "latest" else tag

    @property
    def bom_name(self) -> str:
        """The name BOMs give the service: as `label`, but a server's image without its tag,
        which is the version, so a new tag is a version change, not another service."""
        return _image_parts(self.image)[0] if self.image is not None else self.label

    @property
    def label(self) -> str:
        """How reports name the service: its model, the server's image, or the run-time name."""
        return self.model or self.image or self.expression or self.provider

    @property
    def where(self) -> str:
        """`file:line` (`file cell N:line` in a notebook), as findings and reports quote it."""
        cell = f" cell {self.cell}" if self.cell else ""
        return f"{self.file}{cell}:{self.line}"


def _image_parts(image: str) -> tuple[str, str | None]:
    """(repository, tag or digest) of a container image reference: `host:5000/a/b:tag`,
    `a/b@sha256:…` (a digest wins over a tag), `a/b` (neither)."""
    repository, at, digest = image.partition("@")
    head, _, tag = repository.rpartition(":")
    if head and "/" not in tag:
        repository = head
    else:
        tag = ""
    return repository, digest if at else tag or None


@dataclass(frozen=True)
class PackageMetadata:
    """A Python distribution's license metadata as written, for license resolution to conclude
    from: installed `METADATA` (with its license files) or the package index's JSON API."""

    origin: Literal["installed", "index"]
    license_expression: str | None = None
    license: str | None = None
    classifiers: tuple[str, ...] = ()
    license_files: tuple[tuple[str, str], ...] = ()
    supplier: str | None = None
    """Who the metadata says makes the package (its Author, else Maintainer), for BOMs."""


@dataclass(frozen=True)
class OllamaConfig:
    """An Ollama model's config blob as written (`model_type` is Ollama's parameter-size label,
    `8.0B`; `file_type` its quantisation label, `Q4_K_M`)."""

    model_format: str | None = None
    model_family: str | None = None
    model_families: tuple[str, ...] = ()
    model_type: str | None = None
    file_type: str | None = None


@dataclass(frozen=True)
class OllamaModel:
    """Where an Ollama model's manifest is (`manifests/<host>/<namespace>/<model>/<tag>`, relative
    to the store) and what its config blob says."""

    host: str
    namespace: str
    model: str
    tag: str
    manifest: str
    config: OllamaConfig | None = None

    @property
    def library(self) -> bool:
        """A model of Ollama's own library (`ollama pull llama3.1`), named by its family."""
        return self.host.lower() == "registry.ollama.ai" and self.namespace.lower() == "library"


@dataclass(frozen=True)
class GeneratedBy:
    """Who generated a dataset's content with a model, as the dataset card says, and the
    provider's terms for its outputs.

    `restriction` quotes the provider's terms where they restrict using outputs to train models
    that compete with the provider (None when the terms cited say no such thing); `terms` is the
    URL of those terms and `section` where in them.
    """

    provider: str
    models: tuple[str, ...] = ()
    terms: str | None = None
    restriction: str | None = None
    section: str | None = None


@dataclass(frozen=True)
class DatasetOrigin:
    """Where a dataset's content comes from, from its card and aiscan's dataset catalogue.

    `kind` is the catalogue's word (`instruction`, `preference`, `web-crawl`, `code`,
    `image-text`, ...); `derived_from` the datasets it was made from; `notes` quote what the
    card says about its origin and terms; `citation` the dataset card they come from. Nothing
    here is inferred: a field the card and catalogue do not state stays empty.
    """

    kind: str | None = None
    generated_by: tuple[GeneratedBy, ...] = ()
    derived_from: tuple[str, ...] = ()
    creators: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    citation: str | None = None


DatasetRole = Literal["training", "evaluation", "linked"]


@dataclass(frozen=True)
class TrainingDataset:
    """One dataset a model's card names, with what is known about its license and origin.

    `stated_in` says where the card names it (`card datasets`, `model-index`, `card text`);
    `role` is `training` for the card's `datasets:`, `evaluation` for data only named in
    results, `linked` for data only linked from the card's text (its use unstated).
    `found_in` is where its facts came from (`scan`, `hfcache`, `hub`, `catalogue`) or
    `unknown`, with `problem` saying why; `ref` is the scanned dataset component, if any.
    `license` is concluded like a model's own license; unknown stays unknown.
    """

    name: str
    stated_in: tuple[str, ...]
    role: DatasetRole = "training"
    found_in: str = "unknown"
    ref: str | None = None
    revision: str | None = None
    license: LicenseFacts = field(default_factory=LicenseFacts)
    origin: DatasetOrigin = field(default_factory=DatasetOrigin)
    problem: str | None = None


@dataclass(frozen=True)
class ModelDetails:
    """What only a model or dataset read from a store (folder, HF cache, Hub) carries."""

    card: CardFacts | None = None
    refs: tuple[str, ...] = ()
    """Branches and tags pointing at this revision (HF cache `refs/`, or the Hub branch asked)."""
    gated: str | None = None
    """The Hub's gating mode (`auto`, `manual`) when the repo is gated; None otherwise."""
    revision_pinned: bool | None = None
    """False when a Hub target names a branch or nothing instead of a 40-hex commit."""
    remote_code: tuple[str, ...] = ()
    """`auto_map` entries of config.json: classes transformers loads from the repo's code."""
    model_type: str | None = None
    """`model_type` from config.json (e.g. `llama`): the architecture family."""
    architectures: tuple[str, ...] = ()
    """`architectures` from config.json (e.g. `LlamaForCausalLM`)."""
    ollama: OllamaModel | None = None
    """Set for a model read from an Ollama store."""
    origin: DatasetOrigin | None = None
    """Set for a dataset: where its content comes from (card and dataset catalogue)."""


@dataclass(frozen=True)
class LibraryDetails:
    """What only a package of a Python project carries."""

    depends_on: tuple[str, ...] = ()
    """Refs of the components this one needs at run time (a package's Requires-Dist)."""
    direct: bool | None = None
    """True for a package the project requires itself, False for one pulled in by another,
    None when the project declares no requirements to tell."""
    declared_only: bool = False
    """True for a package named in a requirements or lock file but not installed where aiscan
    looked, so its license metadata could not be read."""
    declared_in: tuple[str, ...] = ()
    """Where the project declares this component (`requirements.txt:3`, `uv.lock`, ...)."""
    metadata: PackageMetadata | None = field(default=None, repr=False)
    """The license metadata as read; resolution turns it into the component's `license`. Not
    reported: the evidence quotes what mattered."""
    index_problem: str | None = None
    """With `--pypi`, why the index gave no license for this declared-only package: its answer
    (an HTTP error, no connection) or that no pinned version could be asked about."""


@dataclass(frozen=True)
class HostLocation:
    """Where one host of a fleet holds a component (`aiscan verify --fleet`)."""

    host: str
    location: str


ComponentDetails = ModelDetails | LibraryDetails | CodeReference | None
"""The facts only one kind of component has: a stored model, a package, a model named in code."""

_NO_MODEL = ModelDetails()
_NO_LIBRARY = LibraryDetails()


@dataclass(frozen=True)
class Component:
    """One thing a product ships or uses: a model, a dataset, a library or a file.

    The fields every kind shares are here; the rest is in `details`, read through `model`,
    `library` and `code_reference`, which give empty facts for other kinds.
    """

    ref: str
    type: ComponentType
    name: str
    source: str
    location: str
    version: str | None = None
    purl: str | None = None
    license: LicenseFacts = field(default_factory=LicenseFacts)
    base_models: tuple[str, ...] = ()
    datasets: tuple[str, ...] = ()
    files: tuple[FileEntry, ...] = ()
    problems: tuple[Problem, ...] = ()
    lineage: tuple[Ancestor, ...] = ()
    notices: tuple[Notice, ...] = ()
    """NOTICE files the component ships (Apache-2.0 section 4(d) requires passing them on)."""
    license_texts: tuple[LicenseText, ...] = ()
    """License files the component ships whose text was recognised, with that text."""
    details: ComponentDetails = None
    training_data: tuple[TrainingDataset, ...] = ()
    """For a model: the datasets its card names, each with its license and origin (the
    transparency view); filled in by dataset resolution."""
    hosts: tuple[HostLocation, ...] = ()
    """In `verify --fleet`, every host holding this revision and where; `location` is the
    first host's."""

    def path_of(self, relative: str) -> str:
        """Where one of this component's files lies: below the folder it is at, or, for a
        single file given as the target (a `file`, or a model that is one GGUF), the
        component's own location: a component of one file at a location of that file's name."""
        location = PurePath(self.location)
        if location.name == relative and (self.type == "file" or len(self.files) == 1):
            return str(location)
        return str(location / relative)

    @property
    def model(self) -> ModelDetails:
        """A stored model's or dataset's own facts (empty for other kinds)."""
        return self.details if isinstance(self.details, ModelDetails) else _NO_MODEL

    @property
    def library(self) -> LibraryDetails:
        """A package's own facts (empty for other kinds)."""
        return self.details if isinstance(self.details, LibraryDetails) else _NO_LIBRARY

    @property
    def code_reference(self) -> CodeReference | None:
        """Set for a model found in source code rather than on disk or on the Hub."""
        return self.details if isinstance(self.details, CodeReference) else None

    @property
    def card(self) -> CardFacts | None:
        return self.model.card


@dataclass(frozen=True)
class Waiver:
    """An approved exception from the policy for one rule on matching components."""

    rule: str
    component: str
    reason: str
    approved_by: str | None = None
    expires: datetime.date | None = None


@dataclass(frozen=True)
class Finding:
    """A judgement about a component (or the scan as a whole when `component` is None)."""

    rule: str
    severity: Severity
    component: str | None
    message: str
    evidence: Mapping[str, Any] = field(default_factory=dict)
    waived: Waiver | None = None
    in_baseline: bool = False
    """True when `--baseline` already held this finding: listed, but it does not fail the run."""

    @property
    def counts(self) -> bool:
        """Whether the finding counts towards the exit code and the summary."""
        return self.waived is None and not self.in_baseline


@dataclass(frozen=True)
class ScanResult:
    """Everything one run produced; formats render this and nothing else."""

    tool_version: str
    targets: tuple[str, ...]
    components: tuple[Component, ...]
    findings: tuple[Finding, ...]
    fail_on: Severity = "error"
    policy: str | None = None
    rules_off: tuple[str, ...] = ()
    """Rules the policy switched off: a run says what it did not check."""
    services: tuple[Service, ...] = ()
    """Hosted AI services and inference servers the scanned projects call or deploy."""

    @property
    def exit_code(self) -> int:
        """0 when no unwaived finding reaches the fail level, 1 otherwise (the CLI adds 2 and 3)."""
        threshold = SEVERITY_RANK[self.fail_on]
        failing = any(f.counts and SEVERITY_RANK[f.severity] >= threshold for f in self.findings)
        return 1 if failing else 0

    def count(self, severity: Severity) -> int:
        """Findings of one severity that count: not waived and not in the baseline."""
        return sum(1 for f in self.findings if f.severity == severity and f.counts)

    @property
    def waived_count(self) -> int:
        return sum(1 for f in self.findings if f.waived is not None)
