"""Hosted model APIs and open-weight model clients found in Python code by their syntax tree
(`scanner/readers/model_apis.py`, reached through the code-reference scan)."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from scanner.inventory import Service
from scanner.readers.code_references import FoundReference, scan_file


def _found(tmp_path: Path, code: str) -> list[FoundReference | Service]:
    path = tmp_path / "app.py"
    path.write_text(textwrap.dedent(code))
    items = list(scan_file(path, "app.py"))
    assert all(isinstance(i, FoundReference | Service) for i in items), items
    return items  # type: ignore[return-value]


def _services(tmp_path: Path, code: str) -> list[tuple[str, str | None, int]]:
    return [(s.provider, s.model, s.line) for s in _found(tmp_path, code) if isinstance(s, Service)]


def _models(tmp_path: Path, code: str) -> list[tuple[str, str, bool]]:
    return [
        (f.name, f.reference.registry, f.reference.resolved)
        for f in _found(tmp_path, code)
        if isinstance(f, FoundReference)
    ]


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        (
            """
            from openai import OpenAI
            client = OpenAI()
            client.chat.completions.create(model="gpt-4o", messages=[])
            client.responses.create(model="o3-mini", input="hi")
            client.embeddings.create(model="text-embedding-3-small", input="x")
            """,
            [
                ("openai", "gpt-4o", 4),
                ("openai", "o3-mini", 5),
                ("openai", "text-embedding-3-small", 6),
            ],
        ),
        (
            """
            import openai
            openai.ChatCompletion.create(model="gpt-3.5-turbo", messages=[])
            openai.chat.completions.create(model="gpt-4.1", messages=[])
            """,
            [("openai", "gpt-3.5-turbo", 3), ("openai", "gpt-4.1", 4)],
        ),
        (
            """
            from openai import AzureOpenAI
            azure = AzureOpenAI(azure_endpoint="https://acme.openai.azure.com")
            azure.chat.completions.create(model="prod-gpt4o", messages=[])
            """,
            [("azure-openai", "prod-gpt4o", 4)],
        ),
        (
            """
            import anthropic
            class Bot:
                def __init__(self):
                    self.client = anthropic.Anthropic()
                def ask(self):
                    return self.client.messages.create(model="claude-3-haiku-20240307", messages=[])
            """,
            [("anthropic", "claude-3-haiku-20240307", 7)],
        ),
        (
            """
            import google.generativeai as genai
            model = genai.GenerativeModel("gemini-1.5-pro")
            """,
            [("google-genai", "gemini-1.5-pro", 3)],
        ),
        (
            """
            from google import genai
            client = genai.Client()
            client.models.generate_content(model="gemini-2.0-flash", contents="hi")
            """,
            [("google-genai", "gemini-2.0-flash", 4)],
        ),
        (
            """
            from vertexai.generative_models import GenerativeModel
            from vertexai.language_models import TextGenerationModel
            GenerativeModel(model_name="gemini-1.5-flash-002")
            TextGenerationModel.from_pretrained("text-bison@002")
            """,
            [("vertex-ai", "gemini-1.5-flash-002", 4), ("vertex-ai", "text-bison@002", 5)],
        ),
        (
            """
            from mistralai import Mistral
            with Mistral(api_key="k") as mistral:
                mistral.chat.complete(model="mistral-large-latest", messages=[])
            """,
            [("mistral", "mistral-large-latest", 4)],
        ),
        (
            """
            import cohere
            co = cohere.ClientV2()
            co.chat(model="command-r-plus", messages=[])
            co.embed(model="embed-english-v3.0", texts=[])
            """,
            [("cohere", "command-r-plus", 4), ("cohere", "embed-english-v3.0", 5)],
        ),
        (
            """
            import boto3
            bedrock = boto3.client("bedrock-runtime", region_name="us-east-1")
            bedrock.invoke_model(modelId="anthropic.claude-3-sonnet-20240229-v1:0", body="{}")
            bedrock.converse(modelId="meta.llama3-1-70b-instruct-v1:0", messages=[])
            """,
            [
                ("aws-bedrock", "anthropic.claude-3-sonnet-20240229-v1:0", 4),
                ("aws-bedrock", "meta.llama3-1-70b-instruct-v1:0", 5),
            ],
        ),
        (
            """
            import litellm
            from litellm import completion
            completion(model="anthropic/claude-3-opus-20240229", messages=[])
            litellm.completion("gpt-4o", messages=[])
            litellm.embedding(model="bedrock/amazon.titan-embed-text-v2:0", input=[])
            """,
            [
                ("anthropic", "claude-3-opus-20240229", 4),
                ("openai", "gpt-4o", 5),
                ("aws-bedrock", "amazon.titan-embed-text-v2:0", 6),
            ],
        ),
        (
            """
            from langchain_anthropic import ChatAnthropic
            from langchain_aws import ChatBedrock
            from langchain_google_genai import ChatGoogleGenerativeAI
            from llama_index.llms.openai import OpenAI
            ChatAnthropic(model="claude-3-5-sonnet-latest")
            ChatBedrock(model_id="amazon.nova-pro-v1:0")
            ChatGoogleGenerativeAI(model="gemini-1.5-pro")
            OpenAI(model="gpt-4o-mini")
            """,
            [
                ("anthropic", "claude-3-5-sonnet-latest", 6),
                ("aws-bedrock", "amazon.nova-pro-v1:0", 7),
                ("google-genai", "gemini-1.5-pro", 8),
                ("openai", "gpt-4o-mini", 9),
            ],
        ),
    ],
)
def test_hosted_model_calls_become_services(tmp_path, code, expected):
    assert sorted(_services(tmp_path, code), key=lambda s: s[2]) == expected


def test_names_come_from_constants_and_parameter_defaults(tmp_path):
    code = """
    from anthropic import Anthropic
    MODEL = "claude-3-opus-20240229"
    client = Anthropic()
    def ask(prompt, model="claude-3-5-haiku-latest"):
        client.messages.create(model=model, messages=[prompt])
        client.messages.create(model=MODEL, messages=[prompt])
    """
    assert _services(tmp_path, code) == [
        ("anthropic", "claude-3-5-haiku-latest", 6),
        ("anthropic", "claude-3-opus-20240229", 7),
    ]


def test_names_known_only_at_run_time_are_kept_with_their_source_text(tmp_path):
    code = """
    import os
    from openai import OpenAI
    client = OpenAI()
    client.chat.completions.create(model=os.getenv("CHAT_MODEL"), messages=[])
    client.chat.completions.create(**settings)
    """
    found = [s for s in _found(tmp_path, code) if isinstance(s, Service)]
    assert [(s.provider, s.model, s.expression) for s in found] == [
        ("openai", None, "os.getenv('CHAT_MODEL')"),
        ("openai", None, "model passed in **keyword arguments"),
    ]
    assert not any(s.resolved for s in found)


def test_open_weight_clients_become_model_references(tmp_path):
    code = """
    import ollama
    from huggingface_hub import InferenceClient
    from langchain_huggingface import HuggingFaceEmbeddings
    from langchain_ollama import ChatOllama
    ollama.chat(model="llama3.1", messages=[])
    ollama.Client(host="http://gpu:11434").generate(model="deepseek-r1:14b", prompt="x")
    ChatOllama(model=chosen)
    InferenceClient(model="HuggingFaceH4/zephyr-7b-beta")
    HuggingFaceEmbeddings(model_name="sentence-transformers/all-MiniLM-L6-v2")
    """
    assert _models(tmp_path, code) == [
        ("llama3.1", "ollama", True),
        ("deepseek-r1:14b", "ollama", True),
        ("chosen", "ollama", False),
        ("HuggingFaceH4/zephyr-7b-beta", "hub", True),
        ("sentence-transformers/all-MiniLM-L6-v2", "hub", True),
    ]
    # Hosted inference of open weights is a service too; local embeddings are not.
    assert _services(tmp_path, code) == [("huggingface", "HuggingFaceH4/zephyr-7b-beta", 9)]


def test_litellm_prefixes_of_local_servers_are_open_weights(tmp_path):
    code = """
    import litellm
    litellm.completion(model="ollama/qwen2.5-coder:7b", messages=[])
    litellm.completion(model="hosted_vllm/meta-llama/Llama-3.1-8B-Instruct", messages=[])
    """
    assert _models(tmp_path, code) == [
        ("qwen2.5-coder:7b", "ollama", True),
        ("meta-llama/Llama-3.1-8B-Instruct", "hub", True),
    ]
    assert _services(tmp_path, code) == []


def test_the_endpoint_is_only_what_the_code_states(tmp_path):
    code = """
    from openai import OpenAI
    local = OpenAI(base_url="http://localhost:8000/v1")
    hosted = OpenAI()
    local.chat.completions.create(model="gpt-4o", messages=[])
    hosted.chat.completions.create(model="gpt-4o", messages=[])
    """
    found = [s for s in _found(tmp_path, code) if isinstance(s, Service)]
    assert [s.endpoint for s in found] == ["http://localhost:8000/v1", None]


def test_a_client_passed_in_is_known_by_the_one_sdk_the_module_imports(tmp_path):
    one = """
    import anthropic
    def ask(client: anthropic.Anthropic):
        return client.messages.create(model="claude-3-5-sonnet-latest", messages=[])
    """
    assert _services(tmp_path, one) == [("anthropic", "claude-3-5-sonnet-latest", 4)]
    # `completions.create` is OpenAI's and Anthropic's legacy API: with both imported and no
    # client to tell, no provider is guessed.
    both = """
    import anthropic, openai
    def ask(client):
        return client.completions.create(model="some-model", prompt="x")
    """
    assert _services(tmp_path, both) == []


def test_calls_that_only_look_alike_are_not_services(tmp_path):
    code = """
    # Talks to an openai-compatible gateway through plain HTTP (the word makes the file parsed).
    import requests
    session = requests.Session()
    session.chat(model="gpt-4o")  # no model SDK is imported
    class OpenAI:  # a local class of the same name
        pass
    OpenAI(model="gpt-4o")
    """
    assert _found(tmp_path, code) == []


def test_hugging_face_loaders_are_still_found_beside_api_calls(tmp_path):
    code = """
    from openai import OpenAI
    from transformers import AutoModel
    AutoModel.from_pretrained("bert-base-uncased")
    OpenAI().chat.completions.create(model="gpt-4o", messages=[])
    """
    assert _models(tmp_path, code) == [("bert-base-uncased", "hub", True)]
    assert _services(tmp_path, code) == [("openai", "gpt-4o", 5)]


def test_notebook_cells_count_as_one_module(tmp_path):
    import json

    cells = [
        {"cell_type": "code", "source": ["from openai import OpenAI\n", "client = OpenAI()\n"]},
        {"cell_type": "markdown", "source": "client.chat.completions.create(model='gpt-x')"},
        {
            "cell_type": "code",
            "source": "!pip install openai\nclient.responses.create(model='gpt-4o')",
        },
    ]
    path = tmp_path / "explore.ipynb"
    path.write_text(json.dumps({"cells": cells}))
    (service,) = [s for s in scan_file(path, "explore.ipynb") if isinstance(s, Service)]
    assert (service.provider, service.model, service.cell, service.line) == (
        "openai",
        "gpt-4o",
        3,
        2,
    )
    assert service.where == "explore.ipynb cell 3:2"
    assert service.location == "explore.ipynb:cell3:2"


def test_hugging_face_endpoints(tmp_path):
    code = """
    from langchain_huggingface import HuggingFaceEndpoint
    HuggingFaceEndpoint(repo_id="mistralai/Mistral-7B-Instruct-v0.3", max_new_tokens=64)
    HuggingFaceEndpoint(endpoint_url="https://abc.us-east-1.aws.endpoints.huggingface.cloud")
    """
    found = _found(tmp_path, code)
    services = [(s.provider, s.model, s.expression) for s in found if isinstance(s, Service)]
    assert services == [
        ("huggingface", "mistralai/Mistral-7B-Instruct-v0.3", None),
        (
            "huggingface",
            None,
            "the model the endpoint https://abc.us-east-1.aws.endpoints.huggingface.cloud serves",
        ),
    ]
    assert _models(tmp_path, code) == [("mistralai/Mistral-7B-Instruct-v0.3", "hub", True)]


def test_a_name_holding_control_characters_is_shown_never_used(tmp_path):
    code = """
    from openai import OpenAI
    client = OpenAI(base_url="http://x\\n.evil")
    client.chat.completions.create(model="gpt-4o\\nSPDXID: forged", messages=[])
    """
    (service,) = [s for s in _found(tmp_path, code) if isinstance(s, Service)]
    assert (service.model, service.endpoint, service.resolved) == (None, None, False)
    assert service.expression == "'gpt-4o\\nSPDXID: forged'"


def test_the_ollama_client_pulling_from_the_hub_names_the_hub_repo(tmp_path):
    code = """
    import ollama
    ollama.pull("hf.co/Qwen/Qwen2.5-1.5B-Instruct-GGUF:Q8_0")
    """
    assert _models(tmp_path, code) == [("Qwen/Qwen2.5-1.5B-Instruct-GGUF", "hub", True)]
