"""The table of vendors: which wire protocol each speaks, where, with which key.

Providers are grouped by protocol, not by vendor: one module per protocol does the work,
and this table is the only place a vendor is described. Everything here is static, so
``provider_metadata()`` and ``list_providers()`` never touch the network.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Literal

Protocol = Literal["openai", "openresponses", "chat", "anthropic", "gemini"]
AuthStyle = Literal["bearer", "x-api-key", "api-key", "x-goog-api-key", "none"]


class LLMProvider(StrEnum):
    """Every provider name ``responses(provider=...)`` accepts."""

    OPENAI = "openai"
    OPENRESPONSES = "openresponses"
    AZUREOPENAI = "azureopenai"
    OPENROUTER = "openrouter"
    HUGGINGFACE = "huggingface"
    GROQ = "groq"
    FIREWORKS = "fireworks"
    XAI = "xai"
    DEEPSEEK = "deepseek"
    OLLAMA = "ollama"
    VLLM = "vllm"
    LMSTUDIO = "lmstudio"
    MISTRAL = "mistral"
    ANTHROPIC = "anthropic"
    GEMINI = "gemini"
    LLAMACPP = "llamacpp"
    TOGETHER = "together"
    CEREBRAS = "cerebras"
    SAMBANOVA = "sambanova"
    PERPLEXITY = "perplexity"
    OPENAI_COMPATIBLE = "openai_compatible"


@dataclass(frozen=True, slots=True)
class ProviderMetadata:
    """What a provider is and can do, known without a network call.

    ``responses`` is True for every provider here: the native ones serve the Responses
    API themselves, the others reach it by translation. ``previous_response_id`` is True
    where it works at all (natively, or through the local response store), and
    ``native_previous_response_id`` tells which: where it is False the backend keeps the
    conversation in the local response store and never sends ``previous_response_id`` or
    ``store`` (:mod:`anyllm.providers.local_context`). Translated providers keep nothing
    server-side, so they always use the local store.
    """

    name: str
    protocol: Protocol
    default_base_url: str | None
    api_key_env: str | None
    docs_url: str
    native_responses: bool
    responses: bool = True
    streaming: bool = True
    previous_response_id: bool = True
    native_previous_response_id: bool = False
    auth: AuthStyle = "bearer"
    key_required: bool = True
    tools: bool = True
    json_schema: bool = True
    json_object: bool = True  # text.format json_object: an OpenAI extension, not in the spec's request
    image_input: bool = True
    file_input: bool = False
    reasoning: bool = False
    # The spec's other half (2026-04-24): the Responses WebSocket transport ("Servers MAY
    # expose the Responses API over a persistent WebSocket") and POST /responses/compact.
    # Declared where the service is known to serve it; a conformance case needing an
    # undeclared one is "unsupported".
    websocket: bool = False
    compaction: bool = False
    base_url_env: str | None = None

    @property
    def returns(self) -> str:
        """The type ``responses()`` returns for this provider (non-streaming)."""
        if self.protocol == "openai":
            return "openai.types.responses.Response"
        return "openresponses_types.ResponseResource"


def _native_openai(name: str, base: str | None, key: str | None, docs: str, **kw: object) -> ProviderMetadata:
    return ProviderMetadata(
        name=name,
        protocol="openai",
        default_base_url=base,
        api_key_env=key,
        docs_url=docs,
        native_responses=True,
        **{"native_previous_response_id": True, **kw},  # type: ignore[arg-type]
    )


def _native_openresponses(
    name: str, base: str | None, key: str | None, docs: str, **kw: object
) -> ProviderMetadata:
    return ProviderMetadata(
        name=name,
        protocol="openresponses",
        default_base_url=base,
        api_key_env=key,
        docs_url=docs,
        native_responses=True,
        **{"native_previous_response_id": True, "json_object": False, **kw},  # type: ignore[arg-type]
    )


def _chat(name: str, base: str | None, key: str | None, docs: str, **kw: object) -> ProviderMetadata:
    return ProviderMetadata(
        name=name,
        protocol="chat",
        default_base_url=base,
        api_key_env=key,
        docs_url=docs,
        native_responses=False,
        **kw,  # type: ignore[arg-type]
    )


_TABLE: tuple[ProviderMetadata, ...] = (
    _native_openai(
        "openai",
        "https://api.openai.com/v1",
        "OPENAI_API_KEY",
        "https://platform.openai.com/docs/api-reference/responses",
        file_input=True,
        reasoning=True,
        websocket=True,
        compaction=True,
        base_url_env="OPENAI_BASE_URL",
    ),
    _native_openresponses(
        "openresponses",
        None,
        "OPENRESPONSES_API_KEY",
        "https://www.openresponses.org/specification",
        key_required=False,
        compaction=True,  # one of the spec's two resources; WebSocket is a MAY: declared per target
        base_url_env="OPENRESPONSES_BASE_URL",
        file_input=True,
        reasoning=True,
    ),
    _native_openai(
        "azureopenai",
        None,
        "AZURE_OPENAI_API_KEY",
        "https://learn.microsoft.com/azure/ai-foundry/openai/how-to/responses",
        auth="api-key",
        base_url_env="AZURE_OPENAI_ENDPOINT",
        file_input=True,
        reasoning=True,
    ),
    _native_openai(
        "openrouter",
        "https://openrouter.ai/api/v1",
        "OPENROUTER_API_KEY",
        "https://openrouter.ai/docs/api-reference/responses-api/overview",
        reasoning=True,
    ),
    _native_openresponses(
        "huggingface",
        "https://router.huggingface.co/v1",
        "HF_TOKEN",
        "https://huggingface.co/docs/inference-providers/guides/responses-api",
    ),
    _native_openai(
        "groq",
        "https://api.groq.com/openai/v1",
        "GROQ_API_KEY",
        "https://console.groq.com/docs/responses-api",
        native_previous_response_id=False,
        reasoning=True,
    ),
    _native_openai(
        "fireworks",
        "https://api.fireworks.ai/inference/v1",
        "FIREWORKS_API_KEY",
        "https://docs.fireworks.ai/guides/response-api",
    ),
    _native_openai("xai", "https://api.x.ai/v1", "XAI_API_KEY", "https://docs.x.ai/docs/api-reference"),
    _native_openai(
        "deepseek",
        "https://api.deepseek.com",
        "DEEPSEEK_API_KEY",
        "https://api-docs.deepseek.com/",
        reasoning=True,
    ),
    _native_openresponses(
        "ollama",
        "http://127.0.0.1:11434/v1",
        "OLLAMA_API_KEY",
        "https://docs.ollama.com/api/openai-compatibility",
        key_required=False,
        base_url_env="OLLAMA_HOST",
    ),
    _native_openresponses(
        "vllm",
        "http://127.0.0.1:8000/v1",
        "VLLM_API_KEY",
        "https://docs.vllm.ai/en/latest/serving/openai_compatible_server.html",
        key_required=False,
        base_url_env="VLLM_BASE_URL",
    ),
    _native_openresponses(
        "lmstudio",
        "http://127.0.0.1:1234/v1",
        "LM_STUDIO_API_KEY",
        "https://lmstudio.ai/docs/developer/openai-compat/responses",
        key_required=False,
        base_url_env="LM_STUDIO_BASE_URL",
    ),
    _chat(
        "mistral",
        "https://api.mistral.ai/v1",
        "MISTRAL_API_KEY",
        "https://docs.mistral.ai/api/",
        file_input=True,
    ),
    ProviderMetadata(
        name="anthropic",
        protocol="anthropic",
        default_base_url="https://api.anthropic.com",
        api_key_env="ANTHROPIC_API_KEY",
        docs_url="https://docs.anthropic.com/en/api/messages",
        native_responses=False,
        auth="x-api-key",
        file_input=True,
        reasoning=True,
        json_object=False,
    ),
    ProviderMetadata(
        name="gemini",
        protocol="gemini",
        default_base_url="https://generativelanguage.googleapis.com/v1beta",
        api_key_env="GEMINI_API_KEY",
        docs_url="https://ai.google.dev/api/generate-content",
        native_responses=False,
        auth="x-goog-api-key",
        file_input=True,
        reasoning=True,
    ),
    _chat(
        "llamacpp",
        "http://127.0.0.1:8080/v1",
        "LLAMACPP_API_KEY",
        "https://github.com/ggml-org/llama.cpp/tree/master/tools/server",
        key_required=False,
        image_input=False,
        base_url_env="LLAMACPP_BASE_URL",
    ),
    _chat(
        "together", "https://api.together.xyz/v1", "TOGETHER_API_KEY", "https://docs.together.ai/reference"
    ),
    _chat(
        "cerebras", "https://api.cerebras.ai/v1", "CEREBRAS_API_KEY", "https://inference-docs.cerebras.ai/"
    ),
    _chat(
        "sambanova", "https://api.sambanova.ai/v1", "SAMBANOVA_API_KEY", "https://docs.sambanova.ai/cloud/"
    ),
    _chat(
        "perplexity",
        "https://api.perplexity.ai",
        "PERPLEXITY_API_KEY",
        "https://docs.perplexity.ai/api-reference",
        tools=False,
        json_object=False,
    ),
    _chat(
        "openai_compatible",
        None,
        "OPENAI_COMPATIBLE_API_KEY",
        "https://platform.openai.com/docs/api-reference/chat",
        key_required=False,
        base_url_env="OPENAI_COMPATIBLE_BASE_URL",
        file_input=True,
    ),
)

_BY_NAME: dict[str, ProviderMetadata] = {meta.name: meta for meta in _TABLE}
assert set(_BY_NAME) == {p.value for p in LLMProvider}, "registry and LLMProvider disagree"


def list_providers() -> list[str]:
    """Every provider name, sorted."""
    return sorted(_BY_NAME)


def provider_metadata(provider: str | LLMProvider) -> ProviderMetadata:
    """Describe a provider; raises UnsupportedProviderError listing the valid names."""
    from anyllm.errors import UnsupportedProviderError

    name = provider.value if isinstance(provider, LLMProvider) else provider
    if not isinstance(name, str):
        raise UnsupportedProviderError(
            f"provider must be a string or LLMProvider, got {type(provider).__name__}; "
            f"valid providers: {', '.join(list_providers())}"
        )
    meta = _BY_NAME.get(name.strip().lower())
    if meta is None:
        raise UnsupportedProviderError(
            f"Unknown provider {name!r}; valid providers: {', '.join(list_providers())}"
        )
    return meta
