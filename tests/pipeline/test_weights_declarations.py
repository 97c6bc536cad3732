"""Licenses and base models declared in weights metadata, end to end through the CLI: they feed
license resolution and lineage like card fields, and a disagreement with the card is a finding."""

from __future__ import annotations

from tests.conftest import (
    component,
    effective_keys,
    findings,
    make_model_dir,
    rules_of,
    scan_json,
    write_gguf,
    write_safetensors,
)

LLAMA3_GGUF = {
    "general.license": "llama3",
    "general.base_model.count": 1,
    "general.base_model.0.repo_url": "https://huggingface.co/meta-llama/Meta-Llama-3-8B",
}


def test_a_llama3_gguf_beside_an_apache_card(tmp_path):
    """The measured case: the GGUF says llama3 and names Meta-Llama-3-8B; the card says
    apache-2.0."""
    folder = make_model_dir(tmp_path, "chat-gguf", card={"license": "apache-2.0"}, weights=None)
    write_gguf(folder / "chat.Q4_K_M.gguf", LLAMA3_GGUF)
    result, report = scan_json(folder)
    assert result.exit_code == 1
    model = component(report)
    assert "llama3" in effective_keys(model["license"]["effective"])
    assert model["license"]["declared"] == ["apache-2.0", "llama3"]
    assert model["base_models"] == ["meta-llama/Meta-Llama-3-8B"]
    assert {"source": "chat.Q4_K_M.gguf metadata", "value": "general.license: llama3"} in model[
        "license"
    ]["evidence"]
    (mismatch,) = findings(report, "license.mismatch")
    assert "chat.Q4_K_M.gguf declares llama3" in mismatch["message"]
    assert mismatch["evidence"]["file"] == "chat.Q4_K_M.gguf"
    (conflict,) = findings(report, "license.conflict-with-base", severity="error")
    assert conflict["evidence"]["inherited"] == "llama3"
    assert conflict["evidence"]["declared"] == "apache-2.0"
    (ancestor,) = model["lineage"]
    assert (ancestor["name"], ancestor["found_in"]) == ("meta-llama/Meta-Llama-3-8B", "catalogue")


def test_a_noncommercial_safetensors_without_a_card(tmp_path):
    """The measured case: `__metadata__ {"license": "cc-by-nc-4.0"}` and no card."""
    folder = make_model_dir(tmp_path, "nc", card=None, weights=None)
    write_safetensors(folder / "model.safetensors", metadata={"license": "cc-by-nc-4.0"})
    result, report = scan_json(folder)
    model = component(report)
    assert model["license"]["effective"] == "cc-by-nc-4.0"
    assert findings(report, "license.noncommercial", severity="error")
    assert not findings(report, "license.missing")
    assert result.exit_code == 1


def test_weights_metadata_that_agrees_with_the_card_is_quiet(tmp_path):
    folder = make_model_dir(tmp_path, "ok", card={"license": "llama3"}, weights=None)
    write_gguf(folder / "model.gguf", {"general.license": "LLaMA3"})
    _, report = scan_json(folder)
    assert component(report)["license"]["declared"] == ["llama3"]
    assert not findings(report, "license.mismatch")


def test_a_gguf_laundering_its_own_base_without_a_card(tmp_path):
    """Without a card the weights' declaration is the component's statement and is judged
    against the base it names."""
    folder = make_model_dir(tmp_path, "laundered", card=None, weights=None)
    write_gguf(folder / "model.gguf", {**LLAMA3_GGUF, "general.license": "mit"})
    result, report = scan_json(folder)
    assert result.exit_code == 1
    assert "license.conflict-with-base" in rules_of(report)
    assert not findings(report, "license.mismatch")


def test_every_shard_declaring_the_same_license_is_quoted_once(tmp_path):
    folder = make_model_dir(tmp_path, "sharded", card=None, weights=None)
    for index in (1, 2):
        write_safetensors(
            folder / f"model-0000{index}-of-00002.safetensors", metadata={"license": "mit"}
        )
    _, report = scan_json(folder)
    model = component(report)
    assert model["license"]["declared"] == ["mit"]
    quoted = [e for e in model["license"]["evidence"] if e["value"] == "license: mit"]
    assert len(quoted) == 1
