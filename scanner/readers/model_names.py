"""Tells what a model name found in code or a deployment file names: a hosted API's model, a
Hugging Face id, or an Ollama library name.

Code and deployment files name models as bare strings (`gpt-4o`, `meta-llama/Llama-3.1-8B`,
`llama3.1:8b`, `openai/gpt-4o` for LiteLLM). Which of them are open weights, whose license
lineage applies, and which are a provider's hosted models, which become services, follows
from the names' shapes, which the providers themselves fix.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

_HOSTED = (
    (
        re.compile(
            r"^(?:gpt-|chatgpt-|o[134](?:-|$)|text-embedding-(?:3|ada)|dall-e-|whisper-|tts-|"
            r"davinci|babbage|omni-moderation|text-moderation|computer-use-)"
        ),
        "openai",
    ),
    (re.compile(r"^claude-"), "anthropic"),
    (
        re.compile(
            r"^(?:gemini-|text-bison|chat-bison|code-bison|textembedding-gecko|imagen-|"
            r"text-embedding-00\d|text-multilingual-embedding)"
        ),
        "google-genai",
    ),
    (re.compile(r"^(?:command(?:-|$)|embed-(?:english|multilingual)|rerank-|c4ai-aya)"), "cohere"),
    (
        re.compile(
            r"^(?:mistral-(?:large|medium|small|tiny|embed|saba|ocr)|open-mistral-|"
            r"open-mixtral-|codestral-(?:latest|\d)|ministral-|pixtral-(?:large|12b-\d)|"
            r"magistral-)"
        ),
        "mistral",
    ),
    (
        re.compile(
            r"^(?:(?:us|eu|apac|global)\.)?(?:anthropic|amazon|meta|cohere|ai21|mistral|"
            r"stability|writer|deepseek|qwen|openai)\.[\w.:-]+$"
        ),
        "aws-bedrock",
    ),
)
"""Hosted model names by provider: OpenAI's, Anthropic's, Google's (Gemini API and Vertex),
Cohere's and Mistral's API model names, and Bedrock model ids (`anthropic.claude-3-…-v1:0`,
with a cross-region prefix)."""

_HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]{0,95}/[\w.-]{1,96}$")
_OLLAMA_NAME = re.compile(r"^(?:[\w.-]+/)?[a-z0-9][a-z0-9._-]*(?::[\w.-]+)?$")

LITELLM_PROVIDERS = {
    "openai": "openai",
    "text-completion-openai": "openai",
    "azure": "azure-openai",
    "azure_ai": "azure-ai",
    "anthropic": "anthropic",
    "gemini": "google-genai",
    "vertex_ai": "vertex-ai",
    "vertex_ai_beta": "vertex-ai",
    "bedrock": "aws-bedrock",
    "sagemaker": "aws-sagemaker",
    "mistral": "mistral",
    "cohere": "cohere",
    "cohere_chat": "cohere",
    "groq": "groq",
    "together_ai": "together-ai",
    "fireworks_ai": "fireworks-ai",
    "deepseek": "deepseek",
    "xai": "xai",
    "perplexity": "perplexity",
    "openrouter": "openrouter",
    "replicate": "replicate",
    "huggingface": "huggingface",
    "watsonx": "ibm-watsonx",
    "databricks": "databricks",
}
"""LiteLLM's `provider/` prefixes of hosted providers, by aiscan's provider name."""
_LITELLM_LOCAL = {"ollama": "ollama", "ollama_chat": "ollama", "hosted_vllm": "hub", "vllm": "hub"}
"""LiteLLM prefixes of servers that run open weights the project itself serves."""


@dataclass(frozen=True)
class NamedModel:
    """What a model name is: `open-weight` (looked up by `registry`) or `hosted` (a
    `provider`'s model, a service); `name` is the model's own name, prefixes removed."""

    kind: Literal["open-weight", "hosted"]
    name: str
    provider: str | None = None
    registry: Literal["hub", "ollama"] = "hub"


def hosted_provider(name: str) -> str | None:
    """The provider whose hosted model `name` is, by the providers' naming, or None."""
    lowered = name.lower()
    return next((provider for pattern, provider in _HOSTED if pattern.match(lowered)), None)


def is_hub_id(name: str) -> bool:
    """Whether `name` has the shape of a Hugging Face repo id (`org/name`)."""
    return bool(_HUB_ID.match(name)) and ".." not in name


def is_ollama_name(name: str) -> bool:
    """Whether `name` has the shape of an Ollama model name (`llama3.1`, `qwen2.5-coder:7b`)."""
    return bool(_OLLAMA_NAME.match(name))


_OLLAMA_HUB = ("hf.co/", "huggingface.co/")


def ollama_model(name: str) -> NamedModel:
    """What a name given to Ollama names: a library or registry model (`llama3.1:8b`), or a
    Hub repo Ollama pulls GGUF files from (`hf.co/org/repo:Q4_K_M` is the Hub id `org/repo`)."""
    for prefix in _OLLAMA_HUB:
        if name.lower().startswith(prefix):
            repo = name[len(prefix) :].split(":", 1)[0]
            if is_hub_id(repo):
                return NamedModel("open-weight", repo, registry="hub")
    return NamedModel("open-weight", name, registry="ollama")


def litellm_model(name: str) -> NamedModel:
    """What a LiteLLM `model=` names: `provider/model` (`ollama/llama3.1`,
    `huggingface/meta-llama/…`, `openai/gpt-4o`), or a bare name LiteLLM maps by its shape."""
    prefix, _, rest = name.partition("/")
    if rest and prefix in _LITELLM_LOCAL:
        if _LITELLM_LOCAL[prefix] == "ollama":
            return ollama_model(rest)
        return NamedModel("open-weight", rest)
    if rest and prefix in LITELLM_PROVIDERS:
        return NamedModel("hosted", rest, LITELLM_PROVIDERS[prefix])
    provider = hosted_provider(name)
    if provider is not None:
        return NamedModel("hosted", name, provider)
    return NamedModel("hosted", name, "litellm")


def setting_model(name: str, variable: str) -> NamedModel:
    """What a `MODEL_ID=`-style setting's value names; `variable` is the setting's name, whose
    `OLLAMA` says the value is an Ollama name."""
    if "OLLAMA" in variable.upper() and (is_ollama_name(name) or name.startswith(_OLLAMA_HUB)):
        return ollama_model(name)  # `mistral-small` too
    provider = hosted_provider(name)
    if provider is not None and "/" not in name:
        return NamedModel("hosted", name, provider)
    if "/" not in name and ":" in name and is_ollama_name(name):
        return NamedModel("open-weight", name, registry="ollama")
    return NamedModel("open-weight", name)
