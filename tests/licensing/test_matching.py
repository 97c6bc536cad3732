"""License text matching: normalisation, each verdict, lookalikes built from the bundled texts."""

from __future__ import annotations

import random
import re
import textwrap

import pytest

from scanner.inventory import TextMatch
from scanner.licensing.knowledge_base import default_knowledge_base
from scanner.licensing.matching import (
    FRAGMENT_MIN_WORDS,
    LicenseMatcher,
    normalize,
    parse_reference,
)
from scanner.readers.model_folder import read_model_folder
from scanner.resources import data_dir

REFERENCES = data_dir("licenses") / "reference"


def plain(key: str) -> str:
    """A reference text as a publisher ships it: without the reference file's markup."""
    return re.sub(r"\{\{|\}\}|\[\[|\]\]", "", (REFERENCES / f"{key}.txt").read_text("utf-8"))


@pytest.fixture(scope="module")
def kb():
    return default_knowledge_base()


def verdicts(kb, text, **options):
    return [(m.key, m.verdict) for m in kb.identify(text, **options)[1]]


# --- normalisation ----------------------------------------------------------------------------


def test_case_punctuation_quotes_and_dashes_do_not_matter():
    assert (
        normalize("“Licensed” — UNDER the License's terms.").words
        == normalize('"licensed" - under the licenses terms').words
    )


def test_bullets_and_list_numbering_are_dropped():
    assert normalize("1. First\n(b) second\n  * third\niv. fourth\n").words == (
        "first",
        "second",
        "third",
        "fourth",
    )


def test_equivalent_words_are_one_word():
    assert normalize("licence sub-license non-commercial https per cent &").words == (
        "license",
        "sublicense",
        "noncommercial",
        "http",
        "percent",
        "and",
    )


def test_copyright_lines_are_notices_unless_they_state_terms():
    words = normalize(
        "Copyright (c) 2024 Example Inc.\nCopyright 2024 X. Not for commercial use.\n"
    )
    assert words.notice[:4] == (True, True, True, True)
    assert not any(words.notice[4:])


def test_a_list_item_c_is_no_copyright_notice():
    assert not any(normalize('(c) "Gemma" means the models.').notice)


def test_a_notice_goes_on_over_the_address_below_it():
    words = normalize(
        "Copyright (C) 2004 Sam Hocevar\n  14 rue de Plaisance, 75014 Paris\n"
        "Everyone is permitted to copy this document.\n"
    )
    assert words.notice == (True,) * 10 + (False,) * 7


def test_running_text_wrapped_before_copyright_notice_is_no_notice():
    words = normalize("must retain the above\ncopyright notice, this list of conditions\nas is\n")
    assert not any(words.notice)


def test_replaceable_and_omittable_regions_of_a_reference():
    reference = parse_reference(
        "x", "X License", "X License\n\nGranted by {{the holder}} to you.\n[[How to apply: ask.]]\n"
    )
    words = reference.words.words
    assert reference.replaceable == ((words.index("the"), words.index("holder") + 1),)
    assert reference.omittable == ((words.index("how"), len(words)),)
    assert reference.required == len(("granted", "by", "to", "you"))


# --- verdicts ---------------------------------------------------------------------------------


@pytest.mark.parametrize("key", ["mit", "bsd-2-clause", "bsd-3-clause", "isc", "apache-2.0"])
def test_full_texts_match_in_every_form(kb, key):
    text = plain(key)
    reflowed = "\n\n".join(textwrap.fill(" ".join(p.split()), 50) for p in text.split("\n\n"))
    for form in (text, reflowed, text.replace("\n", "\r\n"), "# LICENSE\n\n" + text):
        assert kb.identify(form)[0] == (key,), form[:60]
    assert kb.identify(text)[1][0].coverage >= 0.98


def test_placeholders_take_the_real_names(kb):
    text = plain("bsd-3-clause").replace("<year> <owner>", "2024, The Regents")
    text = text.replace("the copyright holder nor", "the University of California nor")
    text = text.replace("THE COPYRIGHT HOLDERS AND CONTRIBUTORS", "THE REGENTS AND CONTRIBUTORS")
    assert kb.identify_text(text) == ("bsd-3-clause",)


@pytest.mark.parametrize(
    ("key", "clause"),
    [
        ("mit", "The Software shall be used for Good, not Evil."),
        ("mit", "Use by an entity with more than 100 million users requires a separate license."),
        (
            "bsd-2-clause",
            "The views and conclusions contained in the software are those of the authors.",
        ),
        ("isc", "This software may not be used for military purposes."),
    ],
)
def test_a_variant_with_an_extra_clause_is_similar_and_never_named(kb, key, clause):
    text = plain(key)
    paragraphs = text.split("\n\n")
    variant = "\n\n".join([*paragraphs[:-1], clause, paragraphs[-1]])
    keys, matches = kb.identify(variant)
    assert keys == ()
    assert [(m.key, m.verdict) for m in matches] == [(key, "similar")]
    assert clause.split()[-1].strip(".") in (matches[0].difference or "")


def test_a_variant_lacking_a_clause_is_similar(kb):
    text = plain("mit").replace(
        "The above copyright notice and this permission notice shall be included in all copies "
        "or substantial\nportions of the Software.",
        "",
    )
    keys, matches = kb.identify(text)
    assert keys == () and matches[0].verdict == "similar"
    assert "lacks" in (matches[0].difference or "")


def test_a_restriction_in_place_of_the_holders_name_is_a_difference(kb):
    text = plain("mit").replace("year copyright holders", "2024 Foo. Not for commercial use.")
    assert verdicts(kb, text) == [("mit", "similar")]
    assert kb.identify_text(plain("mit").replace("year copyright holders", "2024 Foo Inc.")) == (
        "mit",
    )


def test_a_notice_with_the_holders_address_is_still_the_license(kb):
    text = plain("wtfpl").replace(
        "Sam Hocevar <sam@hocevar.net>", "Sam Hocevar\n  14 rue de Plaisance, 75014 Paris, France"
    )
    reflowed = "\n\n".join(textwrap.fill(" ".join(p.split()), 60) for p in text.split("\n\n"))
    assert kb.identify_text(text) == ("wtfpl",)
    assert kb.identify_text(reflowed) == ("wtfpl",)


def test_the_works_name_above_its_notice_is_part_of_the_notice(kb):
    head = "dateutil - Extensions to the standard Python datetime module.\n\n"
    text = head + plain("bsd-3-clause").replace("<year> <owner>", "2003 Gustavo Niemeyer")
    assert kb.identify_text(text) == ("bsd-3-clause",)
    assert kb.identify_text("Not for commercial use.\n\n" + text) == ()
    forbidden = "Military applications forbidden.\n\n" + plain("mit").replace(
        "MIT License\n", "", 1
    )
    assert kb.identify_text(forbidden) == ()


def test_a_restricting_word_of_the_title_inside_the_terms_is_a_difference(kb):
    text = plain("cc-by-nd-4.0")
    assert kb.identify_text(text) == ("cc-by-nd-4.0",)
    sentence = "You may satisfy the conditions"
    assert sentence in " ".join(text.split())
    altered = " ".join(text.split()).replace(sentence, "You may no satisfy the conditions")
    assert kb.identify_text(altered) == ()


def test_a_title_may_abbreviate_part_of_the_name(kb):
    text = plain("odbl").replace("Open Data Commons Open Database", "ODC Open Database", 1)
    assert kb.identify_text(text) == ("odbl",)


def test_an_abbreviation_written_out_is_the_same_words(kb):
    text = plain("pddl").replace("other IP rights", "other intellectual property rights")
    assert kb.identify_text(text) == ("pddl",)
    assert (
        kb.identify_text(plain("pddl").replace("other IP rights", "other trademark rights")) == ()
    )
    # No word that states terms is an abbreviation: "NO" is not "NORMAL OPERATING".
    text = " ".join(plain("mit").split())
    assert kb.identify_text(text.replace("IN NO EVENT", "IN NORMAL OPERATING EVENT")) == ()


GPL_NOTICE = (
    "This program is free software: you can redistribute it and/or modify it under the terms of "
    "the GNU General Public License as published by the Free Software Foundation, either version "
    "3 of the License, or (at your option) any later version."
)


def test_the_licenses_own_notice_under_a_heading_is_no_addition(kb):
    assert kb.identify_text(f"# LICENSE\n\n{GPL_NOTICE}\n\n{plain('gpl-3.0')}") == ("gpl-3.0",)
    altered = GPL_NOTICE.replace("any later version", "any later version, for research only")
    assert kb.identify_text(f"# LICENSE\n\n{altered}\n\n{plain('gpl-3.0')}") == ()


def test_a_sentence_naming_the_license_around_it_is_no_clause(kb):
    before = "PostgreSQL is released under the PostgreSQL License, similar to the BSD licenses.\n\n"
    assert kb.identify_text(before + plain("postgresql")) == ("postgresql",)
    after = "\n\nThe above MIT License applies to all code in this repository.\n"
    assert kb.identify_text(plain("mit") + after) == ("mit",)


@pytest.mark.parametrize(
    "sentence",
    [
        "The above MIT License does not apply to the model weights.",
        "This MIT License is governed by the laws of France.",
        "The MIT License below is modified for research use.",
    ],
)
def test_a_sentence_naming_the_license_that_states_terms_is_a_difference(kb, sentence):
    assert kb.identify_text(plain("mit") + "\n\n" + sentence + "\n") == ()
    assert kb.identify_text(sentence + "\n\n" + plain("mit")) == ()


def test_a_clause_wrapped_after_copyright_notice_is_a_difference(kb):
    text = plain("bsd-2-clause").replace(
        "retain the above copyright notice, this list of conditions and the following disclaimer.",
        "retain the above\ncopyright notice, this list of conditions and the following disclaimer\n"
        "as the first lines of this file unmodified.",
    )
    assert verdicts(kb, text) == [("bsd-2-clause", "similar")]


@pytest.mark.parametrize(
    ("key", "written", "altered"),
    [
        ("mit", "Copyright (c) year", "Copyright (c) never year"),
        (
            "mit",
            "COPYRIGHT HOLDERS BE LIABLE",
            "COPYRIGHT HOLDERS Commercial use requires a separate license. BE LIABLE",
        ),
        ("isc", "Copyright (c) 2004-2010", "Copyright (c) Attribution required. 2004-2010"),
        ("cc-by-4.0", "is not a law firm", "is not a law firm. You must pay a fee to"),
        ("epl-2.0", "You may add additional accurate", "You must pay a fee. You may add accurate"),
        (
            "postgresql",
            "University of California",
            "University of California. Governed by the laws of France.",
        ),
    ],
)
def test_a_clause_in_a_notice_a_name_or_an_appendix_is_a_difference(kb, key, written, altered):
    text = plain(key)
    if written not in text:  # it wraps over two lines
        text = " ".join(text.split())
    assert written in text
    assert kb.identify_text(text) == (key,)
    assert key not in kb.identify_text(text.replace(written, altered, 1))


CLAUSES = (
    "never",
    "Noncommercial",
    "You must pay a fee.",
    "Attribution required.",
    "Commercial use requires a separate license.",
    "Governed by the laws of France.",
)


@pytest.mark.parametrize("key", ["mit", "isc", "bsd-3-clause", "postgresql", "cc-by-4.0", "0bsd"])
def test_a_clause_inserted_anywhere_is_never_the_license(kb, key):
    # Seeded, so the same positions every run: between words, on a line of its own, or in
    # place of a word.
    rng = random.Random(key)
    words = plain(key).split(" ")
    for clause in CLAUSES:
        for _ in range(3):
            at = rng.randrange(len(words))
            variant = rng.choice(
                [
                    " ".join([*words[:at], clause, *words[at:]]),
                    " ".join(words[:at]) + f"\n\n{clause}\n\n" + " ".join(words[at:]),
                    " ".join([*words[:at], clause, *words[at + 1 :]]),
                ]
            )
            assert key not in kb.identify_text(variant), (clause, " ".join(words[at - 5 : at + 5]))


def test_a_changed_version_number_is_a_difference(kb):
    text = plain("apache-2.0").replace("Version 2.0, January 2004", "Version 2.1, January 2004")
    assert kb.identify_text(text) == ()


def test_a_prepended_restriction_is_not_a_title(kb):
    assert kb.identify_text("For non-commercial use only.\n\n" + plain("mit")) == ()


def test_bsd_3_holds_bsd_2_but_is_only_bsd_3(kb):
    assert kb.identify_text(plain("bsd-3-clause")) == ("bsd-3-clause",)


def test_two_licenses_in_one_file_are_both_matched(kb):
    assert set(kb.identify_text(plain("apache-2.0") + "\n\n" + plain("mit"))) == {
        "apache-2.0",
        "mit",
    }


def test_a_long_fragment_is_identified_with_its_coverage(kb):
    words = plain("apache-2.0").split(" ")
    keys, matches = kb.identify(" ".join(words[: len(words) // 3]))
    assert keys == ("apache-2.0",)
    assert matches[0].verdict == "fragment" and 0.2 < matches[0].coverage < 0.5


def test_a_short_fragment_of_a_short_license_names_nothing(kb):
    words = plain("bsd-2-clause").split()
    fragment = " ".join(words[: len(words) // 2])
    assert len(fragment.split()) < FRAGMENT_MIN_WORDS
    assert kb.identify(fragment) == ((), ())


def test_prose_matches_nothing(kb):
    assert kb.identify("This model was trained on a lot of data. Enjoy!") == ((), ())


# --- card bodies ------------------------------------------------------------------------------


CARD = "# Model\n\nA fine-tune.\n\n## License\n\n{license}\n\n## Citation\n\nCite the paper.\n"


def test_a_license_pasted_into_a_card_is_found_in_its_section(kb):
    keys, matches = kb.identify(CARD.format(license=plain("mit")), sections=True)
    assert keys == ("mit",)
    assert matches[0].section == "License"


def test_an_extra_clause_in_the_cards_license_section_is_caught(kb):
    body = CARD.format(license=plain("mit") + "\n\nNot for use in weapons.")
    assert verdicts(kb, body, sections=True) == [("mit", "similar")]


def test_a_card_without_license_words_is_not_matched(kb):
    assert kb.identify(CARD.format(license="MIT, see LICENSE."), sections=True) == ((), ())


MARKER_ONLY_LICENSE = (
    "BigCode Open RAIL-M v1 License Agreement\n\n"
    + " ".join(
        [
            "Subject to the terms of this Agreement, the Licensor hereby grants you a worldwide,",
            "royalty-free license to use, reproduce and distribute the Model, provided that you",
            "include the use restrictions in every agreement under which you distribute it.",
        ]
        * 8
    )
    + "\n\nTHE MODEL IS PROVIDED AS IS, WITHOUT WARRANTY OF ANY KIND; IN NO EVENT SHALL THE "
    "LICENSOR BE LIABLE FOR ANY CLAIM.\n"
)


def test_a_license_known_by_markers_is_found_in_the_cards_license_section(kb):
    body = CARD.format(license=MARKER_ONLY_LICENSE)
    assert kb.identify(body, sections=True)[0] == ("bigcode-openrail-m",)


def test_a_card_naming_a_marker_only_license_in_passing_does_not_hold_it(kb):
    body = (
        CARD.format(
            license="Licensed under the BigCode Open RAIL-M v1 License Agreement; no warranty."
        )
        + "\n## Use\n\nYou are granted permission to redistribute the outputs.\n"
    )
    assert kb.identify(body, sections=True)[0] == ()


def test_describe_says_coverage_or_difference(kb):
    (match,) = kb.identify(plain("apache-2.0"))[1]
    assert (
        match.describe("Apache License 2.0", "LICENSE")
        == "LICENSE: 100 % of the Apache License 2.0"
    )
    similar = TextMatch("mit", "similar", 0.9, difference="adds 'x'", section="License")
    assert similar.describe("MIT License", "README.md") == (
        "README.md § License: similar to the MIT License, not it: adds 'x'"
    )
    fragment = TextMatch("mit", "fragment", 0.25)
    assert (
        fragment.describe("MIT License", "LICENSE")
        == "LICENSE: a fragment, 25 % of the MIT License"
    )


def test_a_matcher_from_one_reference():
    matcher = LicenseMatcher([parse_reference("x", "X", plain("mit"))])
    assert [m.verdict for m in matcher.match(plain("mit"))] == ["match"]


# --- the reader -------------------------------------------------------------------------------


def test_a_license_variant_in_a_folder_is_unresolved_with_what_it_resembles(tmp_path, kb):
    (tmp_path / "LICENSE").write_text(
        plain("mit") + "\nThe Software shall be used for Good, not Evil.\n", encoding="utf-8"
    )
    facts = read_model_folder(tmp_path, kb)
    assert facts.license.detected == ()
    (entry,) = facts.files
    assert entry.license_match[0].verdict == "similar"
    assert any(
        e.value.startswith("LICENSE: similar to the MIT License, not it: adds")
        for e in facts.license.evidence
    )


def test_a_cards_license_section_becomes_a_detected_license(tmp_path, kb):
    (tmp_path / "README.md").write_text(
        "---\nlibrary_name: transformers\n---\n" + CARD.format(license=plain("apache-2.0")),
        encoding="utf-8",
    )
    facts = read_model_folder(tmp_path, kb)
    assert facts.license.detected == ("apache-2.0",)
    assert "README.md § License: 100 % of the Apache License 2.0" in {
        e.value for e in facts.license.evidence
    }


def test_a_license_in_the_gated_prompt_is_matched(tmp_path, kb):
    prompt = plain("mit").replace("\n", " ").replace('"', "'")
    (tmp_path / "README.md").write_text(
        f'---\nextra_gated_prompt: "{prompt}"\n---\n# Model\n', encoding="utf-8"
    )
    assert read_model_folder(tmp_path, kb).license.detected == ("mit",)
