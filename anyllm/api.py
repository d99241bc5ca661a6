"""``responses()`` and ``aresponses()``: check arguments, resolve the provider, dispatch.

Everything a caller can get wrong is caught here, before any network call, with an error
that names the argument. Parameters left as None are not sent.
"""

from __future__ import annotations

import math
import os
import warnings
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

from anyllm.errors import InvalidRequestError, MissingApiKeyError, UnsupportedProviderError
from anyllm.providers.base import Backend, ClientConfig, get_backend
from anyllm.providers.registry import LLMProvider, ProviderMetadata, list_providers, provider_metadata

if TYPE_CHECKING:
    from openai.types.responses import Response
    from openresponses_types import ResponseResource

__all__ = ["aresponses", "build_request", "resolve_model", "responses"]

_TOOL_CHOICE_MODES = ("auto", "none", "required")
_TRUNCATION = ("auto", "disabled")
# The spec's ReasoningEffortEnum, plus OpenAI's "minimal" (its API accepts it; the spec
# describes it but leaves it out of the enum).
_REASONING_EFFORT = ("none", "minimal", "low", "medium", "high", "xhigh")
_REASONING_SUMMARY = ("concise", "detailed", "auto")
_TEXT_FORMATS = ("text", "json_object", "json_schema")
# What a strict OpenResponses server accepts (spec CreateResponseBody). OpenAI's own API is
# a superset (more include values, service tiers and hosted-tool choices), so these closed
# sets are enforced for the openresponses protocol only; translated providers decide in
# their bridges.
_SPEC_INCLUDE = ("reasoning.encrypted_content", "message.output_text.logprobs")
_SPEC_SERVICE_TIER = ("auto", "default", "flex", "priority")
_SPEC_TOOL_CHOICE_TYPES = ("function", "allowed_tools")
_NATIVE_MIN_OUTPUT_TOKENS = 16


def resolve_model(model: str, provider: str | LLMProvider | None) -> tuple[ProviderMetadata, str]:
    """(provider metadata, bare model name) from the three accepted model formats."""
    if not isinstance(model, str):
        raise InvalidRequestError(f"model must be a string, got {type(model).__name__}", param="model")
    model = model.strip()
    if not model:
        raise InvalidRequestError("model must not be empty", param="model")
    if provider is not None:
        return provider_metadata(provider), model
    for separator in (":", "/"):
        prefix, sep, rest = model.partition(separator)
        if not sep:
            continue
        try:
            meta = provider_metadata(prefix)
        except UnsupportedProviderError:
            if separator == ":":
                raise UnsupportedProviderError(
                    f"Unknown provider {prefix!r} in model {model!r}; valid providers: "
                    f"{', '.join(list_providers())}"
                ) from None
            continue
        if not rest.strip():
            raise InvalidRequestError(
                f"model {model!r} names provider {prefix!r} but no model", param="model"
            )
        if separator == "/":
            warnings.warn(
                f"model='{model}' (provider/model) is deprecated; use provider='{meta.name}', "
                f"model='{rest}' or model='{meta.name}:{rest}'",
                DeprecationWarning,
                stacklevel=3,
            )
        return meta, rest.strip()
    raise InvalidRequestError(
        f"No provider for model {model!r}: pass provider=... or use 'provider:model'; "
        f"valid providers: {', '.join(list_providers())}",
        param="provider",
    )


def _config(
    meta: ProviderMetadata, api_key: str | None, api_base: str | None, client_args: dict[str, Any] | None
) -> ClientConfig:
    if client_args is not None and not isinstance(client_args, Mapping):
        raise InvalidRequestError("client_args must be a dict", param="client_args")
    base_url = api_base or (os.environ.get(meta.base_url_env) if meta.base_url_env else None)
    base_url = base_url or meta.default_base_url
    if not base_url:
        hint = f" or set {meta.base_url_env}" if meta.base_url_env else ""
        raise InvalidRequestError(f"provider {meta.name!r} needs api_base=...{hint}", param="api_base")
    if not base_url.startswith(("http://", "https://")):
        raise InvalidRequestError(f"api_base must be an http(s) URL, got {base_url!r}", param="api_base")
    key = api_key if api_key is not None else (os.environ.get(meta.api_key_env) if meta.api_key_env else None)
    if not key and meta.key_required:
        raise MissingApiKeyError(meta.name, meta.api_key_env or "an API key")
    return ClientConfig(
        metadata=meta, base_url=base_url, api_key=key or None, client_args=dict(client_args or {})
    )


def _number(name: str, value: Any, low: float, high: float) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise InvalidRequestError(f"{name} must be a number, got {value!r}", param=name)
    if not low <= value <= high:
        raise InvalidRequestError(f"{name} must be between {low:g} and {high:g}, got {value!r}", param=name)


def _positive_int(name: str, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise InvalidRequestError(f"{name} must be a positive integer, got {value!r}", param=name)


def _bool(name: str, value: Any) -> None:
    if not isinstance(value, bool):
        raise InvalidRequestError(f"{name} must be True or False, got {value!r}", param=name)


def _string(name: str, value: Any) -> None:
    if not isinstance(value, str) or not value:
        raise InvalidRequestError(f"{name} must be a non-empty string, got {value!r}", param=name)


def _check_input(input_data: Any) -> None:
    if isinstance(input_data, str):
        return
    if not isinstance(input_data, list):
        raise InvalidRequestError(
            f"input_data must be a string or a list of input items, got {type(input_data).__name__}",
            param="input",
        )
    for index, item in enumerate(input_data):
        if not isinstance(item, Mapping):
            raise InvalidRequestError(
                f"input_data[{index}] must be an item dict, got {type(item).__name__}",
                param=f"input[{index}]",
            )
        if "type" not in item and "role" not in item:
            raise InvalidRequestError(
                f"input_data[{index}] has neither 'type' nor 'role'", param=f"input[{index}]"
            )


def _check_tool_choice(tool_choice: Any, has_tools: bool) -> None:
    if isinstance(tool_choice, str):
        if tool_choice not in _TOOL_CHOICE_MODES:
            raise InvalidRequestError(
                f"tool_choice must be one of {', '.join(_TOOL_CHOICE_MODES)} or a dict, got {tool_choice!r}",
                param="tool_choice",
            )
        if tool_choice == "required" and not has_tools:
            raise InvalidRequestError("tool_choice='required' needs tools", param="tool_choice")
        return
    if not isinstance(tool_choice, Mapping) or "type" not in tool_choice:
        raise InvalidRequestError(
            f"tool_choice must be 'auto', 'none', 'required' or a dict with 'type', got {tool_choice!r}",
            param="tool_choice",
        )


def _check_metadata(metadata: Any) -> None:
    if not isinstance(metadata, Mapping):
        raise InvalidRequestError("metadata must be a dict of strings", param="metadata")
    if len(metadata) > 16:
        raise InvalidRequestError(
            f"metadata has {len(metadata)} keys; at most 16 are allowed", param="metadata"
        )
    for key, value in metadata.items():
        if not isinstance(key, str) or len(key) > 64:
            raise InvalidRequestError(
                f"metadata key {key!r} must be a string of at most 64 characters", param="metadata"
            )
        if not isinstance(value, str) or len(value) > 512:
            raise InvalidRequestError(
                f"metadata[{key!r}] must be a string of at most 512 characters", param="metadata"
            )


def _check_reasoning(reasoning: Mapping[str, Any]) -> None:
    effort = reasoning.get("effort")
    if effort is not None and effort not in _REASONING_EFFORT:
        raise InvalidRequestError(
            f"reasoning.effort must be one of {', '.join(_REASONING_EFFORT)}, got {effort!r}",
            param="reasoning",
        )
    summary = reasoning.get("summary")
    if summary is not None and summary not in _REASONING_SUMMARY:
        raise InvalidRequestError(
            f"reasoning.summary must be one of {', '.join(_REASONING_SUMMARY)}, got {summary!r}",
            param="reasoning",
        )


def _check_text(text: Mapping[str, Any]) -> None:
    fmt = text.get("format")
    if fmt is None:
        return
    if not isinstance(fmt, Mapping) or fmt.get("type") not in _TEXT_FORMATS:
        raise InvalidRequestError(
            f"text.format must be a dict whose type is one of {', '.join(_TEXT_FORMATS)}, got {fmt!r}",
            param="text",
        )
    if fmt["type"] == "json_schema":
        if not isinstance(fmt.get("name"), str) or not fmt["name"]:
            raise InvalidRequestError("text.format json_schema needs a 'name'", param="text")
        if not isinstance(fmt.get("schema"), Mapping):
            raise InvalidRequestError("text.format json_schema needs a 'schema' dict", param="text")


def build_request(
    model: str,
    input_data: Any,
    params: dict[str, Any],
    kwargs: dict[str, Any],
) -> dict[str, Any]:
    """The Responses request body: checked parameters, None left out, kwargs merged in."""
    _check_input(input_data)
    body: dict[str, Any] = {"model": model, "input": input_data}
    for name, value in params.items():
        if value is None:
            continue
        if name in ("temperature",):
            _number(name, value, 0.0, 2.0)
        elif name == "top_p":
            _number(name, value, 0.0, 1.0)
        elif name in ("presence_penalty", "frequency_penalty"):
            _number(name, value, -2.0, 2.0)
        elif name in ("max_output_tokens", "max_tool_calls"):
            _positive_int(name, value)
        elif name in ("stream", "parallel_tool_calls", "store", "background"):
            _bool(name, value)
        elif name in (
            "instructions",
            "user",
            "safety_identifier",
            "prompt_cache_key",
            "service_tier",
            "previous_response_id",
            "prompt_cache_retention",
        ):
            _string(name, value)
        elif name == "truncation" and value not in _TRUNCATION:
            raise InvalidRequestError(f"truncation must be 'auto' or 'disabled', got {value!r}", param=name)
        elif name == "metadata":
            _check_metadata(value)
        elif name == "include" and (
            not isinstance(value, list) or not all(isinstance(v, str) for v in value)
        ):
            raise InvalidRequestError("include must be a list of strings", param=name)
        elif name in ("reasoning", "text") and not isinstance(value, Mapping):
            raise InvalidRequestError(f"{name} must be a dict, got {type(value).__name__}", param=name)
        elif name == "reasoning":
            _check_reasoning(value)
        elif name == "text":
            _check_text(value)
        elif name == "conversation" and not isinstance(value, str | Mapping):
            raise InvalidRequestError("conversation must be an id string or a dict", param=name)
        body[name] = value
    if "tools" in body:
        from anyllm.tools import normalize_tools

        body["tools"] = normalize_tools(body["tools"])
    if "tool_choice" in body:
        _check_tool_choice(body["tool_choice"], bool(body.get("tools")))
    for name, value in kwargs.items():
        if value is not None:
            body[name] = value
    return body


def _check_native(meta: ProviderMetadata, body: dict[str, Any]) -> None:
    """Limits a native Responses server enforces with a 400 that can be seen here first."""
    if not meta.native_responses:
        return
    limit = body.get("max_output_tokens")
    if isinstance(limit, int) and limit < _NATIVE_MIN_OUTPUT_TOKENS:
        raise InvalidRequestError(
            f"max_output_tokens must be at least {_NATIVE_MIN_OUTPUT_TOKENS} for provider {meta.name!r} "
            f"(the Responses API minimum), got {limit}",
            param="max_output_tokens",
        )
    if meta.protocol != "openresponses":
        return
    text = body.get("text")
    fmt = text.get("format") if isinstance(text, Mapping) else None
    if isinstance(fmt, Mapping) and fmt.get("type") == "json_object":
        raise InvalidRequestError(
            "text.format json_object is an OpenAI extension the OpenResponses request spec does not define; "
            "use json_schema",
            param="text",
        )
    for value in body.get("include") or ():
        if value not in _SPEC_INCLUDE:
            raise InvalidRequestError(
                f"include entry {value!r} is not one of {', '.join(_SPEC_INCLUDE)}", param="include"
            )
    tier = body.get("service_tier")
    if tier is not None and tier not in _SPEC_SERVICE_TIER:
        raise InvalidRequestError(
            f"service_tier must be one of {', '.join(_SPEC_SERVICE_TIER)}, got {tier!r}", param="service_tier"
        )
    choice = body.get("tool_choice")
    if isinstance(choice, Mapping) and choice.get("type") not in _SPEC_TOOL_CHOICE_TYPES:
        raise InvalidRequestError(
            f"tool_choice type must be one of {', '.join(_SPEC_TOOL_CHOICE_TYPES)}, "
            f"got {choice.get('type')!r}",
            param="tool_choice",
        )


def _prepare(
    model: str,
    input_data: Any,
    provider: str | LLMProvider | None,
    params: dict[str, Any],
    kwargs: dict[str, Any],
) -> tuple[Backend, dict[str, Any], bool]:
    api_key = params.pop("api_key")
    api_base = params.pop("api_base")
    client_args = params.pop("client_args")
    meta, model_name = resolve_model(model, provider)
    body = build_request(model_name, input_data, params, kwargs)
    _check_native(meta, body)
    stream = bool(body.pop("stream", False))
    backend = get_backend(_config(meta, api_key, api_base, client_args))
    backend.check(body)
    return backend, body, stream


def responses(
    model: str,
    input_data: str | list[dict[str, Any]],
    *,
    provider: str | LLMProvider | None = None,
    tools: list[dict[str, Any] | Callable[..., Any]] | None = None,
    tool_choice: str | dict[str, Any] | None = None,
    max_output_tokens: int | None = None,
    temperature: float | None = None,
    top_p: float | None = None,
    stream: bool | None = None,
    api_key: str | None = None,
    api_base: str | None = None,
    instructions: str | None = None,
    max_tool_calls: int | None = None,
    parallel_tool_calls: bool | None = None,
    reasoning: dict[str, Any] | None = None,
    text: dict[str, Any] | None = None,
    presence_penalty: float | None = None,
    frequency_penalty: float | None = None,
    truncation: str | None = None,
    store: bool | None = None,
    service_tier: str | None = None,
    user: str | None = None,
    metadata: dict[str, str] | None = None,
    previous_response_id: str | None = None,
    include: list[str] | None = None,
    background: bool | None = None,
    safety_identifier: str | None = None,
    prompt_cache_key: str | None = None,
    prompt_cache_retention: str | None = None,
    conversation: str | dict[str, Any] | None = None,
    client_args: dict[str, Any] | None = None,
    **kwargs: Any,
) -> Response | ResponseResource | Iterator[Any]:
    """Create a response with the OpenResponses API on any provider.

    Returns ``openai.types.responses.Response`` for OpenAI-native providers,
    ``openresponses_types.ResponseResource`` for the others, or with ``stream=True`` an
    iterator of typed events (closing it, or dropping it, closes the connection).
    ``model`` is ``"gpt-4.1-mini"`` with ``provider="openai"``, or ``"openai:gpt-4.1-mini"``.
    ``kwargs`` go into the request body as they are.
    """
    params = dict(locals())
    for name in ("model", "input_data", "provider", "kwargs"):
        params.pop(name)
    backend, body, streaming = _prepare(model, input_data, provider, params, kwargs)
    if streaming:
        return backend.stream(body)
    result: Response | ResponseResource = backend.create(body)
    return result


async def aresponses(
    model: str,
    input_data: str | list[dict[str, Any]],
    *,
    provider: str | LLMProvider | None = None,
    tools: list[dict[str, Any] | Callable[..., Any]] | None = None,
    tool_choice: str | dict[str, Any] | None = None,
    max_output_tokens: int | None = None,
    temperature: float | None = None,
    top_p: float | None = None,
    stream: bool | None = None,
    api_key: str | None = None,
    api_base: str | None = None,
    instructions: str | None = None,
    max_tool_calls: int | None = None,
    parallel_tool_calls: bool | None = None,
    reasoning: dict[str, Any] | None = None,
    text: dict[str, Any] | None = None,
    presence_penalty: float | None = None,
    frequency_penalty: float | None = None,
    truncation: str | None = None,
    store: bool | None = None,
    service_tier: str | None = None,
    user: str | None = None,
    metadata: dict[str, str] | None = None,
    previous_response_id: str | None = None,
    include: list[str] | None = None,
    background: bool | None = None,
    safety_identifier: str | None = None,
    prompt_cache_key: str | None = None,
    prompt_cache_retention: str | None = None,
    conversation: str | dict[str, Any] | None = None,
    client_args: dict[str, Any] | None = None,
    **kwargs: Any,
) -> Response | ResponseResource | AsyncIterator[Any]:
    """Async ``responses()``: same arguments, same results, ``AsyncIterator`` when streaming."""
    params = dict(locals())
    for name in ("model", "input_data", "provider", "kwargs"):
        params.pop(name)
    backend, body, streaming = _prepare(model, input_data, provider, params, kwargs)
    if streaming:
        return await backend.astream(body)
    result: Response | ResponseResource = await backend.acreate(body)
    return result
