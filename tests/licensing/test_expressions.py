"""License expressions over knowledge-base keys and how restrictive they are."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from scanner.licensing.expressions import (
    category_rank,
    conjoin,
    expression_category,
    expression_keys,
    resolve_declared,
)
from scanner.licensing.knowledge_base import CATEGORIES


def test_and_expression_resolves_to_both_keys(kb):
    resolved = resolve_declared("apache-2.0 AND llama3", kb)
    assert resolved.unresolved == ()
    assert set(resolved.keys) == {"apache-2.0", "llama3"}
    assert set(expression_keys(resolved.expression)) == {"apache-2.0", "llama3"}
    assert " AND " in resolved.expression


def test_or_expression_resolves_to_both_keys(kb):
    resolved = resolve_declared("mit OR apache-2.0", kb)
    assert resolved.unresolved == ()
    assert set(resolved.keys) == {"mit", "apache-2.0"}
    assert " OR " in resolved.expression


def test_expression_symbols_written_as_spdx_ids_map_to_keys(kb):
    resolved = resolve_declared("Apache-2.0 OR MIT", kb)
    assert set(resolved.keys) == {"apache-2.0", "mit"}
    assert set(expression_keys(resolved.expression)) == {"apache-2.0", "mit"}


def test_licenseref_scancode_symbol_maps_to_key(kb):
    resolved = resolve_declared("LicenseRef-scancode-llama-3.1-license-2024 AND MIT", kb)
    assert set(resolved.keys) == {"llama3.1", "mit"}


def test_whole_name_wins_over_splitting_on_or(kb):
    # the SPDX name of BSD-3-Clause contains the word "or"; it must not become an OR expression
    resolved = resolve_declared('BSD 3-Clause "New" or "Revised" License', kb)
    assert resolved.keys == ("bsd-3-clause",)
    assert resolved.expression == "bsd-3-clause"


def test_unknown_symbol_in_expression_is_unresolved(kb):
    resolved = resolve_declared("apache-2.0 AND frobnicate-9.0", kb)
    assert resolved.expression is None
    assert resolved.unresolved == ("frobnicate-9.0",)
    assert resolved.keys == ("apache-2.0",)


def test_garbage_is_unresolved_not_an_exception(kb):
    resolved = resolve_declared("AND OR ((", kb)
    assert resolved.expression is None
    assert resolved.unresolved


@pytest.mark.parametrize(
    ("expression", "category"),
    [
        ("apache-2.0", "permissive"),
        ("llama3", "restricted"),
        ("apache-2.0 AND llama3", "restricted"),
        ("llama3 AND apache-2.0", "restricted"),
        ("apache-2.0 AND qwen-research", "non-commercial"),
        ("mit OR apache-2.0", "permissive"),
        ("apache-2.0 OR qwen-research", "permissive"),
        ("qwen-research OR llama3", "restricted"),
        ("(mit OR qwen-research) AND llama3", "restricted"),
        ("(qwen-research OR mrl-0.1) AND apache-2.0", "non-commercial"),
        ("mrl-0.1 AND qwen-research", "research-only"),
        ("gpl-3.0 AND mit", "strong-copyleft"),
        ("mit AND no-such-license", "unknown"),
        ("mit OR no-such-license", "permissive"),
    ],
)
def test_and_takes_most_restrictive_or_takes_least(kb, expression, category):
    assert expression_category(expression, kb) == category


def test_no_expression_is_unknown(kb):
    assert expression_category(None, kb) == "unknown"
    assert expression_category("", kb) == "unknown"


def test_categories_are_ranked_least_to_most_restrictive():
    ranks = [category_rank(c) for c in CATEGORIES]
    assert ranks == sorted(ranks)
    assert (
        category_rank("permissive") < category_rank("restricted") < category_rank("non-commercial")
    )
    assert category_rank("unknown") == max(ranks)


def test_conjoin_drops_repeats_and_parenthesises_or():
    assert conjoin([]) is None
    assert conjoin(["mit"]) == "mit"
    assert conjoin(["mit", "mit"]) == "mit"
    assert conjoin(["apache-2.0", "llama3"]) == "apache-2.0 AND llama3"
    assert conjoin(["mit OR apache-2.0", "llama3"]) == "(mit OR apache-2.0) AND llama3"


def test_expression_keys_lists_each_key_once():
    assert expression_keys("llama3 AND (mit OR llama3)") == ("llama3", "mit")
    assert expression_keys(None) == ()


def _parsed_keys(expression: str) -> tuple[str, ...]:
    """expression_keys without its shortcut: what license-expression itself finds."""
    from license_expression import Licensing

    licensing = Licensing()
    return tuple(s.key for s in licensing.license_symbols(licensing.parse(expression)))


def test_a_single_key_gives_what_the_parser_gives(kb):
    """Every knowledge-base key (the expressions checks ask about are built from them) is
    answered by the shortcut as license-expression answers it, keys and category."""
    for key in kb.entries:
        assert expression_keys(key) == _parsed_keys(key), key
        assert expression_category(key, kb) == kb[key].category, key


@given(st.from_regex(r"[A-Za-z0-9][A-Za-z0-9.+-]{0,12}", fullmatch=True))
def test_one_word_is_read_as_the_parser_reads_it(word):
    """The shortcut takes one word for one key; the parser is the judge of what that word is
    (`mit+` is a key with a plus, `or` an operator, refused alone by both)."""
    from license_expression import ExpressionError

    try:
        expected = _parsed_keys(word)
    except ExpressionError:
        with pytest.raises(ExpressionError):
            expression_keys(word)
        return
    assert expression_keys(word) == expected


def test_an_operator_alone_is_not_taken_for_a_key():
    from license_expression import ExpressionError

    for word in ("OR", "and", "With"):
        with pytest.raises(ExpressionError):
            expression_keys(word)
