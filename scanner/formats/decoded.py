"""What aiscan reads back out of a BOM or a saved report: the decoded facts, and how to read them.

Each format decodes its own documents next to its encoder (`cyclonedx.decode_cyclonedx`,
`spdx.decode_spdx`, `spdx3.decode_spdx3`, `json.decode_report`), so what a format writes and how
it is read back change together, in one file. `aiscan diff`, `aiscan verify --against` and the
project source read BOMs only through those decoders, and only these types cross the boundary.

They live in a module of their own, not in `interface.py`: they are shared by the decoders and
their readers, not by the renderers, and depend on nothing in aiscan but its errors, so rendering
can change without touching them and a reader of BOMs never imports a renderer's interface.

BOMs are hostile input like any other file a user or a project hands over. `JsonObject` is how
every decoder reads one: a field of the wrong type is a `BomDecodeError` naming where it is (one
line, exit 2), never a traceback and never a value silently taken for another.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Literal

from scanner.errors import UsageError

LicenseNotation = Literal["aiscan", "spdx"]
"""How a document spells licenses: aiscan knowledge-base keys (`apache-2.0`; reports and
CycloneDX BOMs aiscan wrote) or SPDX expressions (`Apache-2.0`; SPDX documents)."""


@dataclass(frozen=True)
class DecodedFile:
    """A file a component holds, by its path inside the component, with its SHA-256 (lower-case
    hex) when the document states one."""

    path: str
    sha256: str | None = None


@dataclass(frozen=True)
class DecodedFinding:
    """A finding a document records; `counts` is False when it was waived or in the baseline;
    `message` is its text as written (empty when the document keeps none)."""

    rule: str
    severity: str
    counts: bool = True
    message: str = ""


@dataclass(frozen=True)
class DecodedComponent:
    """One component of a document.

    `kind` is aiscan's word (`model`, `dataset`, `library`, `file`) when the document's type maps
    to one, else the document's own. `sha256` is the component's own digest (a loose file);
    `files` are the files nested in it. Components nested in other components are listed after
    their parent, flattened: what every reader needs of nesting is which files a component holds.
    """

    kind: str
    name: str
    version: str | None = None
    purl: str | None = None
    declared: tuple[str, ...] = ()
    effective: str | None = None
    sha256: str | None = None
    files: tuple[DecodedFile, ...] = ()
    findings: tuple[DecodedFinding, ...] = ()
    named_only: bool = False
    """Only named by another component (a base model or dataset a card cites, not found by the
    scan): aiscan's BOMs list these, its reports do not."""


@dataclass(frozen=True)
class DecodedBom:
    """A decoded document: its components in document order and the findings about no single
    component. `fail_on` is the fail level the document was judged at (reports record it; BOMs do
    not, so they read as the default). `concludes` is False for documents whose licenses are one
    undivided list."""

    components: tuple[DecodedComponent, ...]
    findings: tuple[DecodedFinding, ...] = ()
    license_notation: LicenseNotation = "aiscan"
    fail_on: str = "error"
    concludes: bool = True
    """Whether the document separates declared from concluded (effective) licenses, as aiscan's
    documents do; a BOM that only lists the licenses packages declare (cyclonedx-py, syft) does
    not, and its licenses are compared as one value."""


class BomDecodeError(UsageError):
    """A document of a known format that cannot be decoded (exit 2); the message names the field
    but not the file, which the reader adds."""


_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_MAX_WHERE = 80
"""Longest field path kept whole in a message: past it the middle is elided, so components nested
100,000 deep still give a one-line error."""


def _shorten(where: str) -> str:
    return where if len(where) <= _MAX_WHERE else f"{where[:36]}…{where[-40:]}"


class JsonObject:
    """One JSON object of a document being decoded, with reads that check the type they return.

    Absent and null fields read as absent. `document` names the format in messages
    ("CycloneDX BOM"), `where` the object's path in the document ("components[2]").
    """

    def __init__(self, raw: Any, where: str, document: str) -> None:
        self.where = where
        self.document = document
        if not isinstance(raw, dict):
            raise self.error(where or "the document", "must be an object")
        self.raw: dict[str, Any] = raw

    def path(self, key: str) -> str:
        """Where field `key` of this object is, for a message."""
        return _shorten(f"{self.where}.{key}" if self.where else key)

    def error(self, where: str, problem: str) -> BomDecodeError:
        """The one-line error for a field that is not what the format says it is."""
        return BomDecodeError(f"malformed {self.document}: {where} {problem}")

    def string(self, key: str) -> str | None:
        value = self.raw.get(key)
        if value is None or isinstance(value, str):
            return value
        raise self.error(self.path(key), "must be a string")

    def required(self, key: str) -> str:
        value = self.string(key)
        if value is None:
            raise self.error(self.path(key), "is missing")
        return value

    def _list(self, key: str) -> list[Any]:
        value = self.raw.get(key)
        if value is None:
            return []
        if not isinstance(value, list):
            raise self.error(self.path(key), "must be a list")
        return value

    def strings(self, key: str) -> list[str]:
        values = self._list(key)
        for index, value in enumerate(values):
            if not isinstance(value, str):
                raise self.error(f"{self.path(key)}[{index}]", "must be a string")
        return values

    def object(self, key: str) -> JsonObject | None:
        value = self.raw.get(key)
        return None if value is None else JsonObject(value, self.path(key), self.document)

    def objects(self, key: str) -> list[JsonObject]:
        where = self.path(key)
        return [
            JsonObject(item, _shorten(f"{where}[{index}]"), self.document)
            for index, item in enumerate(self._list(key))
        ]


def sha256_digest(entries: list[JsonObject], algorithm: str, value: str) -> str | None:
    """The first SHA-256 among a component's hash entries (fields `algorithm` and `value`),
    lower-case; one that is not 64 hex digits is an error, not a digest to compare against."""
    for entry in entries:
        if entry.required(algorithm).replace("-", "").upper() != "SHA256":
            continue
        digest = entry.required(value).lower()
        if not _SHA256.match(digest):
            raise entry.error(entry.path(value), "is not a SHA-256 digest (64 hex digits)")
        return digest
    return None
