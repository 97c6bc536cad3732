"""License rules that read the whole lineage, through `aiscan scan` on fixtures built offline:
laundering by any ancestor (an HF-cache fine-tune relabelled over a catalogued base) and the
obligations a permissive base passes to a model with no license of its own."""

from __future__ import annotations

import pytest

from tests.conftest import (
    component,
    findings,
    make_hf_cache,
    make_model_dir,
    model_repo_files,
    rules_of,
    scan_json,
    write_gguf,
)

LLAMA3 = "meta-llama/Meta-Llama-3-8B"


@pytest.fixture
def hf_cache(monkeypatch, tmp_path):
    """An HF cache holding `acme/ft`: a fine-tune of Llama 3 whose card says apache-2.0."""
    cache = tmp_path / "hf-cache"
    monkeypatch.setenv("HF_HUB_CACHE", str(cache))
    make_hf_cache(cache, "acme/ft", model_repo_files("apache-2.0", {"base_model": LLAMA3}))
    return cache


def _gguf_of_ft(tmp_path, **metadata):
    folder = make_model_dir(tmp_path, "gguf-model", card=None, weights=None)
    write_gguf(
        folder / "model.Q4_K_M.gguf",
        {
            "general.base_model.count": 1,
            "general.base_model.0.repo_url": "https://huggingface.co/acme/ft",
            **metadata,
        },
    )
    return folder


def test_a_gguf_of_a_mislabelled_fine_tune_is_a_conflict_with_the_whole_chain(hf_cache, tmp_path):
    result, report = scan_json(_gguf_of_ft(tmp_path))
    model = component(report)
    assert model["license"]["inherited"] == ["llama3"]
    (conflict,) = findings(report, "license.conflict-with-base", severity="error")
    assert conflict["component"] == model["ref"]
    assert conflict["evidence"]["chain"] == (
        f"gguf-model -> acme/ft (apache-2.0) -> {LLAMA3} (llama3)"
    )
    assert conflict["evidence"]["laundered_by"] == "acme/ft"
    assert conflict["evidence"]["laundered_as"] == "apache-2.0"
    assert conflict["evidence"]["lineage"] == [f"gguf-model -> acme/ft -> {LLAMA3} [catalogue]"]
    assert "its base model acme/ft declares apache-2.0 (permissive)" in conflict["message"]
    assert result.exit_code == 1


def test_a_model_that_declares_the_base_s_terms_itself_is_warned_of_the_step_below(
    hf_cache, tmp_path
):
    result, report = scan_json(_gguf_of_ft(tmp_path, **{"general.license": "llama3"}))
    (conflict,) = findings(report, "license.conflict-with-base")
    assert conflict["severity"] == "warning"
    assert conflict["evidence"]["chain"] == (
        f"gguf-model (llama3) -> acme/ft (apache-2.0) -> {LLAMA3} (llama3)"
    )
    assert result.exit_code == 0


def test_a_model_laundering_too_gets_one_conflict(hf_cache, tmp_path):
    _, report = scan_json(_gguf_of_ft(tmp_path, **{"general.license": "mit"}))
    (conflict,) = findings(report, "license.conflict-with-base")
    assert conflict["evidence"]["declared"] == "mit"
    assert conflict["evidence"]["lineage"] == [f"gguf-model -> acme/ft -> {LLAMA3} [catalogue]"]


def test_an_honest_chain_is_quiet(monkeypatch, tmp_path):
    cache = tmp_path / "hf-cache"
    monkeypatch.setenv("HF_HUB_CACHE", str(cache))
    make_hf_cache(cache, "acme/ft", model_repo_files("llama3", {"base_model": LLAMA3}))
    _, report = scan_json(_gguf_of_ft(tmp_path, **{"general.license": "llama3"}))
    assert "license.conflict-with-base" not in rules_of(report)


# --- a model with no license of its own over a permissive base ------------------------------


@pytest.mark.parametrize(
    ("base", "key", "duties"),
    [
        ("microsoft/phi-2", "mit", {"include-license"}),
        ("mistralai/Mistral-7B-v0.1", "apache-2.0", {"include-license", "notice-file"}),
    ],
)
def test_a_fine_tune_without_a_license_carries_its_permissive_base_s_obligations(
    tmp_path, base, key, duties
):
    folder = make_model_dir(tmp_path, "tune", card={"base_model": base})
    result, report = scan_json(folder)
    facts = component(report)["license"]
    assert (facts["effective"], facts["category"]) == (None, "unknown")
    assert findings(report, "license.missing")  # no right to use the fine-tune was granted
    (why,) = [e for e in facts["evidence"] if e["source"] == f"base model {base}"]
    assert f"is under {key}" in why["value"] and "declares no license of its own" in why["value"]
    carried = findings(report, "license.obligation")
    assert duties <= {f["evidence"]["obligation"] for f in carried}
    assert {f["evidence"]["base_model"] for f in carried} == {base}
    assert all(f["evidence"]["license"] == key for f in carried)
    assert result.exit_code == 1


def test_a_licensed_fine_tune_of_a_permissive_base_keeps_its_own_obligations_only(tmp_path):
    folder = make_model_dir(
        tmp_path, "tune", card={"license": "mit", "base_model": "mistralai/Mistral-7B-v0.1"}
    )
    _, report = scan_json(folder)
    assert {f["evidence"]["license"] for f in findings(report, "license.obligation")} == {"mit"}
