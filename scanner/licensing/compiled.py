"""The shipped knowledge base and model catalogue, compiled once into one JSON file.

Every command needs both, and reading them from `licenses/` means parsing ~100 YAML files,
reading every bundled license text to check its markers, indexing ~1,500 names and checking the
catalogue against the result: a fixed cost each `aiscan` run paid again although the files had
not changed. The compiled file holds what that work produced, already validated, and is loaded
with the C JSON parser in a few milliseconds.

It lives in the user's cache folder (`user_cache_dir()`), never in a scanned tree or in the
installation (which may be read-only), one file per installation. It is used only while its
fingerprint matches: every file under `licenses/` (including `texts/` and `reference/`) by
name, size and modification time, the code that compiles it, and aiscan's version. So a
license file added, edited or removed — in a source checkout while others add entries — is
picked up on the next run, with no build step. A cache folder that cannot be written, or a
file that does not parse or has the wrong shape, only means the sources are read as before.

The file is data, not code: JSON, never pickle, so a damaged or planted cache cannot run
anything; it is trusted like the installation itself (it names what licenses say), which is
why it is kept in the user's own cache folder and never looked for near a scanned tree.

Beside it, under the same fingerprint: the reference texts prepared for matching
(`*.references.json`, written on the first text matched: preparing ~85 texts word by word is
most of a first run that matches a few), and `Answers`, what each license text was matched
as: the knowledge base's answers, compiled as texts are met.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import sys
import threading
from array import array
from collections.abc import Callable, Sequence
from dataclasses import fields
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, overload

from scanner.inventory import TextMatch
from scanner.licensing import catalogue as catalogue_module
from scanner.licensing import knowledge_base as kb_module
from scanner.licensing import names as names_module
from scanner.licensing.catalogue import (
    CATALOGUE_FILE,
    ModelCatalogue,
    ModelFamily,
    load_catalogue,
)
from scanner.licensing.knowledge_base import (
    Clause,
    Identified,
    LicenseEntry,
    LicenseKnowledgeBase,
    load_knowledge_base,
)
from scanner.resources import (
    cache_folder,
    data_dir,
    installation_key,
    read_cache_file,
    write_cache_file,
)
from scanner.resources import fingerprint as stamp_of

if TYPE_CHECKING:
    from scanner.licensing.matching import PreparedReferences, Reference, ShingleIndex

FORMAT = 2
"""Bumped when the layout of the compiled file changes."""

_CODE = (
    Path(str(kb_module.__file__)),
    Path(str(catalogue_module.__file__)),
    Path(str(names_module.__file__)),
    Path(__file__).with_name("matching.py"),  # named, not imported: most runs never match a text
)
"""The files whose code decides what is compiled and answered: validation, entries, name
indexes, and the text matcher whose answers `Answers` keeps."""

_PATH_FIELDS = ("text_file", "use_policy_file", "reference_file")
_CLAUSE_FIELDS = ("conditions", "obligations", "restrictions")


def fingerprint(directory: Path) -> str:
    """What the compiled file was made from: every file under `directory`, the compiling
    code's files, aiscan's version and the file format."""
    return stamp_of(FORMAT, (*_CODE, Path(__file__)), directory)


def cache_file(directory: Path, cache_dir: Path) -> Path:
    """One compiled file per knowledge-base folder, so installations side by side (several
    worktrees, virtual environments) do not overwrite each other's on every run."""
    return cache_dir / "compiled" / f"licenses-{installation_key(directory)}.json"


def load(
    directory: Path, cache_dir: Path | None, stamp: str | None = None
) -> tuple[LicenseKnowledgeBase, ModelCatalogue]:
    """The knowledge base and catalogue of `directory`, from the compiled file when it matches
    the sources, else from the sources (and the compiled file is written for the next run).
    `cache_dir` None: the sources only."""
    stamp = stamp or fingerprint(directory)
    target = cache_file(directory, cache_dir) if cache_dir is not None else None
    if target is not None:
        compiled = _read(target, stamp, directory)
        if compiled is not None:
            return compiled
    kb = load_knowledge_base(directory)
    catalogue = load_catalogue(directory / CATALOGUE_FILE, kb)
    if target is not None:
        write_cache_file(target, _encode(kb, catalogue, stamp, directory))
    return kb, catalogue


def _default_folders() -> tuple[Path, Path | None]:
    """The shipped knowledge base's folder, and the cache folder its compiled copy is kept in
    (None: no home folder to find one in, so the sources are read, as before)."""
    return data_dir("licenses"), cache_folder()


@cache
def _default_stamp() -> str:
    return fingerprint(_default_folders()[0])


@cache
def load_default() -> tuple[LicenseKnowledgeBase, ModelCatalogue]:
    """The shipped knowledge base and catalogue, compiled in the user's cache folder."""
    directory, cache_dir = _default_folders()
    return load(directory, cache_dir, _default_stamp())


@cache
def default_knowledge_base() -> LicenseKnowledgeBase:
    """The shipped knowledge base (`load_default`'s entries, loaded when first looked at),
    with its license-text answers and prepared references kept in the user's cache folder."""
    directory, cache_dir = _default_folders()
    kb = LicenseKnowledgeBase.deferred(lambda: load_default()[0])
    if cache_dir is not None:
        kb.answers = Answers(answers_file(directory, cache_dir), _default_stamp)
        references = references_file(directory, cache_dir)
        kb.references = lambda: load_references(references, _default_stamp(), kb.parse_references)
    return kb


def answers_file(directory: Path, cache_dir: Path) -> Path:
    return cache_file(directory, cache_dir).with_suffix(".answers.sqlite3")


def references_file(directory: Path, cache_dir: Path) -> Path:
    return cache_file(directory, cache_dir).with_suffix(".references.json")


def load_references(
    target: Path, stamp: str, parse: Callable[[], list[Reference]]
) -> PreparedReferences:
    """The prepared reference texts and their shingle index from `target` when it holds this
    fingerprint's, else `parse()`'s with the index computed (and both are written there for
    the next run). A damaged or foreign file only means they are prepared again. The kept
    references are decoded one by one as the matcher first looks at each (`KeptReferences`)."""
    from scanner.licensing.matching import PreparedReferences

    raw = read_cache_file(target, FORMAT, stamp)
    try:
        if raw is not None:
            items = raw["references"]
            if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
                raise ValueError("references that are not a list of objects")
            counts = [_word_count(item["words"]) for item in items]
            index = _decode_index(raw["shingles"], counts)
            again = cache(lambda: _prepare_and_keep(target, stamp, parse))
            return PreparedReferences(KeptReferences(items, again), index)
    except (ValueError, TypeError, KeyError, AttributeError, IndexError):
        pass  # damaged: prepared again
    return _prepare_and_keep(target, stamp, parse)


def _prepare_and_keep(
    target: Path, stamp: str, parse: Callable[[], list[Reference]]
) -> PreparedReferences:
    """`parse()`'s references prepared, and written to `target` for the next run."""
    from scanner.licensing.matching import prepare

    prepared = prepare(parse())
    try:
        encoded = [_encode_reference(r) for r in prepared.references]
    except ValueError:
        return prepared  # a word that cannot be written as one: prepared again next time
    document = {"format": FORMAT, "fingerprint": stamp, "references": encoded}
    if prepared.index is not None:
        document["shingles"] = _encode_index(prepared.index)
    write_cache_file(target, document)
    return prepared


class KeptReferences(Sequence["Reference"]):
    """The references of a kept file, each decoded when first looked at: a run aligns its
    texts with the few candidates their shingles point to (~17 of the 85 for 30 packages), and
    decoding every reference was half of reading the file, on the way of a first run's first
    match. A reference found damaged only now (the index was checked on reading) has every
    reference prepared again and the file written anew, as damage found on reading does: the
    same fingerprint gives the same references, in the same order, so the index still fits."""

    def __init__(
        self, items: list[dict[str, Any]], again: Callable[[], PreparedReferences]
    ) -> None:
        self._items = items
        self._decoded: list[Reference | None] = [None] * len(items)
        self._again = again

    def __len__(self) -> int:
        return len(self._items)

    @overload
    def __getitem__(self, number: int) -> Reference: ...

    @overload
    def __getitem__(self, number: slice) -> tuple[Reference, ...]: ...

    def __getitem__(self, number: int | slice) -> Reference | tuple[Reference, ...]:
        if isinstance(number, slice):
            return tuple(self[n] for n in range(len(self))[number])
        reference = self._decoded[number]
        if reference is None:
            try:
                reference = _decode_reference(self._items[number])
            except (ValueError, TypeError, KeyError, AttributeError, IndexError):
                reference = self._again().references[number]
            self._decoded[number] = reference
        return reference

    def __eq__(self, other: object) -> bool:
        """Equal to any sequence of the same references (a tuple of them, as `prepare` gives)."""
        return isinstance(other, Sequence) and tuple(self) == tuple(other)

    __hash__ = None  # type: ignore[assignment]


def _word_count(words: Any) -> int:
    """How many words a kept reference has (`_decode_reference` splits them so)."""
    if not isinstance(words, str):
        raise TypeError("words that are not a string")
    return words.count(" ") + 1 if words else 0


def _numbers(values: Sequence[int]) -> str:
    """Word positions as base64 of little-endian 32-bit integers: a JSON list of ~150,000
    numbers takes longer to parse than preparing the texts saves."""
    packed = array("I", values)
    if sys.byteorder != "little":
        packed.byteswap()
    return base64.b64encode(packed.tobytes()).decode("ascii")


def _unpack_numbers(text: str, count: int) -> tuple[int, ...]:
    return tuple(_unpack_array(text, count))


def _unpack_array(text: str, count: int) -> array[int]:
    packed = array("I")
    packed.frombytes(base64.b64decode(text, validate=True))
    if sys.byteorder != "little":
        packed.byteswap()
    if len(packed) != count:
        raise ValueError("numbers of another length")
    return packed


def _flags(values: Sequence[bool]) -> str:
    return base64.b64encode(bytes(values)).decode("ascii")


def _unpack_flags(text: str, count: int) -> tuple[bool, ...]:
    flags = base64.b64decode(text, validate=True)
    if len(flags) != count or flags.strip(b"\x00\x01"):
        raise ValueError("word flags of another length")
    return tuple(map(bool, flags))


def _ranges(raw: Any, count: int) -> tuple[tuple[int, int], ...]:
    ranges = tuple((int(start), int(end)) for start, end in raw)
    if not all(0 <= start <= end <= count for start, end in ranges):
        raise ValueError("a word range out of the text")
    return ranges


def _encode_reference(reference: Reference) -> dict[str, Any]:
    words = reference.words
    if any(" " in word or not word for word in words.words):
        raise ValueError("a word with a space in it")
    return {
        "key": reference.key,
        "name": reference.name,
        "text": words.text,
        "words": " ".join(words.words),
        "starts": _numbers(words.starts),
        "ends": _numbers(words.ends),
        "lines": _numbers(words.lines),
        "notice": _flags(words.notice),
        "headings": list(words.headings),
        "optional": _flags(reference.optional),
        "noise": _flags(reference.noise),
        "replaceable": reference.replaceable,
        "omittable": reference.omittable,
        "title_words": sorted(reference.title_words),
    }


def _decode_reference(raw: dict[str, Any]) -> Reference:
    from scanner.licensing.matching import Reference, Words

    split = raw["words"].split(" ") if raw["words"] else []
    count = len(split)
    words = Words(
        text=str(raw["text"]),
        words=tuple(split),
        starts=_unpack_numbers(raw["starts"], count),
        ends=_unpack_numbers(raw["ends"], count),
        lines=_unpack_numbers(raw["lines"], count),
        notice=_unpack_flags(raw["notice"], count),
        headings=tuple(int(h) for h in raw["headings"]),
    )
    optional = _unpack_flags(raw["optional"], count)
    return Reference(
        key=str(raw["key"]),
        name=str(raw["name"]),
        words=words,
        optional=optional,
        replaceable=_ranges(raw["replaceable"], count),
        omittable=_ranges(raw["omittable"], count),
        title_words=frozenset(str(w) for w in raw["title_words"]),
        required=optional.count(False),
        joined=f" {raw['words']} ",
        vocabulary=frozenset(split),
        noise=_unpack_flags(raw["noise"], count),
    )


def _encode_index(index: ShingleIndex) -> dict[str, Any]:
    """The shingle index as its keys (in id order) and base64 arrays: building it from the
    words is a tenth of a first run that matches a few texts."""
    return {
        "keys": list(index.ids),
        "positions": [_numbers(grams) for grams in index.positions],
        "offsets": _numbers(index.offsets),
        "holders": _numbers(index.holders),
    }


def _decode_index(raw: dict[str, Any], counts: Sequence[int]) -> ShingleIndex:
    """The kept shingle index, checked to fit references of `counts` words (a damaged one is
    computed again: every id in range, every reference's shingles counted, the holder lists
    in order)."""
    from scanner.licensing.matching import SHINGLE, ShingleIndex

    keys = raw["keys"]
    if not isinstance(keys, list) or not set(map(type, keys)) <= {str}:
        raise ValueError("shingle keys that are not strings")
    ids = dict(zip(keys, range(len(keys)), strict=True))
    if len(ids) != len(keys) or len(raw["positions"]) != len(counts):
        raise ValueError("a shingle index of other references")
    positions = tuple(
        _unpack_array(text, max(0, count - SHINGLE + 1))
        for text, count in zip(raw["positions"], counts, strict=True)
    )
    offsets = _unpack_array(raw["offsets"], len(keys) + 1)
    holders = _unpack_array(raw["holders"], offsets[-1])
    if offsets[0] != 0 or offsets.tolist() != sorted(offsets):
        raise ValueError("holder lists out of order")
    if max(holders, default=0) >= max(1, len(counts)) or any(
        max(grams, default=0) >= max(1, len(keys)) for grams in positions
    ):
        raise ValueError("a shingle or reference number out of range")
    sizes = tuple(len(set(grams)) for grams in positions)
    return ShingleIndex(ids, positions, offsets, holders, sizes)


class Answers:
    """What `LicenseKnowledgeBase.identify` answered for a text, kept between runs by the
    text's digest: matching a text word by word against ~80 references is most of what reading
    an environment's packages costs, and the same LICENSE files come back in every run (and in
    every project using the same packages).

    An answer is valid for one fingerprint (the knowledge base's files and the matcher's code):
    the file holds answers of one fingerprint only, and is emptied when it changes. Answers are
    JSON in SQLite (WAL, so concurrent runs are safe); the store opens on the first text
    matched, and any failure (a read-only folder, a damaged or foreign file) turns it off for
    the run: the text is matched as it would be without it."""

    def __init__(self, path: Path, stamp: Callable[[], str]) -> None:
        self.path = path
        self._stamp = stamp
        """The fingerprint, computed when the store is first opened: a run that matches no
        text never lists the knowledge base's files for it."""
        self._db: Any = None
        self._off = False
        self._lock = threading.Lock()  # texts from the Hub may be matched in worker threads

    def holds_answers(self) -> bool:
        """Whether the store's file exists (it is made on the first text matched): looked at
        without opening it, so that a run that needs no answer never imports sqlite3."""
        return self.path.exists()

    def _open(self) -> Any:
        if self._off:
            return None
        if self._db is None:
            import sqlite3

            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                db = sqlite3.connect(
                    self.path, timeout=10, isolation_level=None, check_same_thread=False
                )
                db.execute("PRAGMA journal_mode=WAL")
                db.execute("PRAGMA synchronous=NORMAL")
                db.execute("CREATE TABLE IF NOT EXISTS meta (fingerprint TEXT NOT NULL)")
                db.execute(
                    "CREATE TABLE IF NOT EXISTS answers (digest BLOB PRIMARY KEY, answer TEXT)"
                )
                row = db.execute("SELECT fingerprint FROM meta").fetchone()
                if row is None or row[0] != self._stamp():
                    db.execute("BEGIN IMMEDIATE")
                    db.execute("DELETE FROM answers")
                    db.execute("DELETE FROM meta")
                    db.execute("INSERT INTO meta VALUES (?)", (self._stamp(),))
                    db.execute("COMMIT")
                self._db = db
            except (sqlite3.Error, OSError):
                self._off = True
        return self._db

    def _key(self, key: bytes) -> bytes:
        """The text's digest with the fingerprint: a run that started before a knowledge-base
        file changed may still write its answers after another run emptied the store."""
        return hashlib.sha256(self._stamp().encode() + key).digest()

    def get(self, key: bytes) -> Identified | None:
        import sqlite3

        with self._lock:
            db = self._open()
            if db is None:
                return None
            try:
                row = db.execute(
                    "SELECT answer FROM answers WHERE digest = ?", (self._key(key),)
                ).fetchone()
            except sqlite3.Error:
                self._off = True
                return None
        try:
            if row is None:
                return None
            keys, matches = json.loads(row[0])
            return (
                tuple(str(k) for k in keys),
                tuple(TextMatch(m[0], m[1], float(m[2]), m[3], m[4]) for m in matches),
            )
        except (ValueError, TypeError, IndexError):
            self._off = True  # a damaged store: matched afresh from here on
            return None

    def put(self, key: bytes, answer: Identified) -> None:
        import sqlite3

        keys, matches = answer
        document = json.dumps(
            [keys, [[m.key, m.verdict, m.coverage, m.difference, m.section] for m in matches]]
        )
        with self._lock:
            db = self._open()
            if db is None:
                return
            try:
                db.execute(
                    "INSERT OR REPLACE INTO answers VALUES (?, ?)", (self._key(key), document)
                )
            except sqlite3.Error:
                self._off = True


def _read(
    target: Path, stamp: str, directory: Path
) -> tuple[LicenseKnowledgeBase, ModelCatalogue] | None:
    raw = read_cache_file(target, FORMAT, stamp)
    if raw is None:
        return None
    try:
        return _decode(raw, directory)
    except (ValueError, TypeError, KeyError, AttributeError):
        return None  # damaged or of another shape: compiled again


def _encode(
    kb: LicenseKnowledgeBase, catalogue: ModelCatalogue, stamp: str, directory: Path
) -> dict[str, Any]:
    entries = []
    for entry in kb.entries.values():
        fields_of = {f.name: getattr(entry, f.name) for f in fields(entry)}
        for name in _PATH_FIELDS:
            path = fields_of[name]
            fields_of[name] = None if path is None else os.path.relpath(path, directory)
        for name in _CLAUSE_FIELDS:
            fields_of[name] = [
                {f.name: getattr(clause, f.name) for f in fields(clause)}
                for clause in fields_of[name]
            ]
        entries.append(fields_of)
    families = [
        {
            "family": f.family,
            "license": f.license,
            "citation": f.citation,
            "repos": f.repos,
            "mentions": f.mentions,
            "base": f.base,
            "ollama": f.ollama,
        }
        for f in catalogue.families
    ]
    by_name, by_loose, by_url = kb.name_indexes()
    return {
        "format": FORMAT,
        "fingerprint": stamp,
        "entries": entries,
        "names": by_name,
        "loose": by_loose,
        "urls": by_url,
        "families": families,
    }


def _decode(raw: dict[str, Any], directory: Path) -> tuple[LicenseKnowledgeBase, ModelCatalogue]:
    entries = []
    for item in raw["entries"]:
        values = dict(item)
        for name in _PATH_FIELDS:
            values[name] = None if values[name] is None else directory / values[name]
        for name in _CLAUSE_FIELDS:
            values[name] = tuple(Clause(**clause) for clause in values[name])
        for name in ("aliases", "markers", "not_markers"):
            values[name] = tuple(values[name])
        entries.append(LicenseEntry(**values))
    kb = LicenseKnowledgeBase.from_indexes(entries, raw["names"], raw["loose"], raw["urls"])
    families = [
        ModelFamily(
            family=item["family"],
            license=item["license"],
            citation=item["citation"],
            repos=tuple(item["repos"]),
            mentions=tuple(item["mentions"]),
            base=item["base"],
            ollama=tuple(item["ollama"]),
        )
        for item in raw["families"]
    ]
    return kb, ModelCatalogue(families)
