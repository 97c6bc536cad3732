"""One reader per fact: the same card read from a folder, the HF cache and the Hub gives the same
facts and the same conclusions, and a base model looked up in the cache or on the Hub is read
like a scanned one."""

from __future__ import annotations

import pytest

from tests import fakehub
from tests.conftest import card_text, component, make_hf_cache, make_model_dir, scan_json

fake_hub = fakehub.fake_hub

FRONT = {
    "license": "other",
    "license_name": "llama3",
    "license_link": "https://llama.meta.com/llama3/license",
    "base_model": "meta-llama/Meta-Llama-3-8B",
    "datasets": ["acme/data"],
    "pipeline_tag": "text-generation",
    "tags": ["llama", "chat"],
}
BODY = "# Tune\n\nA chat model based on Llama-3, fine-tuned on acme/data.\n"

COMPARED = ("type", "name", "license", "base_models", "datasets", "card", "lineage")


def _facts(report, name):
    found = component(report, name)
    return {key: found.get(key) for key in COMPARED}


@pytest.mark.parametrize("store", ["folder", "hfcache", "hub"])
def test_same_card_same_component(tmp_path, fake_hub, store):
    card = card_text(FRONT, BODY)
    if store == "hub":
        fake_hub.add_repo("acme/tune", {"README.md": card})
        _, report = scan_json("hf://acme/tune")
    elif store == "hfcache":
        make_hf_cache(tmp_path / "hub", "acme/tune", {"README.md": card})
        _, report = scan_json(tmp_path / "hub")
    else:
        make_model_dir(
            tmp_path / "store" / "acme", "tune", card=None, weights=None, files={"README.md": card}
        )
        _, report = scan_json(tmp_path / "store")
    facts = _facts(report, "acme/tune")
    reference = _reference_facts(tmp_path)
    assert facts == reference
    assert facts["license"]["effective"] == "llama3"


def _reference_facts(tmp_path):
    """The folder reading of the card, computed once per test in its own folder."""
    folder = tmp_path / "reference"
    readme = {"README.md": card_text(FRONT, BODY)}
    make_model_dir(folder / "acme", "tune", card=None, weights=None, files=readme)
    _, report = scan_json(folder)
    return _facts(report, "acme/tune")


def test_base_model_from_cache_and_hub_give_the_same_ancestor(tmp_path, fake_hub, monkeypatch):
    base_card = card_text({"license": "other", "license_name": "llama3", "base_model": "x/y"})
    tune = make_model_dir(
        tmp_path / "store", "tune", card={"license": "mit", "base_model": "acme/base"}
    )
    fake_hub.add_repo("acme/base", {"README.md": base_card})
    _, from_hub = scan_json(tune, args=["--hub"])
    make_hf_cache(tmp_path / "hf-home" / "hub", "acme/base", {"README.md": base_card})
    _, from_cache = scan_json(tune, args=["--hub"])
    (hub_base,) = [a for a in component(from_hub)["lineage"] if a["name"] == "acme/base"]
    (cache_base,) = [a for a in component(from_cache)["lineage"] if a["name"] == "acme/base"]
    assert hub_base["found_in"] == "hub" and cache_base["found_in"] == "hfcache"
    assert hub_base["licenses"] == cache_base["licenses"] == ["llama3"]
    effective = component(from_hub)["license"]["effective"]
    assert "llama3" in effective and "mit" in effective
    assert component(from_cache)["license"]["effective"] == effective
