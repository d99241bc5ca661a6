"""Facts of the OpenResponses specification that several modules share.

One definition each, so the client, the bridges and the validator cannot disagree about
them. Only plain constants live here: this module imports nothing from anyllm, so every
layer (providers, translate, testing) may import it.
"""

from __future__ import annotations

import re
from types import MappingProxyType
from typing import Any, Final

__all__ = [
    "EXTENSION_TYPE",
    "REQUEST_FIELDS",
    "SPEC_VERSION",
    "TERMINAL_EVENT_STATUS",
    "TERMINAL_EVENT_TYPES",
    "is_extension_type",
]

SPEC_VERSION: Final = "2026-04-24"
"""The release of the OpenResponses specification that anyllm implements and judges."""

TERMINAL_EVENT_STATUS: Final = MappingProxyType(
    {
        "response.completed": "completed",
        "response.failed": "failed",
        "response.incomplete": "incomplete",
    }
)
"""The stream events that end a response, and the status each one reports."""

TERMINAL_EVENT_TYPES: Final = frozenset(TERMINAL_EVENT_STATUS)
"""Spec "Streaming": exactly one of these ends every response stream."""

REQUEST_FIELDS: Final = frozenset(
    {
        "model", "input", "instructions", "tools", "tool_choice", "parallel_tool_calls",
        "max_output_tokens", "temperature", "top_p", "presence_penalty", "frequency_penalty",
        "reasoning", "text", "metadata", "user", "safety_identifier", "stream", "stream_options",
        "store", "previous_response_id", "include", "background", "conversation", "truncation",
        "max_tool_calls", "prompt_cache_key", "prompt_cache_retention", "service_tier", "top_logprobs",
    }
)  # fmt: skip
"""The Responses request body fields that anyllm knows (CreateResponseBody and OpenAI's
few additions); a bridge raises UnsupportedParameterError for any field outside those it
translates, and passes unknown kwargs through only where its protocol allows."""

EXTENSION_TYPE: Final = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]*:[A-Za-z0-9_.:\-]+$")
"""Spec "Items are extensible" / "Extending Items": a type outside the spec "MUST be
prefixed with the implementor slug (for example, ``acme:search_result``)"."""


def is_extension_type(type_name: Any) -> bool:
    """Whether ``type_name`` is an implementor-prefixed extension type (``anthropic:server_tool_use``)."""
    return isinstance(type_name, str) and EXTENSION_TYPE.match(type_name) is not None
