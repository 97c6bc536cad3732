"""Ollama manifests and config blobs, over bytes: what a store says, checked before use.

A store is `manifests/<host>/<namespace>/<model>/<tag>` (JSON: `config` and `layers`, each
`{mediaType, digest, size}`) and `blobs/sha256-<hex>` named by their content's SHA-256 (older
versions wrote `sha256:<hex>`). Manifests come from whoever filled the store, so they are
hostile input: a value of the wrong type is a problem naming the field, never a traceback, and
a digest is used only when it is exactly `sha256:` and 64 hex digits, so a blob path is never
built from a raw string (`sha256:../../etc/passwd`).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from scanner.inventory import OllamaConfig

MAX_MANIFEST_BYTES = 16 * 1024 * 1024
"""Manifests of GGUF models are a few hundred bytes; tensor-per-layer models list thousands."""
MAX_CONFIG_BYTES = 1024 * 1024
DEFAULT_HOST = "registry.ollama.ai"
DEFAULT_NAMESPACE = "library"

_DIGEST = re.compile(r"sha256:([0-9a-fA-F]{64})")
_BLOB_NAME = re.compile(r"sha256[-:]([0-9a-fA-F]{64})")
_NAME_LENGTH = {"host": 350}
"""Ollama's limits on name parts (`types/model/name.go`): 80 characters, 350 for a host."""


class ManifestError(ValueError):
    """The manifest is not a JSON object at all; nothing in it can be used."""


@dataclass(frozen=True)
class Layer:
    """One validated layer: `digest` is the 64 lower-case hex digits of its `sha256:` digest."""

    media_type: str
    digest: str
    size: int
    name: str | None = None

    @property
    def kind(self) -> str:
        """The media type without parameters (`application/vnd.ollama.image.tensor`)."""
        return self.media_type.split(";", 1)[0].strip()


@dataclass(frozen=True)
class Manifest:
    """A manifest's usable layers and what was wrong with the rest."""

    media_type: str | None
    config: Layer | None
    layers: tuple[Layer, ...]
    problems: tuple[str, ...] = ()


def blob_digest(name: str) -> str | None:
    """The lower-case hex digest a blob file name promises (`sha256-<hex>`, `sha256:<hex>`)."""
    match = _BLOB_NAME.fullmatch(name)
    return match.group(1).lower() if match else None


def _json(raw: bytes, what: str) -> Any:
    try:
        return json.loads(raw.decode("utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise ManifestError(f"{what} is not valid JSON: {exc}") from exc
    except RecursionError as exc:
        raise ManifestError(f"{what} is nested too deeply to read") from exc


def _layer(raw: Any, where: str, problems: list[str]) -> Layer | None:
    if not isinstance(raw, dict):
        problems.append(f"{where} is not an object")
        return None
    media_type, digest, size, name = (raw.get(k) for k in ("mediaType", "digest", "size", "name"))
    match = _DIGEST.fullmatch(digest) if isinstance(digest, str) else None
    if not isinstance(media_type, str):
        problems.append(f"{where}.mediaType must be a string")
    elif match is None:
        problems.append(f"{where}.digest must be 'sha256:' and 64 hex digits, not {digest!r:.100}")
    elif not isinstance(size, int) or isinstance(size, bool) or size < 0:
        problems.append(f"{where}.size must be a whole number of bytes, not {size!r:.100}")
    elif name is not None and not isinstance(name, str):
        problems.append(f"{where}.name must be a string")
    else:
        return Layer(media_type, match.group(1).lower(), size, name)
    return None


def parse_manifest(raw: bytes) -> Manifest:
    """The layers of a manifest; raises `ManifestError` when it is not a JSON object."""
    document = _json(raw, "manifest")
    if not isinstance(document, dict):
        raise ManifestError("manifest is not a JSON object")
    problems: list[str] = []
    media_type = document.get("mediaType")
    config = None
    if document.get("config") is not None:
        config = _layer(document["config"], "config", problems)
    layers: list[Layer] = []
    raw_layers = document.get("layers")
    if not isinstance(raw_layers, list):
        problems.append("layers must be a list")
        raw_layers = []
    for index, item in enumerate(raw_layers):
        layer = _layer(item, f"layers[{index}]", problems)
        if layer is not None:
            layers.append(layer)
    return Manifest(
        media_type if isinstance(media_type, str) else None,
        config,
        tuple(layers),
        tuple(problems),
    )


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def parse_config(raw: bytes) -> OllamaConfig:
    """The model facts of a config blob; raises `ManifestError` when it is not a JSON object
    (fields of the wrong type are left out)."""
    document = _json(raw, "config blob")
    if not isinstance(document, dict):
        raise ManifestError("config blob is not a JSON object")
    families = document.get("model_families")
    return OllamaConfig(
        model_format=_text(document.get("model_format")),
        model_family=_text(document.get("model_family")),
        model_families=tuple(f for f in families if _text(f)) if isinstance(families, list) else (),
        model_type=_text(document.get("model_type")),
        file_type=_text(document.get("file_type")),
    )


def valid_name_part(kind: str, part: str) -> bool:
    """Whether `part` is a valid host, namespace, model or tag as Ollama checks it: 1 to 80
    characters (a host 350) of letters, digits, `_`, `-` and `.` (not in a namespace; a host may
    have a `:port`), starting with a letter, digit or `_`."""
    if not 1 <= len(part) <= _NAME_LENGTH.get(kind, 80) or not (
        part[0].isalnum() or part[0] == "_"
    ):
        return False
    allowed = "_-" + ("" if kind == "namespace" else ".") + (":" if kind == "host" else "")
    return part.isascii() and all(c.isalnum() or c in allowed for c in part)


def display_name(host: str, namespace: str, model: str, tag: str) -> str:
    """The name Ollama shows (`DisplayShortest`): `llama3.1:8b` for its library, `acme/m:tag`
    for another namespace of its registry, `hf.co/org/repo:Q4_K_M` for another host."""
    if host.lower() != DEFAULT_HOST:
        return f"{host}/{namespace}/{model}:{tag}"
    if namespace.lower() != DEFAULT_NAMESPACE:
        return f"{namespace}/{model}:{tag}"
    return f"{model}:{tag}"
