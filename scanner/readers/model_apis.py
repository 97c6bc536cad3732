"""Finds the model APIs a module calls: hosted providers' SDKs, LangChain and LlamaIndex model
classes, LiteLLM, Hugging Face inference and the `ollama` client, by their syntax tree.

Hosted models (`client.chat.completions.create(model="gpt-4o")`, `ChatAnthropic(model=…)`,
`bedrock.invoke_model(modelId=…)`) become `Service`s; open weights served elsewhere
(`ollama.chat(model="llama3.1")`, `HuggingFaceEndpoint(repo_id="org/name")`) become model
references resolved through lineage like `from_pretrained`. Which provider a call reaches comes
from what its receiver was built from (`client = OpenAI()`, `self.llm = Anthropic()`), else
from the one SDK the module imports that has such a method. Names are resolved as for model
loaders (literals, module constants, parameter defaults); anything else is kept with its
source text, never dropped.
"""

from __future__ import annotations

import ast
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, Protocol

from scanner.files import control_character
from scanner.inventory import Service
from scanner.readers.model_names import (
    NamedModel,
    hosted_provider,
    is_hub_id,
    litellm_model,
    ollama_model,
)


class ModuleNames(Protocol):
    """What the model-reference scan knows of a module: its imports and constant strings."""

    imported: dict[str, str]
    bound_calls: list[tuple[list[ast.expr], ast.expr]]

    def resolve(self, node: ast.AST | None) -> str | None: ...

    def origin(self, func: ast.AST) -> tuple[str, str]: ...


@dataclass(frozen=True)
class OpenWeightUse:
    """An open-weight model an API call names (`registry` says where to look it up); `name`
    is None when it is named at run time, `expression` then holds the source text."""

    name: str | None
    registry: Literal["hub", "ollama"]
    call: str
    line: int
    expression: str | None = None


# --- what the SDKs look like ------------------------------------------------------------------

API_TRIGGERS = (
    b"openai",
    b"anthropic",
    b"genai",
    b"vertexai",
    b"mistral",
    b"cohere",
    b"bedrock",
    b"invoke_model",
    b"converse",
    b"InferenceClient",
    b"litellm",
    b"langchain",
    b"llama_index",
    b"ollama",
    b"Chat",
)
"""Bytes one of which every module calling a model API holds (an import, a class name)."""

_CLIENTS = {
    "openai": {
        "OpenAI": "openai",
        "AsyncOpenAI": "openai",
        "AzureOpenAI": "azure-openai",
        "AsyncAzureOpenAI": "azure-openai",
    },
    "anthropic": {
        "Anthropic": "anthropic",
        "AsyncAnthropic": "anthropic",
        "AnthropicBedrock": "aws-bedrock",
        "AsyncAnthropicBedrock": "aws-bedrock",
        "AnthropicVertex": "vertex-ai",
        "AsyncAnthropicVertex": "vertex-ai",
    },
    "mistralai": {
        "Mistral": "mistral",
        "MistralClient": "mistral",
        "MistralAsyncClient": "mistral",
    },
    "cohere": {
        "Client": "cohere",
        "ClientV2": "cohere",
        "AsyncClient": "cohere",
        "AsyncClientV2": "cohere",
    },
    "google.genai": {"Client": "google-genai"},
    "huggingface_hub": {"InferenceClient": "huggingface", "AsyncInferenceClient": "huggingface"},
    "ollama": {"Client": "ollama", "AsyncClient": "ollama"},
}
"""SDK client classes by module, and the provider a client of each reaches."""

_ENDPOINT_KEYWORDS = ("base_url", "azure_endpoint", "endpoint", "endpoint_url", "host", "api_base")

_METHODS = {
    "openai": (
        "chat.completions.create",
        "chat.completions.parse",
        "beta.chat.completions.parse",
        "chat.completions.stream",
        "completions.create",
        "responses.create",
        "responses.parse",
        "responses.stream",
        "embeddings.create",
        "images.generate",
        "images.edit",
        "audio.transcriptions.create",
        "audio.translations.create",
        "audio.speech.create",
        "moderations.create",
    ),
    "anthropic": (
        "messages.create",
        "messages.stream",
        "messages.count_tokens",
        "beta.messages.create",
        "beta.messages.stream",
        "completions.create",
    ),
    "google-genai": (
        "models.generate_content",
        "models.generate_content_stream",
        "models.embed_content",
        "models.count_tokens",
        "aio.models.generate_content",
        "aio.models.generate_content_stream",
        "chats.create",
        "aio.chats.create",
    ),
    "mistral": (
        "chat.complete",
        "chat.stream",
        "chat.complete_async",
        "chat.stream_async",
        "embeddings.create",
        "fim.complete",
        "chat",
        "chat_stream",
    ),
    "cohere": ("chat", "chat_stream", "generate", "embed", "rerank", "classify"),
    "huggingface": (
        "chat.completions.create",
        "chat_completion",
        "text_generation",
        "feature_extraction",
        "text_to_image",
        "summarization",
        "translation",
        "sentence_similarity",
        "automatic_speech_recognition",
    ),
    "ollama": ("chat", "generate", "embed", "embeddings", "pull", "show"),
}
"""Methods that name a model, by the provider of the client they are called on (`model=`)."""
_METHODS["azure-openai"] = _METHODS["openai"]
_METHODS["aws-bedrock"] = _METHODS["anthropic"]
_METHODS["vertex-ai"] = _METHODS["anthropic"] + _METHODS["google-genai"]

_SDK_PROVIDERS = {
    "openai": "openai",
    "anthropic": "anthropic",
    "mistralai": "mistral",
    "cohere": "cohere",
    "google": "google-genai",
    "huggingface_hub": "huggingface",
    "ollama": "ollama",
}
"""Top-level modules whose clients reach a provider, for a call on a client passed in."""

_MODULE_FUNCTIONS = {
    "openai": {
        "ChatCompletion.create": "openai",
        "ChatCompletion.acreate": "openai",
        "Completion.create": "openai",
        "Embedding.create": "openai",
    },
    "ollama": dict.fromkeys(_METHODS["ollama"], "ollama"),
    "litellm": dict.fromkeys(
        (
            "completion",
            "acompletion",
            "embedding",
            "aembedding",
            "text_completion",
            "atext_completion",
            "image_generation",
            "transcription",
            "speech",
        ),
        "litellm",
    ),
    "google.generativeai": {"embed_content": "google-genai", "generate_text": "google-genai"},
}
"""Module-level functions that call a model (`openai.ChatCompletion.create`, `ollama.chat`,
`litellm.completion`), with the provider; the model is `model=` or the first argument."""

_BEDROCK_METHODS = frozenset(
    {"invoke_model", "invoke_model_with_response_stream", "converse", "converse_stream"}
)

_FRAMEWORK_MODULES = ("langchain", "langchain_", "llama_index")


@dataclass(frozen=True)
class _ModelClass:
    """A class that takes its model when built: its provider and the keywords naming it."""

    provider: str
    keywords: tuple[str, ...]
    position: int | None = None


_OPENAI = _ModelClass("openai", ("model", "model_name"))
_AZURE = _ModelClass("azure-openai", ("azure_deployment", "deployment_name", "model", "engine"))
_ANTHROPIC = _ModelClass("anthropic", ("model", "model_name"))
_GOOGLE = _ModelClass("google-genai", ("model", "model_name"))
_VERTEX = _ModelClass("vertex-ai", ("model_name", "model"))
_MISTRAL = _ModelClass("mistral", ("model", "model_name"))
_COHERE = _ModelClass("cohere", ("model", "model_name"))
_BEDROCK = _ModelClass("aws-bedrock", ("model_id", "model"))
_OLLAMA = _ModelClass("ollama", ("model",))
_HF_ENDPOINT = _ModelClass("huggingface", ("repo_id", "model", "model_name"))
_HF_LOCAL = _ModelClass("local", ("model_name", "model_id", "model"))
_LITELLM = _ModelClass("litellm", ("model", "model_name"))

_FRAMEWORK_CLASSES = {
    **dict.fromkeys(("ChatOpenAI", "OpenAI", "OpenAIEmbeddings", "OpenAIEmbedding"), _OPENAI),
    **dict.fromkeys(
        ("AzureChatOpenAI", "AzureOpenAI", "AzureOpenAIEmbeddings", "AzureOpenAIEmbedding"), _AZURE
    ),
    **dict.fromkeys(("ChatAnthropic", "Anthropic", "AnthropicLLM"), _ANTHROPIC),
    **dict.fromkeys(
        (
            "ChatGoogleGenerativeAI",
            "GoogleGenerativeAI",
            "GoogleGenerativeAIEmbeddings",
            "Gemini",
            "GoogleGenAI",
            "GeminiEmbedding",
        ),
        _GOOGLE,
    ),
    **dict.fromkeys(("ChatVertexAI", "VertexAI", "VertexAIEmbeddings", "Vertex"), _VERTEX),
    **dict.fromkeys(
        ("ChatMistralAI", "MistralAI", "MistralAIEmbeddings", "MistralAIEmbedding"), _MISTRAL
    ),
    **dict.fromkeys(("ChatCohere", "Cohere", "CohereEmbeddings", "CohereEmbedding"), _COHERE),
    **dict.fromkeys(
        (
            "ChatBedrock",
            "ChatBedrockConverse",
            "BedrockLLM",
            "Bedrock",
            "BedrockConverse",
            "BedrockEmbeddings",
            "BedrockEmbedding",
        ),
        _BEDROCK,
    ),
    **dict.fromkeys(
        ("ChatOllama", "OllamaLLM", "Ollama", "OllamaEmbeddings", "OllamaEmbedding"), _OLLAMA
    ),
    **dict.fromkeys(
        ("HuggingFaceEndpoint", "HuggingFaceInferenceAPI", "HuggingFaceHub"), _HF_ENDPOINT
    ),
    **dict.fromkeys(("HuggingFaceEmbeddings", "HuggingFaceEmbedding"), _HF_LOCAL),
    **dict.fromkeys(("ChatLiteLLM", "LiteLLM"), _LITELLM),
}
"""LangChain and LlamaIndex model classes (imported from `langchain*` or `llama_index`)."""

_SDK_CLASSES = {
    "google.generativeai.GenerativeModel": _ModelClass("google-genai", ("model_name",), 0),
    "vertexai.GenerativeModel": _ModelClass("vertex-ai", ("model_name",), 0),
    "vertexai.TextGenerationModel": _ModelClass("vertex-ai", ("model_name",), 0),
    "vertexai.ChatModel": _ModelClass("vertex-ai", ("model_name",), 0),
    "vertexai.TextEmbeddingModel": _ModelClass("vertex-ai", ("model_name",), 0),
    "huggingface_hub.InferenceClient": _ModelClass("huggingface", ("model",), 0),
    "huggingface_hub.AsyncInferenceClient": _ModelClass("huggingface", ("model",), 0),
}
"""SDK classes built with their model (`GenerativeModel("gemini-1.5-pro")`; Vertex's
`TextGenerationModel.from_pretrained("text-bison")` counts as building one)."""


# --- the scan ---------------------------------------------------------------------------------


def _dotted_class(origin: str) -> tuple[str, str]:
    """(module, class) of a dotted origin (`openai.OpenAI` → `openai`, `OpenAI`)."""
    module, _, name = origin.rpartition(".")
    return module, name


def client_provider(origin: str) -> str | None:
    """The provider an SDK client built by calling `origin` reaches, or None."""
    module, name = _dotted_class(origin)
    for sdk, classes in _CLIENTS.items():
        if (module == sdk or module.startswith(f"{sdk}.")) and name in classes:
            return classes[name]
    return None


def _sdk_class(origin: str) -> _ModelClass | None:
    """The SDK class built with its model that `origin` names; SDKs re-export their classes
    from submodules (`vertexai.preview.generative_models`), so any module below counts."""
    module, name = _dotted_class(origin)
    if module.startswith("vertexai"):
        return _SDK_CLASSES.get(f"vertexai.{name}")
    if module.startswith("google.generativeai"):
        return _SDK_CLASSES.get(f"google.generativeai.{name}")
    if module.startswith("huggingface_hub"):
        return _SDK_CLASSES.get(f"huggingface_hub.{name}")
    return None


def _framework_class(name: str, origin: str) -> _ModelClass | None:
    """The LangChain or LlamaIndex model class a call builds; their class names (`OpenAI`,
    `Anthropic`) are also the SDKs' client names, so the import decides."""
    if name not in _FRAMEWORK_CLASSES:
        return None
    if origin.startswith(_FRAMEWORK_MODULES):
        return _FRAMEWORK_CLASSES[name]
    # A notebook may import in a cell of its own; `Chat…` names are LangChain's alone.
    if origin == name and name.startswith("Chat"):
        return _FRAMEWORK_CLASSES[name]
    return None


class ClientBindings:
    """Names and attributes bound to SDK clients in a module (`client = OpenAI()`,
    `self.llm = Anthropic()`, `with Mistral() as m`, `boto3.client("bedrock-runtime")`)."""

    def __init__(self, names: ModuleNames) -> None:
        self.names: dict[str, str] = {}
        self.attributes: dict[str, str] = {}
        self.endpoints: dict[str, str] = {}
        """`base_url=`-style endpoints the clients were built with, by name or attribute."""
        self._scan = names
        for targets, value in names.bound_calls:
            self._bind(targets, value)

    def built_by(self, value: ast.AST) -> str | None:
        """The provider of the client an expression builds (`OpenAI()`), or None."""
        if isinstance(value, ast.Await):
            value = value.value
        if not isinstance(value, ast.Call):
            return None
        name, origin = self._scan.origin(value.func)
        if name == "client":  # boto3.client("bedrock-runtime"), session.client(...)
            service = value.args[0] if value.args else _keyword_node(value, "service_name")
            if service is not None and self._scan.resolve(service) == "bedrock-runtime":
                return "aws-bedrock"
        return client_provider(origin)

    def _bind(self, targets: Sequence[ast.expr], value: ast.AST) -> None:
        provider = self.built_by(value)
        if provider is None:
            return
        call = value.value if isinstance(value, ast.Await) else value
        endpoint = endpoint_of(self._scan, call) if isinstance(call, ast.Call) else None
        for target in targets:
            if isinstance(target, ast.Name):
                self.names[target.id] = provider
                key = target.id
            elif isinstance(target, ast.Attribute):
                self.attributes[target.attr] = provider
                key = f".{target.attr}"
            else:
                continue
            if endpoint is not None:
                self.endpoints[key] = endpoint

    def endpoint(self, receiver: ast.AST) -> str | None:
        """The endpoint the receiver's client was built with, when the code states one."""
        if isinstance(receiver, ast.Name):
            return self.endpoints.get(receiver.id)
        if isinstance(receiver, ast.Attribute):
            return self.endpoints.get(f".{receiver.attr}")
        if isinstance(receiver, ast.Call):
            return endpoint_of(self._scan, receiver)
        return None

    def receiver(self, node: ast.AST) -> str | None:
        """The provider of the client an attribute chain starts from, when known."""
        if isinstance(node, ast.Name):
            return self.names.get(node.id)
        if isinstance(node, ast.Attribute):
            return self.attributes.get(node.attr)
        return self.built_by(node)


def _keyword_node(call: ast.Call, name: str) -> ast.AST | None:
    return next((kw.value for kw in call.keywords if kw.arg == name), None)


def _keyword_text(names: ModuleNames, call: ast.Call, name: str) -> str | None:
    node = _keyword_node(call, name)
    return names.resolve(node) if node is not None else None


def endpoint_of(names: ModuleNames, call: ast.Call) -> str | None:
    """The endpoint a call states (`base_url=`, `azure_endpoint=`, `host=`), if a constant
    without control characters (no address holds one)."""
    endpoint = next((e for k in _ENDPOINT_KEYWORDS if (e := _keyword_text(names, call, k))), None)
    return endpoint if endpoint is None or control_character(endpoint) is None else None


def _chain(func: ast.AST) -> tuple[ast.AST, str] | None:
    """(receiver, `a.b.method`) of an attribute call (`client.chat.completions.create`)."""
    parts = []
    node = func
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not parts:
        return None
    return node, ".".join(reversed(parts))


def _show(node: ast.AST) -> str:
    try:
        return ast.unparse(node)[:200]
    except RecursionError:
        return "(an expression nested too deeply to show)"


class ApiCallScan:
    """The model API calls of one module, built once per module and asked call by call."""

    def __init__(self, names: ModuleNames, file: str) -> None:
        self.names = names
        self.file = file
        self.clients = ClientBindings(names)
        self.sdks = {
            provider
            for origin in names.imported.values()
            if (provider := _SDK_PROVIDERS.get(origin.split(".")[0])) is not None
        }

    def uses(self, call: ast.Call, cell: int | None) -> list[Service | OpenWeightUse] | None:
        """What `call` uses, or None when it is no model API call (an empty list for one that
        names no model, such as a client built without one)."""
        name, origin = self.names.origin(call.func)
        model_class = _framework_class(name, origin) or _sdk_class(origin)
        if model_class is None and name == "from_pretrained" and origin.startswith("vertexai"):
            model_class = _sdk_class(origin.rsplit(".", 1)[0])
        if model_class is not None:
            return self._built(call, origin, model_class, cell)
        provider = client_provider(origin)
        if provider is not None:
            return []  # a client: the model is named where it is called
        function = self._module_function(origin)
        if function is not None:
            node = _keyword_node(call, "model") or _keyword_node(call, "engine")
            if node is None and call.args and not isinstance(call.args[0], ast.Starred):
                node = call.args[0]
            return self._named(function, origin, call, node, cell)
        if name in _BEDROCK_METHODS:
            node = _keyword_node(call, "modelId")
            if node is None and not self._is_client_call(call, "aws-bedrock"):
                return None
            return self._named("aws-bedrock", origin, call, node, cell)
        chain = _chain(call.func)
        if chain is None:
            return None
        receiver, method = chain
        provider = self._provider(receiver, method)
        if provider is None:
            return None
        return self._named(provider, origin, call, _keyword_node(call, "model"), cell)

    def _is_client_call(self, call: ast.Call, provider: str) -> bool:
        chain = _chain(call.func)
        return chain is not None and self.clients.receiver(chain[0]) == provider

    def _module_function(self, origin: str) -> str | None:
        module, _, function = origin.partition(".")
        if module == "google" and origin.startswith("google.generativeai."):
            module, function = "google.generativeai", origin[len("google.generativeai.") :]
        return _MODULE_FUNCTIONS.get(module, {}).get(function)

    def _provider(self, receiver: ast.AST, method: str) -> str | None:
        """The provider a method call on `receiver` reaches: the receiver's client, else the
        one imported SDK with that method."""
        methods = [
            provider
            for provider, known in _METHODS.items()
            if any(method == m or method.endswith(f".{m}") for m in known)
        ]
        known = self.clients.receiver(receiver)
        if known is not None:
            return known if known in methods else None
        if isinstance(receiver, ast.Name) and receiver.id in self.names.imported:
            # openai>=1's module-level client: `openai.chat.completions.create(model=…)`.
            module = _SDK_PROVIDERS.get(self.names.imported[receiver.id].split(".")[0])
            return module if module in methods else None
        candidates = [p for p in methods if p in self.sdks]
        return candidates[0] if len(candidates) == 1 else None

    def _built(
        self, call: ast.Call, origin: str, model_class: _ModelClass, cell: int | None
    ) -> list[Service | OpenWeightUse]:
        node = next(
            (n for k in model_class.keywords if (n := _keyword_node(call, k)) is not None), None
        )
        position = model_class.position
        if node is None and position is not None and position < len(call.args):
            node = call.args[position]
        if node is None and model_class.provider == "huggingface" and endpoint_of(self.names, call):
            # A dedicated endpoint (`HuggingFaceEndpoint(endpoint_url=…)`) serves some model.
            return self._named(model_class.provider, origin, call, None, cell)
        if node is None and model_class.provider in ("huggingface", "local"):
            return []  # a client whose model is given per call, or a library default
        return self._named(model_class.provider, origin, call, node, cell)

    def _named(
        self, provider: str, origin: str, call: ast.Call, node: ast.AST | None, cell: int | None
    ) -> list[Service | OpenWeightUse]:
        """The service and/or open-weight model a call naming model `node` reaches."""
        endpoint = endpoint_of(self.names, call)
        chain = _chain(call.func)
        if endpoint is None and chain is not None:
            endpoint = self.clients.endpoint(chain[0])
        open_weight: Literal["hub", "ollama"] = "ollama" if provider == "ollama" else "hub"
        if node is None or isinstance(node, ast.Starred):
            if provider in ("ollama", "local"):
                return [OpenWeightUse(None, open_weight, origin, call.lineno, "no model named")]
            expression = "no model named in the call (the client's or library's default)"
            if endpoint is not None and provider == "huggingface":
                expression = f"the model the endpoint {endpoint} serves"
            elif any(kw.arg is None for kw in call.keywords):
                expression = "model passed in **keyword arguments"
            return [self._service(provider, origin, call, None, endpoint, cell, expression)]
        model = self.names.resolve(node)
        if model is not None and control_character(model) is not None:
            model = None  # a newline or NUL in a model name is a trick: shown, never used
        if model is None:
            if provider in ("ollama", "local"):
                return [OpenWeightUse(None, open_weight, origin, call.lineno, _show(node))]
            return [self._service(provider, origin, call, None, endpoint, cell, _show(node))]
        if provider == "ollama":
            pulled = ollama_model(model)
            return [OpenWeightUse(pulled.name, pulled.registry, origin, call.lineno)]
        if provider == "local":
            return [OpenWeightUse(model, "hub", origin, call.lineno)]
        if provider == "litellm":
            named = litellm_model(model)
        elif provider == "huggingface":
            named = NamedModel("hosted", model, "huggingface")
        else:
            named = NamedModel("hosted", model, provider)
        if named.kind == "open-weight":
            return [OpenWeightUse(named.name, named.registry, origin, call.lineno)]
        found: list[Service | OpenWeightUse] = [
            self._service(named.provider or provider, origin, call, named.name, endpoint, cell)
        ]
        if named.provider == "huggingface" and is_hub_id(named.name):
            # Hosted inference of open weights: the weights' license governs the use too.
            found.append(OpenWeightUse(named.name, "hub", origin, call.lineno))
        return found

    def _service(
        self,
        provider: str,
        origin: str,
        call: ast.Call,
        model: str | None,
        endpoint: str | None,
        cell: int | None,
        expression: str | None = None,
    ) -> Service:
        if provider == "litellm" and model is not None:
            provider = hosted_provider(model) or provider
        where = self.file + (f":cell{cell}" if cell else "") + f":{call.lineno}"
        return Service(
            ref=f"service:{provider}/{model or 'unresolved'}#{where}",
            provider=provider,
            file=self.file,
            line=call.lineno,
            call=origin,
            location=where,
            model=model,
            endpoint=endpoint,
            cell=cell,
            expression=expression,
        )
