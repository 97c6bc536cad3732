"""Reads an Ollama model store: one `model` component per manifest, its layers as files.

Point aiscan at the store's models folder, the one holding `manifests/` and `blobs/`:
`$OLLAMA_MODELS` when set, else `~/.ollama/models` (macOS, Windows, `ollama serve` run by a
user), or `/usr/share/ollama/.ollama/models` for the Linux service install. No store is read
unless it is a target (or lies inside one): the home folder is the user's.

Each manifest `manifests/<host>/<namespace>/<model>/<tag>` is a model named as Ollama names it
(`llama3.1:8b`, `acme/model:tag`, `hf.co/org/repo:Q4_K_M`); its config and layers are its files,
`blobs/sha256-<hex>` (or the older `sha256:<hex>`), with their media type. The model GGUF,
adapters, projectors and drafts are read with the GGUF reader, tensor layers with the
safetensors reader, a license layer is recognised by its text like a LICENSE file. A blob the
manifest names but the store lacks, one whose size differs from the manifest's, and a blob no
manifest names are recorded for the checks; whether the blobs' contents match their names is
`aiscan verify`'s job (reference `ollama-blob`). Models pulled from `hf.co/<org>/<repo>` name
that Hub repo as their base; what a library name such as `llama3.1` means for the license is for
licensing, through the catalogue.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from scanner.errors import describe_os_error
from scanner.files import not_regular_description, outside_problem, read_bounded, read_whole
from scanner.inventory import (
    Component,
    Evidence,
    FileEntry,
    FileFormat,
    FileHeader,
    HeaderDefect,
    LicenseFacts,
    LicenseText,
    ModelDetails,
    OllamaConfig,
    OllamaModel,
    Problem,
)
from scanner.readers.gguf import read_gguf
from scanner.readers.model_folder import MAX_LICENSE_FILE_BYTES, walk_files
from scanner.readers.ollama import (
    MAX_CONFIG_BYTES,
    MAX_MANIFEST_BYTES,
    Layer,
    ManifestError,
    blob_digest,
    display_name,
    parse_config,
    parse_manifest,
    valid_name_part,
)
from scanner.readers.safetensors import read_header
from scanner.readers.weights_metadata import weights_declarations
from scanner.sources.interface import Source, SourceContext, Target

_IMAGE = "application/vnd.ollama.image."
GGUF_LAYERS = frozenset(_IMAGE + kind for kind in ("model", "adapter", "projector", "draft"))
TENSOR_LAYER = _IMAGE + "tensor"
LICENSE_LAYER = _IMAGE + "license"
HUB_HOSTS = frozenset({"hf.co", "huggingface.co"})
_NAME_PARTS = ("host", "namespace", "model", "tag")


def default_ollama_store() -> Path:
    """The store `ollama` uses for the current user: $OLLAMA_MODELS, else ~/.ollama/models."""
    explicit = os.environ.get("OLLAMA_MODELS")
    return Path(explicit).expanduser() if explicit else Path.home() / ".ollama" / "models"


def is_ollama_root(path: Path) -> bool:
    """A folder holding `manifests/` and `blobs/`, as Ollama's models folder does."""
    try:
        return (path / "manifests").is_dir() and (path / "blobs").is_dir()
    except OSError:
        return False


@dataclass
class _Blobs:
    """What `blobs/` holds: blob file names by digest, blobs refused (a link out of the target,
    not a regular file), entries that are no blob, and file names that are not blob names."""

    names: dict[str, str] = field(default_factory=dict)
    refused: dict[str, Problem] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    strays: list[str] = field(default_factory=list)


class OllamaSource(Source):
    """Every model of one Ollama store."""

    name = "ollama"

    def __init__(self, target: Target, context: SourceContext, *, root: str | None = None) -> None:
        self.store = Path(target)
        self.kb = context.kb
        self.files_only = context.files_only
        self.root = root or os.path.realpath(target)
        """The resolved scan target: no link may lead out of it. A store met inside a larger
        target keeps that target's root."""

    @classmethod
    def accepts(cls, target: Target, context: SourceContext) -> bool:
        return isinstance(target, Path) and is_ollama_root(target)

    def collect(self) -> Iterator[Component]:
        blobs = self._blobs()
        used: set[str] = set()
        problems: list[Problem] = []
        manifests = self.store / "manifests"
        for path, problem in walk_files(manifests, self.root):
            if problem is not None:
                problems.append(problem)
                continue
            parts = path.relative_to(manifests).parts
            if len(parts) != 4:
                continue  # Ollama reads manifests at this depth only
            if not all(valid_name_part(k, p) for k, p in zip(_NAME_PARTS, parts, strict=True)):
                problems.append(
                    Problem(str(path), "not a valid Ollama model name; Ollama ignores it")
                )
                continue
            yield self._component(path, parts, blobs, used)
        store = self._store_component(blobs, used, problems)
        if store is not None:
            yield store

    def _blobs(self) -> _Blobs:
        found = _Blobs()
        folder = self.store / "blobs"
        problem = outside_problem(folder, self.root)
        if problem is not None:
            found.problems.append(problem)
            return found
        try:
            names = sorted(child.name for child in folder.iterdir())
        except OSError as exc:
            found.problems.append(Problem(str(folder), describe_os_error(exc)))
            return found
        for name in names:  # `sha256-` sorts before `sha256:`: the current name wins
            path = folder / name
            problem = outside_problem(path, self.root)
            if problem is None:
                try:
                    mode = path.stat().st_mode
                except OSError as exc:
                    problem = Problem(str(path), describe_os_error(exc))
                else:
                    if not stat.S_ISREG(mode):
                        problem = Problem(str(path), f"{not_regular_description(mode)}; not read")
            digest = blob_digest(name)
            if digest is None or digest in found.names or digest in found.refused:
                if problem is not None:
                    found.problems.append(problem)
                else:
                    found.strays.append(name)
            elif problem is not None:
                found.refused[digest] = problem
            else:
                found.names[digest] = name
        return found

    def _component(
        self, path: Path, parts: tuple[str, ...], blobs: _Blobs, used: set[str]
    ) -> Component:
        host, namespace, model, tag = parts
        name = display_name(host, namespace, model, tag)
        relative = path.relative_to(self.store).as_posix()
        problems: list[Problem] = []
        files: list[FileEntry] = []
        license_texts: list[LicenseText] = []
        version = None
        layers: tuple[Layer, ...] = ()
        config_layer = None
        try:
            raw = read_whole(path, MAX_MANIFEST_BYTES)
            version = hashlib.sha256(raw).hexdigest()
            manifest = parse_manifest(raw)
        except (OSError, ManifestError) as exc:
            message = describe_os_error(exc) if isinstance(exc, OSError) else str(exc)
            problems.append(Problem(str(path), message))
        else:
            problems.extend(Problem(str(path), f"manifest: {p}") for p in manifest.problems)
            config_layer, layers = manifest.config, manifest.layers
        config = None
        if config_layer is not None:
            used.add(config_layer.digest)
            entry = self._entry(config_layer, blobs, problems, "other")
            if entry is not None:
                files.append(entry)
                config = self._config(entry, problems)
        model_format = config.model_format if config is not None else None
        seen = {config_layer.digest} if config_layer is not None else set()
        for layer in layers:
            if layer.digest in seen:
                continue
            seen.add(layer.digest)
            used.add(layer.digest)
            entry = self._entry(layer, blobs, problems, _format(layer, model_format))
            if entry is None:
                continue
            if layer.kind == LICENSE_LAYER and entry.error is None and not self.files_only:
                entry, text = self._license(entry)
                if text is not None:
                    license_texts.append(text)
            files.append(entry)
        ollama = OllamaModel(host, namespace, model, tag, relative, config)
        base = (f"{namespace}/{model}",) if host.lower() in HUB_HOSTS else ()
        license, bases = self._license_facts(files, base)
        architectures = [f.gguf.architecture for f in files if f.gguf and f.gguf.architecture]
        return Component(
            ref=f"model:ollama/{name}",
            type="model",
            name=name,
            source=self.name,
            location=str(self.store),
            version=version,
            license=license,
            base_models=bases,
            files=tuple(files),
            problems=tuple(problems),
            license_texts=tuple(license_texts),
            details=ModelDetails(
                model_type=(config.model_family if config else None)
                or next(iter(architectures), None),
                ollama=ollama,
            ),
        )

    def _entry(
        self, layer: Layer, blobs: _Blobs, problems: list[Problem], file_format: FileFormat
    ) -> FileEntry | None:
        """The file entry of one layer's blob, read by its format; None when the blob is refused
        (the problem is recorded instead)."""
        refused = blobs.refused.get(layer.digest)
        if refused is not None:
            problems.append(refused)
            return None
        name = blobs.names.get(layer.digest)
        if name is None:
            return FileEntry(
                path=f"blobs/sha256-{layer.digest}",
                size=None,
                format=file_format,
                media_type=layer.media_type,
                error="absent: the manifest names this blob but blobs/ does not hold it",
            )
        relative = f"blobs/{name}"
        path = self.store / relative
        header: FileHeader = None
        try:
            size = path.stat().st_size
            if file_format == "gguf":
                header = read_gguf(path)
            elif file_format == "safetensors":
                header = read_header(path)
        except OSError as exc:
            return FileEntry(
                path=relative,
                size=None,
                format=file_format,
                media_type=layer.media_type,
                error=describe_os_error(exc),
            )
        defects: tuple[HeaderDefect, ...] = ()
        if size < layer.size:
            defects = (
                HeaderDefect(
                    "truncated",
                    f"blob is {size:,} bytes but the manifest says {layer.size:,}: an interrupted "
                    "pull or a damaged copy",
                ),
            )
        elif size > layer.size:
            defects = (
                HeaderDefect(
                    "malformed",
                    f"blob is {size:,} bytes, {size - layer.size:,} more than the manifest says",
                ),
            )
        return FileEntry(
            path=relative,
            size=size,
            format=file_format,
            header=header,
            defects=defects,
            media_type=layer.media_type,
        )

    def _config(self, entry: FileEntry, problems: list[Problem]) -> OllamaConfig | None:
        if entry.error is not None:
            return None
        path = self.store / entry.path
        try:
            return parse_config(read_whole(path, MAX_CONFIG_BYTES))
        except (OSError, ManifestError) as exc:
            message = describe_os_error(exc) if isinstance(exc, OSError) else str(exc)
            problems.append(Problem(str(path), message))
            return None

    def _license(self, entry: FileEntry) -> tuple[FileEntry, LicenseText | None]:
        """A license layer recognised by its text, as a LICENSE file is."""
        path = self.store / entry.path
        try:
            text = read_bounded(path, MAX_LICENSE_FILE_BYTES).decode("utf-8", "replace")
        except OSError as exc:
            return dataclasses.replace(entry, error=describe_os_error(exc)), None
        detected = self.kb.identify_text(text)
        kept = None
        if self.kb.lacks_text(detected) and (entry.size or 0) <= MAX_LICENSE_FILE_BYTES:
            kept = LicenseText(entry.path, text, detected)
        return dataclasses.replace(entry, license_detected=detected), kept

    def _license_facts(
        self, files: list[FileEntry], base: tuple[str, ...]
    ) -> tuple[LicenseFacts, tuple[str, ...]]:
        """Licenses declared in the weights' metadata and recognised in license layers; base
        models from the Hub repo pulled and from the metadata."""
        declared: list[str] = []
        bases = list(base)
        evidence: list[Evidence] = []
        for declaration in weights_declarations(files):
            declared.extend(v for v in declaration.licenses if v.lower() not in _lower(declared))
            bases.extend(b for b in declaration.base_models if b.lower() not in _lower(bases))
            evidence.extend(declaration.evidence)
        detected: list[str] = []
        for entry in files:
            for key in entry.license_detected:
                evidence.append(
                    Evidence(entry.path, f"license layer text matches the {self.kb[key].name}")
                )
                if key not in detected:
                    detected.append(key)
        facts = LicenseFacts(
            declared=tuple(declared), detected=tuple(detected), evidence=tuple(evidence)
        )
        return facts, tuple(bases)

    def _store_component(
        self, blobs: _Blobs, used: set[str], problems: list[Problem]
    ) -> Component | None:
        """Blobs no manifest names, and what of the store could not be read, as one `file`
        component: nothing in the store goes unreported."""
        files = [
            self._stray(
                name,
                "no manifest names this blob; Ollama prunes such blobs, so it is "
                "a leftover or was put there by hand",
            )
            for digest, name in sorted(blobs.names.items(), key=lambda item: item[1])
            if digest not in used
        ]
        files.extend(
            self._stray(
                name,
                "not a blob name (sha256-<64 hex>)"
                + (": an unfinished download" if "-partial" in name else ""),
            )
            for name in blobs.strays
        )
        refused = [p for digest, p in blobs.refused.items() if digest not in used]
        problems = [*blobs.problems, *refused, *problems]
        if not files and not problems:
            return None
        return Component(
            ref="file:ollama/blobs",
            type="file",
            name="blobs",
            source=self.name,
            location=str(self.store),
            files=tuple(sorted(files, key=lambda f: f.path)),
            problems=tuple(problems),
        )

    def _stray(self, name: str, why: str) -> FileEntry:
        relative = f"blobs/{name}"
        try:
            size: int | None = (self.store / relative).stat().st_size
        except OSError:
            size = None
        return FileEntry(
            path=relative,
            size=size,
            format="other",
            defects=(HeaderDefect("unexpected-file", why),),
        )


def _lower(values: list[str]) -> set[str]:
    return {value.lower() for value in values}


def _format(layer: Layer, model_format: str | None) -> FileFormat:
    """How a layer's blob is read: GGUF for models, adapters, projectors and drafts (unless the
    config says the model is another format), safetensors for tensor layers."""
    if layer.kind in GGUF_LAYERS and model_format in (None, "gguf"):
        return "gguf"
    if layer.kind == TENSOR_LAYER:
        return "safetensors"
    return "other"
