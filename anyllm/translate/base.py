"""What every bridge is and shares: the bridge protocol and the rules all bridges apply alike.

A bridge makes a non-Responses protocol (chat completions, Anthropic Messages, Gemini
generateContent) look like the Responses API: it translates the request, a whole reply
and a stream, and says where and with which headers to send the request.
:class:`anyllm.providers.translated.TranslatedBackend` drives any bridge; the bridges
themselves never touch HTTP, so they are pure functions tested without a network.

The rules here are written once for every bridge: which request fields are Responses
fields (anything else is a caller's passthrough key), when a field a bridge cannot
express counts as used, and which tools a ``tool_choice`` permits.
"""

from __future__ import annotations

import abc
from collections.abc import Callable, Collection, Mapping
from typing import Any, Protocol

from anyllm.errors import ProviderError, StreamError, UnsupportedParameterError
from anyllm.request import ResponsesRequest
from anyllm.spec import REQUEST_FIELDS, is_extension_type
from anyllm.streaming import SSEEvent
from anyllm.translate.stream import ResponseStreamBuilder

__all__ = [
    "REQUEST_FIELDS",
    "Bridge",
    "StreamTranslator",
    "allowed_tool_names",
    "check_tool_allowed",
    "check_unsupported",
    "input_items",
    "is_foreign_extension",
    "passthrough_fields",
]


def input_items(value: Any) -> list[dict[str, Any]]:
    """Responses ``input`` as a list of items (a bare string is one user message)."""
    if value is None:
        return []
    if isinstance(value, str):
        return [{"type": "message", "role": "user", "content": value}]
    return list(value)


def is_foreign_extension(item_type: Any, own_slug: str | None = None) -> bool:
    """An input item of an implementor-prefixed type that the bridge at hand (whose items
    start with ``own_slug``, e.g. ``"gemini:"``) did not make: ``anthropic:*`` reaching
    Gemini. Every bridge skips such items: the spec says an extended item type "SHOULD be
    treated as specific to that implementation and not assumed to be portable" and that
    clients may treat unknown items "as opaque records"; like another provider's
    reasoning, it carries nothing the target can use."""
    own = own_slug is not None and isinstance(item_type, str) and item_type.startswith(own_slug)
    return is_extension_type(item_type) and not own


def passthrough_fields(body: Mapping[str, Any]) -> dict[str, Any]:
    """The body's keys that are not Responses fields: the caller's ``**kwargs``, which every
    bridge sends as given (the caller asked for them by name)."""
    return {key: value for key, value in body.items() if key not in REQUEST_FIELDS}


def _given(value: Any) -> bool:
    return value is not None


# When a Responses field asks for something. A field missing here asks for something
# whenever it is given; these have neutral values a bridge without the feature accepts.
_ASKS_FOR: dict[str, Callable[[Any], bool]] = {
    "presence_penalty": lambda value: value is not None and value != 0,
    "frequency_penalty": lambda value: value is not None and value != 0,
    "top_logprobs": bool,
    "background": bool,
    "truncation": lambda value: value not in (None, "disabled"),
    "service_tier": lambda value: value not in (None, "auto", "default"),
    "include": bool,
}


def check_unsupported(
    body: Mapping[str, Any],
    supported: Collection[str],
    bridge: str,
    reasons: Mapping[str, str],
) -> None:
    """Raise UnsupportedParameterError for the first Responses field that ``body`` uses and
    the bridge named ``bridge`` cannot express (every field outside ``supported``).

    ``reasons`` says why, per field; ``{value!r}`` in a reason is filled with the value sent.
    Runs before any network call, so nothing is dropped silently and nothing is sent.
    """
    for name in sorted(REQUEST_FIELDS.difference(supported)):
        value = body.get(name)
        if _ASKS_FOR.get(name, _given)(value):
            why = reasons.get(name, "not available on this protocol").format(value=value)
            raise UnsupportedParameterError(
                f"{bridge} cannot express {name}: {why}", provider=bridge, param=name
            )


def allowed_tool_names(tool_choice: Any) -> frozenset[str] | None:
    """The tool names a reply may call under ``tool_choice``; None when any tool may be called.

    ``{"type": "function", "name": n}`` permits ``n`` only; ``allowed_tools`` permits the
    names it lists (its entries are ``{"type": "function", "name": ...}``). Every other
    choice (a mode string, None) restricts nothing.
    """
    if not isinstance(tool_choice, Mapping):
        return None
    kind = tool_choice.get("type")
    if kind == "function":
        name = tool_choice.get("name")
        return frozenset({name}) if isinstance(name, str) else frozenset()
    if kind == "allowed_tools":
        return frozenset(
            entry["name"]
            for entry in tool_choice.get("tools") or []
            if isinstance(entry, Mapping) and isinstance(entry.get("name"), str)
        )
    return None


def check_tool_allowed(allowed: frozenset[str] | None, name: str, provider: str) -> None:
    """Reject a reply's call of a tool that ``tool_choice`` excludes (``allowed`` from
    :func:`allowed_tool_names`): the spec names refusing such a call as one way to enforce
    the restriction where the provider cannot express it exactly."""
    if allowed is not None and name not in allowed:
        raise ProviderError(
            f"the model called tool {name!r}, which tool_choice does not permit "
            f"({sorted(allowed)}); the call was rejected",
            provider=provider,
            code="tool_not_allowed",
        )


class StreamTranslator(abc.ABC):
    """Turns one provider stream, event by event, into builder calls (push-based, so the
    same code serves sync and async iteration)."""

    def __init__(self, builder: ResponseStreamBuilder) -> None:
        self.builder = builder

    @abc.abstractmethod
    def feed(self, event: SSEEvent) -> list[dict[str, Any]]:
        """One provider SSE event in; Responses events out. Raise AnyLLMError on a provider error."""

    def end(self) -> list[dict[str, Any]]:
        """The provider's stream closed. Bridges whose protocol has an explicit end (a
        ``finish_reason``, ``message_stop``) have already finished the builder; if not,
        the stream was cut short."""
        if not self.builder.finished:
            raise StreamError("the provider's stream ended before it said the response was done")
        return []


class Bridge(Protocol):
    """One non-Responses protocol, seen as the Responses API.

    Every method is pure (no network); the request reaching :meth:`translate_request` is
    the whole conversation (stored context already prepended) and ``request.stream`` says
    whether the call streams.
    """

    def path(self, request: ResponsesRequest) -> str:
        """The endpoint path relative to the base URL."""
        ...

    def headers(self) -> Mapping[str, str]:
        """Headers the protocol needs on every request besides authentication."""
        ...

    def translate_request(self, request: ResponsesRequest) -> dict[str, Any]:
        """Responses request -> provider request; UnsupportedParameterError for what it cannot say."""
        ...

    def translate_response(self, reply: Any, builder: ResponseStreamBuilder) -> None:
        """Feed a whole provider reply to ``builder`` and finish it (complete/incomplete/fail)."""
        ...

    def stream_translator(self, builder: ResponseStreamBuilder) -> StreamTranslator:
        """A fresh translator for one provider stream."""
        ...
