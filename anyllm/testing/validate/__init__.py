"""Conformance validator: the judge of the harness.

Checks responses, request bodies and streams against the OpenResponses schemas (``schemas/``,
generated from the official OpenAPI document) and against every observable MUST of the
prose specification: SSE framing, sequence numbers, item and content-part lifecycles,
deltas against their ``done`` events, terminal events, identity of streamed and final
items, extension prefixes, tool_choice and previous_response_id given the request.

Each finding is a :class:`Violation` naming a rule of :mod:`anyllm.testing.rules`.
Two profiles: ``openresponses`` (the spec, strict) and ``openai`` (OpenAI's superset; see
the rules module for exactly what it tolerates).

Engine: jsonschema-rs, one validator per schema, compiled lazily and once; the event's
``type`` selects the schema, ``is_valid`` runs first and errors are collected only on
failure. On failure, unions (items, content parts, tools, ...) are split and checked member
by member, so an error names the one schema that failed and its JSON path.

Importing this package imports neither openai nor pytest, and loads no schema. Its public
surface is ``__all__`` below; the modules inside are its internals, one concern each:
:mod:`.violations`, :mod:`.schema_store`, :mod:`.schema_check`, :mod:`.inputs`,
:mod:`.response_rules`, :mod:`.request_rules`, and the stream validator
(:mod:`.stream` with :mod:`.sse_framing`, :mod:`.stream_items`, :mod:`.stream_deltas`,
:mod:`.stream_lifecycle` over :mod:`.stream_state`), the WebSocket validator
(:mod:`.websocket` over the records of :mod:`.ws_records`) and the compaction endpoint's
replies (:mod:`.compact_rules`).
"""

from __future__ import annotations

from anyllm.testing.validate.compact_rules import validate_compact
from anyllm.testing.validate.request_rules import validate_request
from anyllm.testing.validate.response_rules import validate_response
from anyllm.testing.validate.schema_check import is_slug_prefixed
from anyllm.testing.validate.schema_store import SchemaStore, default_store
from anyllm.testing.validate.stream import StreamValidator, validate_stream
from anyllm.testing.validate.violations import JsonPath, PathPart, Violation, has_errors, json_path
from anyllm.testing.validate.websocket import TurnSummary, WebSocketValidator, validate_websocket
from anyllm.testing.validate.ws_records import WsRecord

__all__ = [
    "JsonPath",
    "PathPart",
    "SchemaStore",
    "StreamValidator",
    "TurnSummary",
    "Violation",
    "WebSocketValidator",
    "WsRecord",
    "default_store",
    "has_errors",
    "is_slug_prefixed",
    "json_path",
    "validate_compact",
    "validate_request",
    "validate_response",
    "validate_stream",
    "validate_websocket",
]
