"""Lineage: base models followed through the scan, the HF cache and the catalogue, offline."""

from __future__ import annotations

from scanner.inventory import Component, LicenseFacts
from scanner.licensing.catalogue import default_catalogue
from scanner.licensing.lineage import MAX_DEPTH, CatalogueLookup
from scanner.licensing.resolution import resolve_licenses
from scanner.sources.lookups import HfCacheLookup
from tests.conftest import (
    component,
    effective_keys,
    findings,
    make_hf_cache,
    make_model_dir,
    model_repo_files,
    scan_json,
)


def _model(name, declared=(), base_models=()):
    return Component(
        ref=f"model:local/{name}",
        type="model",
        name=name,
        source="modeldir",
        location=f"/models/{name}",
        license=LicenseFacts(declared=tuple(declared)),
        base_models=tuple(base_models),
    )


def _resolve(components, kb, *lookups):
    catalogue = default_catalogue()
    return {
        c.name: c
        for c in resolve_licenses(components, kb, [*lookups, CatalogueLookup(catalogue)], catalogue)
    }


def test_catalogue_resolves_a_base_outside_the_scan(kb):
    result = _resolve([_model("acme/t", ["apache-2.0"], ["meta-llama/Llama-2-7b-hf"])], kb)
    tune = result["acme/t"]
    assert tune.license.inherited == ("llama2",)
    (ancestor,) = tune.lineage
    assert ancestor.found_in == "catalogue" and ancestor.licenses == ("llama2",)
    assert "huggingface.co/meta-llama/Llama-2-7b-hf" in ancestor.evidence


def test_depth_three_chain_quantized_of_finetune_of_base(kb):
    quant = _model("acme/tune-GGUF", ["apache-2.0"], ["acme/tune"])
    tune = _model("acme/tune", ["mit"], ["meta-llama/Meta-Llama-3.1-8B-Instruct"])
    result = _resolve([quant, tune], kb)
    q = result["acme/tune-GGUF"]
    assert q.license.inherited == ("llama3.1",)
    assert [a.chain for a in q.lineage] == [
        ("acme/tune",),
        ("acme/tune", "meta-llama/Meta-Llama-3.1-8B-Instruct"),
    ]
    assert [a.found_in for a in q.lineage] == ["scan", "catalogue"]
    evidence = [e.value for e in q.license.evidence if e.source.startswith("base model")]
    assert any("via acme/tune" in value for value in evidence)


def test_catalogue_base_of_a_family_continues_the_chain(kb):
    result = _resolve(
        [_model("acme/r1-tune", ["apache-2.0"], ["deepseek-ai/DeepSeek-R1-Distill-Llama-8B"])], kb
    )
    assert result["acme/r1-tune"].license.inherited == ("llama3.1",)


def test_unknown_base_is_recorded_not_dropped(kb):
    result = _resolve([_model("acme/t", ["mit"], ["acme/private-base"])], kb)
    (ancestor,) = result["acme/t"].lineage
    assert ancestor.found_in == "unknown"
    assert "catalogue" in ancestor.problem


def test_cycle_is_recorded(kb):
    a = _model("acme/a", ["mit"], ["acme/b"])
    b = _model("acme/b", ["mit"], ["acme/a"])
    result = _resolve([a, b], kb)
    cycles = [x for x in result["acme/a"].lineage if x.found_in == "cycle"]
    assert cycles and "acme/a -> acme/b -> acme/a" in cycles[0].problem


def test_depth_limit_stops_the_walk(kb):
    chain = [_model(f"acme/m{i}", ["mit"], [f"acme/m{i + 1}"]) for i in range(MAX_DEPTH + 3)]
    result = _resolve(chain, kb)
    deep = [x for x in result["acme/m0"].lineage if x.found_in == "too-deep"]
    assert len(deep) == 1 and len(deep[0].chain) == MAX_DEPTH + 1


def test_hf_cache_answers_before_the_catalogue(tmp_path, kb):
    # a local copy whose card says llama3.1: the cache's own card wins over the catalogue
    make_hf_cache(tmp_path, "meta-llama/Llama-2-7b-hf", model_repo_files("llama3.1"))
    result = _resolve(
        [_model("acme/t", ["apache-2.0"], ["meta-llama/Llama-2-7b-hf"])],
        kb,
        HfCacheLookup(tmp_path, kb),
    )
    (ancestor,) = result["acme/t"].lineage
    assert ancestor.found_in == "hfcache" and ancestor.licenses == ("llama3.1",)


def test_base_without_license_falls_back_to_the_catalogue(tmp_path, kb):
    make_hf_cache(tmp_path, "meta-llama/Llama-2-7b-hf", model_repo_files(None))
    result = _resolve(
        [_model("acme/t", ["apache-2.0"], ["meta-llama/Llama-2-7b-hf"])],
        kb,
        HfCacheLookup(tmp_path, kb),
    )
    (ancestor,) = result["acme/t"].lineage
    assert ancestor.found_in == "hfcache" and ancestor.licenses == ("llama2",)
    assert "catalogue" in ancestor.evidence


def test_offline_folder_over_llama2_is_a_conflict_through_the_catalogue(tmp_path):
    folder = make_model_dir(
        tmp_path,
        "laundered",
        card={"license": "apache-2.0", "base_model": "meta-llama/Llama-2-7b-hf"},
    )
    result, report = scan_json(folder)
    tune = component(report)
    assert effective_keys(tune["license"]["effective"]) == {"apache-2.0", "llama2"}
    (conflict,) = findings(report, "license.conflict-with-base")
    assert conflict["severity"] == "error"
    assert conflict["evidence"]["lineage"] == ["laundered -> meta-llama/Llama-2-7b-hf [catalogue]"]
    assert tune["lineage"][0]["found_in"] == "catalogue"
    assert result.exit_code == 1


def test_unknown_base_offline_is_a_warning_and_makes_the_license_unknown(tmp_path):
    """Offline and uncatalogued, the base's terms are unknown: the derivative's own `mit` is
    kept in the expression, but its category is unknown, never a false clean."""
    folder = make_model_dir(tmp_path, card={"license": "mit", "base_model": "acme/secret-base"})
    result, report = scan_json(folder)
    (hit,) = findings(report, "provenance.base-unresolved")
    assert hit["severity"] == "warning" and hit["evidence"]["reason"] == "unknown"
    assert hit["evidence"]["base_model"] == "acme/secret-base"
    facts = component(report)["license"]
    assert (facts["effective"], facts["category"]) == ("mit", "unknown")
    (why,) = [e for e in facts["evidence"] if e["source"] == "base model acme/secret-base"]
    assert "could not be resolved" in why["value"] and "not known to: scan" in why["value"]
    assert result.exit_code == 0  # a warning; the default policy fails on errors


def test_a_resolved_permissive_base_keeps_the_category(kb):
    tune = _model("acme/zephyr", declared=["mit"], base_models=["mistralai/Mistral-7B-v0.1"])
    facts = _resolve([tune], kb)["acme/zephyr"].license
    assert (facts.effective, facts.category) == ("mit", "permissive")


def test_a_too_deep_chain_is_unknown_but_a_cycle_is_not(kb):
    deep = [
        _model(f"acme/m{i}", declared=["mit"], base_models=[f"acme/m{i + 1}"])
        for i in range(MAX_DEPTH + 2)
    ]
    assert _resolve(deep, kb)["acme/m0"].license.category == "unknown"
    a = _model("acme/a", declared=["mit"], base_models=["acme/b"])
    b = _model("acme/b", declared=["mit"], base_models=["acme/a"])
    assert _resolve([a, b], kb)["acme/a"].license.category == "permissive"
