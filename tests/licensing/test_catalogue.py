"""The offline catalogue of model families: repo-id patterns to licenses, and card prose."""

from __future__ import annotations

import pytest

from scanner.licensing.catalogue import default_catalogue, load_catalogue
from scanner.licensing.knowledge_base import KnowledgeBaseError
from tests.conftest import CARDS


@pytest.mark.parametrize(
    ("repo_id", "key"),
    [
        ("meta-llama/Llama-2-7b-hf", "llama2"),
        ("meta-llama/Llama-2-7b-chat-hf", "llama2"),
        ("meta-llama/Meta-Llama-3-8B-Instruct", "llama3"),
        ("meta-llama/Meta-Llama-3.1-8B-Instruct", "llama3.1"),
        ("meta-llama/Llama-3.2-3B-Instruct", "llama3.2"),
        ("meta-llama/Llama-3.3-70B-Instruct", "llama3.3"),
        ("meta-llama/Llama-4-Scout-17B-16E-Instruct", "llama4"),
        ("google/gemma-2b", "gemma"),
        ("google/gemma-2-9b-it", "gemma"),
        ("Qwen/Qwen2.5-VL-3B-Instruct", "qwen-research"),
        ("Qwen/Qwen2.5-3B", "qwen-research"),
        ("Qwen/Qwen2.5-7B-Instruct", "apache-2.0"),
        ("Qwen/Qwen2.5-72B-Instruct", "qwen"),
        ("Qwen/Qwen1.5-0.5B", "tongyi-qianwen-research"),
        ("Qwen/Qwen1.5-7B-Chat", "tongyi-qianwen"),
        ("qwen/qwen-7b", "tongyi-qianwen"),
        ("mistralai/Mistral-7B-v0.1", "apache-2.0"),
        ("mistralai/Mixtral-8x7B-Instruct-v0.1", "apache-2.0"),
        ("deepseek-ai/deepseek-coder-6.7b-base", "deepseek"),
        ("deepseek-ai/DeepSeek-R1", "mit"),
        ("ibm-granite/granite-3.0-8b-instruct", "apache-2.0"),
        ("CompVis/stable-diffusion-v1-4", "creativeml-openrail-m"),
        ("stabilityai/stable-diffusion-xl-base-1.0", "openrail++"),
        ("stabilityai/stable-diffusion-3-medium", "stabilityai-ai-community"),
        ("black-forest-labs/FLUX.1-dev", "flux-1-dev-non-commercial-license"),
        ("TinyLlama/TinyLlama-1.1B-Chat-v1.0", "apache-2.0"),
    ],
)
def test_families_map_to_their_card_license(repo_id, key):
    family = default_catalogue().lookup(repo_id)
    assert family is not None and family.license == key
    assert family.citation.startswith("https://huggingface.co/")


@pytest.mark.parametrize(
    ("repo_id", "key"),
    [
        # Meta: original LLaMA re-uploads, Code Llama under both orgs, guard models
        ("huggyllama/llama-7b", "llama1"),
        ("codellama/CodeLlama-34b-Instruct-hf", "llama2"),
        ("CODELLAMA/codellama-7b-python-hf", "llama2"),
        ("meta-llama/Llama-Guard-3-8B-INT8", "llama3.1"),
        ("meta-llama/Llama-Guard-3-1B", "llama3.2"),
        # Mistral: Apache releases vs the Mistral Research License
        ("mistralai/Mistral-Nemo-Instruct-2407", "apache-2.0"),
        ("mistralai/Mistral-Small-Instruct-2409", "mrl-0.1"),
        ("mistralai/ministral-8b-instruct-2410", "mrl-0.1"),
        ("mistralai/Codestral-22B-v0.1", "mnpl-0.1"),
        # Google: Gemma Scope is CC-BY-4.0, not the Gemma Terms
        ("google/gemma-scope-2b-pt-res", "cc-by-4.0"),
        ("Google/Gemma-3-27B-IT", "gemma"),
        ("google/paligemma-3b-mix-448", "gemma"),
        # Qwen: sizes and versions
        ("Qwen/Qwen1.5-32B", "tongyi-qianwen-research"),
        ("Qwen/Qwen1.5-32B-Chat", "tongyi-qianwen"),
        ("Qwen/CodeQwen1.5-7B", "tongyi-qianwen-research"),
        ("Qwen/CodeQwen1.5-7B-Chat-GGUF", "tongyi-qianwen"),
        ("Qwen/Qwen2-72B-Instruct", "tongyi-qianwen"),
        ("qwen/QWEN2.5-72B", "qwen"),
        ("Qwen/Qwen2.5-VL-72B-Instruct", "qwen"),
        ("Qwen/Qwen2.5-3B-Instruct-GGUF", "qwen-research"),
        # DeepSeek
        ("deepseek-ai/deepseek-math-7b-instruct", "deepseek"),
        ("deepseek-ai/DeepSeek-R1-Distill-Qwen-7B", "mit"),
        # TII: Falcon 1, Falcon 2 11B, Falcon 3
        ("tiiuae/falcon-rw-1b", "apache-2.0"),
        ("tiiuae/falcon-11B", "falcon-2-11b-tii-license-1.0"),
        ("tiiuae/Falcon3-7B-Instruct", "tii-falcon-license-2.0"),
        # Microsoft Phi 1 to 4
        ("microsoft/phi-1_5", "mit"),
        ("microsoft/Phi-3.5-MoE-instruct", "mit"),
        # Stability
        ("stabilityai/stable-diffusion-x4-upscaler", "openrail++"),
        ("stabilityai/stable-zero123", "sai-nc-community"),
        ("stabilityai/sv3d", "sv3d-nc-community"),
        # Black Forest Labs: every [dev] variant is non-commercial
        ("black-forest-labs/FLUX.1-Kontext-dev", "flux-1-dev-non-commercial-license"),
        ("black-forest-labs/FLUX.1-Canny-dev-lora", "flux-1-dev-non-commercial-license"),
        ("black-forest-labs/flux.1-krea-dev", "flux-1-dev-non-commercial-license"),
        ("black-forest-labs/FLUX.1-schnell", "apache-2.0"),
        # NVIDIA
        ("nvidia/Nemotron-4-340B-Instruct", "nvidia-open-model-license"),
        ("nvidia/Llama3-ChatQA-1.5-70B", "llama3"),
        ("nvidia/NV-Embed-v2", "cc-by-nc-4.0"),
        # licenses from ScanCode's database: Stability, Playground, FAIPL-1.0-SD, Moonshot,
        # LG, Meta Chameleon, NAVER, Tencent
        ("stabilityai/stablelm-2-12b-chat", "stability-ai-nc-2023-12-06"),
        ("stabilityai/stable-cascade", "stable-cascade-nc-community"),
        ("playgroundai/playground-v2-1024px-aesthetic", "playground-v2-community"),
        ("cagliostrolab/animagine-xl-3.1", "fair-ai-public-1.0-sd"),
        ("OnomaAIResearch/Illustrious-xl-early-release-v0", "fair-ai-public-1.0-sd"),
        ("moonshotai/Kimi-K2-Instruct", "moonshot-ai-modified-mit-2025"),
        ("LGAI-EXAONE/EXAONE-Deep-7.8B-GGUF", "exaone-ai-model-1.1-nc"),
        ("facebook/chameleon-30b", "chameleon-research-2024"),
        ("naver-hyperclovax/HyperCLOVAX-SEED-Text-Instruct-0.5B", "hyperclova-x-seed-2025"),
        ("tencent/Hunyuan3D-2", "tencent-hunyuan-3d-2.0-cla"),
    ],
)
def test_release_lines_per_publisher(repo_id, key):
    family = default_catalogue().lookup(repo_id)
    assert family is not None and family.license == key


@pytest.mark.parametrize(
    "repo_id",
    [
        "tiiuae/falcon-mamba-7b",
        "google/medgemma-4b-it",
        "microsoft/Orca-2-7b",
        "google/flan-t5-base",
        # same publisher, another license the knowledge base lacks
        "playgroundai/playground-v2.5-1024px-aesthetic",
        "Tencent-Hunyuan/HunyuanDiT",
    ],
)
def test_models_under_other_licenses_are_not_catalogued(repo_id):
    assert default_catalogue().lookup(repo_id) is None


def test_unknown_repo_is_not_guessed():
    assert default_catalogue().lookup("acme/llama-2-7b-finetune") is None
    assert default_catalogue().lookup("NousResearch/Llama-2-7b-hf") is None


def test_distillation_names_its_base_for_offline_lineage():
    family = default_catalogue().lookup("deepseek-ai/DeepSeek-R1-Distill-Llama-8B")
    assert family.license == "mit" and family.base == "meta-llama/Llama-3.1-8B"


def test_every_catalogue_license_is_in_the_knowledge_base(kb):
    for family in default_catalogue().families:
        assert family.license in kb


def test_card_prose_naming_llama2_is_a_mention():
    text = (CARDS / "hfl__chinese-llama-2-7b.md").read_text(encoding="utf-8")
    (mention,) = default_catalogue().mentions(text)
    assert mention.license == "llama2"
    assert "based on the Llama-2" in mention.quote


def test_model_zoo_table_row_naming_the_base_is_a_mention():
    text = (CARDS / "BAAI__bge-reranker-v2-gemma.md").read_text(encoding="utf-8")
    catalogue = default_catalogue()
    assert [m.license for m in catalogue.mentions(text, "BAAI/bge-reranker-v2-gemma")] == ["gemma"]
    assert catalogue.mentions(text, "BAAI/bge-reranker-v2-m3") == ()


@pytest.mark.parametrize(
    "name", ["TheBloke__TinyLlama-1.1B-Chat-v1.0-GGUF.md", "HuggingFaceH4__zephyr-7b-beta.md"]
)
def test_negative_controls_have_no_mentions(name):
    text = (CARDS / name).read_text(encoding="utf-8")
    assert default_catalogue().mentions(text) == ()


def test_llama_versions_are_told_apart():
    catalogue = default_catalogue()
    assert [m.license for m in catalogue.mentions("Fine-tuned from Llama 3.1 8B.")] == ["llama3.1"]
    assert [m.license for m in catalogue.mentions("based on Meta Llama 3 8B")] == ["llama3"]
    assert catalogue.mentions("compared with Llama 2 on MMLU") == ()


def test_catalogue_with_unknown_license_is_refused(tmp_path, kb):
    path = tmp_path / "models.yaml"
    path.write_text(
        "families:\n- family: X\n  license: no-such-license\n  citation: c\n  repos: [a/*]\n"
    )
    with pytest.raises(KnowledgeBaseError, match="no-such-license"):
        load_catalogue(path, kb)


def test_catalogue_with_unknown_field_is_refused(tmp_path, kb):
    path = tmp_path / "models.yaml"
    path.write_text(
        "families:\n- family: X\n  license: mit\n  citation: c\n  repos: [a/*]\n  licence: mit\n"
    )
    with pytest.raises(KnowledgeBaseError, match="unknown fields"):
        load_catalogue(path, kb)


@pytest.mark.parametrize(
    ("model", "tag", "license"),
    [
        ("llama3.1", "8b", "llama3.1"),
        ("LLAMA3.1", "latest", "llama3.1"),
        ("llama3", "70b-instruct", "llama3"),
        ("llama3.2-vision", "11b", "llama3.2"),
        ("qwen2.5", "72b", "qwen"),
        ("qwen2.5", "32b", "apache-2.0"),
        ("qwen2.5", "3b-instruct", "qwen-research"),
        ("qwen2", "72b", "tongyi-qianwen"),
        ("qwen2", "7b", "apache-2.0"),
        ("deepseek-r1", "70b", "mit"),
        ("gemma2", "2b", "gemma"),
        ("granite3.1-dense", "8b", "apache-2.0"),
    ],
)
def test_ollama_library_names_map_to_families(model, tag, license):
    family = default_catalogue().lookup_ollama(model, tag)
    assert family is not None and family.license == license


@pytest.mark.parametrize(
    ("model", "tag"), [("deepseek-r1", "8b"), ("falcon", "latest"), ("x", "1")]
)
def test_ambiguous_or_unknown_ollama_names_are_not_guessed(model, tag):
    assert default_catalogue().lookup_ollama(model, tag) is None


def test_catalogue_with_bad_ollama_names_is_refused(tmp_path, kb):
    path = tmp_path / "models.yaml"
    path.write_text(
        "families:\n- family: X\n  license: mit\n  citation: c\n  repos: [a/*]\n  ollama: x\n"
    )
    with pytest.raises(KnowledgeBaseError, match="`ollama` must be a list"):
        load_catalogue(path, kb)
