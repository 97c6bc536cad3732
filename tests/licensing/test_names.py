"""License names and links as people write them: one folded form per name, one per document."""

from __future__ import annotations

import pytest

from scanner.licensing.knowledge_base import LicenseKnowledgeBase, parse_entry
from scanner.licensing.names import canonical_url, looks_like_url, loose_name


@pytest.mark.parametrize(
    ("written", "key"),
    [
        ("llama-3", "llama3"),
        ("Llama 3", "llama3"),
        ("Llama 3.1", "llama3.1"),
        ("llama3_1", "llama3.1"),
        ("LLaMA-3.2 License", "llama3.2"),
        ("Apache2.0", "apache-2.0"),
        ("apache 2", "apache-2.0"),
        ("Apache License V2", "apache-2.0"),
        ("cc-by-nc-4", "cc-by-nc-4.0"),
        ("CC BY-NC-SA 4.0 International", "cc-by-nc-sa-4.0"),
        ("Gemma License", "gemma"),
        ("gemma-terms-of-use-2024-04-01", "gemma"),
        ("Academic Free License (AFL) v. 3.0", "afl-3.0"),
        ("Llama 3.1 Community License Agreement 2024", "llama3.1"),
    ],
)
def test_names_as_people_write_them(kb, written, key):
    assert kb.identify_name(written) == key


@pytest.mark.parametrize(
    "written",
    [
        "Llama 3.4",  # a version the knowledge base has no entry for
        "llama31",  # 3.1 or 31: nobody can tell
        "GPL-2.0-with-classpath-exception",
        "Stability AI License",  # Stability has several licenses
        "Apache License 1.1",
        "CC BY-NC 4.0 DE",
        "MIT License (modified)",  # a parenthesis that is not the name's abbreviation
        "Creative Commons Attribution 3.0 Germany",
    ],
)
def test_names_that_are_not_a_known_license_stay_unknown(kb, written):
    assert kb.identify_name(written) is None


def test_loose_name_folds_versions_words_and_spacing():
    assert loose_name("Apache License, Version 2.0") == loose_name("apache-2")
    assert loose_name("GPL-2.0+") == "gpl 2 +"
    assert loose_name("GPL-2.0-or-later") != loose_name("GPL-2.0")
    assert loose_name("mnpl-0.1") == "mnpl 0 1"
    assert loose_name("cc0-1.0") == "cc 0 1"
    assert loose_name("v1.0.0") == "1"


def _entry(key: str, aliases: list[str], tmp_path):
    raw = {
        "key": key,
        "name": f"{key} License",
        "category": "permissive",
        "commercial_use": True,
        "derivatives_inherit": False,
        "aliases": aliases,
    }
    return parse_entry(raw, tmp_path / f"{key}.yaml")


def test_a_form_two_licenses_share_names_neither(tmp_path):
    kb = LicenseKnowledgeBase(
        [_entry("acme-1.0", ["Acme License"], tmp_path), _entry("acme", ["Acme"], tmp_path)]
    )
    assert kb.identify_name("acme-1.0") == "acme-1.0"
    assert kb.identify_name("Acme") == "acme"
    assert kb.identify_name("The ACME licence") is None  # folds to "acme", which both are


@pytest.mark.parametrize(
    ("link", "key"),
    [
        ("https://huggingface.co/meta-llama/Llama-2-7b-hf/raw/main/LICENSE.txt", "llama2"),
        (
            "https://huggingface.co/meta-llama/Llama-2-7b-hf/resolve/main/LICENSE.txt?download=true",
            "llama2",
        ),
        ("https://hf.co/meta-llama/Llama-2-7b-hf/blob/main/LICENSE.txt", "llama2"),
        (
            "https://raw.githubusercontent.com/meta-llama/llama-models/refs/heads/main/models/llama3_1/LICENSE",
            "llama3.1",
        ),
        ("https://github.com/meta-llama/llama-models/raw/main/models/llama3_1/LICENSE", "llama3.1"),
        (
            "https://github.com/QwenLM/Qwen/blob/main/Tongyi Qianwen LICENSE AGREEMENT",
            "tongyi-qianwen",
        ),
        ("HTTPS://WWW.APACHE.ORG/licenses/LICENSE-2.0/", "apache-2.0"),
        ("www.apache.org/licenses/LICENSE-2.0", "apache-2.0"),
        ("http://www.gnu.org/licenses/gpl-3.0-standalone.html", "gpl-3.0"),
    ],
)
def test_links_in_every_form(kb, link, key):
    assert kb.identify_name(link) == key


def test_a_pinned_revision_is_not_the_default_branch():
    pinned = canonical_url("https://huggingface.co/org/model/blob/0123abc/LICENSE")
    assert pinned != canonical_url("https://huggingface.co/org/model/blob/main/LICENSE")
    assert canonical_url("https://github.com/o/r/blob/master/LICENSE") == canonical_url(
        "https://raw.githubusercontent.com/o/r/main/LICENSE"
    )


def test_unknown_links_and_non_links(kb):
    assert kb.identify_name("https://example.com/licenses/LICENSE-2.0") is None
    assert kb.identify_name("https://huggingface.co/someone/model/blob/main/LICENSE") is None
    assert not looks_like_url("LICENSE")
    assert not looks_like_url("Apache 2.0")
    assert canonical_url("LICENSE.md") is None
