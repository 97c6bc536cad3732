"""The shipped dataset catalogue: every entry cites its dataset card and uses known licenses;
a malformed catalogue is refused with the entry and field named."""

from __future__ import annotations

import fnmatch

import pytest
from hypothesis import given
from hypothesis import strategies as st

from scanner.inventory import DatasetOrigin
from scanner.licensing.dataset_catalogue import (
    KINDS,
    CatalogueDataset,
    DatasetCatalogue,
    default_dataset_catalogue,
    load_dataset_catalogue,
)
from scanner.licensing.knowledge_base import KnowledgeBaseError


def test_every_entry_cites_its_dataset_card(kb):
    catalogue = default_dataset_catalogue()
    assert len(catalogue.datasets) >= 25
    for entry in catalogue.datasets:
        assert entry.citation.startswith("https://huggingface.co/datasets/"), entry.dataset
        assert entry.license is None or entry.license in kb
        assert entry.kind in KINDS
        # an entry without a license says why in the card's own words
        assert entry.license is not None or entry.origin.notes, entry.dataset


def test_the_families_the_issue_names_are_covered():
    catalogue = default_dataset_catalogue()
    expected = {
        "tatsu-lab/alpaca": ("cc-by-nc-4.0", "instruction"),
        "databricks/databricks-dolly-15k": ("cc-by-sa-3.0", "instruction"),
        "OpenAssistant/oasst1": ("apache-2.0", "conversation"),
        "HuggingFaceH4/ultrachat_200k": ("mit", "conversation"),
        "anon8231489123/ShareGPT_Vicuna_unfiltered": ("apache-2.0", "conversation"),
        "allenai/c4": ("odc-by", "web-crawl"),
        "tiiuae/falcon-refinedweb": ("odc-by", "web-crawl"),
        "HuggingFaceFW/fineweb": ("odc-by", "web-crawl"),
        "togethercomputer/RedPajama-Data-1T": (None, "web-crawl"),
        "allenai/dolma": ("odc-by", "web-crawl"),
        "EleutherAI/pile": (None, "curated-text"),
        "bigcode/the-stack-dedup": (None, "code"),
        "laion/laion2B-en": (None, "image-text"),
        "kakaobrain/coyo-700m": ("cc-by-4.0", "image-text"),
    }
    for repo, (license_key, kind) in expected.items():
        entry = catalogue.lookup(repo)
        assert entry is not None, repo
        assert (entry.license, entry.kind) == (license_key, kind), repo
    assert catalogue.lookup("ALLENAI/C4") is catalogue.lookup("allenai/c4")  # ids ignore case
    assert catalogue.lookup("acme/unknown-data") is None


def test_generated_data_names_the_provider_and_quotes_its_terms():
    alpaca = default_dataset_catalogue().lookup("tatsu-lab/alpaca")
    assert alpaca is not None
    (generated,) = alpaca.origin.generated_by
    assert generated.provider == "OpenAI" and generated.models == ("text-davinci-003",)
    assert generated.restriction and "compete with OpenAI" in generated.restriction
    assert generated.terms == "https://openai.com/policies/terms-of-use"
    cosmopedia = default_dataset_catalogue().lookup("HuggingFaceTB/cosmopedia")
    assert cosmopedia is not None
    assert [g.restriction for g in cosmopedia.origin.generated_by] == [None]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("datasets: {}\n", "must hold a `datasets` list"),
        (
            "datasets:\n- {dataset: X, repos: [a/b], kind: code, license: nope, citation: c}\n",
            "license 'nope' is not a knowledge-base key",
        ),
        ("datasets:\n- {dataset: X, repos: [a/b], kind: poems, citation: c}\n", "`kind` must"),
        (
            "datasets:\n- {dataset: X, repos: [a/b], kind: code, citation: c, colour: red}\n",
            "unknown fields ['colour']",
        ),
        (
            "datasets:\n- {dataset: X, repos: [a/b], kind: code, citation: c,"
            " generated_by: [{provider: acme}]}\n",
            "provider 'acme' is not in `providers`",
        ),
        ("datasets:\n- {dataset: X, repos: [], kind: code, citation: c}\n", "`repos` must"),
    ],
)
def test_malformed_catalogue_is_refused(tmp_path, kb, text, message):
    path = tmp_path / "datasets.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(KnowledgeBaseError, match=r"datasets\.yaml") as caught:
        load_dataset_catalogue(path, kb)
    assert message in str(caught.value)


def _first_match(datasets, name):
    """The catalogue's rule stated plainly: the first entry, in catalogue order, with a repo id
    or glob that the name matches (case-insensitive)."""
    lowered = name.lower()
    for entry in datasets:
        if any(fnmatch.fnmatchcase(lowered, repo.lower()) for repo in entry.repos):
            return entry
    return None


_REPOS = st.sampled_from(["a/b", "a/b-*", "A/B", "a/c", "a/?", "a/[bc]", "x/*", "a/b-1"])


@given(
    repos=st.lists(st.lists(_REPOS, min_size=1, max_size=3), min_size=1, max_size=5),
    name=st.sampled_from(["a/b", "A/b", "a/b-1", "a/b-x", "a/c", "x/y", "a/bb", "z/z", "a/B-1"]),
)
def test_lookup_is_the_first_entry_whose_id_or_glob_matches(repos, name):
    """Exact ids are looked up in a table and globs tried in order: the answer is the one the
    plain rule gives, whatever mix of both the entries hold."""
    origin = DatasetOrigin()
    datasets = [
        CatalogueDataset(f"d{i}", tuple(r), "instruction", None, "https://x", origin)
        for i, r in enumerate(repos)
    ]
    assert DatasetCatalogue(datasets).lookup(name) is _first_match(datasets, name)


def test_the_shipped_catalogue_answers_as_the_plain_rule_does():
    catalogue = default_dataset_catalogue()
    names = [repo for entry in catalogue.datasets for repo in entry.repos]
    names += [n.replace("*", "extra") for n in names] + ["unknown/dataset", "HUGGINGFACEFW/FINEWEB"]
    for name in names:
        assert catalogue.lookup(name) is _first_match(catalogue.datasets, name), name
