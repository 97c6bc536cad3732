"""Identifies a license text by aligning it with full reference texts, with a measured coverage.

Markers (a few phrases per license) cannot tell a license from a variant that adds a clause:
the BSD 2-Clause text plus "the views and conclusions ... shall not be interpreted as
representing official policies" has every BSD-2-Clause phrase. So a text is compared word by
word with the whole reference, following the SPDX License Matching Guidelines
(https://spdx.github.io/spdx-spec/v2.3/license-matching-guidelines-and-templates/):

- case, whitespace, punctuation, quotes and dashes never matter (texts become word sequences);
- bullets and list numbering at the start of a line are dropped, and list numbers that reflowing
  moved into the middle of a line are not a difference;
- equivalent words are one word (licence/license, sub-license/sublicense, British and American
  spellings, http/https, & and "and");
- copyright notice lines and a license's title may be left out or differ;
- replaceable text in a reference (`{{the copyright holder}}` in the reference files: the words
  may be replaced by up to `MAX_REPLACEMENT_WORDS` others) and omittable text (`[[...]]`: the
  "How to apply" appendices) may differ or be missing.

Verdicts (`TextMatch.verdict`):

- `match`: the reference is covered (`MATCH_COVERAGE`) and the text adds nothing of substance;
- `fragment`: at least `FRAGMENT_MIN_WORDS` words, all of them in one stretch of exactly one
  reference and of no other; identified with the share of the reference it covers;
- `similar`: close to a reference but adding or lacking clauses; the difference is quoted and the
  license is *not* named, because a variant is another license.

A card body is matched section by section: the matched region's Markdown sections count, the rest
of the card does not. The index (word shingles of every reference) is built on first use, so a
scan that reads no license text never pays for it.
"""

from __future__ import annotations

import bisect
import difflib
import operator
import re
import unicodedata
from array import array
from collections import Counter
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from itertools import chain, compress
from typing import Literal, TypeVar

from scanner.inventory import TextMatch

MATCH_COVERAGE = 0.98
"""Share of a reference's required words a text must contain to be that license."""
MAX_MISSING_WORDS = 3
"""At most this many required words of a reference may be missing from a full match."""
FRAGMENT_MIN_WORDS = 150
"""A fragment names its license only from this many matched words: the short permissive
licenses (MIT, BSD, ISC, zlib: 100 to 250 words) have dozens of variants sharing their first
clauses, so no part of them tells which one it is."""
FRAGMENT_MAX_GAP = 0.02
"""Share of the covered stretch of a reference a fragment may lack (a dropped list number)."""
SIMILAR_COVERAGE = 0.7
"""A text covering this share of a reference (and mostly made of it) is called similar to it."""
MAX_REPLACEMENT_WORDS = 16
"""Words that may stand for a replaceable region (a copyright holder's name)."""
MAX_TITLE_WORDS = 12
MAX_NOTICE_LINE_WORDS = 12
"""Words a line below a copyright notice may have to be part of it (an address)."""
MAX_OMITTABLE_WORDS = 40
"""Words a text may add or reword inside a reference's omittable (`[[...]]`) text."""
MIN_QUOTED_WORDS = 8
"""A passage of the reference repeated elsewhere in a text counts as no addition from this
many words (shorter ones, such as "not", change what a sentence says)."""
SHINGLE = 5
CANDIDATES = 4
"""References aligned word by word per text: the ones sharing most shingles with it."""
MIN_CANDIDATE_SHARE = 0.05
MAX_QUOTE_WORDS = 14
MAX_GAP_CELLS = 4_000_000
"""Word pairs `SequenceMatcher` may compare between two anchors (2000 by 2000 words)."""

Verdict = Literal["match", "fragment", "similar"]
Gram = TypeVar("Gram", bound=Hashable)
"""A shingle: its words (`_unique_shingles`) or its id in a `ShingleIndex`."""

_EQUIVALENT = {
    # SPDX equivalentwords.txt: British and American spellings and other variants.
    "acknowledgement": "acknowledgment",
    "analogue": "analog",
    "analyse": "analyze",
    "artefact": "artifact",
    "authorisation": "authorization",
    "authorised": "authorized",
    "calibre": "caliber",
    "cancelled": "canceled",
    "capitalisations": "capitalizations",
    "catalogue": "catalog",
    "categorise": "categorize",
    "centre": "center",
    "emphasised": "emphasized",
    "favour": "favor",
    "favourite": "favorite",
    "fulfil": "fulfill",
    "fulfilment": "fulfillment",
    "initialise": "initialize",
    "judgement": "judgment",
    "labelling": "labeling",
    "labour": "labor",
    "maximise": "maximize",
    "modelled": "modeled",
    "modelling": "modeling",
    "offence": "offense",
    "optimise": "optimize",
    "organisation": "organization",
    "organise": "organize",
    "practise": "practice",
    "programme": "program",
    "realise": "realize",
    "recognise": "recognize",
    "signalling": "signaling",
    "utilisation": "utilization",
    "whilst": "while",
    "wilful": "willful",
    "https": "http",
    "&": "and",
}
_JOINED = {
    ("sub", "license"): "sublicense",
    ("sub", "licenses"): "sublicenses",
    ("sub", "licensed"): "sublicensed",
    ("non", "commercial"): "noncommercial",
    ("per", "cent"): "percent",
}
_TITLE_WORDS = frozenset(
    [
        "the",
        "license",
        "version",
        "v",
        "and",
        "terms",
        "conditions",
        "of",
        "agreement",
        "notice",
        "copying",
        "md",
        "txt",
        "for",
        "public",
        "software",
        "legal",
        "code",
        "text",
        "full",
    ]
)
_LEGAL_WORDS = frozenset(
    [
        "may",
        "must",
        "shall",
        "not",
        "no",
        "only",
        "permitted",
        "prohibited",
        "use",
        "used",
        "commercial",
        "licensed",
        "license",
        "grant",
        "granted",
        "restricted",
        "except",
        "without",
        "provided",
        "unless",
        "however",
    ]
)
"""Words that make a 'copyright line' more than a notice: "Copyright 2024 X. Not for
commercial use." is a clause, and is never left out as a notice."""
_RESTRICTING = frozenset(
    [
        "not",
        "no",
        "only",
        "prohibited",
        "restricted",
        "except",
        "unless",
        "forbidden",
        "never",
        "cannot",
        "nor",
        "excluding",
        "excluded",
        "noncommercial",
        "research",
    ]
)
"""Words that restrict: text reworded where a reference has no terms (a title, a "how to apply"
appendix) is no difference unless it holds one ("Military use forbidden" for "MIT License")."""
_STATES_TERMS = frozenset(
    [
        "not",
        "no",
        "only",
        "must",
        "shall",
        "prohibited",
        "forbidden",
        "permitted",
        "restricted",
        "never",
        "cannot",
        "nor",
        "except",
        "unless",
    ]
)
"""Words no name holds: text standing for a holder's name or a model's (replaceable text) is a
difference when it has one ("Copyright 2024 Foo. Not for commercial use.")."""
_CLAUSE_WORDS = frozenset(
    [
        "modified",
        "modification",
        "modifications",
        "exception",
        "exceptions",
        "additional",
        "addition",
        "restriction",
        "restrictions",
        "condition",
        "conditions",
        "notwithstanding",
        "but",
        "excluding",
        "excluded",
        "supersede",
        "supersedes",
        "instead",
        "void",
        "governed",
        "law",
        "laws",
        "jurisdiction",
        "terminate",
        "terminates",
        "termination",
        "liable",
        "liability",
        "warranty",
        "warranties",
        "attribution",
        "acknowledge",
        "acknowledgment",
        "cite",
        "credit",
        "display",
        "fee",
        "fees",
        "royalty",
        "royalties",
        "pay",
        "payment",
        "revenue",
        "users",
        "require",
        "required",
        "requires",
        "requirement",
        "obligation",
        "obligations",
        "agree",
        "agrees",
        "forbidden",
        "allowed",
        "allow",
        "allows",
        "should",
        "will",
        "need",
        "needs",
        "cannot",
        "never",
        "nor",
        "if",
        "until",
        "after",
        "before",
    ]
)
"""Words that make a sentence before or after a license's terms a clause of its own: such a
sentence is a difference even when it names the license."""
_SAYS_TERMS = _LEGAL_WORDS | _STATES_TERMS | _RESTRICTING | _CLAUSE_WORDS
"""A line with none of these says nothing legal (`_LEGAL_WORDS` or `_states_terms`)."""

_JOINED_SECOND = frozenset(second for _, second in _JOINED)
"""Words `_JOINED` may join to the word before them: a line without one keeps its words."""
_WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)*|&")
_BULLET = re.compile(
    r"^\s*(?:>\s*)*(?:#{1,6}\s+)?(?:[-*+•·▪◦‣]\s+|(?:\(?(?:\d{1,3}|[a-z]|[ivxl]{1,6})(?:\.\d{1,3})*[.)]"
    r"|\((?:\d{1,3}|[a-z]|[ivxl]{1,6})\)|§\s*\d{1,3}(?:\.\d{1,3})*\.?)(?=\s))",
    re.IGNORECASE,
)
_COPYRIGHT_LINE = re.compile(
    r"^\W*(?:(?:portions\s+)?copyright\b(?!\W*(?:notices?|holders?|owners?|laws?|and|or|licen[cs]es?"
    r"|statements?|protection|infringement|in|to|of|is|interest)\b)|(?:\(c\)|©)\s*\d{4})"
    r"|^\W*all rights reserved\W*$",
    re.IGNORECASE,
)
"""A copyright notice's line, not running text that wraps before "copyright notice"."""
_HEADING = re.compile(r"^\s{0,3}#{1,6}\s")
_ROMAN = re.compile(r"^[ivxl]{1,6}$")
_MARKUP = re.compile(r"\{\{|\}\}|\[\[|\]\]")


@lru_cache(maxsize=1 << 16)
def _fold(word: str) -> str:
    word = word.lower()
    if not word.isascii():
        word = unicodedata.normalize("NFKD", word)
        word = "".join(c for c in word if not unicodedata.combining(c)).replace("’", "")
    word = word.replace("'", "")
    word = word.replace("licenc", "licens")
    return _EQUIVALENT.get(word, word)


_MONTHS = frozenset(
    [
        "january",
        "february",
        "march",
        "april",
        "may",
        "june",
        "july",
        "august",
        "september",
        "october",
        "november",
        "december",
    ]
)


def _is_date(words: Sequence[str]) -> bool:
    """Whether `words` are a date ("March 24, 2025", "24 March 2025")."""
    return (
        bool(words)
        and any(w in _MONTHS for w in words)
        and all(w in _MONTHS or (w.isdigit() and len(w) <= 4) for w in words)
    )


def _is_noise(word: str) -> bool:
    """A list number or letter: reflowing moves them into running text."""
    return (word.isdigit() and len(word) <= 3) or len(word) == 1 or bool(_ROMAN.match(word))


@dataclass(frozen=True)
class Words:
    """A text as a sequence of normalised words, with where each word is in the text."""

    text: str
    words: tuple[str, ...]
    starts: tuple[int, ...]
    ends: tuple[int, ...]
    lines: tuple[int, ...]
    notice: tuple[bool, ...]
    """Whether the word is on a copyright notice line (one without legal words)."""
    headings: tuple[int, ...]
    """Indexes of the words that start a Markdown heading line."""

    def quote(self, start: int, end: int) -> str:
        """The original text of words `start` to `end`, shortened to `MAX_QUOTE_WORDS`."""
        end = min(end, start + MAX_QUOTE_WORDS)
        snippet = " ".join(self.text[self.starts[start] : self.ends[end - 1]].split())
        return snippet + (" …" if end - start == MAX_QUOTE_WORDS else "")


def normalize(text: str) -> Words:
    """Split `text` into normalised words (the SPDX guidelines' equivalences applied)."""
    words: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    lines: list[int] = []
    notice: list[bool] = []
    headings: list[int] = []
    offset = 0
    notice_line = -2  # the last copyright notice line
    fold, find_words = _fold, _WORD.finditer
    all_lines = text.splitlines(keepends=True)
    heads = _notice_heads(all_lines)
    for number, line in enumerate(all_lines):
        bullet = _BULLET.match(line)
        found = list(find_words(line, bullet.end() if bullet else 0))
        folded = [fold(m[0]) for m in found]
        no_legal_words = _SAYS_TERMS.isdisjoint(folded)
        # A notice goes on over the lines right below it that say nothing legal (the holder's
        # address: "14 rue de Plaisance, 75014 Paris"; a second holder) and takes in the line
        # heading it (the work's name); neither may hold a word of a clause ("forbidden").
        beside = (number in heads or notice_line == number - 1) and (
            not bullet
            and 0 < len(found) <= MAX_NOTICE_LINE_WORDS
            and not _HEADING.match(line)
            and _CLAUSE_WORDS.isdisjoint(folded)
        )
        is_notice = no_legal_words and (_COPYRIGHT_LINE.match(line) is not None or beside)
        if is_notice:
            notice_line = number
        if found and _HEADING.match(line):
            headings.append(len(words))
        if _JOINED_SECOND.isdisjoint(folded) and not (is_notice and "c" in folded):
            # No word is left out or joined to the one before it: the line's words as found.
            words += folded
            starts += [offset + m.start() for m in found]
            ends += [offset + m.end() for m in found]
            lines += [number] * len(found)
            notice += [is_notice] * len(found)
            offset += len(line)
            continue
        for m, word in zip(found, folded, strict=True):
            if word == "c" and is_notice:
                continue  # the (c) of a notice
            if words and lines[-1] >= number - 1 and (words[-1], word) in _JOINED:
                words[-1] = _JOINED[(words[-1], word)]
                ends[-1] = offset + m.end()
                continue
            words.append(word)
            starts.append(offset + m.start())
            ends.append(offset + m.end())
            lines.append(number)
            notice.append(is_notice)
        offset += len(line)
    return Words(
        text, tuple(words), tuple(starts), tuple(ends), tuple(lines), tuple(notice), tuple(headings)
    )


def _notice_heads(lines: Sequence[str]) -> set[int]:
    """Lines that head a copyright notice: a line on its own (after a blank line or at the
    start) right above the notice's first line, such as the work's name and what it is
    ("dateutil - Extensions to the standard Python datetime module."). Whether it says
    anything legal is checked with its words."""
    heads = set()
    previous_blank = True
    for number, line in enumerate(lines):
        blank = not line.strip()
        if not blank and previous_blank and not _HEADING.match(line) and not _BULLET.match(line):
            below = next((n for n in range(number + 1, len(lines)) if lines[n].strip()), None)
            if below is not None and _COPYRIGHT_LINE.match(lines[below]):
                heads.add(number)
        previous_blank = blank
    return heads


@dataclass(frozen=True)
class Reference:
    """A full license text prepared for matching."""

    key: str
    name: str
    words: Words
    optional: tuple[bool, ...]
    """Words that may be missing: omittable text, defaults of replaceable text, notices, title."""
    replaceable: tuple[tuple[int, int], ...]
    """Word ranges (start, end) another text may replace with up to MAX_REPLACEMENT_WORDS."""
    omittable: tuple[tuple[int, int], ...]
    """Word ranges that are no part of the terms (`[[...]]`): they may be missing or reworded."""
    title_words: frozenset[str]
    required: int
    joined: str
    """The words as one string with a space either side, to find a passage in it."""
    vocabulary: frozenset[str]
    noise: tuple[bool, ...]
    """Whether each word is a list number or letter (`_is_noise`), found once: every alignment
    with the reference asks it of most of its words."""


def parse_reference(key: str, name: str, marked: str) -> Reference:
    """Prepare a reference text marked with `{{replaceable}}` and `[[omittable]]` regions."""
    replaceable_chars: list[tuple[int, int]] = []
    optional_chars: list[tuple[int, int]] = []
    open_at: dict[str, int] = {}
    removed = 0  # marker characters before the current one: positions are in the plain text
    for marker in _MARKUP.finditer(marked):
        token, at = marker.group(), marker.start() - removed
        removed += len(token)
        if token in ("{{", "[["):
            open_at[token] = at
            continue
        opener = "{{" if token == "}}" else "[["
        region = (open_at.pop(opener), at)
        (replaceable_chars if opener == "{{" else optional_chars).append(region)
    words = normalize(_MARKUP.sub("", marked))
    optional = list(words.notice)
    replaceable: list[tuple[int, int]] = []
    for start_char, end_char in replaceable_chars:
        inside = [i for i, s in enumerate(words.starts) if start_char <= s < end_char]
        if inside:
            replaceable.append((inside[0], inside[-1] + 1))
        else:
            first_after = next(
                (i for i, s in enumerate(words.starts) if s >= end_char), len(words.words)
            )
            replaceable.append((first_after, first_after))
        for i in inside:
            optional[i] = True
    merged: list[tuple[int, int]] = []
    for start, end in sorted(replaceable):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))  # "{{year}} {{owner}}"
        else:
            merged.append((start, end))
    replaceable = merged
    omittable: list[tuple[int, int]] = []
    for start_char, end_char in optional_chars:
        inside = [i for i, s in enumerate(words.starts) if start_char <= s < end_char]
        for i in inside:
            optional[i] = True
        if inside:
            omittable.append((inside[0], inside[-1] + 1))
    if words.lines:
        first_line = [i for i, line in enumerate(words.lines) if line == words.lines[0]]
        if len(first_line) <= MAX_TITLE_WORDS:
            for i in first_line:
                optional[i] = True  # the title: "MIT License", "zlib License"
    title = {_fold(w) for w in _WORD.findall(name)}
    title.update(words.words[i] for i, line in enumerate(words.lines) if line == words.lines[0])
    title.update(_acronyms([_fold(w) for w in _WORD.findall(name)]))
    return Reference(
        key=key,
        name=name,
        words=words,
        optional=tuple(optional),
        replaceable=tuple(replaceable),
        omittable=tuple(omittable),
        title_words=frozenset(title),
        required=sum(1 for o in optional if not o),
        joined=f" {' '.join(words.words)} ",
        vocabulary=frozenset(words.words),
        noise=tuple(_is_noise(w) for w in words.words),
    )


def _acronyms(words: Sequence[str]) -> set[str]:
    """The initials of every run of two to six words of a name: a title may abbreviate part of
    it ("ODC Open Database License" for "Open Data Commons Open Database License")."""
    letters = [w for w in words if w.isalpha()]
    found = {
        "".join(w[0] for w in letters[start:end])
        for start in range(len(letters))
        for end in range(start + 2, min(start + 6, len(letters)) + 1)
    }
    return {a for a in found if len(a) >= 3 and not _says_something(a)}


def _says_something(word: str) -> bool:
    """Whether a word states or restricts terms: no abbreviation may stand for it."""
    return word in _LEGAL_WORDS or word in _RESTRICTING or word in _CLAUSE_WORDS


def _states_terms(word: str) -> bool:
    """Whether a word makes a clause ("must", "not", "fee"): text with one is no rewording of
    a part that holds no terms."""
    return word in _STATES_TERMS or word in _RESTRICTING or word in _CLAUSE_WORDS


def _is_abbreviation(short: Sequence[str], long: Sequence[str]) -> bool:
    """Whether one word stands for two to five others by their initials ("IP" for
    "intellectual property"): the same words, abbreviated."""
    return (
        len(short) == 1
        and 2 <= len(long) <= 5
        and not _says_something(short[0])
        and not any(_says_something(w) for w in long)
        and all(w.isalpha() for w in long)
        and short[0] == "".join(w[0] for w in long)
    )


def _shingles(words: Sequence[str]) -> set[tuple[str, ...]]:
    return set(zip(*(words[i:] for i in range(SHINGLE)), strict=False))


def shingle_keys(words: Sequence[str]) -> list[str]:
    """The shingle starting at each word, as its words joined by spaces: a string is hashed
    once and compared in C, where a tuple of words is hashed again on every lookup."""
    return list(map(" ".join, zip(*(words[i:] for i in range(SHINGLE)), strict=False)))


@dataclass(frozen=True)
class ShingleIndex:
    """Which references hold each shingle, the shingles numbered: a text's candidates are
    ranked by counting, per reference, the text's shingles it holds, from the few references
    each shingle has, instead of intersecting the text's shingles with every reference's.

    The ids are the references' own shingles, so a text's shingle with no id is in no
    reference and the counts are exactly the sizes of the intersections (no hashing, no
    collision). Keys are shingles joined by spaces (`shingle_keys`); no reference word holds a
    space (`index_shingles` refuses one), so a text's key is a reference's key only when its
    five words are that shingle's: joined words holding a space have more than four."""

    ids: Mapping[str, int]
    """Every reference shingle's id, in id order."""
    positions: tuple[Sequence[int], ...]
    """Per reference, the id of the shingle starting at each of its words."""
    offsets: Sequence[int]
    holders: Sequence[int]
    """The references holding shingle `g`, ascending: `holders[offsets[g]:offsets[g + 1]]`."""
    sizes: tuple[int, ...]
    """Distinct shingles per reference."""


def index_shingles(references: Sequence[Reference]) -> ShingleIndex | None:
    """The shingle index of `references`; None when a word holds a space (a reference's key
    could then be another's shingle), and the matcher intersects shingle sets instead."""
    if any(" " in word for r in references for word in r.words.words):
        return None
    ids: dict[str, int] = {}
    positions = []
    for reference in references:
        keys = shingle_keys(reference.words.words)
        positions.append(array("I", [ids.setdefault(key, len(ids)) for key in keys]))
    held: list[list[int]] = [[] for _ in ids]
    for number, grams in enumerate(positions):
        for gram in set(grams):
            held[gram].append(number)
    offsets, holders = array("I", [0]), array("I")
    for numbers in held:
        holders.extend(numbers)
        offsets.append(len(holders))
    sizes = tuple(len(set(grams)) for grams in positions)
    return ShingleIndex(ids, tuple(positions), offsets, holders, sizes)


@dataclass(frozen=True)
class PreparedReferences:
    """The references ready for matching: their texts and their shingle index (kept together
    in the user's cache folder, `compiled.load_references`)."""

    references: Sequence[Reference]
    index: ShingleIndex | None


def prepare(references: Iterable[Reference]) -> PreparedReferences:
    """`references` with the shingle index computed from their words."""
    kept = tuple(references)
    return PreparedReferences(kept, index_shingles(kept))


@dataclass(frozen=True)
class Alignment:
    """One text aligned with one reference."""

    reference: Reference
    coverage: float
    missing: int
    """Required, substantive words of the reference the text lacks."""
    matched: frozenset[int]
    """Indexes of the text's words that are the reference's."""
    extra: tuple[tuple[int, int], ...]
    """Word ranges of the text that are neither the reference nor omittable."""
    lacking: tuple[tuple[int, int], ...]
    """Word ranges of the reference the text lacks (substantive ones)."""
    span: tuple[int, int]
    """The stretch of the reference that the text's words cover."""
    gap: int
    """Required words missing inside `span`."""
    redated: bool
    """The text carries another date where the reference has one: the same terms when the
    rest is the same, but a fragment cannot show that the rest is."""


class LicenseMatcher:
    """Matches texts against a set of references.

    Most of a match is aligning a text word by word with its candidate references, so a
    candidate is aligned only when its alignment can change the answer: the full matches are
    looked for first among the candidates whose words could cover `MATCH_COVERAGE` of them
    (`coverage_bound`), and the others are aligned only when no full match answers. The answers
    are those of aligning every candidate (`match_exhaustively`, which the tests compare)."""

    def __init__(self, references: Sequence[Reference], index: ShingleIndex | None = None) -> None:
        """`index`: the references' shingle index as kept with them (`index_shingles` when
        None). `references` are looked at one by one, only as candidates need them."""
        self.references = references
        self.index = index if index is not None else index_shingles(self.references)
        self._sets: dict[int, set[tuple[str, ...]]] = {}
        self._once: dict[int, dict[int, int]] = {}
        self._required: dict[int, Counter[str]] = {}

    def _unique(self, number: int) -> dict[int, int]:
        """The shingle ids that occur once in reference `number`, found when first aligned."""
        if number not in self._once:
            assert self.index is not None
            self._once[number] = _once(self.index.positions[number])
        return self._once[number]

    def _shingle_set(self, number: int) -> set[tuple[str, ...]]:
        if number not in self._sets:
            self._sets[number] = _shingles(self.references[number].words.words)
        return self._sets[number]

    def coverage_bound(self, number: int, counts: Counter[str]) -> float:
        """At least the coverage of reference `number` by a text of word `counts`: an
        alignment pairs equal words in order, so each word of the reference is covered at
        most as often as the text has it."""
        reference = self.references[number]
        if not reference.required:
            return 1.0
        if number not in self._required:
            pairs = zip(reference.words.words, reference.optional, strict=True)
            self._required[number] = Counter(w for w, optional in pairs if not optional)
        required = self._required[number]
        if len(counts) < len(required):  # the same sum, over the words both have
            covered = sum(min(n, required[w]) for w, n in counts.items() if w in required)
        else:
            get = counts.get
            covered = sum(min(n, get(w, 0)) for w, n in required.items())
        return covered / reference.required

    def _ranked(self, shared: Sequence[int], distinct: int) -> list[int]:
        """The references sharing most shingles with a text (`CANDIDATES`, each sharing at
        least `MIN_CANDIDATE_SHARE` of its shingles or of the text's), best first. `shared`:
        how many of the text's `distinct` shingles each reference holds."""
        ranked = []
        for n, sizes in enumerate(zip(shared, self._sizes(), strict=True)):
            held, theirs = sizes
            ranked.append((max(held / max(1, theirs), held / distinct), n))
        ranked.sort(reverse=True)
        return [n for share, n in ranked[:CANDIDATES] if share >= MIN_CANDIDATE_SHARE]

    def _sizes(self) -> Sequence[int]:
        if self.index is not None:
            return self.index.sizes
        return [len(self._shingle_set(n)) for n in range(len(self.references))]

    def _candidates(self, grams: set[tuple[str, ...]]) -> list[int]:
        """`_ranked` by intersecting the text's shingles with every reference's: the
        straightforward count, which `match` gets from the shingle index."""
        shared = [len(grams & self._shingle_set(n)) for n in range(len(self.references))]
        return self._ranked(shared, len(grams))

    def match(self, text: str, *, sections: bool = False) -> tuple[TextMatch, ...]:
        """The licenses `text` is (`match`), is a piece of (`fragment`) or resembles
        (`similar`). With `sections` (a card body), only the Markdown sections holding the
        license are compared, and each result names its section."""
        if self.index is None:
            return self.match_exhaustively(text, sections=sections)
        words = normalize(text)
        keys = shingle_keys(words.words)
        if not keys:
            return ()
        index = self.index
        distinct = set(keys)
        # Distinct keys are distinct shingles unless a word holds a space (then counted as
        # tuples); such keys are in no reference.
        size = len(_shingles(words.words)) if " " in "".join(words.words) else len(distinct)
        found = list(map(index.ids.__getitem__, index.ids.keys() & distinct))
        offsets, holders = index.offsets, index.holders
        held = Counter(chain.from_iterable(holders[offsets[g] : offsets[g + 1]] for g in found))
        candidates = self._ranked([held.get(n, 0) for n in range(len(self.references))], size)
        once = {index.ids[k]: at for k, at in _once(keys).items() if k in index.ids}
        aligned: dict[int, Alignment] = {}

        def align(number: int) -> Alignment:
            if number not in aligned:
                reference = self.references[number]
                aligned[number] = _align(reference, self._unique(number), words, once, sections)
            return aligned[number]

        counts = Counter(words.words)
        likely = [n for n in candidates if self.coverage_bound(n, counts) >= MATCH_COVERAGE]
        full = _full_matches(*_chosen([align(n) for n in likely]), words, sections)
        if full is not None:
            return full  # no other candidate is a full match, and fragments count only then
        return _verdicts([align(n) for n in candidates], words, sections)

    def match_exhaustively(self, text: str, *, sections: bool = False) -> tuple[TextMatch, ...]:
        """`match` aligning every candidate, found by intersecting shingle sets and anchored
        by shingles as words: the straightforward computation, kept as the measure of
        `match`'s shortcuts."""
        words = normalize(text)
        grams = _shingles(words.words)
        if not grams:
            return ()
        once = _unique_shingles(words.words)
        aligned = [
            _align(
                self.references[n],
                _unique_shingles(self.references[n].words.words),
                words,
                once,
                sections,
            )
            for n in self._candidates(grams)
        ]
        return _verdicts(aligned, words, sections)


def _align(
    reference: Reference,
    once_ref: dict[Gram, int],
    text: Words,
    once_text: dict[Gram, int],
    sections: bool,
) -> Alignment:
    ref = reference.words.words
    matching_blocks = _matching_blocks(ref, text.words, once_ref, once_text)
    opcodes = _opcodes(matching_blocks, len(ref), len(text.words))
    matched_ref = [False] * len(ref)
    matched: set[int] = set()
    for tag, i1, i2, j1, j2 in opcodes:
        if tag == "equal":
            matched_ref[i1:i2] = [True] * (i2 - i1)
            matched.update(range(j1, j2))
    blocks = [b for b in matching_blocks if b[2] >= 4]
    if not blocks:
        return Alignment(reference, 0.0, reference.required, frozenset(), (), (), (0, 0), 0, False)
    first, last = blocks[0][1], blocks[-1][1] + blocks[-1][2]
    region = _region(text, first, last) if sections else (0, len(text.words))
    extra: list[tuple[int, int]] = []
    redated = False
    stood_for: set[int] = set()
    """Words of the reference the text replaced by words the guidelines allow."""
    for tag, i1, i2, j1, j2 in opcodes:
        if tag in ("insert", "replace"):
            j1, j2 = max(j1, region[0]), min(j2, region[1])
            if j1 >= j2:
                continue
            dated = tag == "replace" and _is_date(text.words[j1:j2]) and _is_date(ref[i1:i2])
            if dated and not any(s <= i1 and i2 <= e for s, e in reference.replaceable):
                redated = True  # "Last modified: April 1, 2024" (unless a release date marked)
                stood_for.update(range(i1, i2))
            elif not _omittable(reference, text, tag, i1, i2, j1, j2, (first, last)):
                extra.append((j1, j2))
            elif tag == "replace" and (
                _is_abbreviation(ref[i1:i2], text.words[j1:j2])
                or _is_abbreviation(text.words[j1:j2], ref[i1:i2])
            ):
                stood_for.update(range(i1, i2))  # "intellectual property" for "IP"
    # Word flags combined by `map` over whole lists (C loops): these run once per alignment
    # over every word of the reference.
    required = list(map(operator.not_, reference.optional))
    for i in stood_for:
        required[i] = False
    covered = sum(map(operator.and_, matched_ref, required))
    # `lacks`: a required, substantive word of the reference that the text does not have
    # (`a > b` of flags: a and not b).
    lacks = list(map(operator.gt, map(operator.gt, required, matched_ref), reference.noise))
    lacking: list[tuple[int, int]] = []
    end = 0
    for start in compress(range(len(ref)), lacks):
        if start < end:
            continue  # inside the stretch found from an earlier one
        end = start + 1
        while end < len(ref) and not matched_ref[end]:
            end += 1
        lacking.append((start, end))
    missing = sum(lacks[start:end].count(True) for start, end in lacking)
    span = (blocks[0][0], blocks[-1][0] + blocks[-1][2])
    gap = lacks[span[0] : span[1]].count(True)
    return Alignment(
        reference=reference,
        coverage=covered / reference.required if reference.required else 1.0,
        missing=missing,
        matched=frozenset(matched),
        extra=tuple(extra),
        lacking=tuple(lacking),
        span=span,
        gap=gap,
        redated=redated,
    )


Block = tuple[int, int, int]
"""`a[i:i + size] == b[j:j + size]` as (i, j, size)."""


def _matching_blocks(
    a: Sequence[str],
    b: Sequence[str],
    once_a: dict[Gram, int],
    once_b: dict[Gram, int],
) -> list[Block]:
    """The words `a` and `b` share, in order, like `difflib.SequenceMatcher` with autojunk off
    but in near-linear time on long texts: shingles that occur once in each text anchor the
    alignment (the longest chain of them in the same order, as patience diff does), and only
    the short stretches between anchors are aligned by `SequenceMatcher` (quadratic in words
    of an aligned stretch: "the" occurs 300 times in the GPL)."""
    anchors = _anchors(once_a, once_b)
    blocks: list[Block] = []
    i = j = 0
    for ai, bj in [*anchors, (len(a), len(b))]:
        if ai < i or bj < j:
            continue  # inside the block the previous anchor grew into
        if ai > i and bj > j and (ai - i) * (bj - j) <= MAX_GAP_CELLS:
            gap = difflib.SequenceMatcher(None, a[i:ai], b[j:bj], autojunk=False)
            blocks.extend((i + x, j + y, n) for x, y, n in gap.get_matching_blocks() if n)
        if ai == len(a) or bj == len(b):
            break
        size = _equal_run(a, ai, b, bj)
        blocks.append((ai, bj, size))
        i, j = ai + size, bj + size
    return blocks


def _equal_run(a: Sequence[str], i: int, b: Sequence[str], j: int) -> int:
    """How many words from `a[i]` and `b[j]` on are equal: compared 64, 16, 4 words at a time
    (slices compare in C) before word by word, as an anchor grows over a whole license."""
    limit = min(len(a) - i, len(b) - j)
    size, step = 0, 64
    while step:
        while (
            size + step <= limit and a[i + size : i + size + step] == b[j + size : j + size + step]
        ):
            size += step
        step //= 4
    return size


def _anchors(once_a: dict[Gram, int], once_b: dict[Gram, int]) -> list[tuple[int, int]]:
    """Positions (in `a`, in `b`) of shingles unique in both, the longest chain in order."""
    if len(once_b) < len(once_a):  # the same pairs, looked up from the fewer shingles
        pairs = sorted((once_a[gram], j) for gram, j in once_b.items() if gram in once_a)
    else:
        pairs = sorted((i, once_b[gram]) for gram, i in once_a.items() if gram in once_b)
    # The longest increasing run of `b` positions (patience sorting), kept with back links.
    tails: list[int] = []
    tail_at: list[int] = []
    previous = [-1] * len(pairs)
    for number, (_, bj) in enumerate(pairs):
        slot = bisect.bisect_left(tails, bj)
        if slot == len(tails):
            tails.append(bj)
            tail_at.append(number)
        else:
            tails[slot] = bj
            tail_at[slot] = number
        previous[number] = tail_at[slot - 1] if slot else -1
    chain: list[tuple[int, int]] = []
    at = tail_at[-1] if tail_at else -1
    while at >= 0:
        chain.append(pairs[at])
        at = previous[at]
    return chain[::-1]


def _unique_shingles(words: Sequence[str]) -> dict[tuple[str, ...], int]:
    return _once(list(zip(*(words[k:] for k in range(SHINGLE)), strict=False)))


def _once(grams: Sequence[Gram]) -> dict[Gram, int]:
    """The position of each shingle that occurs once in `grams` (the shingle at each word)."""
    seen: dict[Gram, int] = {}
    repeated: set[Gram] = set()
    for position, gram in enumerate(grams):
        if gram in seen:
            repeated.add(gram)
        else:
            seen[gram] = position
    for gram in repeated:
        del seen[gram]
    return seen


def _opcodes(blocks: list[Block], len_a: int, len_b: int) -> list[tuple[str, int, int, int, int]]:
    """`SequenceMatcher.get_opcodes` from matching blocks."""
    codes: list[tuple[str, int, int, int, int]] = []
    i = j = 0
    for bi, bj, size in [*blocks, (len_a, len_b, 0)]:
        if bi > i and bj > j:
            codes.append(("replace", i, bi, j, bj))
        elif bi > i:
            codes.append(("delete", i, bi, j, j))
        elif bj > j:
            codes.append(("insert", i, i, j, bj))
        if size:
            codes.append(("equal", bi, bi + size, bj, bj + size))
        i, j = bi + size, bj + size
    return codes


def _region(text: Words, first: int, last: int) -> tuple[int, int]:
    """The Markdown sections holding words `first` to `last` of a card body: from the heading
    before `first` to the heading after `last`."""
    start = max((h for h in text.headings if h <= first), default=0)
    end = min((h for h in text.headings if h >= last), default=len(text.words))
    return start, end


def _omittable(
    reference: Reference,
    text: Words,
    tag: str,
    i1: int,
    i2: int,
    j1: int,
    j2: int,
    span: tuple[int, int],
) -> bool:
    """Whether words `j1:j2` of the text, standing where the reference has `i1:i2`, are a
    difference the guidelines allow. `span`: the first and last text words matched."""
    added = text.words[j1:j2]
    if all(text.notice[j1:j2]):
        return True  # copyright notice lines
    named = _is_date(added) or not any(w in _LEGAL_WORDS or _states_terms(w) for w in added)
    if j2 - j1 <= MAX_REPLACEMENT_WORDS and named:
        for start, end in reference.replaceable:
            if start <= i1 and i2 <= end:
                return True  # a name stands there: "LTX Video-13b-0.9.7-dev-fp8"
        if tag == "replace" and all(reference.words.notice[i1:i2]):
            return True  # another holder or address in the notice, reflowed into the text
    if tag == "replace":
        removed = reference.words.words[i1:i2]
        if _is_abbreviation(removed, added) or _is_abbreviation(added, removed):
            return True  # "IP" for "intellectual property"
        if any(w.isdigit() for w in removed) and any(w.isdigit() for w in added):
            return False  # a number changed: "Version 2.0" against "Version 2.5"
    if all(_is_noise(w) for w in added):
        return True  # list numbering
    if j2 - j1 >= MIN_QUOTED_WORDS and _quotes_itself(reference, added):
        return True  # the license quoting itself: GPL's "how to apply" notice put first
    if j2 - j1 <= MAX_OMITTABLE_WORDS:
        for start, end in reference.omittable:
            inside = (start < i1 and i2 < end) or (tag == "replace" and start <= i1 and i2 <= end)
            if inside and not any(_states_terms(w) for w in added):
                return True  # reworded where the text is no part of the terms
            near = start <= i1 and i2 <= end and _is_link(text, j1, j2)
            if near and _LEGAL_WORDS.isdisjoint(added):
                return True  # a link added next to it: "wiki.creativecommons.org/..."
        if (j2 <= span[0] or j1 >= span[1]) and _names_it(reference, added):
            return True  # before or after the terms: "PostgreSQL is released under the ..."
    # A title or heading: "# LICENSE", "The MIT License (MIT)".
    return _is_title(reference, added)


def _is_title(reference: Reference, words: Sequence[str]) -> bool:
    """Whether added `words` are a title: the license's name and title words. Words that
    restrict are no title, even the license's own ("only", "no" of NoDerivatives): "For
    research only." put into a research license's heading is a restriction added."""
    return (
        len(words) <= MAX_TITLE_WORDS
        and _RESTRICTING.isdisjoint(words)
        and _STATES_TERMS.isdisjoint(words)
        and all(w in _TITLE_WORDS or w in reference.title_words or _is_noise(w) for w in words)
    )


def _quotes_itself(reference: Reference, added: Sequence[str]) -> bool:
    """Whether `added` is passages of the reference (of `MIN_QUOTED_WORDS` words or more) and
    at most titles between them: a GPL text preceded by its own "how to apply" notice, under a
    "# LICENSE" heading, holds "license this program is free software ...", which is the
    notice and a title."""
    unknown = sum(1 for w in added if w not in reference.vocabulary)
    if unknown > MAX_TITLE_WORDS:
        return False  # more words than a title that the reference never uses: no search
    position = 0
    rest: list[str] = []
    while position < len(added) and len(rest) <= MAX_TITLE_WORDS:
        size = _longest_quote(reference.joined, added, position)
        if size >= MIN_QUOTED_WORDS:
            position += size
        else:
            rest.append(added[position])
            position += 1
    return position == len(added) and len(rest) < len(added) and _is_title(reference, rest)


def _longest_quote(joined: str, words: Sequence[str], start: int) -> int:
    """The most words from `start` on that occur in that order in `joined` (a prefix of a
    passage occurs wherever the passage does, so the length is found by bisection)."""

    def occurs(size: int) -> bool:
        return f" {' '.join(words[start : start + size])} " in joined

    if not occurs(1):
        return 0
    low, high = 1, 2
    while start + high <= len(words) and occurs(high):
        low, high = high, high * 2
    high = min(high, len(words) - start + 1)
    while high - low > 1:  # occurs(low), not occurs(high)
        middle = (low + high) // 2
        low, high = (middle, high) if occurs(middle) else (low, middle)
    return low


def _names_it(reference: Reference, added: Sequence[str]) -> bool:
    """Whether `added` is a statement about the license rather than a clause: it names the
    license (the first word of its key: "postgresql", "bsd") and has no word that grants,
    restricts, conditions or excepts anything ("may", "not", "except", "modified", ...)."""
    name = re.match(r"[a-z]+", reference.key)
    return (
        name is not None
        and name.group() in added
        and (_LEGAL_WORDS - {"license", "licensed"}).isdisjoint(added)
        and _CLAUSE_WORDS.isdisjoint(added)
    )


def _is_link(text: Words, start: int, end: int) -> bool:
    """Whether words `start` to `end` are one link or domain as written ("example.org/x")."""
    written = text.text[text.starts[start] : text.ends[end - 1]]
    return "." in written and not any(c.isspace() for c in written)


def _chosen(aligned: list[Alignment]) -> tuple[list[Alignment], set[int]]:
    """The full matches that count, and the text's words they explain. The largest match
    first; another counts only for words it alone explains (a LICENSE holding two licenses),
    so a license whose text holds another's (the CC BY-NC legal code holds CC BY's words,
    LGPL-3.0 holds GPL-3.0) is that license alone. Only alignments covering `MATCH_COVERAGE`
    of their reference are looked at: leaving out others changes nothing."""
    full = [a for a in aligned if a.coverage >= MATCH_COVERAGE and a.missing <= MAX_MISSING_WORDS]
    chosen: list[Alignment] = []
    explained: set[int] = set()
    for a in sorted(full, key=lambda a: len(a.matched), reverse=True):
        if len(a.matched - explained) >= (1 - MATCH_COVERAGE) * len(a.matched) + SHINGLE:
            chosen.append(a)
            explained |= a.matched
    return chosen, explained


def _full_matches(
    chosen: list[Alignment], explained: set[int], text: Words, sections: bool
) -> tuple[TextMatch, ...] | None:
    """The chosen full matches when they explain the whole text, else None (fragments and
    similar texts are looked for then)."""
    results = [
        _result(a, text, "match", sections)
        for a in chosen
        if not any(k not in explained for s, e in a.extra for k in range(s, e))
    ]
    return tuple(results) if chosen and len(results) == len(chosen) else None


def _verdicts(aligned: list[Alignment], text: Words, sections: bool) -> tuple[TextMatch, ...]:
    chosen, explained = _chosen(aligned)
    full = _full_matches(chosen, explained, text, sections)
    if full is not None:
        return full
    fragments = [
        a
        for a in aligned
        if not a.extra and not a.redated and a.gap <= FRAGMENT_MAX_GAP * (a.span[1] - a.span[0])
    ]
    # A piece two references hold could be either; only a long one tells the license.
    if not chosen and len(fragments) == 1 and len(fragments[0].matched) >= FRAGMENT_MIN_WORDS:
        return (_result(fragments[0], text, "fragment", sections),)
    similar = [
        a
        for a in aligned
        if a.coverage >= SIMILAR_COVERAGE
        and len(a.matched) >= SIMILAR_COVERAGE * _region_size(a, text, sections)
    ]
    if similar:
        # The closest: most of the text explained, least of the reference lacking.
        best = max(similar, key=lambda a: (len(a.matched) - a.missing, a.coverage))
        return (_result(best, text, "similar", sections),)
    return ()


def _region_size(a: Alignment, text: Words, sections: bool) -> int:
    if not sections or not a.matched:
        return len(text.words)
    start, end = _region(text, min(a.matched), max(a.matched) + 1)
    return end - start


def _result(a: Alignment, text: Words, verdict: Verdict, sections: bool) -> TextMatch:
    differences = []
    if verdict == "similar":
        if a.extra:
            start, end = max(a.extra, key=lambda r: r[1] - r[0])
            differences.append(f"adds '{text.quote(start, end)}'")
        if a.lacking:
            start, end = max(a.lacking, key=lambda r: r[1] - r[0])
            differences.append(f"lacks '{a.reference.words.quote(start, end)}'")
    section = None
    if sections and a.matched:
        first = min(a.matched)
        heading = max((h for h in text.headings if h <= first), default=None)
        if heading is not None:
            line = text.lines[heading]
            section = " ".join(
                text.text[text.starts[k] : text.ends[k]]
                for k in range(heading, len(text.words))
                if text.lines[k] == line
            )
    return TextMatch(
        key=a.reference.key,
        verdict=verdict,
        coverage=round(a.coverage, 3),
        difference="; ".join(differences) or None,
        section=section,
    )
