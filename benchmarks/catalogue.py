"""How well the offline catalogue (`licenses/models.yaml`) knows the license of well-known models.

Goal (issue: license engine): at least 98 % of the repos below right and none wrong. The truth
is what each repo's own model card declares (`license:`, or `license: other` with
`license_name`), written next to the repo id with where it was read:

- `card`: the repo's own card in a December 2024 scrape of Hub cards, the public GitHub
  repository YinanWusoymilk/hf-readme at eb4de03 (`training_and_application/readme_files/`);
- `copy of <repo>`: the publisher's card is gated, so its front matter was read from a re-upload
  in the same scrape that copies it and names the repo as `base_model`;
- `github:` a public copy of the card's front matter found in other GitHub repositories;
- `license file`: the card declares nothing machine-readable and links the license file named.

`NOT_CATALOGUED` lists re-uploads and look-alikes the catalogue must not claim (a re-upload
under another org whose card says nothing is not the publisher's model as far as a card goes,
and google/flan-t5 is not Gemma): a match there counts as wrong. A repo whose card declares a
license the knowledge base lacks is truth `""`: catalogued, it would be wrong.

Run: `python benchmarks/catalogue.py [--show]`. Exit status 1 when a goal is missed.
"""

from __future__ import annotations

import argparse
import sys

from scanner.licensing.catalogue import default_catalogue

# (repo id as written on the Hub, the knowledge-base key its card's declaration names, the card's declaration and source)
TRUTH: tuple[tuple[str, str, str], ...] = (
    # --- Meta ------------------------------------------------------------------------------------
    ("huggyllama/llama-7b", "llama1", "license: other, 'under a non-commercial license' (card)"),
    ("huggyllama/llama-13b", "llama1", "license: other, LLaMA non-commercial license (card)"),
    ("huggyllama/llama-65b", "llama1", "license: other, LLaMA non-commercial license (card)"),
    ("meta-llama/Llama-2-7b-hf", "llama2", "llama2 (copy of TheBloke/Llama-2-7B-GGUF)"),
    ("meta-llama/Llama-2-13b-hf", "llama2", "llama2 (copy of TheBloke/Llama-2-13B-GPTQ)"),
    ("meta-llama/Llama-2-70b-hf", "llama2", "llama2 (copy of TheBloke/Llama-2-70B-GPTQ)"),
    ("meta-llama/Llama-2-7b-chat-hf", "llama2", "llama2 (copy of TheBloke/Llama-2-7B-Chat-GGUF)"),
    ("meta-llama/Llama-2-13b-chat-hf", "llama2", "llama2 (copy of TheBloke/Llama-2-13B-chat-GGUF)"),
    ("meta-llama/Llama-2-70b-chat-hf", "llama2", "llama2 (copy of TheBloke/Llama-2-70B-Chat-GGUF)"),
    ("codellama/CodeLlama-7b-hf", "llama2", "llama2 (card)"),
    ("codellama/CodeLlama-7b-Instruct-hf", "llama2", "llama2 (card)"),
    ("codellama/CodeLlama-7b-Python-hf", "llama2", "llama2 (card)"),
    ("codellama/CodeLlama-13b-hf", "llama2", "llama2 (card)"),
    ("codellama/CodeLlama-13b-Instruct-hf", "llama2", "llama2 (card)"),
    ("codellama/CodeLlama-34b-hf", "llama2", "llama2 (card)"),
    ("codellama/CodeLlama-34b-Instruct-hf", "llama2", "llama2 (card)"),
    ("codellama/CodeLlama-34b-Python-hf", "llama2", "llama2 (card)"),
    ("codellama/CodeLlama-70b-hf", "llama2", "llama2 (card)"),
    ("codellama/CodeLlama-70b-Instruct-hf", "llama2", "llama2 (card)"),
    (
        "meta-llama/Meta-Llama-3-8B",
        "llama3",
        "other/llama3 (copy of QuantFactory/Meta-Llama-3-8B-GGUF)",
    ),
    ("meta-llama/Meta-Llama-3-70B", "llama3", "llama3 (copy of Groq/Llama-3-Groq-70B-Tool-Use)"),
    (
        "meta-llama/Meta-Llama-3-8B-Instruct",
        "llama3",
        "llama3 (copy of lmstudio-community/Meta-Llama-3-8B-Instruct-GGUF)",
    ),
    (
        "meta-llama/Meta-Llama-3-70B-Instruct",
        "llama3",
        "llama3 (copy of shenzhi-wang/Llama3-70B-Chinese-Chat)",
    ),
    (
        "meta-llama/Meta-Llama-3.1-8B",
        "llama3.1",
        "llama3.1 (copy of unsloth/Meta-Llama-3.1-8B-bnb-4bit)",
    ),
    (
        "meta-llama/Meta-Llama-3.1-8B-Instruct",
        "llama3.1",
        "llama3.1 (copy of bartowski/Meta-Llama-3.1-8B-Instruct-GGUF)",
    ),
    (
        "meta-llama/Meta-Llama-3.1-70B-Instruct",
        "llama3.1",
        "llama3.1 (copy of bartowski/Meta-Llama-3.1-70B-Instruct-GGUF)",
    ),
    (
        "meta-llama/Meta-Llama-3.1-405B-Instruct",
        "llama3.1",
        "llama3.1 (copy of MaziyarPanahi/Meta-Llama-3.1-405B-Instruct-GGUF)",
    ),
    ("meta-llama/Llama-3.2-1B", "llama3.2", "llama3.2 (copy of unsloth/Llama-3.2-1B-bnb-4bit)"),
    ("meta-llama/Llama-3.2-3B", "llama3.2", "llama3.2 (copy of unsloth/Llama-3.2-3B-bnb-4bit)"),
    (
        "meta-llama/Llama-3.2-1B-Instruct",
        "llama3.2",
        "llama3.2 (copy of unsloth/Llama-3.2-1B-Instruct)",
    ),
    (
        "meta-llama/Llama-3.2-3B-Instruct",
        "llama3.2",
        "llama3.2 (copy of unsloth/Llama-3.2-3B-Instruct)",
    ),
    (
        "meta-llama/Llama-3.2-11B-Vision-Instruct",
        "llama3.2",
        "llama3.2 (copy of unsloth/Llama-3.2-11B-Vision-Instruct)",
    ),
    # --- Mistral AI -----------------------------------------------------------------------------
    (
        "mistralai/Mistral-7B-v0.1",
        "apache-2.0",
        "apache-2.0 (copy of TheBloke/Mistral-7B-v0.1-GGUF)",
    ),
    (
        "mistralai/Mistral-7B-Instruct-v0.1",
        "apache-2.0",
        "apache-2.0 (copy of TheBloke/Mistral-7B-Instruct-v0.1-GGUF)",
    ),
    (
        "mistralai/Mistral-7B-Instruct-v0.2",
        "apache-2.0",
        "apache-2.0 (copy of TheBloke/Mistral-7B-Instruct-v0.2-GGUF)",
    ),
    (
        "mistralai/Mistral-7B-Instruct-v0.3",
        "apache-2.0",
        "apache-2.0 (copy of SanctumAI/Mistral-7B-Instruct-v0.3-GGUF)",
    ),
    (
        "mistralai/Mixtral-8x7B-v0.1",
        "apache-2.0",
        "apache-2.0 (copy of TheBloke/Mixtral-8x7B-v0.1-GGUF)",
    ),
    (
        "mistralai/Mixtral-8x7B-Instruct-v0.1",
        "apache-2.0",
        "apache-2.0 (copy of TheBloke/Mixtral-8x7B-Instruct-v0.1-GGUF)",
    ),
    (
        "mistralai/Mistral-Nemo-Base-2407",
        "apache-2.0",
        "apache-2.0 (copy of cognitivecomputations/dolphin-2.9.3-mistral-nemo-12b)",
    ),
    (
        "mistralai/Mistral-Nemo-Instruct-2407",
        "apache-2.0",
        "apache-2.0 (copy of mradermacher/Mistral-Nemo-Instruct-2407-GGUF)",
    ),
    (
        "mistralai/Codestral-22B-v0.1",
        "mnpl-0.1",
        "other/mnpl (copy of bartowski/Codestral-22B-v0.1-GGUF)",
    ),
    (
        "mistralai/Mistral-Small-Instruct-2409",
        "mrl-0.1",
        "other/mrl (copy of bartowski/Mistral-Small-Instruct-2409-GGUF)",
    ),
    (
        "mistralai/Mistral-Large-Instruct-2407",
        "mrl-0.1",
        "other/mrl (github: bartowski/Mistral-Large-Instruct-2407-GGUF card)",
    ),
    (
        "mistralai/Ministral-8B-Instruct-2410",
        "mrl-0.1",
        "other/mrl (github: bartowski/Ministral-8B-Instruct-2410-GGUF card)",
    ),
    # --- Google ---------------------------------------------------------------------------------
    ("google/gemma-2-2b-it", "gemma", "gemma (copy of bartowski/gemma-2-2b-it-GGUF)"),
    ("google/gemma-2-9b-it", "gemma", "gemma (copy of bartowski/gemma-2-9b-it-GGUF)"),
    ("google/gemma-2-27b-it", "gemma", "gemma (copy of bartowski/gemma-2-27b-it-GGUF)"),
    (
        "google/gemma-3-1b-it",
        "gemma",
        "gemma (github: fine-tune cards copying google/gemma-3-1b-it)",
    ),
    (
        "google/gemma-3-27b-it",
        "gemma",
        "gemma (github: fine-tune cards copying google/gemma-3-27b-it)",
    ),
    ("google/gemma-scope", "cc-by-4.0", "cc-by-4.0 (card)"),
    # --- Qwen -----------------------------------------------------------------------------------
    ("Qwen/Qwen-7B", "tongyi-qianwen", "other/tongyi-qianwen-license-agreement (card)"),
    ("Qwen/Qwen-7B-Chat", "tongyi-qianwen", "other/tongyi-qianwen-license-agreement (card)"),
    ("Qwen/Qwen-72B", "tongyi-qianwen", "other/tongyi-qianwen-license-agreement (card)"),
    ("Qwen/Qwen-72B-Chat", "tongyi-qianwen", "other/tongyi-qianwen (card)"),
    ("Qwen/Qwen1.5-0.5B", "tongyi-qianwen-research", "other/tongyi-qianwen-research (card)"),
    ("Qwen/Qwen1.5-0.5B-Chat", "tongyi-qianwen-research", "other/tongyi-qianwen-research (card)"),
    ("Qwen/Qwen1.5-1.8B", "tongyi-qianwen-research", "other/tongyi-qianwen-research (card)"),
    ("Qwen/Qwen1.5-7B", "tongyi-qianwen", "other/tongyi-qianwen (card)"),
    ("Qwen/Qwen1.5-7B-Chat", "tongyi-qianwen", "other/tongyi-qianwen (card)"),
    ("Qwen/Qwen1.5-14B-Chat", "tongyi-qianwen", "other/tongyi-qianwen (card)"),
    ("Qwen/Qwen1.5-32B", "tongyi-qianwen-research", "other/tongyi-qianwen-research (card)"),
    ("Qwen/Qwen1.5-32B-Chat", "tongyi-qianwen", "other/tongyi-qianwen (card)"),
    ("Qwen/Qwen1.5-72B", "tongyi-qianwen", "other/tongyi-qianwen (card)"),
    ("Qwen/Qwen1.5-110B-Chat", "tongyi-qianwen", "other/tongyi-qianwen (card)"),
    ("Qwen/Qwen1.5-MoE-A2.7B", "tongyi-qianwen", "other/tongyi-qianwen (card)"),
    ("Qwen/CodeQwen1.5-7B", "tongyi-qianwen-research", "other/tongyi-qianwen-research (card)"),
    ("Qwen/CodeQwen1.5-7B-Chat", "tongyi-qianwen", "other/tongyi-qianwen (card)"),
    ("Qwen/Qwen2-0.5B", "apache-2.0", "apache-2.0 (card)"),
    ("Qwen/Qwen2-7B-Instruct", "apache-2.0", "apache-2.0 (card)"),
    ("Qwen/Qwen2-57B-A14B-Instruct", "apache-2.0", "apache-2.0 (card)"),
    ("Qwen/Qwen2-72B", "tongyi-qianwen", "other/tongyi-qianwen (card)"),
    ("Qwen/Qwen2-72B-Instruct", "tongyi-qianwen", "other/tongyi-qianwen (card)"),
    ("Qwen/Qwen2-Math-72B-Instruct", "tongyi-qianwen", "other/tongyi-qianwen (card)"),
    ("Qwen/Qwen2-VL-7B-Instruct", "apache-2.0", "apache-2.0 (card)"),
    ("Qwen/Qwen2-VL-72B-Instruct", "tongyi-qianwen", "other/tongyi-qianwen (card)"),
    ("Qwen/Qwen2.5-0.5B", "apache-2.0", "apache-2.0 (card)"),
    ("Qwen/Qwen2.5-7B-Instruct", "apache-2.0", "apache-2.0 (card)"),
    ("Qwen/Qwen2.5-14B", "apache-2.0", "apache-2.0 (card)"),
    ("Qwen/Qwen2.5-32B-Instruct", "apache-2.0", "apache-2.0 (card)"),
    ("Qwen/Qwen2.5-3B", "qwen-research", "other/qwen-research (card)"),
    ("Qwen/Qwen2.5-3B-Instruct", "qwen-research", "other/qwen-research (card)"),
    ("Qwen/Qwen2.5-3B-Instruct-GGUF", "qwen-research", "other/qwen-research (card)"),
    ("Qwen/Qwen2.5-72B-Instruct", "qwen", "other/qwen (card)"),
    ("Qwen/Qwen2.5-72B-Instruct-AWQ", "qwen", "other/qwen (card)"),
    ("Qwen/Qwen2.5-Coder-7B-Instruct", "apache-2.0", "apache-2.0 (card)"),
    ("Qwen/Qwen2.5-Math-7B-Instruct", "apache-2.0", "apache-2.0 (card)"),
    # --- DeepSeek -------------------------------------------------------------------------------
    ("deepseek-ai/deepseek-llm-7b-chat", "deepseek", "other/deepseek (card)"),
    ("deepseek-ai/deepseek-llm-67b-base", "deepseek", "other/deepseek (card)"),
    ("deepseek-ai/deepseek-coder-6.7b-base", "deepseek", "other/deepseek-license (card)"),
    ("deepseek-ai/deepseek-coder-33b-instruct", "deepseek", "other/deepseek (card)"),
    ("deepseek-ai/deepseek-moe-16b-base", "deepseek", "other/deepseek (card)"),
    ("deepseek-ai/deepseek-math-7b-instruct", "deepseek", "other/deepseek (card)"),
    ("deepseek-ai/deepseek-vl-7b-chat", "deepseek", "other/deepseek (card)"),
    ("deepseek-ai/DeepSeek-V2", "deepseek", "other/deepseek (card)"),
    ("deepseek-ai/DeepSeek-V2-Lite-Chat", "deepseek", "other/deepseek (card)"),
    ("deepseek-ai/DeepSeek-V2.5", "deepseek", "other/deepseek (card)"),
    ("deepseek-ai/DeepSeek-Coder-V2-Instruct", "deepseek", "other/deepseek-license (card)"),
    ("deepseek-ai/DeepSeek-Coder-V2-Lite-Instruct", "deepseek", "other/deepseek-license (card)"),
    # --- IBM ------------------------------------------------------------------------------------
    ("ibm-granite/granite-3b-code-base-2k", "apache-2.0", "apache-2.0 (card)"),
    ("ibm-granite/granite-8b-code-instruct-4k", "apache-2.0", "apache-2.0 (card)"),
    ("ibm-granite/granite-34b-code-instruct-8k", "apache-2.0", "apache-2.0 (card)"),
    ("ibm-granite/granite-7b-instruct", "apache-2.0", "apache-2.0 (card)"),
    # --- TII ------------------------------------------------------------------------------------
    ("tiiuae/falcon-7b", "apache-2.0", "apache-2.0 (card)"),
    ("tiiuae/falcon-7b-instruct", "apache-2.0", "apache-2.0 (card)"),
    ("tiiuae/falcon-40b", "apache-2.0", "apache-2.0 (card)"),
    ("tiiuae/falcon-rw-1b", "apache-2.0", "apache-2.0 (card)"),
    (
        "tiiuae/falcon-11B",
        "falcon-2-11b-tii-license-1.0",
        "unknown; links falcon-2-terms-and-conditions.html (card)",
    ),
    (
        "tiiuae/falcon-180B-chat",
        "falcon-180b-tii-license-1.0",
        "unknown; Falcon-180B TII License (copy of TheBloke/Falcon-180B-Chat-GGUF)",
    ),
    (
        "tiiuae/Falcon3-1B-Base",
        "tii-falcon-license-2.0",
        "other/falcon-llm-license (github: Falcon3-1B-Instruct card)",
    ),
    (
        "tiiuae/Falcon3-10B-Base",
        "tii-falcon-license-2.0",
        "other/falcon-llm-license (github: Falcon3-10B-Instruct card)",
    ),
    (
        "tiiuae/Falcon3-3B-Instruct",
        "tii-falcon-license-2.0",
        "other/falcon-llm-license (github: card copy)",
    ),
    (
        "tiiuae/Falcon-H1-7B-Base",
        "tii-falcon-license-2.0",
        "other/falcon-llm-license (github: Falcon-H1-7B-Instruct card)",
    ),
    # --- Microsoft ------------------------------------------------------------------------------
    ("microsoft/phi-1", "mit", "mit (card)"),
    ("microsoft/phi-1_5", "mit", "mit (card)"),
    ("microsoft/phi-2", "mit", "mit (card)"),
    ("microsoft/Phi-3-mini-4k-instruct", "mit", "mit (card)"),
    ("microsoft/Phi-3-mini-4k-instruct-gguf", "mit", "mit (card)"),
    ("microsoft/Phi-3-medium-128k-instruct", "mit", "mit (card)"),
    ("microsoft/Phi-3-vision-128k-instruct", "mit", "mit (card)"),
    ("microsoft/Phi-3.5-mini-instruct", "mit", "mit (card)"),
    ("microsoft/Phi-3.5-MoE-instruct", "mit", "mit (card)"),
    # --- Stability AI ---------------------------------------------------------------------------
    ("CompVis/stable-diffusion-v1-4", "creativeml-openrail-m", "creativeml-openrail-m (card)"),
    (
        "stable-diffusion-v1-5/stable-diffusion-v1-5",
        "creativeml-openrail-m",
        "creativeml-openrail-m (card)",
    ),
    (
        "stable-diffusion-v1-5/stable-diffusion-inpainting",
        "creativeml-openrail-m",
        "creativeml-openrail-m (card)",
    ),
    ("stabilityai/stable-diffusion-2-1", "openrail++", "openrail++ (card)"),
    ("stabilityai/stable-diffusion-2-base", "openrail++", "openrail++ (card)"),
    ("stabilityai/stable-diffusion-x4-upscaler", "openrail++", "openrail++ (card)"),
    ("stabilityai/sd-x2-latent-upscaler", "openrail++", "openrail++ (card)"),
    ("stabilityai/stable-diffusion-xl-base-1.0", "openrail++", "openrail++ (card)"),
    ("stabilityai/stable-diffusion-xl-refiner-1.0", "openrail++", "openrail++ (card)"),
    ("stabilityai/stable-diffusion-xl-1.0-tensorrt", "openrail++", "openrail++ (card)"),
    ("stabilityai/sdxl-turbo", "sai-nc-community", "other/sai-nc-community (card)"),
    ("stabilityai/stable-zero123", "sai-nc-community", "other/sai-nc-community (card)"),
    (
        "stabilityai/stable-diffusion-3-medium",
        "stabilityai-ai-community",
        "other/stabilityai-ai-community (copy of second-state/stable-diffusion-3-medium-GGUF)",
    ),
    (
        "stabilityai/stable-video-diffusion-img2vid",
        "stable-video-diffusion-community",
        "other/stable-video-diffusion-community (card)",
    ),
    (
        "stabilityai/stable-video-diffusion-img2vid-xt",
        "stable-video-diffusion-community",
        "other/stable-video-diffusion-community (card)",
    ),
    ("stabilityai/sd-vae-ft-mse", "mit", "mit (card)"),
    ("stabilityai/sdxl-vae", "mit", "mit (card)"),
    # --- Black Forest Labs ----------------------------------------------------------------------
    ("black-forest-labs/FLUX.1-schnell", "apache-2.0", "apache-2.0 (card)"),
    (
        "black-forest-labs/FLUX.1-dev",
        "flux-1-dev-non-commercial-license",
        "other/flux-1-dev-non-commercial-license (copy of city96/FLUX.1-dev-gguf)",
    ),
    (
        "black-forest-labs/FLUX.1-Krea-dev",
        "flux-1-dev-non-commercial-license",
        "other/flux-1-dev-non-commercial-license (github: card copy)",
    ),
    # --- NVIDIA ---------------------------------------------------------------------------------
    (
        "nvidia/Nemotron-4-340B-Instruct",
        "nvidia-open-model-license",
        "other/nvidia-open-model-license (card)",
    ),
    (
        "nvidia/Nemotron-4-340B-Base",
        "nvidia-open-model-license",
        "other/nvidia-open-model-license (card)",
    ),
    (
        "nvidia/Minitron-4B-Base",
        "nvidia-open-model-license",
        "other/nvidia-open-model-license (card)",
    ),
    (
        "nvidia/Llama-3.1-Minitron-4B-Width-Base",
        "nvidia-open-model-license",
        "other/nvidia-open-model-license (card)",
    ),
    (
        "nvidia/Mistral-NeMo-Minitron-8B-Base",
        "nvidia-open-model-license",
        "other/nvidia-open-model-license (card)",
    ),
    (
        "nvidia/Llama-3_1-Nemotron-51B-Instruct",
        "nvidia-open-model-license",
        "other/nvidia-open-model-license (card)",
    ),
    ("nvidia/Llama3-ChatQA-1.5-8B", "llama3", "llama3 (card)"),
    ("nvidia/Mistral-NeMo-12B-Instruct", "apache-2.0", "apache-2.0 (card)"),
    ("nvidia/NV-Embed-v2", "cc-by-nc-4.0", "cc-by-nc-4.0 (card)"),
    ("nvidia/NVLM-D-72B", "cc-by-nc-4.0", "cc-by-nc-4.0 (card)"),
    # --- Stability StableLM 2 chat, Playground, FAIPL-1.0-SD anime models ---------------------
    (
        "stabilityai/stablelm-2-12b-chat",
        "stability-ai-nc-2023-12-06",
        "other + 'StabilityAI Non-Commercial Research Community License' (card); its LICENSE is "
        "ScanCode's stability-ai-nc-2023-12-06",
    ),
    (
        "stabilityai/stablelm-2-zephyr-1_6b",
        "stability-ai-nc-2023-12-06",
        "other + 'StabilityAI Non-Commercial Research Community License', the LICENSE "
        "stablelm-2-12b-chat's card links (card)",
    ),
    (
        "stabilityai/stable-cascade",
        "stable-cascade-nc-community",
        "other/stable-cascade-nc-community (card)",
    ),
    (
        "playgroundai/playground-v2-1024px-aesthetic",
        "playground-v2-community",
        "other/playground-v2-community (card)",
    ),
    ("cagliostrolab/animagine-xl-3.1", "fair-ai-public-1.0-sd", "other/faipl-1.0-sd (card)"),
    ("Linaqruf/animagine-xl-3.0", "fair-ai-public-1.0-sd", "other/faipl-1.0-sd (card)"),
    (
        "OnomaAIResearch/Illustrious-xl-early-release-v0",
        "fair-ai-public-1.0-sd",
        "other/fair-ai-public-license-1.0-sd (card)",
    ),
    (
        "KBlueLeaf/Kohaku-XL-Delta",
        "fair-ai-public-1.0-sd",
        "other/fair-ai-public-license-1.0-sd (card)",
    ),
    # --- publishers' own licenses from ScanCode's database (license file: ScanCode's homepage) -
    (
        "moonshotai/Kimi-K2-Instruct",
        "moonshot-ai-modified-mit-2025",
        "other/modified-mit (github: card copies); license file: ScanCode's "
        "moonshot-ai-modified-mit-2025 is this repo's LICENSE",
    ),
    (
        "moonshotai/Kimi-K2-Base",
        "moonshot-ai-modified-mit-2025",
        "other/modified-mit; code and weights under the same Modified MIT License",
    ),
    (
        "LGAI-EXAONE/EXAONE-Deep-32B",
        "exaone-ai-model-1.1-nc",
        "other/exaone; license file: ScanCode's exaone-ai-model-1.1-nc is this repo's LICENSE",
    ),
    (
        "LGAI-EXAONE/EXAONE-Deep-7.8B-GGUF",
        "exaone-ai-model-1.1-nc",
        "other/exaone (github: card copy), LGAI's own quantization of EXAONE-Deep-7.8B",
    ),
    (
        "facebook/chameleon-7b",
        "chameleon-research-2024",
        "license file: ScanCode's chameleon-research-2024 is this repo's LICENSE",
    ),
    (
        "naver-hyperclovax/HyperCLOVAX-SEED-Vision-Instruct-3B",
        "hyperclova-x-seed-2025",
        "other/hyperclovax-seed (github: card copy); license file: ScanCode's "
        "hyperclova-x-seed-2025 is this repo's LICENSE",
    ),
    (
        "naver-hyperclovax/HyperCLOVAX-SEED-Text-Instruct-1.5B",
        "hyperclova-x-seed-2025",
        "other/hyperclovax-seed (github: card copy)",
    ),
    (
        "tencent/Hunyuan3D-2",
        "tencent-hunyuan-3d-2.0-cla",
        "other/tencent-hunyuan-community, license_link LICENSE.txt (github: card copy); the "
        "Tencent Hunyuan 3D 2.0 Community License Agreement",
    ),
    # --- declared under licenses the knowledge base lacks: catalogued they would be wrong -------
    (
        "tiiuae/falcon-mamba-7b",
        "",
        "other/falcon-mamba-7b-license: no text found, not in the knowledge base (card)",
    ),
    (
        "nvidia/Nemotron-Mini-4B-Instruct",
        "",
        "other/nvidia-community-model-license: not in the knowledge base (card)",
    ),
    (
        "playgroundai/playground-v2.5-1024px-aesthetic",
        "",
        "other/playground-v2dot5-community: not in the knowledge base (card)",
    ),
    (
        "Tencent-Hunyuan/HunyuanDiT",
        "",
        "other/tencent-hunyuan-community: the HunyuanDiT agreement, not in the knowledge base (card)",
    ),
)

NOT_CATALOGUED: tuple[str, ...] = (
    "NousResearch/Llama-2-7b-hf",  # re-upload whose card declares no license
    "TheBloke/Llama-2-7B-Chat-GGUF",  # a derivative has its own card
    "acme/llama-2-7b-finetune",
    "google/flan-t5-base",  # apache-2.0, not Gemma
    "google/medgemma-4b-it",  # Health AI Developer Foundations terms, not the Gemma Terms of Use
    "microsoft/Orca-2-7b",  # microsoft-research-license, not Phi's MIT
    "stabilityai/stablelm-2-1_6b",  # Stability AI non-commercial/membership terms, not catalogued
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--show", action="store_true", help="list every wrong and missing repo")
    args = parser.parse_args(argv)
    catalogue = default_catalogue()
    right, wrong, missing = [], [], []
    for repo, truth, source in TRUTH:
        family = catalogue.lookup(repo)
        found = family.license if family is not None else ""
        if found == truth:
            right.append(repo)
        elif not found:
            missing.append(f"{repo}: catalogue has nothing, card declares {source}")
        else:
            wrong.append(f"{repo}: catalogue says {found}, card declares {source}")
    for repo in NOT_CATALOGUED:
        family = catalogue.lookup(repo)
        if family is not None:
            wrong.append(f"{repo}: must not be catalogued, catalogue says {family.license}")
    resolvable = sum(1 for _, truth, _ in TRUTH if truth)
    right_resolvable = sum(1 for repo, truth, _ in TRUTH if truth and repo in right)
    share = 100 * right_resolvable / resolvable
    print(
        f"catalogue: {resolvable} repos whose card names a known license: {share:.1f} % right, "
        f"{len(missing)} missing; {len(wrong)} wrong of {len(TRUTH) + len(NOT_CATALOGUED)} cases "
        f"(with {len(TRUTH) - resolvable} under licenses the knowledge base lacks and "
        f"{len(NOT_CATALOGUED)} that must stay uncatalogued)"
    )
    if args.show:
        for line in wrong + missing:
            print("  " + line)
    return 0 if share >= 98 and not wrong else 1


if __name__ == "__main__":
    sys.exit(main())
