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


def test_a_safetensors_base_model_is_followed_like_a_card_s(tmp_path):
    """`__metadata__ {"license": "apache-2.0", "base_model": ...}` with no card: both are
    declarations with evidence, the base is resolved through the catalogue and judged."""
    folder = make_model_dir(tmp_path, "st", card=None, weights=None)
    write_safetensors(
        folder / "model.safetensors",
        metadata={"license": "apache-2.0", "base_model": "meta-llama/Llama-2-7b-hf"},
    )
    result, report = scan_json(folder)
    model = component(report)
    assert model["base_models"] == ["meta-llama/Llama-2-7b-hf"]
    evidence = model["license"]["evidence"]
    assert {"source": "model.safetensors metadata", "value": "license: apache-2.0"} in evidence
    assert {
        "source": "model.safetensors metadata",
        "value": "base_model: meta-llama/Llama-2-7b-hf",
    } in evidence
    (conflict,) = findings(report, "license.conflict-with-base")
    assert conflict["evidence"]["lineage"] == ["st -> meta-llama/Llama-2-7b-hf [catalogue]"]
    assert result.exit_code == 1


def test_a_gguf_given_alone_is_judged_by_what_its_metadata_declares(tmp_path):
    path = write_gguf(tmp_path / "chat.Q4_K_M.gguf", {**LLAMA3_GGUF, "general.license": "mit"})
    result, report = scan_json(path)
    model = component(report)
    assert model["type"] == "model"  # a GGUF is a whole model by design
    assert model["license"]["declared"] == ["mit"]
    assert effective_keys(model["license"]["effective"]) == {"mit", "llama3"}
    (conflict,) = findings(report, "license.conflict-with-base")
    assert conflict["component"] == model["ref"]
    assert result.exit_code == 1


def test_a_gguf_given_alone_without_license_metadata_is_a_model_without_a_license(tmp_path):
    _, report = scan_json(write_gguf(tmp_path / "bare.gguf", {}))
    assert {rule for rule in rules_of(report) if rule.startswith("license.")} == {"license.missing"}


def test_a_gguf_with_no_license_over_an_mit_base_carries_the_base_s_notice(tmp_path):
    """The converter recorded the source repo, not a license: no right to the GGUF is granted
    (license.missing), and the MIT base's notice duty is carried with the base as evidence."""
    folder = make_model_dir(tmp_path, "phi-gguf", card=None, weights=None)
    write_gguf(
        folder / "phi-2.Q4_K_M.gguf", {"general.source.huggingface.repository": "microsoft/phi-2"}
    )
    _, report = scan_json(folder)
    assert findings(report, "license.missing")
    (notice,) = findings(report, "license.obligation")
    assert notice["evidence"]["license"] == "mit"
    assert notice["evidence"]["base_model"] == "microsoft/phi-2"
    assert "base model microsoft/phi-2 is under mit" in notice["message"]
