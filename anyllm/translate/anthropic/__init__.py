"""The Anthropic bridge: Responses <-> Messages API (``POST /v1/messages``, ``anthropic-version``).

Pure functions: a Responses request body in, a Messages request body out; a Messages
reply (whole, or SSE event by event) in, ``ResponseStreamBuilder`` calls out.
Modules: ``request`` (top-level fields, reasoning, tools; its docstring lists the request
decisions), ``messages`` (input items), ``response`` (the response decisions and their
helpers), ``stream`` (whole replies and streams, one translator), ``hosted`` (extension
items for provider-hosted content, citations), ``common`` (the reasoning round-trip
encoding) and ``bridge``
(the :class:`AnthropicBridge` that :class:`anyllm.providers.translated.TranslatedBackend`
drives).
"""

from anyllm.translate.anthropic.bridge import ANTHROPIC_VERSION, AnthropicBridge
from anyllm.translate.anthropic.common import (
    REDACTED_PREFIX,
    THINKING_PREFIX,
    decode_thinking,
    encode_thinking,
)
from anyllm.translate.anthropic.request import DEFAULT_MAX_TOKENS, EFFORT_BUDGETS, translate_request
from anyllm.translate.anthropic.response import ERROR_STATUS, error_from_event
from anyllm.translate.anthropic.stream import AnthropicStreamTranslator, translate_response

__all__ = [
    "ANTHROPIC_VERSION",
    "DEFAULT_MAX_TOKENS",
    "EFFORT_BUDGETS",
    "ERROR_STATUS",
    "REDACTED_PREFIX",
    "THINKING_PREFIX",
    "AnthropicBridge",
    "AnthropicStreamTranslator",
    "decode_thinking",
    "encode_thinking",
    "error_from_event",
    "translate_request",
    "translate_response",
]
