"""``responses()`` and ``aresponses()``: check arguments, resolve the provider, dispatch.

Everything a caller can get wrong is caught here, before any network call, with an error
that names the argument. Parameters left as None are not sent.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Generator, Iterator
from typing import TYPE_CHECKING, Any, Literal, Protocol, overload

from anyllm.body_checks import check_input, check_json_body
from anyllm.connection_checks import check_api_base, check_api_key, check_client_args
from anyllm.errors import InvalidRequestError, MissingApiKeyError, UnsupportedProviderError
from anyllm.params import check_argument, check_native_limits, check_tool_choice
from anyllm.providers.base import Backend, ClientConfig
from anyllm.providers.endpoint import BaseUrlOrigin
from anyllm.providers.factory import get_backend
from anyllm.providers.registry import LLMProvider, ProviderMetadata, list_providers, provider_metadata
from anyllm.request import ResponsesRequest

if TYPE_CHECKING:
    from openai.types.responses import Response

    from anyllm.types import ResponseResource  # openresponses_types' class, with output_text

__all__ = ["AnyStreamEvent", "aresponses", "build_request", "client_config", "resolve_model", "responses"]


class AnyStreamEvent(Protocol):
    """What every streamed event offers, whatever the provider: openai's ``ResponseStreamEvent``
    models, openresponses-types' streaming events and ``anyllm.types.ExtensionEvent`` (an
    event type the spec does not define) all have these. Narrow with ``isinstance`` for more."""

    @property
    def type(self) -> str: ...

    @property
    def sequence_number(self) -> int | None: ...

    def model_dump(self, *args: Any, **kwargs: Any) -> dict[str, Any]: ...


def resolve_model(model: str, provider: str | LLMProvider | None) -> tuple[ProviderMetadata, str]:
    """(provider metadata, bare model name) from the three accepted model formats."""
    if not isinstance(model, str):
        raise InvalidRequestError(f"model must be a string, got {type(model).__name__}", param="model")
    model = model.strip()
    if not model:
        raise InvalidRequestError("model must not be empty", param="model")
    if provider is not None:
        try:
            return provider_metadata(provider), model
        except UnsupportedProviderError as exc:
            exc.param = exc.param or "provider"
            raise
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
                    f"{', '.join(list_providers())}",
                    param="model",
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
    check_client_args(client_args, protocol=meta.protocol)
    base_url = api_base
    source = "api_base"
    if base_url is None and meta.base_url_env and os.environ.get(meta.base_url_env):
        base_url, source = os.environ[meta.base_url_env], f"the environment variable {meta.base_url_env}"
    base_url = base_url or meta.default_base_url
    if not base_url:
        hint = f" or set {meta.base_url_env}" if meta.base_url_env else ""
        raise InvalidRequestError(f"provider {meta.name!r} needs api_base=...{hint}", param="api_base")
    check_api_base(base_url, source=source)
    key = api_key if api_key is not None else (os.environ.get(meta.api_key_env) if meta.api_key_env else None)
    if key or not isinstance(key, str | None):
        env = f"the environment variable {meta.api_key_env}"
        check_api_key(key, source="api_key" if api_key is not None else env)
    if not key and meta.key_required:
        raise MissingApiKeyError(meta.name, meta.api_key_env or "an API key")
    origin: BaseUrlOrigin = "api_base" if api_base else "environment" if source != "api_base" else "default"
    return ClientConfig(
        metadata=meta,
        base_url=base_url,
        api_key=key or None,
        client_args=dict(client_args or {}),
        base_url_origin=origin,
    )


def client_config(
    meta: ProviderMetadata, api_key: str | None, api_base: str | None, client_args: dict[str, Any] | None
) -> ClientConfig:
    """The checked configuration ``responses()`` builds (key, base URL, client arguments), for
    the other entry points: WebSocket sessions and ``compact()``."""
    return _config(meta, api_key, api_base, client_args)


def build_request(
    model: str,
    input_data: Any,
    params: dict[str, Any],
    kwargs: dict[str, Any],
) -> dict[str, Any]:
    """The Responses request body: checked parameters, None left out, kwargs merged in.

    ``stream`` is checked but not put in the body: it is a transport choice, carried by
    ``anyllm.request.ResponsesRequest.stream``, not a body field.
    """
    check_input(input_data)
    body: dict[str, Any] = {"model": model, "input": input_data}
    for name, value in params.items():
        if value is None:
            continue
        check_argument(name, value)
        if name == "stream":
            continue
        body[name] = value
    if "tools" in body:
        from anyllm.tools import normalize_tools

        body["tools"] = normalize_tools(body["tools"])
    if "tool_choice" in body:
        check_tool_choice(body["tool_choice"], bool(body.get("tools")))
    for name, value in kwargs.items():
        if name in body and name in ("model", "input"):
            raise InvalidRequestError(
                f"{name!r} cannot be passed as a keyword argument: it is the "
                f"{'first' if name == 'model' else 'second'} argument of responses()",
                param=name,
            )
        if value is not None:
            body[name] = value
    check_json_body(body)  # what JSON cannot carry is caught here, not mid-request
    return body


def _check_native(meta: ProviderMetadata, body: dict[str, Any]) -> None:
    """Limits a native Responses server enforces with a 400 that can be seen here first."""
    if meta.native_responses:
        check_native_limits(body, provider=meta.name, spec_only=meta.protocol == "openresponses")


def _prepare(
    model: str,
    input_data: Any,
    provider: str | LLMProvider | None,
    params: dict[str, Any],
    kwargs: dict[str, Any],
) -> tuple[Backend, ResponsesRequest]:
    """The backend for the call and the one typed request every layer below reads."""
    api_key = params.pop("api_key")
    api_base = params.pop("api_base")
    client_args = params.pop("client_args")
    meta, model_name = resolve_model(model, provider)
    body = build_request(model_name, input_data, params, kwargs)
    _check_native(meta, body)
    request = ResponsesRequest(body, stream=params.get("stream") is True)
    backend = get_backend(_config(meta, api_key, api_base, client_args))
    return backend, request


@overload
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
    stream: Literal[True],
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
) -> Generator[AnyStreamEvent, None, None]: ...


@overload
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
    stream: Literal[False] | None = None,
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
) -> Response | ResponseResource: ...


@overload
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
) -> Response | ResponseResource | Generator[AnyStreamEvent, None, None]: ...


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
    backend, request = _prepare(model, input_data, provider, params, kwargs)
    if request.stream:
        return backend.stream(request)
    result: Response | ResponseResource = backend.create(request)
    return result


@overload
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
    stream: Literal[True],
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
) -> AsyncGenerator[AnyStreamEvent, None]: ...


@overload
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
    stream: Literal[False] | None = None,
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
) -> Response | ResponseResource: ...


@overload
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
) -> Response | ResponseResource | AsyncGenerator[AnyStreamEvent, None]: ...


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
    backend, request = _prepare(model, input_data, provider, params, kwargs)
    if request.stream:
        return await backend.astream(request)
    result: Response | ResponseResource = await backend.acreate(request)
    return result
