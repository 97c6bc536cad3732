"""License resolution: which license governs each component after declared, detected and
inherited terms are combined."""

from __future__ import annotations

import csv

import pytest

from scanner.inventory import CardFacts, CodeReference, Component, LicenseFacts
from scanner.licensing.resolution import resolve_licenses
from scanner.readers.card import declared_licenses
from scanner.readers.model_folder import read_card_file
from tests.conftest import CARDS, effective_keys


def _model(name, declared=(), detected=(), base_models=()):
    return Component(
        ref=f"model:local/{name}",
        type="model",
        name=name,
        source="modeldir",
        location=f"/models/{name}",
        license=LicenseFacts(declared=tuple(declared), detected=tuple(detected)),
        base_models=tuple(base_models),
    )


def _by_name(components):
    return {c.name: c for c in components}


def test_declared_license_becomes_effective(kb):
    (result,) = resolve_licenses([_model("m", declared=["apache-2.0"])], kb)
    assert result.license.effective == "apache-2.0"
    assert result.license.category == "permissive"
    assert result.license.inherited == ()


def test_declared_free_text_name_is_mapped_to_key(kb):
    (result,) = resolve_licenses([_model("m", declared=["Llama 3 Community License"])], kb)
    assert result.license.effective == "llama3"
    assert result.license.category == "restricted"
    assert any("llama3" in e.value for e in result.license.evidence)


def test_detected_text_counts_when_nothing_is_declared(kb):
    (result,) = resolve_licenses([_model("m", detected=["mit"])], kb)
    assert result.license.effective == "mit"
    assert result.license.category == "permissive"


def test_declared_and_detected_different_licenses_both_apply(kb):
    (result,) = resolve_licenses([_model("m", declared=["apache-2.0"], detected=["llama3"])], kb)
    assert effective_keys(result.license.effective) == {"apache-2.0", "llama3"}
    assert result.license.category == "restricted"


def test_nothing_declared_nothing_detected_is_unknown(kb):
    (result,) = resolve_licenses([_model("m")], kb)
    assert result.license.effective is None
    assert result.license.category == "unknown"


def test_unresolved_declaration_makes_category_unknown(kb):
    (result,) = resolve_licenses([_model("m", declared=["Frobnicator License"])], kb)
    assert result.license.category == "unknown"


def test_base_model_terms_flow_down(kb):
    base = _model("meta-llama/Meta-Llama-3-8B", declared=["llama3"])
    tune = _model("acme/tune", declared=["apache-2.0"], base_models=["meta-llama/Meta-Llama-3-8B"])
    result = _by_name(resolve_licenses([tune, base], kb))
    facts = result["acme/tune"].license
    assert facts.inherited == ("llama3",)
    assert effective_keys(facts.effective) == {"apache-2.0", "llama3"}
    assert facts.category == "restricted"
    chain = [e for e in facts.evidence if e.source.startswith("base model")]
    assert chain and "meta-llama/Meta-Llama-3-8B" in chain[0].source
    assert "llama3" in chain[0].value


def test_base_model_lookup_ignores_case(kb):
    base = _model("Meta-Llama/Meta-Llama-3-8B", declared=["llama3"])
    tune = _model("acme/tune", declared=["mit"], base_models=["meta-llama/meta-llama-3-8b"])
    result = _by_name(resolve_licenses([base, tune], kb))
    assert result["acme/tune"].license.inherited == ("llama3",)


def test_permissive_base_does_not_flow_down(kb):
    base = _model("mistralai/Mistral-7B-v0.1", declared=["apache-2.0"])
    tune = _model(
        "HuggingFaceH4/zephyr", declared=["mit"], base_models=["mistralai/Mistral-7B-v0.1"]
    )
    result = _by_name(resolve_licenses([base, tune], kb))
    assert result["HuggingFaceH4/zephyr"].license.effective == "mit"
    assert result["HuggingFaceH4/zephyr"].license.inherited == ()


def test_terms_flow_down_through_a_chain(kb):
    grand = _model("meta-llama/Llama-2-7b-hf", declared=["llama2"])
    parent = _model(
        "acme/parent", declared=["apache-2.0"], base_models=["meta-llama/Llama-2-7b-hf"]
    )
    child = _model("acme/child", declared=["mit"], base_models=["acme/parent"])
    result = _by_name(resolve_licenses([child, parent, grand], kb))
    assert "llama2" in effective_keys(result["acme/child"].license.effective)
    assert result["acme/child"].license.category == "restricted"


@pytest.mark.parametrize("order", ["a-first", "b-first"])
def test_base_model_cycle_terminates_and_still_inherits(kb, order):
    # a cycle in declared lineage (bad card data) must not hang, and must not depend on the
    # order components were found in: b names a (llama3) as its base, so llama3 governs b.
    a = _model("acme/a", declared=["llama3"], base_models=["acme/b"])
    b = _model("acme/b", declared=["mit"], base_models=["acme/a"])
    result = _by_name(resolve_licenses([a, b] if order == "a-first" else [b, a], kb))
    assert effective_keys(result["acme/a"].license.effective) == {"llama3"}
    assert effective_keys(result["acme/b"].license.effective) == {"mit", "llama3"}


def test_self_reference_is_ignored(kb):
    (result,) = resolve_licenses([_model("acme/a", declared=["mit"], base_models=["acme/a"])], kb)
    assert result.license.effective == "mit"


def test_a_base_nobody_resolves_keeps_the_own_terms_but_makes_the_category_unknown(kb):
    """No lookup knows the base: its terms may flow down, so `apache-2.0` alone would be a false
    clean. The expression keeps what is known; the category and the evidence say the rest."""
    (result,) = resolve_licenses(
        [_model("acme/t", declared=["apache-2.0"], base_models=["meta-llama/Llama-2-7b-hf"])], kb
    )
    assert result.license.effective == "apache-2.0"
    assert result.license.inherited == ()
    assert result.license.category == "unknown"
    (why,) = [e for e in result.license.evidence if e.source.startswith("base model")]
    assert why.source == "base model meta-llama/Llama-2-7b-hf"
    assert "could not be resolved (meta-llama/Llama-2-7b-hf): not known to: scan" in why.value


def test_an_unresolved_grandparent_makes_the_category_unknown_through_a_resolved_parent(kb):
    parent = _model("acme/parent", declared=["mit"], base_models=["acme/gone"])
    child = _model("acme/child", declared=["mit"], base_models=["acme/parent"])
    result = _by_name(resolve_licenses([child, parent], kb))
    assert result["acme/child"].license.category == "unknown"
    assert any("acme/parent -> acme/gone" in e.value for e in result["acme/child"].license.evidence)


# --- models named in code ---------------------------------------------------------------------


def _reference(name, **options):
    reference = CodeReference(file="app.py", line=3, call="AutoModel.from_pretrained", **options)
    return Component(
        ref=f"model:code/{name}#app.py:3",
        type="model",
        name=name,
        source="code",
        location="/proj/app.py:3",
        details=reference,
    )


def test_a_model_in_code_takes_the_facts_of_the_scanned_model_of_that_id(kb):
    stored = _model("acme/chat", declared=["apache-2.0"], base_models=["acme/base"])
    base = _model("acme/base", declared=["llama3"])
    code = resolve_licenses([_reference("ACME/Chat"), stored, base], kb)[0]
    assert code.code_reference is not None and code.code_reference.found_in == "scan"
    assert effective_keys(code.license.effective) == {"apache-2.0", "llama3"}
    assert code.base_models == ("acme/base",)
    assert [a.name for a in code.lineage] == ["acme/base"]
    assert code.license.evidence[0].source == "code reference (scan)"


def test_models_named_in_code_never_answer_for_a_base(kb):
    tune = _model("acme/tune", declared=["mit"], base_models=["acme/base"])
    base_in_code = _reference("acme/base")
    result = resolve_licenses([tune, base_in_code], kb)
    assert result[0].lineage[0].found_in == "unknown"


@pytest.mark.parametrize(
    "reference",
    [
        _reference("./models/llama"),
        _reference("meta-llama/Llama-2-7b-hf", resolved=False, expression="name"),
    ],
)
def test_paths_and_computed_names_are_not_looked_up(kb, reference):
    (result,) = resolve_licenses([reference], kb)
    assert result.license.evidence == () and result.code_reference.found_in is None


# --- license: other + license_name / license_link ---------------------------------------------


@pytest.mark.parametrize(
    ("card", "key"),
    [
        (CardFacts(path="README.md", license=("other",), license_name="llama3"), "llama3"),
        (
            CardFacts(path="README.md", license=("other",), license_name="tongyi-qianwen"),
            "tongyi-qianwen",
        ),
        (
            CardFacts(
                path="README.md",
                license=("other",),
                license_link="https://llama.meta.com/llama3/license/",
            ),
            "llama3",
        ),
        (CardFacts(path="README.md", license=("other",), license_name="mnpl"), "mnpl-0.1"),
    ],
)
def test_license_other_resolves_through_name_or_link(kb, card, key):
    declared = declared_licenses(card)
    assert declared != ("other",)
    (result,) = resolve_licenses([_model("m", declared=declared)], kb)
    assert result.license.effective == key


def _other(kb, name, link):
    card = CardFacts(path="README.md", license=("other",), license_name=name, license_link=link)
    (result,) = resolve_licenses([_model("m", declared=declared_licenses(card))], kb)
    return result.license


def test_an_unknown_license_name_with_a_known_link_is_the_link_s_license(kb):
    facts = _other(
        kb, "llama-3-custom", "https://huggingface.co/meta-llama/Llama-2-7b-hf/raw/main/LICENSE.txt"
    )
    assert facts.effective == "llama2"
    assert facts.category == "restricted"
    assert any(
        "license_name 'llama-3-custom' is not a known license" in e.value for e in facts.evidence
    )


def test_name_and_link_that_disagree_take_the_name_and_say_so(kb):
    facts = _other(kb, "llama3", "https://llama.meta.com/llama3_1/license/")
    assert facts.effective == "llama3"
    notes = [e.value for e in facts.evidence if "license_link" in e.value]
    assert notes and "is llama3.1, not llama3" in notes[0]


def test_name_and_link_that_agree_say_nothing_more(kb):
    facts = _other(kb, "llama3", "https://llama.meta.com/llama3/license")
    assert facts.effective == "llama3"
    assert not [e for e in facts.evidence if "license_link" in e.value]


def test_unknown_name_and_unknown_link_stay_unknown(kb):
    facts = _other(kb, "custom", "https://example.com/our-license")
    assert facts.effective is None
    assert facts.category == "unknown"


def test_a_relative_link_is_not_carried_with_the_name():
    card = CardFacts(
        path="README.md", license=("other",), license_name="llama3", license_link="LICENSE"
    )
    assert declared_licenses(card) == ("llama3",)


def test_license_other_without_name_stays_unresolved(kb):
    declared = declared_licenses(CardFacts(path="README.md", license=("other",)))
    (result,) = resolve_licenses([_model("m", declared=declared)], kb)
    assert result.license.effective is None
    assert result.license.category == "unknown"


# --- the real cards of the corpus ---------------------------------------------------------------

EXPECTED_KEY = {
    "other/llama3": "llama3",
    "llama2": "llama2",
    "llama3": "llama3",
    "llama3.1": "llama3.1",
    "llama3.2": "llama3.2",
    "gemma": "gemma",
    "other/gemma-terms-of-use": "gemma",
    "apache-2.0": "apache-2.0",
    "cc-by-nc-4.0": "cc-by-nc-4.0",
    '"cc-by-nc-4.0"': "cc-by-nc-4.0",
    "other/qwen-research": "qwen-research",
    "other/tongyi-qianwen": "tongyi-qianwen",
    "other/tongyi-qianwen-research": "tongyi-qianwen-research",
    "other/tongyi-qianwen-license-agreement": "tongyi-qianwen",
    "mit": "mit",
    "other/deepseek": "deepseek",
    "other/deepseek-license": "deepseek",
    "creativeml-openrail-m": "creativeml-openrail-m",
    "openrail++": "openrail++",
    "other/stabilityai-ai-community": "stabilityai-ai-community",
    "other/stable-video-diffusion-community": "stable-video-diffusion-community",
    "other/flux-1-dev-non-commercial-license": "flux-1-dev-non-commercial-license",
}


def _manifest():
    with (CARDS / "MANIFEST.tsv").open(encoding="utf-8", newline="") as handle:
        return [
            row
            for row in csv.DictReader(handle, delimiter="\t")
            if row["declared_license"] != "(none)"
        ]


@pytest.mark.parametrize("row", _manifest(), ids=lambda r: r["file"])
def test_corpus_card_declared_license_resolves(kb, row):
    card = read_card_file(CARDS / row["file"], "README.md")
    assert card.error is None
    (result,) = resolve_licenses([_model(row["hf_repo_id"], declared=declared_licenses(card))], kb)
    assert result.license.effective == EXPECTED_KEY[row["declared_license"]]
