"""modelCard facts from config.json and the card's model-index, in CycloneDX JSON and XML."""

from __future__ import annotations

import json
import shutil
from xml.etree import ElementTree

from tests.conftest import CARDS, make_model_dir, run_cli, scan_json

CONFIG = json.dumps({"model_type": "mistral", "architectures": ["MistralForCausalLM"]})


def _zephyr_like(tmp_path):
    folder = make_model_dir(tmp_path, "zephyr", card=None, files={"config.json": CONFIG})
    shutil.copyfile(CARDS / "HuggingFaceH4__zephyr-7b-beta.md", folder / "README.md")
    return folder


def test_config_and_model_index_are_recorded_as_facts(tmp_path):
    _, report = scan_json(_zephyr_like(tmp_path))
    (component,) = report["components"]
    assert component["model_type"] == "mistral"
    assert component["architectures"] == ["MistralForCausalLM"]
    metrics = component["card"]["metrics"]
    arc = next(m for m in metrics if m["dataset"] == "AI2 Reasoning Challenge (25-Shot)")
    assert arc["metric"] == "acc_norm" and arc["value"].startswith("62.03")
    assert arc["task"] == "text-generation"


def test_cyclonedx_model_card_carries_architecture_and_metrics(tmp_path):
    folder = _zephyr_like(tmp_path)
    out = tmp_path / "bom.cdx.json"
    assert run_cli("bom", folder, "--no-hash", "-o", out).exit_code == 0
    (model,) = [
        c
        for c in json.loads(out.read_text())["components"]
        if c["type"] == "machine-learning-model"
    ]
    card = model["modelCard"]
    assert card["modelParameters"]["architectureFamily"] == "mistral"
    assert card["modelParameters"]["modelArchitecture"] == "MistralForCausalLM"
    metrics = card["quantitativeAnalysis"]["performanceMetrics"]
    assert {
        "type": "normalized accuracy",
        "value": metrics[0]["value"],
        "slice": "AI2 Reasoning Challenge (25-Shot)",
    } in metrics

    xml = tmp_path / "bom.cdx.xml"
    assert (
        run_cli("bom", folder, "--no-hash", "--format", "cyclonedx-xml", "-o", xml).exit_code == 0
    )
    text = xml.read_text()
    ElementTree.fromstring(text)
    assert "<architectureFamily>mistral</architectureFamily>" in text
    assert "<performanceMetrics>" in text


def test_no_model_card_facts_are_invented(tmp_path):
    folder = make_model_dir(tmp_path, "plain", card={"license": "mit"})
    _, report = scan_json(folder)
    (component,) = report["components"]
    assert "model_type" not in component and component["card"]["metrics"] == []
