"""Reads one model folder (a plain directory or an HF cache snapshot) into facts.

Shared by the model-folder and HF-cache sources: both hold the same files, only the way the
repository id and revision are known differs. Everything here opens files read-only and never
writes next to them.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import stat
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import IO

from scanner.errors import describe_os_error
from scanner.files import (
    NO_EXCLUDES,
    Excludes,
    link_outside,
    not_regular_description,
    outside_link_message,
    read_bounded,
)
from scanner.inventory import (
    CardFacts,
    Component,
    Evidence,
    FileEntry,
    FileFormat,
    FileHeader,
    LicenseFacts,
    LicenseText,
    ModelDetails,
    Notice,
    Problem,
    TextMatch,
)
from scanner.licensing.knowledge_base import LicenseKnowledgeBase
from scanner.readers.card import (
    FRONT_MATTER,
    MAX_CARD_BYTES,
    card_evidence,
    declared_licenses,
    optional_string,
    read_card,
    strings,
)
from scanner.readers.gguf import parse_gguf, read_gguf
from scanner.readers.safetensors import SafetensorsReadError, parse_header, read_header
from scanner.readers.weights_metadata import weights_declarations

MAX_LICENSE_FILE_BYTES = 1024 * 1024
"""How much of a license file is read. A longer file is still recognised from its start, but its
text is not kept: a truncated copy is not the license."""
MAX_CONFIG_BYTES = 4 * 1024 * 1024

PICKLE_SUFFIXES = frozenset({".pt", ".pth", ".ckpt", ".pkl", ".pickle"})
WEIGHT_SUFFIXES = frozenset(
    {".safetensors", ".bin", ".gguf", ".onnx", ".h5", ".msgpack", ".tflite", *PICKLE_SUFFIXES}
)
SKIPPED_DIRS = frozenset({".git", ".cache", "__pycache__", ".locks"})
"""Folders that hold tool state, not model files (`.cache` is huggingface_hub's local-dir state)."""

_LICENSE_FILE = re.compile(r"^(licen[cs]e|copying|notice|use[_-]policy)([._-].*)?$", re.IGNORECASE)
_CARD_KEY = re.compile(
    r"^(license|license_name|base_model|pipeline_tag|library_name|model-index|tags|datasets)\s*:",
    re.MULTILINE,
)
_MODEL_CONFIG_KEYS = frozenset({"model_type", "architectures", "_class_name", "_diffusers_version"})
_MODEL_MARKER_FILES = frozenset(
    {"model_index.json", "adapter_config.json", "config_sentence_transformers.json"}
)


@dataclass(frozen=True)
class FolderFacts:
    """What one model folder holds."""

    card: CardFacts | None
    files: tuple[FileEntry, ...]
    license: LicenseFacts
    problems: tuple[Problem, ...]
    remote_code: tuple[str, ...] = ()
    model_type: str | None = None
    architectures: tuple[str, ...] = ()
    notices: tuple[Notice, ...] = ()
    license_texts: tuple[LicenseText, ...] = ()
    base_models: tuple[str, ...] = ()
    """The card's `base_model`, then those the weights' own metadata names."""

    def model_details(self, refs: tuple[str, ...] = ()) -> ModelDetails:
        """The model facts of a component built from this folder (`refs`: the cache's refs
        pointing at it)."""
        return ModelDetails(
            card=self.card,
            refs=refs,
            remote_code=self.remote_code,
            model_type=self.model_type,
            architectures=self.architectures,
        )

    def local_model(self, name: str, source: str, location: str) -> Component:
        """The model component of a folder read from a tree (on disk or in an object store),
        named by its path below the target: the same ref wherever the tree lies, so a lock
        made of one copy applies to another."""
        return Component(
            ref=f"model:local/{name}",
            type="model",
            name=name,
            source=source,
            location=location,
            license=self.license,
            base_models=self.base_models,
            datasets=self.card.datasets if self.card else (),
            files=self.files,
            problems=self.problems,
            details=self.model_details(),
            notices=self.notices,
            license_texts=self.license_texts,
        )


EMPTY_FOLDER = FolderFacts(card=None, files=(), license=LicenseFacts(), problems=())
"""The facts of a folder that could not be read at all (its problems are recorded elsewhere)."""


def is_model_folder(folder: Path, file_names: list[str]) -> bool:
    """Tell whether a directory holds a model: weights, a model config, or a model card."""
    return holds_a_model(file_names, lambda name, limit: read_bounded(folder / name, limit))


def holds_a_model(file_names: list[str], read_start: Callable[[str, int], bytes]) -> bool:
    """`is_model_folder` over any store: `read_start(name, limit)` gives the first `limit`
    bytes of one of the folder's files (raising `OSError` when it cannot)."""
    lowered = {name.lower(): name for name in file_names}
    if any(Path(name).suffix.lower() in WEIGHT_SUFFIXES for name in lowered):
        return True
    if _MODEL_MARKER_FILES & set(lowered):
        return True
    if "config.json" in lowered:
        try:
            config = json.loads(read_start(lowered["config.json"], MAX_CONFIG_BYTES))
        except (OSError, ValueError):
            config = None
        if isinstance(config, dict) and _MODEL_CONFIG_KEYS & set(config):
            return True
    if "readme.md" in lowered:
        try:
            head = read_start(lowered["readme.md"], 64 * 1024).decode("utf-8", "replace")
        except OSError:
            return False
        match = FRONT_MATTER.match(head)
        return bool(match and _CARD_KEY.search(match.group(1)))
    return False


def read_card_file(path: Path, relative: str) -> CardFacts:
    """The card at `path` (shown as `relative`), read bounded through the one card reader."""
    try:
        raw = read_bounded(path, MAX_CARD_BYTES)
    except OSError as exc:
        return CardFacts(path=relative, error=f"cannot read the card: {describe_os_error(exc)}")
    return read_card(raw, relative)


def classify_format(path: Path) -> FileFormat:
    """Name the serialisation format of a file, looking at magic bytes where suffixes lie."""

    def pickled() -> bool:
        from scanner.readers.pickle import holds_pickle  # pickles only: 6 ms of start-up

        try:
            return holds_pickle(path)
        except OSError:
            return False

    return format_by_name(path.name, pickled)


def format_by_name(name: str, pickled: Callable[[], bool]) -> FileFormat:
    """`classify_format` for a file of any store: its name, and `pickled()` to look at the
    bytes of a `.bin` (called only for one)."""
    suffix = PurePosixPath(name).suffix.lower()
    if suffix == ".safetensors":
        return "safetensors"
    if suffix in PICKLE_SUFFIXES:
        return "pickle"
    if suffix == ".gguf":
        return "gguf"
    if suffix == ".onnx":
        return "onnx"
    if suffix == ".bin":
        # pytorch_model.bin is a torch zip or a pickle of any protocol; other .bin files are
        # raw data. Only the bytes tell them apart.
        return "pickle" if pickled() else "other"
    return "other"


def walk_files(
    folder: Path, root: str | None = None, exclude: Excludes = NO_EXCLUDES
) -> Iterator[tuple[Path, Problem | None]]:
    """Yield every regular file below `folder`, following links that stay inside `root` (the
    resolved scan target; default `folder`) once and never looping, and leaving out what
    `exclude` matches (nothing of it is opened or reported).

    Links that leave `root`, and FIFOs, devices and sockets, are yielded as problems and never
    opened: reading them could leak what lies outside the target or block the scan.
    """
    root = root or os.path.realpath(folder)
    seen: set[tuple[int, int]] = set()
    problems: list[Problem] = []

    def on_error(exc: OSError) -> None:
        problems.append(Problem(location=str(exc.filename), message=describe_os_error(exc)))

    def leaves(path: Path) -> bool:
        destination = link_outside(path, root)
        if destination is not None:
            problems.append(
                Problem(str(path), outside_link_message(destination), "link-outside-target")
            )
        return destination is not None

    try:
        root_stat = folder.stat()
    except OSError as exc:
        yield folder, Problem(location=str(folder), message=describe_os_error(exc))
        return
    seen.add((root_stat.st_dev, root_stat.st_ino))
    for dirpath, dirnames, filenames in os.walk(folder, followlinks=True, onerror=on_error):
        kept = []
        for name in sorted(dirnames):
            child = Path(dirpath, name)
            if name in SKIPPED_DIRS or exclude.skips(child, folder=True):
                continue
            if leaves(child):
                continue
            try:
                child_stat = child.stat()
            except OSError as exc:
                problems.append(Problem(location=str(child), message=describe_os_error(exc)))
                continue
            identity = (child_stat.st_dev, child_stat.st_ino)
            if identity in seen:
                problems.append(
                    Problem(location=str(child), message="directory link loop; not followed")
                )
                continue
            seen.add(identity)
            kept.append(name)
        dirnames[:] = kept
        for name in sorted(filenames):
            path = Path(dirpath, name)
            if exclude.skips(path, folder=False) or leaves(path):
                continue
            try:
                mode = path.stat().st_mode
            except OSError:
                mode = stat.S_IFREG  # vanished or dangling: reading it reports why
            if not stat.S_ISREG(mode):
                problems.append(Problem(str(path), f"{not_regular_description(mode)}; not read"))
                continue
            yield path, None
    for problem in problems:
        yield Path(problem.location), problem


def is_license_file(name: str) -> bool:
    """LICENSE, COPYING, NOTICE, USE_POLICY and their variants."""
    return _LICENSE_FILE.match(name) is not None


def read_file_entry(
    path: Path, relative: str, kb: LicenseKnowledgeBase, *, files_only: bool = False
) -> FileEntry:
    """Size, format, safetensors or GGUF header and (unless `files_only`) pickle imports and
    recognised license of one file."""
    return read_file_and_license_text(path, relative, kb, files_only=files_only)[0]


def _license_file(
    relative: str, text: str, size: int, kb: LicenseKnowledgeBase
) -> tuple[tuple[str, ...], tuple[TextMatch, ...], LicenseText | None]:
    """What a license file's text is, and the text itself when the knowledge base has none to
    bundle for it (a file cut at the read bound is never kept as the text)."""
    detected, matches = kb.identify(text)
    keep = kb.lacks_text(detected) and size <= MAX_LICENSE_FILE_BYTES
    return detected, matches, LicenseText(relative, text, detected) if keep else None


def read_file_and_license_text(
    path: Path, relative: str, kb: LicenseKnowledgeBase, *, files_only: bool = False
) -> tuple[FileEntry, LicenseText | None]:
    """`read_file_entry`, plus the text of a recognised license file (None for any other file),
    so a license file is read once for both."""
    try:
        size = path.stat().st_size
    except OSError as exc:
        entry = FileEntry(path=relative, size=None, format="other", error=describe_os_error(exc))
        return entry, None
    file_format = classify_format(path)
    header: FileHeader = None
    detected: tuple[str, ...] = ()
    matches: tuple[TextMatch, ...] = ()
    license_text = None
    try:
        if file_format == "safetensors":
            header = read_header(path)
        elif file_format == "gguf":
            header = read_gguf(path)
        elif files_only:
            pass
        elif file_format == "pickle":
            from scanner.readers.pickle import scan_pickle

            entry = FileEntry(
                path=relative, size=size, format=file_format, header=scan_pickle(path)
            )
            return entry, None
        elif _LICENSE_FILE.match(path.name):
            text = read_bounded(path, MAX_LICENSE_FILE_BYTES).decode("utf-8", "replace")
            detected, matches, license_text = _license_file(relative, text, size, kb)
    except (OSError, SafetensorsReadError) as exc:
        entry = FileEntry(
            path=relative, size=size, format=file_format, error=describe_os_error(exc)
        )
        return entry, None
    entry = FileEntry(
        path=relative,
        size=size,
        format=file_format,
        header=header,
        license_detected=detected,
        license_match=matches,
    )
    return entry, license_text


Opener = Callable[[], AbstractContextManager[IO[bytes]]]
"""Opens one file of a store for reading, seekable (an object store's ranged reader)."""


def read_stream_entry(
    relative: str, size: int, open_file: Opener, kb: LicenseKnowledgeBase, *, files_only: bool
) -> tuple[FileEntry, LicenseText | None]:
    """`read_file_and_license_text` for a file of a store that is not a local tree (an object
    store): the same readers and limits over `open_file()`, which reads only the ranges a
    reader asks for, so a header check never downloads the tensors."""
    name = PurePosixPath(relative).name

    def pickled() -> bool:
        from scanner.readers.pickle import SNIFF_BYTES, starts_a_pickle

        with open_file() as handle:
            return starts_a_pickle(handle.read(SNIFF_BYTES), size)

    file_format: FileFormat = "other"
    header: FileHeader = None
    detected: tuple[str, ...] = ()
    matches: tuple[TextMatch, ...] = ()
    license_text = None
    try:
        file_format = format_by_name(name, pickled)
        if file_format == "safetensors":
            with open_file() as handle:
                header = parse_header(handle, size)
        elif file_format == "gguf":
            with open_file() as handle:
                header = parse_gguf(handle, size)
        elif files_only:
            pass
        elif file_format == "pickle":
            from scanner.readers.pickle import scan_pickle_stream

            with open_file() as handle:
                header = scan_pickle_stream(handle, size)
        elif _LICENSE_FILE.match(name):
            with open_file() as handle:
                text = handle.read(MAX_LICENSE_FILE_BYTES).decode("utf-8", "replace")
            detected, matches, license_text = _license_file(relative, text, size, kb)
    except OSError as exc:
        entry = FileEntry(
            path=relative, size=size, format=file_format, error=describe_os_error(exc)
        )
        return entry, None
    entry = FileEntry(
        path=relative,
        size=size,
        format=file_format,
        header=header,
        license_detected=detected,
        license_match=matches,
    )
    return entry, license_text


MAX_NOTICE_BYTES = 64 * 1024
_NOTICE_FILE = re.compile(r"^notice([._-].*)?$", re.IGNORECASE)


def is_notice_file(name: str) -> bool:
    """NOTICE, NOTICE.txt, NOTICE.md, ...: attribution texts a redistributor must pass on."""
    return _NOTICE_FILE.match(name) is not None


def read_notices(folder: Path, files: list[FileEntry]) -> tuple[Notice, ...]:
    """The text of every top-level NOTICE file (bounded; unreadable ones are already problems)."""
    notices = []
    for entry in files:
        if "/" in entry.path or entry.error or not is_notice_file(entry.path):
            continue
        try:
            text = read_bounded(folder / entry.path, MAX_NOTICE_BYTES).decode("utf-8", "replace")
        except OSError:
            continue
        notices.append(Notice(entry.path, text))
    return tuple(notices)


@dataclass(frozen=True)
class ModelConfig:
    """What a `config.json` says about the model: its type, classes and code it would load."""

    model_type: str | None = None
    architectures: tuple[str, ...] = ()
    auto_map: tuple[str, ...] = ()


def read_config(path: Path) -> ModelConfig:
    """Read a transformers-style config; an unreadable or odd one yields no facts."""
    try:
        raw = read_bounded(path, MAX_CONFIG_BYTES)
    except OSError:
        return ModelConfig()
    return parse_config(raw)


def parse_config(raw: bytes) -> ModelConfig:
    """The facts of a config's bytes, wherever they were read; invalid JSON yields none."""
    try:
        config = json.loads(raw)
    except (ValueError, RecursionError):
        return ModelConfig()
    if not isinstance(config, dict):
        return ModelConfig()
    auto_map = config.get("auto_map")
    return ModelConfig(
        model_type=optional_string(config.get("model_type")),
        architectures=strings(config.get("architectures")),
        auto_map=tuple(
            f"{key}={','.join(str(v) for v in value if v) if isinstance(value, list) else value}"
            for key, value in auto_map.items()
        )
        if isinstance(auto_map, dict)
        else (),
    )


def _license_relevant(relative: str) -> bool:
    return relative.lower() == "readme.md" or ("/" not in relative and is_license_file(relative))


def read_model_folder(
    folder: Path,
    kb: LicenseKnowledgeBase,
    *,
    files_only: bool = False,
    license_only: bool = False,
    root: str | None = None,
    only: str | None = None,
    exclude: Excludes = NO_EXCLUDES,
) -> FolderFacts:
    """Gather card, file and license facts of one model folder (`root`: the resolved scan
    target, which no link may lead out of).

    `files_only` reads what integrity needs (sizes, formats, safetensors headers) and skips
    cards, configs, license texts and pickle opcodes: `aiscan verify` then starts without
    huggingface_hub's card parser, which is a fifth of its run time on a 2 GB store.
    Licenses and base models declared in the weights' own metadata (GGUF `general.license*`,
    safetensors `__metadata__`) join the card's, each quoted in the evidence.
    `license_only` reads the card and top-level license files alone: what a lineage lookup
    needs of a cached base model, without opening its weights.
    `only` reads that one top-level file of the folder, as the folder would read it: a card or
    a weights file given as the target. `exclude` leaves out what `--exclude` matches.
    """
    card = None
    files: list[FileEntry] = []
    license_texts: list[LicenseText] = []
    problems: list[Problem] = []
    remote_code: list[str] = []
    model_config = ModelConfig()
    found = walk_files(folder, root, exclude) if only is None else _one_file(folder / only)
    for path, problem in found:
        if problem is not None:
            problems.append(problem)
            continue
        relative = path.relative_to(folder).as_posix()
        if license_only and not _license_relevant(relative):
            continue
        if files_only:
            pass
        elif relative.lower() == "readme.md":
            card = read_card_file(path, relative)
        elif relative in ("config.json", "tokenizer_config.json"):
            config = read_config(path)
            remote_code.extend(config.auto_map)
            if relative == "config.json":
                model_config = config
        entry, license_text = read_file_and_license_text(path, relative, kb, files_only=files_only)
        files.append(entry)
        if license_text is not None:
            license_texts.append(license_text)

    return folder_facts(
        kb,
        card=card,
        files=files,
        license_texts=license_texts,
        problems=problems,
        remote_code=remote_code,
        model_config=model_config,
        notices=read_notices(folder, files),
    )


def folder_facts(
    kb: LicenseKnowledgeBase,
    *,
    card: CardFacts | None,
    files: list[FileEntry],
    license_texts: list[LicenseText],
    problems: list[Problem],
    remote_code: list[str],
    model_config: ModelConfig,
    notices: tuple[Notice, ...],
) -> FolderFacts:
    """The facts of one model folder from what was read of its files, in any store: the
    licenses the card and the weights declare, those recognised in license texts, with their
    evidence. The one place a folder's license facts are assembled."""
    evidence: list[Evidence] = []
    declared: list[str] = []
    base_models: list[str] = list(card.base_models) if card is not None else []
    if card is not None and card.error is None:
        declared.extend(declared_licenses(card))
        evidence.extend(card_evidence(card))
    for declaration in weights_declarations(files):
        _merge(declared, declaration.licenses)
        _merge(base_models, declaration.base_models)
        quoted = {e.value for e in evidence}
        evidence.extend(e for e in declaration.evidence if e.value not in quoted)
    if card is not None and card.error is None:
        files = [_with_card_body_match(entry, card, kb) for entry in files]
    detected: list[str] = []
    for entry in files:
        evidence.extend(license_text_evidence(entry, kb))
        for key in entry.license_detected:
            if key not in detected:
                detected.append(key)
    return FolderFacts(
        card=card,
        files=tuple(files),
        license=LicenseFacts(
            declared=tuple(declared), detected=tuple(detected), evidence=tuple(evidence)
        ),
        problems=tuple(problems),
        remote_code=tuple(dict.fromkeys(remote_code)),
        model_type=model_config.model_type,
        architectures=model_config.architectures,
        notices=notices,
        license_texts=tuple(license_texts),
        base_models=tuple(base_models),
    )


def _one_file(path: Path) -> Iterator[tuple[Path, Problem | None]]:
    """`walk_files` for one file the user named: never opened unless it is a regular file."""
    try:
        mode = path.stat().st_mode
    except OSError as exc:
        yield path, Problem(str(path), describe_os_error(exc))
        return
    if not stat.S_ISREG(mode):
        yield path, Problem(str(path), f"{not_regular_description(mode)}; not read")
        return
    yield path, None


def license_text_evidence(entry: FileEntry, kb: LicenseKnowledgeBase) -> list[Evidence]:
    """What a file's license text was found to be: each reference match with its coverage (or
    what a similar text adds or lacks), and licenses recognised by their markers alone."""
    evidence = [
        Evidence(entry.path, match.describe(kb[match.key].name, entry.path))
        for match in entry.license_match
        if match.key in kb
    ]
    matched = {match.key for match in entry.license_match}
    evidence.extend(
        Evidence(entry.path, f"text matches the {kb[key].name}")
        for key in entry.license_detected
        if key not in matched and key in kb
    )
    return evidence


def _with_card_body_match(entry: FileEntry, card: CardFacts, kb: LicenseKnowledgeBase) -> FileEntry:
    """The README entry with the licenses pasted into the card: its body (a "License"
    section) and the `extra_gated_prompt` shown before access is granted."""
    if entry.path != card.path or entry.error is not None:
        return entry
    detected: list[str] = []
    matches: list[TextMatch] = []
    for text in (card.prose, card.extra_gated_prompt or ""):
        keys, found = kb.identify(text, sections=True)
        detected.extend(keys)
        matches.extend(found)
    if not matches:
        return entry
    return dataclasses.replace(
        entry, license_detected=tuple(dict.fromkeys(detected)), license_match=tuple(matches)
    )


def _merge(values: list[str], more: tuple[str, ...]) -> None:
    """Append what `values` lacks, compared without case (`Apache-2.0` and `apache-2.0` are one
    declaration; shards repeat their metadata)."""
    seen = {value.lower() for value in values}
    for value in more:
        if value.lower() not in seen:
            values.append(value)
            seen.add(value.lower())
