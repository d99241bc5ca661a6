"""``compact()`` / ``acompact()``: ``POST /responses/compact`` on native Responses providers.

The spec's second resource (2026-04-24) "returns a compacted input window, not a response
ID": a ``CompactResource`` (``object: "response.compaction"``) whose ``output`` is the new
base input. After it, a WebSocket session "MUST start a new response ... by omitting
``previous_response_id`` ..., passing the compacted output as the base ``input``, and
appending the latest user or tool items" (``compacted_input()`` gives that list).
openresponses-protocol providers return ``openresponses_types.CompactResource`` (strictly
validated), openai-protocol ones the openai SDK's ``CompactedResponse``, as ``responses()``
returns each its own type. Translated providers have no such endpoint and raise
UnsupportedProviderError naming the provider, before any network call.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from anyllm.api import client_config, resolve_model
from anyllm.body_checks import check_input, check_json_body
from anyllm.errors import InvalidRequestError, ProviderError, UnsupportedProviderError
from anyllm.params import check_argument
from anyllm.providers.factory import get_backend
from anyllm.request import ResponsesRequest

if TYPE_CHECKING:
    import httpx2
    from openai.types.responses import CompactedResponse
    from openresponses_types import CompactResource

    from anyllm.providers.base import Backend
    from anyllm.providers.registry import LLMProvider

__all__ = ["acompact", "compact", "compacted_input"]

_PATH = "responses/compact"


def _prepare(
    model: str,
    input_data: Any,
    provider: str | LLMProvider | None,
    params: dict[str, Any],
    kwargs: dict[str, Any],
) -> tuple[Backend, dict[str, Any]]:
    """The backend and the checked CompactResponseMethodPublicBody (None left out)."""
    api_key, api_base, client_args = params.pop("api_key"), params.pop("api_base"), params.pop("client_args")
    meta, name = resolve_model(model, provider)
    if not meta.native_responses:
        raise UnsupportedProviderError(
            f"provider {meta.name!r} has no /responses/compact: it is reached by translation "
            f"(protocol {meta.protocol!r}); compaction needs a native Responses provider "
            "(protocol openresponses or openai)",
            provider=meta.name,
            param="provider",
        )
    if input_data is None and params.get("previous_response_id") is None:
        raise InvalidRequestError(
            "compact() needs something to compact: input_data, previous_response_id or both",
            param="input",
        )
    body: dict[str, Any] = {"model": name}
    if input_data is not None:
        check_input(input_data)
        body["input"] = input_data
    for key, value in params.items():
        if value is not None:
            check_argument(key, value)
            body[key] = value
    for key, value in kwargs.items():
        if key in ("model", "input"):
            raise InvalidRequestError(
                f"{key!r} cannot be passed as a keyword argument to compact()", param=key
            )
        if value is not None:
            body[key] = value
    check_json_body(body)
    backend = get_backend(client_config(meta, api_key, api_base, client_args))
    local = getattr(backend, "local", None)
    if local is not None:  # a server that keeps no responses: the stored conversation is the input
        body = local.with_context(ResponsesRequest(body)).wire_body()
    return backend, body


def _resource(reply: httpx2.Response, provider: str) -> CompactResource:
    """The strictly typed CompactResource of a success reply, or ProviderError saying why not."""
    from openresponses_types import CompactResource
    from pydantic import ValidationError

    from anyllm.extensions import with_extension_items
    from anyllm.spec_dump import spec_dumped

    model = spec_dumped(with_extension_items(CompactResource))
    try:
        resource: CompactResource = model.model_validate_json(reply.content, strict=True)
        return resource
    except ValidationError as exc:
        snippet = reply.content[:120].decode("utf-8", "replace")
        raise ProviderError(
            f"{provider} answered /responses/compact (HTTP {reply.status_code}) with a body that is "
            f"not a CompactResource: {exc.error_count()} problem(s), first: "
            f"{str(exc).splitlines()[1:3]}; body starts {snippet!r}",
            provider=provider,
            status_code=reply.status_code,
        ) from exc


def _sdk_kwargs(backend: Backend, body: dict[str, Any]) -> dict[str, Any]:
    """``responses.compact`` keyword arguments: known names as such, the rest in extra_body."""
    import inspect

    import openai
    from openai.resources.responses import Responses

    known = set(inspect.signature(Responses.compact).parameters) - {"self", "extra_body"}
    kwargs = {key: value for key, value in body.items() if key in known}
    extra = {key: value for key, value in body.items() if key not in known}
    if extra:
        kwargs["extra_body"] = extra
    if backend.config.metadata.auth == "api-key":  # the key travels once, in api-key
        kwargs["extra_headers"] = {"Authorization": openai.Omit()}
    return kwargs


def _checked_compacted(result: Any, provider: str) -> CompactedResponse:
    """The SDK returns what it received: a CompactedResponse built without validation, or
    the text of a body that is not JSON; anything but a compaction object is refused."""
    from openai.types.responses import CompactedResponse

    if (
        isinstance(result, CompactedResponse)
        and {"id", "output"} <= result.model_fields_set
        and isinstance(result.output, list)
        and result.object == "response.compaction"
    ):
        return result
    shown = repr(result)[:120]
    raise ProviderError(
        f"{provider} answered /responses/compact with something that is not a compaction object: {shown}",
        provider=provider,
    )


def compact(
    model: str,
    input_data: str | list[dict[str, Any]] | None = None,
    *,
    provider: str | LLMProvider | None = None,
    previous_response_id: str | None = None,
    instructions: str | None = None,
    prompt_cache_key: str | None = None,
    api_key: str | None = None,
    api_base: str | None = None,
    client_args: dict[str, Any] | None = None,
    **kwargs: Any,
) -> CompactResource | CompactedResponse:
    """Compact a conversation (``input_data``, ``previous_response_id`` or both) into a
    new input window: ``POST {api_base}/responses/compact``. A server without the
    endpoint answers 404: NotFoundError, as for any call."""
    params = dict(locals())
    for name in ("model", "input_data", "provider", "kwargs"):
        params.pop(name)
    backend, body = _prepare(model, input_data, provider, params, kwargs)
    from anyllm.providers.openai import OpenAIBackend, map_sdk_error
    from anyllm.providers.openresponses import OpenResponsesBackend

    if isinstance(backend, OpenAIBackend):
        import openai

        try:
            result = backend.client.responses.compact(**_sdk_kwargs(backend, body))
        except (openai.OpenAIError, ValueError) as exc:
            raise map_sdk_error(exc, backend.provider, backend.config) from exc
        return _checked_compacted(result, backend.provider)
    assert isinstance(backend, OpenResponsesBackend)  # native_responses: one of the two
    reply = backend.transport.post(_PATH, body)
    return _resource(reply, backend.provider)


async def acompact(
    model: str,
    input_data: str | list[dict[str, Any]] | None = None,
    *,
    provider: str | LLMProvider | None = None,
    previous_response_id: str | None = None,
    instructions: str | None = None,
    prompt_cache_key: str | None = None,
    api_key: str | None = None,
    api_base: str | None = None,
    client_args: dict[str, Any] | None = None,
    **kwargs: Any,
) -> CompactResource | CompactedResponse:
    """Async ``compact()``: same arguments, same results."""
    params = dict(locals())
    for name in ("model", "input_data", "provider", "kwargs"):
        params.pop(name)
    backend, body = _prepare(model, input_data, provider, params, kwargs)
    from anyllm.providers.openai import OpenAIBackend, map_sdk_error
    from anyllm.providers.openresponses import OpenResponsesBackend

    if isinstance(backend, OpenAIBackend):
        import openai

        try:
            result = await backend.aclient.responses.compact(**_sdk_kwargs(backend, body))
        except (openai.OpenAIError, ValueError) as exc:
            raise map_sdk_error(exc, backend.provider, backend.config) from exc
        return _checked_compacted(result, backend.provider)
    assert isinstance(backend, OpenResponsesBackend)  # native_responses: one of the two
    reply = await backend.transport.apost(_PATH, body)
    return _resource(reply, backend.provider)


def compacted_input(result: Any) -> list[dict[str, Any]]:
    """The compacted window as input items (plain dicts), to start the next response with:
    ``session.create(compacted_input(c) + [new_item], previous_response_id=None)``."""
    items: list[dict[str, Any]] = []
    for item in result.output:
        if hasattr(item, "to_dict"):  # the openai SDK's models
            dumped = item.to_dict(mode="json")
        else:
            dumped = item.model_dump(mode="json", exclude_none=True)
        if dumped.get("type") == "compaction":  # CompactionSummaryItemParam: no created_by
            dumped.pop("created_by", None)
        items.append(dumped)
    return items
