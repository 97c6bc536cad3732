"""The matcher's shortcuts (coverage bounds, full matches looked for first) change no answer."""

from __future__ import annotations

import random
import re
import textwrap
from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scanner.licensing.knowledge_base import default_knowledge_base
from scanner.licensing.matching import normalize

REFERENCES = sorted(
    entry.reference_file
    for entry in default_knowledge_base().entries.values()
    if entry.reference_file is not None
)


def plain(path) -> str:
    return re.sub(r"\{\{|\}\}|\[\[|\]\]", "", path.read_text("utf-8"))


@pytest.fixture(scope="module")
def matcher():
    return default_knowledge_base()._matcher


def variants(text: str, rng: random.Random) -> list[str]:
    """What packages ship: the text, reflowed, with a notice, cut short, with a clause added,
    with a clause dropped, and joined to another license."""
    words = text.split()
    cut = " ".join(words[: max(1, len(words) * 3 // 10)])
    paragraphs = text.split("\n\n")
    dropped = "\n\n".join(p for i, p in enumerate(paragraphs) if i != len(paragraphs) // 2)
    other = plain(rng.choice(REFERENCES))
    return [
        text,
        textwrap.fill(" ".join(words), 72),
        "Copyright (c) 2024 Example Corp.\n\n" + text,
        cut,
        text + "\n\nThe Software shall not be used for military purposes.\n",
        dropped,
        text + "\n\n" + other,
        f"# Project\n\nSome words.\n\n## License\n\n{text}\n\n## Thanks\n\nTo everyone.\n",
    ]


@pytest.mark.parametrize("reference", REFERENCES, ids=lambda path: path.stem)
def test_the_shortcuts_answer_as_aligning_every_candidate(matcher, reference):
    rng = random.Random(reference.stem)
    *texts, card = variants(plain(reference), rng)
    for text in texts:
        assert matcher.match(text) == matcher.match_exhaustively(text)
    assert matcher.match(card, sections=True) == matcher.match_exhaustively(card, sections=True)


@settings(max_examples=30, deadline=None)
@given(
    picks=st.lists(st.sampled_from(REFERENCES), min_size=1, max_size=3),
    start=st.floats(0, 1),
    share=st.floats(0.05, 1),
    noise=st.text(max_size=40),
)
def test_pieces_of_references_answer_as_aligning_every_candidate(picks, start, share, noise):
    matcher = default_knowledge_base()._matcher
    pieces = []
    for path in picks:
        words = plain(path).split(" ")
        first = int(start * len(words))
        pieces.append(" ".join(words[first : first + max(1, int(share * len(words)))]))
    text = f"\n\n{noise}\n\n".join(pieces)
    assert matcher.match(text) == matcher.match_exhaustively(text)


@settings(max_examples=40, deadline=None)
@given(path=st.sampled_from(REFERENCES), text=st.text(max_size=400))
def test_the_coverage_bound_is_never_below_an_alignment(matcher, path, text):
    from scanner.licensing.matching import _align, _unique_shingles

    number = next(n for n, r in enumerate(matcher.references) if r.key == path.stem)
    words = normalize(plain(path)[: len(text) * 3] + text)
    aligned = _align(
        matcher.references[number],
        _unique_shingles(matcher.references[number].words.words),
        words,
        _unique_shingles(words.words),
        False,
    )
    assert aligned.coverage <= matcher.coverage_bound(number, Counter(words.words))


@settings(max_examples=200, deadline=None)
@given(
    a=st.lists(st.sampled_from("ab"), max_size=300),
    changed=st.integers(0, 300),
    tail=st.lists(st.sampled_from("abc"), max_size=100),
    i=st.integers(0, 300),
)
def test_an_anchor_grows_as_far_as_comparing_word_by_word(a, changed, tail, i):
    from scanner.licensing.matching import _equal_run

    b = a[:changed] + tail  # equal runs of every length, up to the whole of `a`
    i = j = min(i, len(a), len(b))
    size = 0
    while i + size < len(a) and j + size < len(b) and a[i + size] == b[j + size]:
        size += 1
    assert _equal_run(tuple(a), i, tuple(b), j) == size
