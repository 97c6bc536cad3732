"""The license rules, one test per license family, each scanning a model folder whose card
declares the license (real corpus cards where one exists) under the shipped default policy."""

from __future__ import annotations

import shutil

import pytest

from tests.conftest import (
    CARDS,
    LICENSE_TEXTS,
    component,
    effective_keys,
    errors,
    findings,
    make_hf_cache,
    make_model_dir,
    model_repo_files,
    run_cli,
    scan_json,
    write_policy,
)


def scan_card(tmp_path, card, *, policy: str | None = None, name="model", **folder_args):
    """Scan a model folder whose README is `card` (a front-matter mapping or a corpus file)."""
    if isinstance(card, str) and card.endswith(".md"):
        folder = make_model_dir(tmp_path, name, card=None, **folder_args)
        shutil.copyfile(CARDS / card, folder / "README.md")
    else:
        folder = make_model_dir(tmp_path, name, card=card, **folder_args)
    args = []
    if policy is not None:
        args = ["--policy", write_policy(tmp_path / "policy.yaml", policy)]
    result, report = scan_json(folder, args=args)
    return result, report, component(report)


def _license_findings(report, rule, key):
    return [f for f in findings(report, rule) if f["evidence"].get("license") == key]


def assert_no_errors(result, report):
    assert errors(report) == []
    assert result.exit_code == 0


def assert_noncommercial_error(result, report, key):
    hits = _license_findings(report, "license.noncommercial", key)
    assert len(hits) == 1
    assert hits[0]["severity"] == "error"
    assert result.exit_code == 1


# --- Llama ----------------------------------------------------------------------------------


def test_llama3_fine_tune(tmp_path):
    result, report, c = scan_card(
        tmp_path, {"license": "llama3", "base_model": "meta-llama/Meta-Llama-3-8B"}
    )
    assert c["license"]["effective"] == "llama3"
    assert c["license"]["category"] == "restricted"
    attribution = [
        f
        for f in _license_findings(report, "license.obligation", "llama3")
        if f["evidence"].get("text") == "Built with Meta Llama 3"
    ]
    assert len(attribution) == 1
    assert attribution[0]["severity"] == "note"
    assert "Built with Meta Llama 3" in attribution[0]["message"]
    assert attribution[0]["evidence"]["section"]
    aup = _license_findings(report, "license.acceptable-use-policy", "llama3")
    assert len(aup) == 1 and aup[0]["severity"] == "note"
    assert aup[0]["evidence"]["url"].startswith("https://")
    mau = _license_findings(report, "license.mau-threshold", "llama3")
    assert len(mau) == 1
    assert mau[0]["severity"] == "note"
    assert mau[0]["evidence"]["threshold"] == 700_000_000
    assert_no_errors(result, report)


def test_llama3_over_the_mau_threshold_is_an_error(tmp_path):
    policy = "extends: default\ncontext:\n  monthly_active_users: 800000000\n"
    result, report, _c = scan_card(
        tmp_path, {"license": "llama3", "base_model": "meta-llama/Meta-Llama-3-8B"}, policy=policy
    )
    mau = _license_findings(report, "license.mau-threshold", "llama3")
    assert len(mau) == 1
    assert mau[0]["severity"] == "error"
    assert mau[0]["evidence"]["monthly_active_users"] == 800_000_000
    assert result.exit_code == 1
    assert report["summary"]["exit_code"] == 1


def test_llama3_under_the_mau_threshold_is_silent(tmp_path):
    policy = "extends: default\ncontext:\n  monthly_active_users: 5000000\n"
    result, report, _ = scan_card(tmp_path, {"license": "llama3"}, policy=policy)
    assert findings(report, "license.mau-threshold") == []
    assert_no_errors(result, report)


def test_llama3_card_with_license_other_and_license_name(tmp_path):
    result, report, c = scan_card(tmp_path, "NousResearch__Meta-Llama-3-8B.md")
    assert c["license"]["declared"] == ["llama3"]
    assert c["license"]["effective"] == "llama3"
    assert any(e["value"] == "license_name: llama3" for e in c["license"]["evidence"])
    assert_no_errors(result, report)


@pytest.mark.parametrize(
    ("card", "key"),
    [
        ("neuralmagic__Meta-Llama-3.1-8B-Instruct-quantized.w4a16.md", "llama3.1"),
        ("unsloth__Llama-3.2-1B-Instruct.md", "llama3.2"),
        ({"license": "llama3.3"}, "llama3.3"),
        ({"license": "llama4"}, "llama4"),
    ],
    ids=["llama3.1", "llama3.2", "llama3.3", "llama4"],
)
def test_newer_llama_attribution_is_built_with_llama(tmp_path, card, key):
    result, report, c = scan_card(tmp_path, card)
    assert c["license"]["effective"] == key
    assert c["license"]["category"] == "restricted"
    texts = {
        f["evidence"].get("text") for f in _license_findings(report, "license.obligation", key)
    }
    assert "Built with Llama" in texts
    assert "Built with Meta Llama 3" not in texts
    assert _license_findings(report, "license.acceptable-use-policy", key)
    assert_no_errors(result, report)


def test_llama2_gguf_card(tmp_path):
    result, report, c = scan_card(tmp_path, "TheBloke__Llama-2-7B-Chat-GGUF.md")
    assert c["license"]["effective"] == "llama2"
    assert c["license"]["category"] == "restricted"
    assert c["base_models"] == ["meta-llama/Llama-2-7b-chat-hf"]
    assert _license_findings(report, "license.mau-threshold", "llama2")
    assert _license_findings(report, "license.acceptable-use-policy", "llama2")
    assert_no_errors(result, report)


# --- Gemma ----------------------------------------------------------------------------------


def test_gemma(tmp_path):
    result, report, c = scan_card(tmp_path, "bartowski__gemma-2-9b-it-GGUF.md")
    assert c["license"]["effective"] == "gemma"
    assert c["license"]["category"] == "restricted"
    aup = _license_findings(report, "license.acceptable-use-policy", "gemma")
    assert len(aup) == 1 and "ai.google.dev" in aup[0]["evidence"]["url"]
    obligations = {
        f["evidence"]["obligation"]
        for f in _license_findings(report, "license.obligation", "gemma")
    }
    assert "pass-on-use-restrictions" in obligations
    assert_no_errors(result, report)


def test_gemma_terms_of_use_license_name(tmp_path):
    result, report, c = scan_card(tmp_path, "Crystalcareai__GemMoE-Beta-1.md")
    assert c["license"]["effective"] == "gemma"
    assert_no_errors(result, report)


# --- Qwen -----------------------------------------------------------------------------------


def test_qwen_research_is_non_commercial(tmp_path):
    result, report, c = scan_card(tmp_path, "Qwen__Qwen2.5-3B.md")
    assert c["license"]["effective"] == "qwen-research"
    assert c["license"]["category"] == "non-commercial"
    assert_noncommercial_error(result, report, "qwen-research")


def test_tongyi_qianwen_is_commercial_with_100m_mau_condition(tmp_path):
    result, report, c = scan_card(tmp_path, "Qwen__Qwen1.5-7B-Chat.md")
    assert c["license"]["effective"] == "tongyi-qianwen"
    assert c["license"]["category"] == "restricted"
    mau = _license_findings(report, "license.mau-threshold", "tongyi-qianwen")
    assert len(mau) == 1 and mau[0]["evidence"]["threshold"] == 100_000_000
    assert_no_errors(result, report)


def test_tongyi_qianwen_research_is_non_commercial(tmp_path):
    result, report, c = scan_card(tmp_path, "Qwen__Qwen1.5-0.5B.md")
    assert c["license"]["effective"] == "tongyi-qianwen-research"
    assert c["license"]["category"] == "non-commercial"
    assert_noncommercial_error(result, report, "tongyi-qianwen-research")


# --- DeepSeek -------------------------------------------------------------------------------


def test_deepseek(tmp_path):
    result, report, c = scan_card(tmp_path, "deepseek-ai__DeepSeek-V2-Lite-Chat.md")
    assert c["license"]["effective"] == "deepseek"
    assert c["license"]["category"] == "restricted"
    obligations = {
        f["evidence"]["obligation"]
        for f in _license_findings(report, "license.obligation", "deepseek")
    }
    assert "pass-on-use-restrictions" in obligations
    assert_no_errors(result, report)


@pytest.mark.parametrize(
    "card",
    [
        {
            "license": "other",
            "license_name": "deepseek",
            "base_model": "deepseek-ai/DeepSeek-V2-Lite",
        },
        # a fine-tune that declares nothing: the base's license comes from the offline catalogue
        {"base_model": "deepseek-ai/deepseek-coder-6.7b-base", "tags": ["fine-tuned"]},
    ],
    ids=["declared", "through-catalogue"],
)
def test_deepseek_derivative_gets_the_attachment_a_use_restrictions(tmp_path, card):
    _result, report, c = scan_card(tmp_path, card)
    assert "deepseek" in effective_keys(c["license"]["effective"])
    aup = _license_findings(report, "license.acceptable-use-policy", "deepseek")
    assert len(aup) == 1
    assert "Attachment A" in aup[0]["evidence"]["section"]
    assert "military" in aup[0]["message"]


# --- RAIL -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("card", "key"),
    [
        ("CompVis__stable-diffusion-v1-4.md", "creativeml-openrail-m"),
        ("Linaqruf__animagine-xl-2.0.md", "openrail++"),
        ({"license": "bigscience-openrail-m"}, "bigscience-openrail-m"),
        ({"license": "bigscience-bloom-rail-1.0"}, "bigscience-bloom-rail-1.0"),
        ({"license": "openrail"}, "openrail"),
        ({"license": "bigcode-openrail-m"}, "bigcode-openrail-m"),
    ],
    ids=[
        "creativeml-openrail-m",
        "openrail++",
        "bigscience-openrail-m",
        "bloom-rail",
        "openrail",
        "bigcode-openrail-m",
    ],
)
def test_rail_licenses_pass_on_use_restrictions(tmp_path, card, key):
    result, report, c = scan_card(tmp_path, card)
    assert c["license"]["effective"] == key
    assert c["license"]["category"] == "restricted"
    obligations = {
        f["evidence"]["obligation"] for f in _license_findings(report, "license.obligation", key)
    }
    assert "pass-on-use-restrictions" in obligations
    aup = _license_findings(report, "license.acceptable-use-policy", key)
    assert len(aup) == 1 and "attachment" in aup[0]["evidence"]["section"].lower()
    assert_no_errors(result, report)


# --- Stability ------------------------------------------------------------------------------


def test_stabilityai_community(tmp_path):
    result, report, c = scan_card(tmp_path, "rain1011__pyramid-flow-sd3.md")
    assert c["license"]["effective"] == "stabilityai-ai-community"
    assert c["license"]["category"] == "restricted"
    assert _license_findings(report, "license.acceptable-use-policy", "stabilityai-ai-community")
    texts = {
        f["evidence"].get("text")
        for f in _license_findings(report, "license.obligation", "stabilityai-ai-community")
    }
    assert "Powered by Stability AI" in texts
    assert_no_errors(result, report)


def test_stability_non_commercial_community(tmp_path):
    result, report, c = scan_card(
        tmp_path, {"license": "other", "license_name": "sai-nc-community"}
    )
    assert c["license"]["effective"] == "sai-nc-community"
    assert c["license"]["category"] == "non-commercial"
    assert_noncommercial_error(result, report, "sai-nc-community")


def test_stable_video_diffusion_community(tmp_path):
    result, report, c = scan_card(tmp_path, "stabilityai__stable-video-diffusion-img2vid-xt.md")
    assert c["license"]["effective"] == "stable-video-diffusion-community"
    assert_noncommercial_error(result, report, "stable-video-diffusion-community")


# --- Creative Commons non-commercial ----------------------------------------------------------


@pytest.mark.parametrize(
    ("card", "key"),
    [
        ("facebook__musicgen-small.md", "cc-by-nc-4.0"),
        ("facebook__nllb-200-distilled-600M.md", "cc-by-nc-4.0"),
        ({"license": "cc-by-nc-sa-4.0"}, "cc-by-nc-sa-4.0"),
        ({"license": "cc-by-nc-nd-4.0"}, "cc-by-nc-nd-4.0"),
    ],
    ids=["musicgen", "nllb-quoted", "nc-sa", "nc-nd"],
)
def test_cc_non_commercial(tmp_path, card, key):
    result, report, c = scan_card(tmp_path, card)
    assert c["license"]["effective"] == key
    assert c["license"]["category"] == "non-commercial"
    assert_noncommercial_error(result, report, key)


def test_cc_non_commercial_for_non_commercial_use_is_allowed(tmp_path):
    policy = "extends: default\ncontext:\n  commercial_use: false\n"
    result, report, c = scan_card(tmp_path, {"license": "cc-by-nc-4.0"}, policy=policy)
    assert c["license"]["effective"] == "cc-by-nc-4.0"
    assert findings(report, "license.noncommercial") == []
    assert_no_errors(result, report)


def test_cc_by_is_permissive(tmp_path):
    result, report, c = scan_card(tmp_path, {"license": "cc-by-4.0"})
    assert c["license"]["category"] == "permissive"
    assert_no_errors(result, report)


# --- copyleft -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "category"),
    [
        ("gpl-3.0", "strong-copyleft"),
        ("agpl-3.0", "strong-copyleft"),
        ("lgpl-3.0", "weak-copyleft"),
        ("mpl-2.0", "weak-copyleft"),
    ],
)
def test_copyleft_is_allowed_by_default_and_denied_by_permissive_only(tmp_path, key, category):
    result, report, c = scan_card(tmp_path / "default", {"license": key})
    assert c["license"]["effective"] == key
    assert c["license"]["category"] == category
    assert_no_errors(result, report)

    folder = make_model_dir(tmp_path / "strict", card={"license": key})
    result, report = scan_json(folder, args=["--policy", "permissive-only"])
    denied = _license_findings(report, "license.denied", key)
    assert len(denied) == 1 and denied[0]["severity"] == "error"
    assert result.exit_code == 1


# --- permissive -----------------------------------------------------------------------------


@pytest.mark.parametrize("key", ["apache-2.0", "mit", "bsd-3-clause", "cc0-1.0"])
def test_permissive_is_clean(tmp_path, key):
    result, report, c = scan_card(tmp_path, {"license": key})
    assert c["license"]["effective"] == key
    assert c["license"]["category"] == "permissive"
    assert_no_errors(result, report)
    assert [f for f in report["findings"] if f["severity"] == "warning"] == []
    assert findings(report, "license.noncommercial") == []
    assert findings(report, "license.mau-threshold") == []


def test_apache_mistral_gguf_card_is_clean(tmp_path):
    result, report, c = scan_card(tmp_path, "TheBloke__Mistral-7B-Instruct-v0.2-GGUF.md")
    assert c["license"]["effective"] == "apache-2.0"
    assert_no_errors(result, report)


# --- Mistral --------------------------------------------------------------------------------


def test_mistral_non_production_license(tmp_path):
    result, report, c = scan_card(
        tmp_path,
        {
            "license": "other",
            "license_name": "mnpl",
            "license_link": "https://mistral.ai/licences/MNPL-0.1.md",
        },
    )
    assert c["license"]["effective"] == "mnpl-0.1"
    assert c["license"]["category"] == "non-commercial"
    assert_noncommercial_error(result, report, "mnpl-0.1")


def test_mistral_research_license(tmp_path):
    result, report, c = scan_card(
        tmp_path,
        {
            "license": "other",
            "license_name": "mrl",
            "license_link": "https://mistral.ai/licenses/MRL-0.1.md",
        },
    )
    assert c["license"]["effective"] == "mrl-0.1"
    assert c["license"]["category"] == "research-only"
    hits = _license_findings(report, "license.research-only", "mrl-0.1")
    assert len(hits) == 1 and hits[0]["severity"] == "error"
    assert result.exit_code == 1


# --- Falcon ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("card", "key"),
    [
        (
            {
                "license": "other",
                "license_name": "falcon-180b-license",
                "license_link": "https://huggingface.co/spaces/tiiuae/falcon-180b-license/blob/main/LICENSE.txt",
            },
            "falcon-180b-tii-license-1.0",
        ),
        (
            {
                "license": "other",
                "license_name": "falcon-llm-license",
                "license_link": "https://falconllm.tii.ae/falcon-terms-and-conditions.html",
            },
            "tii-falcon-license-2.0",
        ),
    ],
    ids=["falcon-180b", "falcon-2.0"],
)
def test_falcon(tmp_path, card, key):
    result, report, c = scan_card(tmp_path, card)
    assert c["license"]["effective"] == key
    assert c["license"]["category"] == "restricted"
    assert _license_findings(report, "license.acceptable-use-policy", key)
    assert_no_errors(result, report)


# --- NVIDIA ---------------------------------------------------------------------------------


def test_nvidia_open_model_license(tmp_path):
    result, report, c = scan_card(
        tmp_path,
        {
            "license": "other",
            "license_name": "nvidia-open-model-license",
            "license_link": "https://developer.download.nvidia.com/licenses/nvidia-open-model-license-agreement-june-2024.pdf",
        },
    )
    assert c["license"]["effective"] == "nvidia-open-model-license"
    assert c["license"]["category"] == "restricted"
    assert _license_findings(report, "license.acceptable-use-policy", "nvidia-open-model-license")
    assert_no_errors(result, report)


# --- Meta DINOv3 / SAM ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("card", "key"),
    [
        (
            {
                "license": "other",
                "license_name": "dinov3-license",
                "license_link": "https://ai.meta.com/resources/models-and-libraries/dinov3-license",
            },
            "dinov3-license",
        ),
        ({"license": "other", "license_name": "sam-license"}, "sam-license"),
    ],
    ids=["dinov3", "sam"],
)
def test_meta_dinov3_and_sam(tmp_path, card, key):
    result, report, c = scan_card(tmp_path, card)
    assert c["license"]["effective"] == key
    assert c["license"]["category"] == "restricted"
    obligations = {
        f["evidence"]["obligation"] for f in _license_findings(report, "license.obligation", key)
    }
    assert "include-license" in obligations
    assert_no_errors(result, report)


# --- lineage, mismatch, missing, unresolved ---------------------------------------------------


def test_conflict_with_base_in_the_same_scan(tmp_path):
    hub = tmp_path / "hub"
    _, commit = make_hf_cache(hub, "meta-llama/Llama-2-7b-hf", model_repo_files("llama2"))
    folder = make_model_dir(
        tmp_path,
        "laundered",
        card={"license": "apache-2.0", "base_model": "meta-llama/Llama-2-7b-hf"},
    )
    result, report = scan_json(folder, hub)
    tune = component(report, "laundered")
    assert "llama2" in effective_keys(tune["license"]["effective"])
    assert tune["license"]["category"] == "restricted"
    conflicts = findings(report, "license.conflict-with-base", component=tune["ref"])
    assert len(conflicts) == 1
    conflict = conflicts[0]
    assert conflict["severity"] == "error"
    assert conflict["evidence"]["inherited"] == "llama2"
    assert conflict["evidence"]["base_models"] == ["meta-llama/Llama-2-7b-hf"]
    chain = conflict["evidence"]["chain"]
    assert chain and any(f"model:hf/meta-llama/Llama-2-7b-hf@{commit}" in link for link in chain)
    assert any(e["source"].startswith("base model") for e in tune["license"]["evidence"])
    assert result.exit_code == 1
    base = component(report, "meta-llama/Llama-2-7b-hf")
    assert findings(report, "license.conflict-with-base", component=base["ref"]) == []


def test_same_license_as_base_is_no_conflict(tmp_path):
    hub = tmp_path / "hub"
    make_hf_cache(hub, "meta-llama/Llama-2-7b-hf", model_repo_files("llama2"))
    folder = make_model_dir(
        tmp_path, "tune", card={"license": "llama2", "base_model": "meta-llama/Llama-2-7b-hf"}
    )
    result, report = scan_json(folder, hub)
    assert findings(report, "license.conflict-with-base") == []
    assert_no_errors(result, report)


def test_permissive_over_permissive_base_is_no_conflict(tmp_path):
    hub = tmp_path / "hub"
    make_hf_cache(hub, "mistralai/Mistral-7B-v0.1", model_repo_files("apache-2.0"))
    folder = make_model_dir(tmp_path, "zephyr", card=None)
    shutil.copyfile(CARDS / "HuggingFaceH4__zephyr-7b-beta.md", folder / "README.md")
    result, report = scan_json(folder, hub)
    assert component(report, "zephyr")["license"]["effective"] == "mit"
    assert findings(report, "license.conflict-with-base") == []
    assert_no_errors(result, report)


def test_mismatch_between_card_and_license_file(tmp_path):
    _result, report, c = scan_card(
        tmp_path, {"license": "apache-2.0"}, license_text=(LICENSE_TEXTS / "llama3.txt").read_text()
    )
    assert c["license"]["declared"] == ["apache-2.0"]
    assert c["license"]["detected"] == ["llama3"]
    assert effective_keys(c["license"]["effective"]) == {"apache-2.0", "llama3"}
    mismatch = findings(report, "license.mismatch")
    assert len(mismatch) == 1
    assert mismatch[0]["evidence"]["declared"] == ["apache-2.0"]
    assert mismatch[0]["evidence"]["detected"] == ["llama3"]


def test_license_file_agreeing_with_card_is_no_mismatch(tmp_path):
    result, report, c = scan_card(
        tmp_path, {"license": "llama3"}, license_text=(LICENSE_TEXTS / "llama3.txt").read_text()
    )
    assert c["license"]["detected"] == ["llama3"]
    assert findings(report, "license.mismatch") == []
    assert_no_errors(result, report)


def test_license_file_alone_is_enough(tmp_path):
    _result, report, c = scan_card(
        tmp_path,
        {"pipeline_tag": "text-generation"},
        license_text=(LICENSE_TEXTS / "mit.txt").read_text(),
    )
    assert c["license"]["effective"] == "mit"
    assert findings(report, "license.missing") == []


def test_missing_license(tmp_path):
    result, report, c = scan_card(tmp_path, "NousResearch__Llama-2-7b-hf.md")
    assert c["license"]["declared"] == []
    assert c["license"]["effective"] is None
    assert c["license"]["category"] == "unknown"
    missing = findings(report, "license.missing")
    assert len(missing) == 1 and missing[0]["severity"] == "error"
    assert result.exit_code == 1


def test_missing_card_means_missing_license(tmp_path):
    result, report, _c = scan_card(tmp_path, None)
    assert findings(report, "license.missing")
    assert findings(report, "provenance.card-missing")
    assert result.exit_code == 1


def test_license_other_without_name_is_unresolved(tmp_path):
    _result, report, c = scan_card(tmp_path, {"license": "other"})
    assert c["license"]["effective"] is None
    assert c["license"]["category"] == "unknown"
    unresolved = findings(report, "license.unresolved")
    assert len(unresolved) == 1 and unresolved[0]["severity"] == "warning"
    assert findings(report, "license.missing") == []


def test_unknown_license_name_is_unresolved(tmp_path):
    _result, report, _c = scan_card(
        tmp_path, {"license": "other", "license_name": "acme-secret-license-7"}
    )
    unresolved = findings(report, "license.unresolved")
    assert len(unresolved) == 1
    assert "acme-secret-license-7" in unresolved[0]["message"]


# --- policy lists -----------------------------------------------------------------------------


def test_deny_list(tmp_path):
    policy = "extends: default\nlicenses:\n  deny: [Apache-2.0]\n"
    result, report, _c = scan_card(tmp_path, {"license": "apache-2.0"}, policy=policy)
    denied = _license_findings(report, "license.denied", "apache-2.0")
    assert len(denied) == 1 and denied[0]["severity"] == "error"
    assert result.exit_code == 1


def test_deny_categories(tmp_path):
    policy = "extends: default\nlicenses:\n  deny_categories: [restricted]\n"
    result, report, _c = scan_card(tmp_path, {"license": "gemma"}, policy=policy)
    denied = _license_findings(report, "license.denied", "gemma")
    assert len(denied) == 1 and denied[0]["evidence"]["category"] == "restricted"
    assert result.exit_code == 1


def test_allow_list(tmp_path):
    policy = "extends: default\nlicenses:\n  allow: [mit]\n"
    result, report, _ = scan_card(tmp_path / "a", {"license": "apache-2.0"}, policy=policy)
    assert _license_findings(report, "license.denied", "apache-2.0")
    assert result.exit_code == 1
    result, report, _ = scan_card(tmp_path / "b", {"license": "mit"}, policy=policy)
    assert findings(report, "license.denied") == []
    assert result.exit_code == 0


# --- context.uses ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("license_key", "uses", "restricted"),
    [
        ("llama2", ["distillation"], ["distillation"]),
        ("llama3", ["fine-tuning", "synthetic-data"], ["synthetic-data"]),
        ("llama3.1", ["distillation"], []),  # 3.1 dropped the no-improving-other-models clause
        ("llama2", ["fine-tuning", "inference"], []),
    ],
)
def test_declared_uses_are_judged_against_restrictions(tmp_path, license_key, uses, restricted):
    policy = f"extends: default\ncontext:\n  uses: [{', '.join(uses)}]\n"
    result, report, _ = scan_card(tmp_path, {"license": license_key}, policy=policy)
    hits = findings(report, "license.use-restricted")
    if not restricted:
        assert hits == []
        return
    (hit,) = hits
    assert hit["severity"] == "error" and result.exit_code == 1
    assert hit["evidence"]["uses"] == restricted
    assert hit["evidence"]["restriction"] == "no-improving-other-models"
    assert hit["evidence"]["section"] == "1.b.v"


def test_unknown_use_is_a_usage_error(tmp_path):
    folder = make_model_dir(tmp_path, "model")
    policy = write_policy(tmp_path / "p.yaml", "context:\n  uses: [world-domination]\n")
    result = run_cli("scan", folder, "--policy", policy)
    assert result.exit_code == 2
    assert "world-domination" in result.stderr and "distillation" in result.stderr
