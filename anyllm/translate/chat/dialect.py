"""How each chat-completions vendor differs from OpenAI's chat shape: one row per vendor.

Where vendors differ on the wire, a :class:`ChatDialect` row says how, with the evidence
next to it; everything else is the OpenAI chat shape. The dialect also decides which
Responses fields the vendor can express at all (:func:`supported_fields`).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, replace
from typing import Literal

from anyllm.errors import UnsupportedParameterError
from anyllm.spec import REQUEST_FIELDS

__all__ = ["DIALECTS", "ChatDialect", "dialect_for", "supported_fields", "unsupported"]

FileStyle = Literal["openai", "mistral", "none"]

# Responses fields no chat-completions server can express: the request fails naming them.
_NEVER_EXPRESSIBLE = frozenset(
    {"background", "include", "conversation", "truncation", "max_tool_calls", "prompt_cache_retention"}
)


@dataclass(frozen=True, slots=True)
class ChatDialect:
    """How one vendor's chat completions differ from OpenAI's."""

    name: str
    max_tokens_field: str = "max_tokens"
    stream_usage: bool = True  # send stream_options.include_usage
    required_choice: str = "required"
    seed_field: str = "seed"
    tools: bool = True
    images: bool = True
    files: FileStyle = "none"
    json_object: bool = True
    json_schema: Literal["openai", "llamacpp"] = "openai"
    reasoning_effort: bool = True
    user: bool = True
    prompt_cache_key: bool = False
    openai_extras: bool = False  # safety_identifier, service_tier, text.verbosity
    text_only_strings: bool = False  # collapse text-part lists to one string
    null_content: bool = True  # an assistant turn of only tool calls has content null (else "")


DIALECTS: dict[str, ChatDialect] = {
    # Mistral (docs.mistral.ai/api, recorded traffic): tool_choice "any" for required
    # (pydantic-ai sends it), random_seed, max_tokens, prompt_cache_key, usage always in
    # the last chunk (no stream_options), PDFs as "document_url" parts; no ``user`` field.
    "mistral": ChatDialect(
        "mistral",
        stream_usage=False,
        required_choice="any",
        seed_field="random_seed",
        files="mistral",
        user=False,
        prompt_cache_key=True,
    ),
    # llama.cpp's llama-server (tools/server/README.md): response_format {"type":
    # "json_object", "schema": ...} is grammar-constrained (llama-cpp-python's server reads
    # the same shape); no images (text models without a projector), text parts are joined
    # (chat templates render list content verbatim); no reasoning effort.
    "llamacpp": ChatDialect(
        "llamacpp",
        images=False,
        json_schema="llamacpp",
        reasoning_effort=False,
        text_only_strings=True,
        null_content=False,  # "" for a tool-calls-only turn: llama-cpp-python's server 500s on null
    ),
    "together": ChatDialect("together"),
    # Cerebras (inference-docs.cerebras.ai): max_completion_tokens.
    "cerebras": ChatDialect("cerebras", max_tokens_field="max_completion_tokens"),
    "sambanova": ChatDialect("sambanova"),
    # Perplexity (docs.perplexity.ai): no tools, json_schema only, usage in every chunk.
    "perplexity": ChatDialect("perplexity", stream_usage=False, tools=False, json_object=False),
    # Any OpenAI-compatible server: the OpenAI chat shape, OpenAI's extras passed on.
    "openai_compatible": ChatDialect(
        "openai_compatible", files="openai", prompt_cache_key=True, openai_extras=True
    ),
}


def dialect_for(provider: str, *, tools: bool = True, images: bool = True) -> ChatDialect:
    """The dialect of a chat provider, narrowed by the registry's declared capabilities."""
    base = DIALECTS.get(provider) or ChatDialect(provider)
    if (base.tools and not tools) or (base.images and not images):
        base = replace(base, tools=base.tools and tools, images=base.images and images)
    return base


@functools.cache
def supported_fields(dialect: ChatDialect) -> frozenset[str]:
    """The Responses request fields ``dialect`` can express (the others fail when used)."""
    missing = set(_NEVER_EXPRESSIBLE)
    if not dialect.user:
        missing.add("user")
    if not dialect.prompt_cache_key:
        missing.add("prompt_cache_key")
    if not dialect.openai_extras:
        missing.update({"safety_identifier", "service_tier"})
    return REQUEST_FIELDS - missing


def unsupported(dialect: ChatDialect, param: str, why: str = "") -> UnsupportedParameterError:
    reason = f": {why}" if why else ""
    return UnsupportedParameterError(
        f"{param} cannot be expressed for provider {dialect.name!r} (chat completions){reason}",
        provider=dialect.name,
        param=param,
    )
