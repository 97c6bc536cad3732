"""License laundering cases, rebuilt as fake-Hub repos from the facts of their public cards.

Each derivative declares a permissive license while the model it is built on carries terms
that flow down (Qwen research, Llama 2, Llama 3.2, Gemma). aiscan must name the governing
license and show the chain. Negative controls (TinyLlama, Zephyr) must stay clean.
"""

from __future__ import annotations

from tests import fakehub
from tests.conftest import (
    CARDS,
    component,
    effective_keys,
    findings,
    make_model_dir,
    scan_json,
)

fake_hub = fakehub.fake_hub
"""The local fake Hub fixture (tests/fakehub.py)."""


def _conflict(report, name):
    ref = component(report, name)["ref"]
    return findings(report, "license.conflict-with-base", component=ref)


def test_qwen25_vl_3b_derivative_declared_apache(fake_hub):
    # Qwen/Qwen2.5-VL-3B-Instruct: license: other, license_name: qwen-research
    fake_hub.card_repo(
        "Qwen/Qwen2.5-VL-3B-Instruct",
        {"license": "other", "license_name": "qwen-research", "pipeline_tag": "image-text-to-text"},
    )
    fake_hub.card_repo(
        "acme/Qwen2.5-VL-3B-ft",
        {
            "license": "apache-2.0",
            "base_model": "Qwen/Qwen2.5-VL-3B-Instruct",
            "base_model_relation": "finetune",
            "datasets": ["acme/vqa"],
        },
    )
    result, report = scan_json("hf://acme/Qwen2.5-VL-3B-ft")
    tune = component(report, "acme/Qwen2.5-VL-3B-ft")
    assert effective_keys(tune["license"]["effective"]) == {"apache-2.0", "qwen-research"}
    assert tune["license"]["category"] == "non-commercial"
    (conflict,) = _conflict(report, "acme/Qwen2.5-VL-3B-ft")
    assert conflict["evidence"]["lineage"] == [
        "acme/Qwen2.5-VL-3B-ft -> Qwen/Qwen2.5-VL-3B-Instruct [hub]"
    ]
    assert findings(report, "license.noncommercial")
    assert result.exit_code == 1


def test_llama2_multimodal_declared_apache_through_a_quantization(fake_hub):
    # depth 3: a GGUF of a LLaVA-style fine-tune of Llama-2-13b-chat, both declaring apache-2.0
    fake_hub.card_repo("meta-llama/Llama-2-13b-chat-hf", {"license": "llama2"}, gated="manual")
    fake_hub.card_repo(
        "acme/llava-llama-2-13b",
        {
            "license": "apache-2.0",
            "base_model": "meta-llama/Llama-2-13b-chat-hf",
            "pipeline_tag": "image-text-to-text",
        },
    )
    fake_hub.card_repo(
        "acme/llava-llama-2-13b-GGUF",
        {
            "license": "apache-2.0",
            "base_model": "acme/llava-llama-2-13b",
            "base_model_relation": "quantized",
        },
    )
    _, report = scan_json("hf://acme/llava-llama-2-13b-GGUF")
    (conflict,) = _conflict(report, "acme/llava-llama-2-13b-GGUF")
    assert conflict["evidence"]["inherited"] == "llama2"
    assert conflict["evidence"]["lineage"] == [
        "acme/llava-llama-2-13b-GGUF -> acme/llava-llama-2-13b -> "
        "meta-llama/Llama-2-13b-chat-hf [hub]"
    ]
    lineage = component(report)["lineage"]
    assert [a["found_in"] for a in lineage] == ["hub", "hub"]


def test_speech_model_declared_apache_over_llama32(fake_hub):
    # the Llama 3.2 base is not on this Hub: the walk falls back to the catalogue
    fake_hub.card_repo(
        "acme/tts-3b",
        {
            "license": "apache-2.0",
            "base_model": "meta-llama/Llama-3.2-3B-Instruct",
            "pipeline_tag": "text-to-speech",
        },
    )
    _, report = scan_json("hf://acme/tts-3b")
    (conflict,) = _conflict(report, "acme/tts-3b")
    assert conflict["evidence"]["inherited"] == "llama3.2"
    (ancestor,) = component(report)["lineage"]
    assert ancestor["found_in"] == "catalogue"


def test_card_text_based_on_llama2_while_declaring_apache(fake_hub):
    card = (CARDS / "hfl__chinese-llama-2-7b.md").read_text(encoding="utf-8")
    fake_hub.add_repo("hfl/chinese-llama-2-7b", {"README.md": card})
    _, report = scan_json("hf://hfl/chinese-llama-2-7b")
    (hit,) = findings(report, "license.undeclared-base")
    assert hit["severity"] == "warning"
    assert "based on the Llama-2" in hit["evidence"]["quotes"][0]
    assert "llama2" in effective_keys(component(report)["license"]["effective"])
    assert findings(report, "license.conflict-with-base") == []


def test_card_table_naming_gemma_while_declaring_apache(fake_hub):
    card = (CARDS / "BAAI__bge-reranker-v2-gemma.md").read_text(encoding="utf-8")
    fake_hub.add_repo("BAAI/bge-reranker-v2-gemma", {"README.md": card})
    _, report = scan_json("hf://BAAI/bge-reranker-v2-gemma")
    (hit,) = findings(report, "license.undeclared-base")
    assert hit["evidence"]["inherited"] == "gemma"


def test_offline_local_folder_over_llama2_is_caught_through_the_catalogue(tmp_path):
    folder = make_model_dir(
        tmp_path, "tune", card={"license": "apache-2.0", "base_model": "meta-llama/Llama-2-7b-hf"}
    )
    result, report = scan_json(folder)
    (conflict,) = _conflict(report, "tune")
    assert conflict["evidence"]["lineage"] == ["tune -> meta-llama/Llama-2-7b-hf [catalogue]"]
    assert result.exit_code == 1


def test_negative_controls_stay_clean(fake_hub):
    fake_hub.card_repo("TinyLlama/TinyLlama-1.1B-Chat-v1.0", {"license": "apache-2.0"})
    fake_hub.card_repo("mistralai/Mistral-7B-v0.1", {"license": "apache-2.0"})
    for name, repo in (
        ("TheBloke__TinyLlama-1.1B-Chat-v1.0-GGUF.md", "TheBloke/TinyLlama-1.1B-Chat-v1.0-GGUF"),
        ("HuggingFaceH4__zephyr-7b-beta.md", "HuggingFaceH4/zephyr-7b-beta"),
    ):
        fake_hub.add_repo(repo, {"README.md": (CARDS / name).read_text(encoding="utf-8")})
    _, report = scan_json(
        "hf://TheBloke/TinyLlama-1.1B-Chat-v1.0-GGUF", "hf://HuggingFaceH4/zephyr-7b-beta"
    )
    assert findings(report, "license.conflict-with-base") == []
    assert findings(report, "license.undeclared-base") == []
    assert component(report, "HuggingFaceH4/zephyr-7b-beta")["license"]["effective"] == "mit"
