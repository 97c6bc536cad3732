"""Loads and validates the AI-license knowledge base (`licenses/*.yaml`).

The schema is documented in `licenses/README.md`. Validation is strict because checks act on
these entries: a typo in an obligation id would silently drop a legal obligation.
"""

from __future__ import annotations

import hashlib
import os
import re
import sys
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol

from scanner.inventory import TextMatch
from scanner.licensing.names import canonical_url, looks_like_url, loose_name

if TYPE_CHECKING:
    # The matcher is imported when a text is first matched: a run whose texts are all answered
    # from the kept answers (or that reads no license text, like `verify`) never needs it.
    from scanner.licensing.matching import LicenseMatcher, PreparedReferences, Reference

CATEGORIES = (
    "permissive",
    "weak-copyleft",
    "strong-copyleft",
    "restricted",
    "non-commercial",
    "research-only",
    "proprietary",
    "unknown",
)
"""License categories, least to most restrictive (`unknown` is ranked as most restrictive)."""

CONDITION_IDS = frozenset(
    {"monthly-active-users", "non-commercial", "research-only", "separate-license", "other"}
)
OBLIGATION_IDS = frozenset(
    {
        "include-license",
        "attribution",
        "name-prefix",
        "notice-file",
        "state-changes",
        "share-alike",
        "pass-on-use-restrictions",
        "disclose-source",
        "other",
    }
)
RESTRICTION_IDS = frozenset(
    {
        "acceptable-use-policy",
        "no-improving-other-models",
        "non-commercial",
        "research-only",
        "field-of-use",
        "no-derivatives",
        "trademark",
        "other",
    }
)
USES: dict[str, frozenset[str]] = {
    "inference": frozenset(),
    "evaluation": frozenset(),
    "fine-tuning": frozenset({"no-derivatives"}),
    "distillation": frozenset({"no-improving-other-models"}),
    "synthetic-data": frozenset({"no-improving-other-models"}),
    "training-other-models": frozenset({"no-improving-other-models"}),
}
"""The uses a policy's `context.uses` may name, and the restriction ids each runs into:
distilling a model, or training another model on its outputs, improves another model (Llama 2
and Llama 3 §1.b.v forbid it); fine-tuning makes a derivative."""
_CLAUSE_FIELDS = frozenset({"id", "summary", "section", "text", "url"})
_ENTRY_FIELDS = frozenset(
    {
        "key",
        "name",
        "spdx",
        "scancode",
        "url",
        "category",
        "commercial_use",
        "derivatives_inherit",
        "aliases",
        "text",
        "markers",
        "not_markers",
        "conditions",
        "obligations",
        "restrictions",
    }
)

_NON_WORD = re.compile(r"[^a-z0-9+]+")
_URL_PREFIX = re.compile(r"^(?:https?://)?(?:www\.)?")


@lru_cache(maxsize=16)
def normalize_text(text: str) -> str:
    """Fold case and punctuation so phrases match across formatting differences. The last few
    are kept: a package's license file is looked at for its terms, the licenses it offers and
    its exceptions, each wanting it folded."""
    return _NON_WORD.sub(" ", text.lower()).strip()


def normalize_name(name: str) -> str:
    """Normalise a license name, id or URL for alias lookup."""
    name = name.strip().strip("\"'").lower()
    if "://" in name or name.startswith("www."):
        name = _URL_PREFIX.sub("", name).rstrip("/")
        for suffix in (".html", ".htm", ".md", ".txt"):
            name = name.removesuffix(suffix)
    return normalize_text(name)


Identified = tuple[tuple[str, ...], tuple[TextMatch, ...]]
"""What `LicenseKnowledgeBase.identify` answers: license keys, and how the text compares."""


class AnswerStore(Protocol):
    """Answers of `identify` kept across runs (`scanner.licensing.compiled.Answers`), by a
    digest of the text; valid only for the knowledge base and code that gave them."""

    def get(self, key: bytes) -> Identified | None: ...

    def put(self, key: bytes, answer: Identified) -> None: ...

    def holds_answers(self) -> bool:
        """Whether answers may be kept already (none are before a first run)."""
        ...


class KnowledgeBaseError(Exception):
    """An entry of the knowledge base breaks the schema."""


@dataclass(frozen=True)
class Clause:
    """A condition, obligation or restriction of a license, with the section it comes from.

    `parameters` holds numeric facts checks compare against (e.g. `monthly_active_users_over`).
    """

    id: str
    summary: str
    section: str
    text: str | None = None
    url: str | None = None
    parameters: Mapping[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class LicenseEntry:
    """One license of the knowledge base."""

    key: str
    name: str
    category: str
    commercial_use: bool
    derivatives_inherit: bool
    spdx: str | None
    scancode: str | None
    url: str | None
    aliases: tuple[str, ...]
    text_file: Path | None
    text_source: str | None
    markers: tuple[str, ...]
    not_markers: tuple[str, ...]
    conditions: tuple[Clause, ...]
    obligations: tuple[Clause, ...]
    restrictions: tuple[Clause, ...]
    use_policy_file: Path | None = None
    """The acceptable-use policy the license incorporates by reference, when bundled: a NOTICE
    bundle passes it on beside the license text."""
    reference_file: Path | None = None
    """The full text license texts are matched against (`scanner.licensing.matching`): the
    marked-up copy in `licenses/reference/` (replaceable and omittable regions), else the
    bundled text; None for an entry known only by its markers."""

    @property
    def spdx_ref(self) -> str:
        """The identifier to use in SPDX documents: SPDX id, ScanCode LicenseRef, or our own."""
        if self.spdx:
            return self.spdx
        if self.scancode:
            return f"LicenseRef-scancode-{self.scancode}"
        return f"LicenseRef-aiscan-{self.key}"

    @property
    def text(self) -> str | None:
        """The bundled full text, when the license may be redistributed."""
        if self.text_file is None:
            return None
        return self.text_file.read_text(encoding="utf-8")


def cite(section: str) -> str:
    """'§1.b.i' for bare section numbers; headings such as 'Section 3(a)' stay as written."""
    return f"§{section}" if section[:1].isdigit() else section


def _require(condition: bool, where: str, message: str) -> None:
    if not condition:
        raise KnowledgeBaseError(f"{where}: {message}")


def _string_list(raw: Any, where: str, field_name: str) -> tuple[str, ...]:
    raw = raw or []
    _require(
        isinstance(raw, list) and all(isinstance(item, str) and item for item in raw),
        where,
        f"`{field_name}` must be a list of non-empty strings",
    )
    return tuple(raw)


def _clauses(raw: Any, allowed_ids: frozenset[str], where: str, kind: str) -> tuple[Clause, ...]:
    raw = raw or []
    _require(isinstance(raw, list), where, f"`{kind}` must be a list")
    clauses = []
    for index, item in enumerate(raw):
        at = f"{where}: {kind}[{index}]"
        _require(isinstance(item, dict), at, "must be a mapping")
        _require(
            item.get("id") in allowed_ids, at, f"id {item.get('id')!r} not in {sorted(allowed_ids)}"
        )
        for required in ("summary", "section"):
            _require(
                isinstance(item.get(required), str) and item[required].strip() != "",
                at,
                f"`{required}` is required (every clause cites its section)",
            )
        parameters = {k: v for k, v in item.items() if k not in _CLAUSE_FIELDS}
        _require(
            all(isinstance(v, int) and not isinstance(v, bool) for v in parameters.values()),
            at,
            f"unknown fields or non-integer parameters: {sorted(parameters)}",
        )
        clauses.append(
            Clause(
                id=item["id"],
                summary=item["summary"].strip(),
                section=str(item["section"]).strip(),
                text=item.get("text"),
                url=item.get("url"),
                parameters=parameters,
            )
        )
    return tuple(clauses)


def parse_entry(raw: Any, path: Path) -> LicenseEntry:
    """Validate one YAML document and turn it into a `LicenseEntry`."""
    where = path.name
    _require(isinstance(raw, dict), where, "must be a mapping")
    unknown = set(raw) - _ENTRY_FIELDS
    _require(not unknown, where, f"unknown fields {sorted(unknown)}")
    _require(raw.get("key") == path.stem, where, f"key {raw.get('key')!r} must equal the file name")
    _require(isinstance(raw.get("name"), str) and raw["name"], where, "`name` is required")
    _require(raw.get("category") in CATEGORIES, where, f"category must be one of {CATEGORIES}")
    for flag in ("commercial_use", "derivatives_inherit"):
        _require(isinstance(raw.get(flag), bool), where, f"`{flag}` must be true or false")
    text = raw.get("text") or {}
    _require(isinstance(text, dict), where, "`text` must be a mapping with `file` and `source`")
    text_file = None
    if text.get("file"):
        text_file = path.parent / text["file"]
        _require(text_file.is_file(), where, f"text file {text['file']} does not exist")
    use_policy_file = None
    if text.get("use_policy"):
        use_policy_file = path.parent / text["use_policy"]
        _require(
            use_policy_file.is_file(), where, f"use policy {text['use_policy']} does not exist"
        )
    markers = _string_list(raw.get("markers"), where, "markers")
    reference_file: Path | None = path.parent / "reference" / f"{path.stem}.txt"
    if reference_file is not None and not reference_file.is_file():
        reference_file = text_file
    if text_file is not None:
        body = normalize_text(text_file.read_text(encoding="utf-8"))
        for marker in markers:
            _require(
                normalize_text(marker) in body, where, f"marker {marker!r} not in {text['file']}"
            )
    return LicenseEntry(
        key=raw["key"],
        name=raw["name"],
        category=raw["category"],
        commercial_use=raw["commercial_use"],
        derivatives_inherit=raw["derivatives_inherit"],
        spdx=raw.get("spdx"),
        scancode=raw.get("scancode"),
        url=raw.get("url"),
        aliases=_string_list(raw.get("aliases"), where, "aliases"),
        text_file=text_file,
        text_source=text.get("source"),
        markers=markers,
        not_markers=_string_list(raw.get("not_markers"), where, "not_markers"),
        conditions=_clauses(raw.get("conditions"), CONDITION_IDS, where, "conditions"),
        obligations=_clauses(raw.get("obligations"), OBLIGATION_IDS, where, "obligations"),
        restrictions=_clauses(raw.get("restrictions"), RESTRICTION_IDS, where, "restrictions"),
        use_policy_file=use_policy_file,
        reference_file=reference_file,
    )


class _Tables(NamedTuple):
    """What a knowledge base looks licenses up in: the entries by key, and every name they are
    known under as written, loosely and by link (`LicenseKnowledgeBase.identify_name`)."""

    entries: dict[str, LicenseEntry]
    by_name: dict[str, str]
    by_loose: dict[str, str | None]  # None: two licenses fold to this form
    by_url: dict[str, str | None]


def _indexed(entries: Iterable[LicenseEntry]) -> _Tables:
    tables = _Tables({e.key: e for e in sorted(entries, key=lambda e: e.key)}, {}, {}, {})
    # Own aliases first, then derived names (SPDX ids, ScanCode keys, names, URLs), so an
    # explicit alias always wins over a derived one.
    for entry in tables.entries.values():
        for alias in (entry.key, *entry.aliases):
            _add_name(tables, alias, entry.key, explicit=True)
    for entry in tables.entries.values():
        derived = [entry.name, entry.spdx, entry.scancode, entry.url]
        if entry.scancode:
            derived.append(f"LicenseRef-scancode-{entry.scancode}")
        derived.append(entry.spdx_ref)
        for name in derived:
            if name:
                _add_name(tables, name, entry.key, explicit=False)
    return tables


def _add_name(tables: _Tables, name: str, key: str, *, explicit: bool) -> None:
    url = canonical_url(name)
    if url is not None:
        _add_unless_shared(tables.by_url, url, key)
    else:
        _add_unless_shared(tables.by_loose, loose_name(name), key)
    normalized = normalize_name(name)
    owner = tables.by_name.get(normalized)
    if owner is not None and owner != key:
        if explicit:
            raise KnowledgeBaseError(f"alias {name!r} belongs to both {owner} and {key}")
        return
    tables.by_name[normalized] = key


class LicenseKnowledgeBase:
    """All license entries, indexed by every name they are known under."""

    def __init__(self, entries: Iterable[LicenseEntry]) -> None:
        self._loaded: _Tables | None = _indexed(entries)
        self._load: Callable[[], _Tables] | None = None
        self._identified: dict[bytes, Identified] = {}
        self.answers: AnswerStore | None = None
        """Where answers are also kept between runs (the shipped knowledge base's, in the
        user's cache folder); None: for this run only."""
        self.references: Callable[[], PreparedReferences] | None = None
        """Where the reference texts come from prepared for matching, with their shingle index
        (the shipped knowledge base's are kept so in the user's cache folder); None:
        `parse_references`."""

    @classmethod
    def from_indexes(
        cls,
        entries: Iterable[LicenseEntry],
        by_name: dict[str, str],
        by_loose: dict[str, str | None],
        by_url: dict[str, str | None],
    ) -> LicenseKnowledgeBase:
        """A knowledge base from entries and the name indexes `name_indexes()` gave for them
        (`scanner.licensing.compiled`): indexing every name is most of building one."""
        kb = cls(())
        entries_by_key = {entry.key: entry for entry in sorted(entries, key=lambda e: e.key)}
        kb._loaded = _Tables(entries_by_key, by_name, by_loose, by_url)
        return kb

    @classmethod
    def deferred(cls, load: Callable[[], LicenseKnowledgeBase]) -> LicenseKnowledgeBase:
        """A knowledge base whose entries and indexes are `load()`'s, loaded when first looked
        at: a command that names no license (`verify` by the default policy) never reads
        them. What `load` sets on its own knowledge base (answers, references) is not taken."""
        kb = cls(())
        kb._loaded = None
        kb._load = lambda: load()._tables
        return kb

    @property
    def _tables(self) -> _Tables:
        if self._loaded is None:
            assert self._load is not None  # only a deferred knowledge base starts unloaded
            self._loaded = self._load()
        return self._loaded

    @property
    def entries(self) -> dict[str, LicenseEntry]:
        return self._tables.entries

    def name_indexes(
        self,
    ) -> tuple[dict[str, str], dict[str, str | None], dict[str, str | None]]:
        """The indexes `identify_name` looks names up in: as written, loosely, by link."""
        tables = self._tables
        return tables.by_name, tables.by_loose, tables.by_url

    def __contains__(self, key: object) -> bool:
        return key in self.entries

    def __getitem__(self, key: str) -> LicenseEntry:
        return self.entries[key]

    def __len__(self) -> int:
        return len(self.entries)

    def identify_name(self, name: str) -> str | None:
        """Map a license id, name or URL as written anywhere to a knowledge-base key.

        An alias as written comes first; then a link in any of its forms (`canonical_url`), or
        a name however it is spelled (`loose_name`), when exactly one license answers to that
        form; then a name followed by its abbreviation in parentheses ("Academic Free License
        (AFL) v. 3.0"), when the abbreviation is the name's initials or names the same license.
        """
        tables = self._tables
        exact = tables.by_name.get(normalize_name(name))
        if exact is not None:
            return exact
        if looks_like_url(name):
            url = canonical_url(name)
            return tables.by_url.get(url) if url is not None else None
        loose = tables.by_loose.get(loose_name(name))
        if loose is not None:
            return loose
        return self._without_abbreviation(name)

    def _without_abbreviation(self, name: str) -> str | None:
        match = _PARENTHESISED.search(name)
        if match is None:
            return None
        inner = match.group(1)
        rest = f"{name[: match.start()]} {name[match.end() :]}"
        key = self._tables.by_loose.get(loose_name(rest))
        if key is None:
            return None
        initials = "".join(word[0] for word in re.findall(r"[^\W\d_]+", name[: match.start()]))
        if inner.replace(" ", "").lower() == initials.lower() or self.identify_name(inner) == key:
            return key
        return None

    def lacks_text(self, keys: Iterable[str]) -> bool:
        """Whether one of `keys` has no bundled text, so that a component's own copy of the
        license is the only full text a NOTICE bundle can carry. Sources record license texts
        only then: the knowledge base's copy serves every other license."""
        return any(key in self.entries and self.entries[key].text_file is None for key in keys)

    def identify_text(self, text: str) -> tuple[str, ...]:
        """The keys of the licenses `text` is, in full or as a fragment only they have."""
        return self.identify(text)[0]

    def identify(
        self, text: str, *, sections: bool = False
    ) -> tuple[tuple[str, ...], tuple[TextMatch, ...]]:
        """The licenses `text` is (keys of full and fragment matches) and how it compares with
        the reference texts (`TextMatch`es, similar ones too). `sections`: `text` is a card
        body, compared only in the Markdown sections that hold a license.

        Entries without a reference text are recognised by their markers when the text is no
        reference's (their markers are their titles: "BigScience Open RAIL-M License" is similar
        to the CreativeML Open RAIL-M and is the BigScience license); the markers of an entry
        with a reference are never used, so a variant of a known license is not named. In a
        card body, markers count only inside a section that is a license text
        (`_license_sections`): a card that names a license in passing does not hold it.

        Answers are kept by the text's digest, for the run (many packages ship the same file)
        and, with `answers`, between runs: matching a text is most of reading a package."""
        key = _text_key(text, sections)
        found = self._known(key)
        if found is None:
            found = self._identify(text, sections)
            self._learn(key, found)
        return found

    def identify_all(self, texts: Iterable[str]) -> None:
        """Answer many license texts ahead of their `identify` calls, on every core when
        enough of them are new (`parallel_processes`): a first run over an environment matches
        hundreds of texts, each independent of the others, and matching them one by one leaves
        every core but one idle.

        The texts are cut into batches (`_Batches`). Forked workers take them from the first
        on; this process, whose matcher is warm already, takes them from the last on, until
        the two meet. The answers are those `identify` gives: the workers inherit this matcher.
        The batches a worker that fails had taken are left to be matched here as they come."""
        pending: dict[bytes, str] = {}
        for text in texts:
            key = _text_key(text, False)
            if key not in pending and self._known(key) is None:
                pending[key] = text
        processes = parallel_processes(len(pending))
        if processes < 2:
            return
        from concurrent.futures import ProcessPoolExecutor
        from concurrent.futures.process import BrokenProcessPool
        from multiprocessing import get_context

        _ = self._matcher  # built once, here: every worker inherits it
        context = get_context("fork")
        try:
            batches = _Batches(self, list(pending.values()), processes, context)
            pool = ProcessPoolExecutor(
                processes - 1, mp_context=context, initializer=_adopt, initargs=(batches,)
            )
        except OSError:
            return  # no shared-memory semaphores here (a container without /dev/shm)
        answers: dict[int, list[Identified]] = {}
        try:
            workers = [pool.submit(_match_batches) for _ in range(processes - 1)]
            answers.update(batches.match(from_last=True))
            for worker in workers:
                answers.update(worker.result())
        except (BrokenProcessPool, OSError):
            pass  # a worker died (killed, out of memory): `identify` matches its texts instead
        except BaseException:
            batches.stop()  # an interrupt: the workers finish the batch they are at, no more
            raise
        finally:
            pool.shutdown()
        keys = list(pending)
        for number, found in answers.items():
            for index, answer in zip(batches.spans[number], found, strict=True):
                self._learn(keys[index], answer)

    def _known(self, key: bytes) -> Identified | None:
        found = self._identified.get(key)
        if found is None and self.answers is not None:
            found = self.answers.get(key)
            if found is not None:
                self._identified[key] = found
        return found

    def _learn(self, key: bytes, found: Identified) -> None:
        if self.answers is not None:
            self.answers.put(key, found)
        self._identified[key] = found

    def _identify(self, text: str, sections: bool) -> Identified:
        if sections and len(set(_LEGAL_TERMS.findall(text.lower()))) < 2:
            return (), ()  # a card with no license in it: no index is built for it
        matches = self._matcher.match(text, sections=sections)
        keys = [m.key for m in matches if m.verdict != "similar"]
        if not keys:
            bodies = _license_sections(text) if sections else [normalize_text(text)]
            for key, markers, not_markers in self._markers:
                if any(
                    all(m in body for m in markers) and not any(m in body for m in not_markers)
                    for body in bodies
                ):
                    keys.append(key)
        return tuple(dict.fromkeys(keys)), matches

    @cached_property
    def _markers(self) -> list[tuple[str, tuple[str, ...], tuple[str, ...]]]:
        """The entries known by markers only (no reference text), with their markers and
        not-markers normalised once: every text no reference answers is looked for in them."""
        return [
            (
                entry.key,
                tuple(normalize_text(m) for m in entry.markers),
                tuple(normalize_text(m) for m in entry.not_markers),
            )
            for entry in self.entries.values()
            if entry.reference_file is None and entry.markers
        ]

    def parse_references(self) -> list[Reference]:
        """Every entry's reference text, read and prepared for matching."""
        from scanner.licensing.matching import parse_reference

        return [
            parse_reference(entry.key, entry.name, entry.reference_file.read_text("utf-8"))
            for entry in self.entries.values()
            if entry.reference_file is not None
        ]

    def prepare_matching(self) -> None:
        """Build the text matcher now rather than on the first text matched: a caller that
        waits for another process anyway (an environment's metadata dump, whose license
        texts come next) has it ready by then, built on another core. Not when answers are
        kept between runs already: a repeated run's texts are answered from them, and most
        such runs never build the matcher."""
        if self.answers is None or not self.answers.holds_answers():
            _ = self._matcher

    @cached_property
    def _matcher(self) -> LicenseMatcher:
        """Built on the first license text matched: no scan start-up pays for it."""
        from scanner.licensing.matching import LicenseMatcher, prepare

        prepared = self.references() if self.references else prepare(self.parse_references())
        return LicenseMatcher(prepared.references, prepared.index)


MIN_TEXTS_PER_PROCESS = 24
"""New texts each process must have for `identify_all` to fork a worker. A text takes ~1.5 ms
to match, and a worker's first texts ~20 ms more than they would here: it decodes the kept
references and builds the matcher's tables again for itself, which this process has done
for the texts matched so far. Measured on 2 cores, a worker takes ~18 of 71 texts (the run
is ~4 % faster) and ~45 % of 280."""
BATCHES_PER_PROCESS = 16
"""Texts are shared out in this many batches per process: few enough that taking one and
sending its answers back costs little, enough that the process that takes the long texts
(the GPL) does not finish last alone."""


def parallel_processes(texts: int) -> int:
    """How many processes `identify_all` matches `texts` new texts in, this one included: one
    per core it may run on, while each has `MIN_TEXTS_PER_PROCESS` texts; 1 (only this one,
    no worker forked) elsewhere.

    Only on Linux, and only while this process runs no other thread: workers are forked, so
    that they inherit the prepared matcher instead of each building it (spawned ones would),
    and a fork copies the locks other threads hold with the threads left behind. macOS
    deems fork unsafe and Windows has none.
    """
    import threading

    if sys.platform != "linux" or threading.active_count() > 1:
        return 1
    cores = len(os.sched_getaffinity(0))
    return max(1, min(cores, texts // MIN_TEXTS_PER_PROCESS))


def _text_key(text: str, sections: bool) -> bytes:
    """What answers are kept under: the text's digest, and whether it was a card body."""
    digest = hashlib.sha256(text.encode("utf-8", "surrogatepass"))
    digest.update(b"\x01" if sections else b"\x00")
    return digest.digest()


class _Batches:
    """The texts `identify_all` shares out, cut into batches, and two counters in memory the
    forked workers share: the first batch not taken yet and the end of those left. Each batch
    is taken once, by whoever is free first, workers from the front, aiscan from the back."""

    def __init__(self, kb: LicenseKnowledgeBase, texts: list[str], processes: int, context: Any):
        size = max(1, len(texts) // (processes * BATCHES_PER_PROCESS))
        self.kb = kb
        self.texts = texts
        self.spans = [range(at, min(at + size, len(texts))) for at in range(0, len(texts), size)]
        self._lock = context.Lock()
        self._front = context.RawValue("i", 0)
        self._back = context.RawValue("i", len(self.spans))

    def _take(self, from_last: bool) -> int | None:
        with self._lock:
            if self._front.value >= self._back.value:
                return None
            if from_last:
                self._back.value -= 1
                return int(self._back.value)
            self._front.value += 1
            return int(self._front.value) - 1

    def match(self, *, from_last: bool) -> dict[int, list[Identified]]:
        """The answers of every batch taken, by number, until none is left."""
        done = {}
        while (number := self._take(from_last)) is not None:
            done[number] = [self.kb._identify(self.texts[i], False) for i in self.spans[number]]
        return done

    def stop(self) -> None:
        """Leave no batch to take."""
        with self._lock:
            self._back.value = self._front.value


_ADOPTED: list[_Batches] = []
"""In an `identify_all` worker only: the batches it shares out with the others."""


def _adopt(batches: _Batches) -> None:
    """A worker's initializer: forked workers get `batches` as they are, the knowledge base
    and its prepared matcher included (nothing is pickled on the way)."""
    _ADOPTED.append(batches)


def _match_batches() -> dict[int, list[Identified]]:
    return _ADOPTED[0].match(from_last=False)


_LEGAL_TERMS = re.compile(
    r"warrant|liabil|hereby|permission|permitted|distribut|licensor|licensee|grant|sublicens"
)
"""Words no license text lacks two of: a card body without them is not matched at all."""
_MARKDOWN_HEADING = re.compile(r"^ {0,3}(#{1,6})\s", re.MULTILINE)
LICENSE_SECTION_WORDS = 150
"""Words a card's section must have to be taken for a license text (the shortest licenses
known only by markers are far longer; a paragraph naming a license is far shorter)."""


def _license_sections(card: str) -> list[str]:
    """The Markdown sections of a card body (each with its subsections, normalised) that look
    like a license text: long enough and with at least three distinct legal terms."""
    headings = [(m.start(), len(m.group(1))) for m in _MARKDOWN_HEADING.finditer(card)]
    starts = [(0, 7), *headings]  # what precedes the first heading ends at any heading
    found = []
    for number, (start, level) in enumerate(starts):
        end = next((s for s, lv in starts[number + 1 :] if lv <= level), len(card))
        section = card[start:end]
        if len(section.split()) < LICENSE_SECTION_WORDS:
            continue
        if len(set(_LEGAL_TERMS.findall(section.lower()))) >= 3:
            found.append(normalize_text(section))
    return found


_PARENTHESISED = re.compile(r"\(([^()]+)\)")


def _add_unless_shared(index: dict[str, str | None], form: str, key: str) -> None:
    """Index `form` for `key`; a form two licenses share names neither."""
    if form and index.get(form, key) != key:
        index[form] = None
    elif form:
        index.setdefault(form, key)


NOT_LICENSES = frozenset({"models.yaml", "datasets.yaml"})
"""The catalogues of model families and of datasets, kept beside the license entries."""


def load_knowledge_base(directory: Path) -> LicenseKnowledgeBase:
    """Read and validate every `*.yaml` entry in `directory`."""
    import yaml

    loader = safe_loader()
    entries = []
    for path in sorted(directory.glob("*.yaml")):
        if path.name in NOT_LICENSES:
            continue
        try:
            raw = yaml.load(path.read_text(encoding="utf-8"), Loader=loader)
        except yaml.YAMLError as exc:
            raise KnowledgeBaseError(f"{path.name}: invalid YAML: {exc}") from exc
        entries.append(parse_entry(raw, path))
    return LicenseKnowledgeBase(entries)


def safe_loader() -> Any:
    """libyaml's safe loader when PyYAML was built with it (10x faster), else the pure-Python
    one. Only for the shipped files: a scanned tree's YAML goes through `scanner.files`."""
    import yaml

    return getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def default_knowledge_base() -> LicenseKnowledgeBase:
    """The knowledge base shipped with aiscan, one per process, read when first looked at
    (from the compiled copy in the user's cache folder while it matches the files,
    `scanner.licensing.compiled`)."""
    from scanner.licensing.compiled import default_knowledge_base as compiled_default

    return compiled_default()
