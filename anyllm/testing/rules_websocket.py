"""The rules of the WebSocket transport and of ``POST /responses/compact``.

Every client-observable MUST of the specification's sections "WebSocket Transport",
"WebSocket Continuation", "WebSocket Compaction", "WebSocket Reconnects" and "WebSocket
Errors" (release 2026-04-24), and the schema of the compaction endpoint's reply. The events
of a WebSocket turn are also judged by the streaming rules of :mod:`anyllm.testing.rules`
("Event ordering, ``sequence_number``, output item lifecycle, content part lifecycle, and
terminal response events have the same meaning on both transports"); the SSE framing rules
do not apply there. :mod:`anyllm.testing.validate.websocket` applies them.
"""

from __future__ import annotations

from anyllm.testing.rule_model import Rule

__all__ = [
    "S_WS",
    "S_WS_COMPACTION",
    "S_WS_CONTINUATION",
    "S_WS_ERRORS",
    "S_WS_RECONNECTS",
    "WEBSOCKET_RULES",
]

S_WS = "Specification / WebSocket Transport"
S_WS_CONTINUATION = "Specification / WebSocket Transport / WebSocket Continuation"
S_WS_COMPACTION = "Specification / WebSocket Transport / WebSocket Compaction"
S_WS_RECONNECTS = "Specification / WebSocket Transport / WebSocket Reconnects"
S_WS_ERRORS = "Specification / WebSocket Transport / WebSocket Errors"
S_COMPACT_SCHEMA = "openapi.json: components/schemas/CompactResource (POST /responses/compact)"

WEBSOCKET_RULES: tuple[Rule, ...] = (
    Rule(
        "WS-CREATE-MESSAGE",
        "error",
        S_WS,
        "Every client message is a JSON object with type `response.create`.",
        spec="WebSocket Transport: 'Clients MUST start each turn by sending a JSON object with "
        'type: "response.create".\' The spec defines no other client message, so any other one '
        "(not JSON, not an object, another type) starts no turn the server can answer. A "
        "slug-prefixed type is an extension (EXTENSION-TYPE, info) instead.",
    ),
    Rule(
        "WS-FORBIDDEN-FIELD",
        "error",
        S_WS,
        "A `response.create` message carries no `stream`, `stream_options` or `background`.",
        spec="WebSocket Transport: 'HTTP/SSE transport-specific fields such as stream, "
        "stream_options, and background MUST NOT be sent on WebSocket requests.' Sent at all is "
        "the violation, whatever the value (the official schema WebSocketResponseCreateEvent "
        "admits no value for them).",
    ),
    Rule(
        "WS-FRAME-JSON",
        "error",
        S_WS,
        "Every server frame is a JSON streaming-event object with a string `type`.",
        spec="WebSocket Transport: 'Servers MUST send response progress over the WebSocket using "
        "the same streaming event objects defined for streaming HTTP responses.'",
    ),
    Rule(
        "WS-DONE-FRAME",
        "warning",
        S_WS,
        "No `[DONE]` frame: it is SSE framing, not an event object.",
        spec="The literal `[DONE]` ends an SSE stream ('Streaming HTTP Responses'); on WebSocket "
        "progress travels as 'the same streaming event objects', and a turn ends at its terminal "
        "event. A `[DONE]` frame breaks no MUST a client relies on (the official compliance "
        "tester skips it), so a warning, not an error.",
    ),
    Rule(
        "WS-EVENT-WITHOUT-CREATE",
        "error",
        S_WS,
        "The server sends events only for a `response.create` it received.",
        spec="WebSocket Transport: 'Servers MUST treat a WebSocket response.create message as a "
        "request to create a response on the active connection.' An event when no create is "
        "waiting for its answer (before the first, or after every turn ended) belongs to no turn.",
    ),
    Rule(
        "WS-ONE-IN-FLIGHT",
        "error",
        S_WS,
        "One in-flight response per connection: a turn's events end before the next response starts.",
        spec="WebSocket Transport: 'A single WebSocket connection MUST process at most one "
        "in-flight response at a time. Servers MAY accept multiple response.create messages over "
        "one connection, but they MUST process those messages sequentially. Servers MUST NOT "
        "multiplex multiple in-flight responses over one connection.' A second response "
        "(another id) starting before the first's terminal event is multiplexing.",
    ),
    Rule(
        "WS-ERROR-ENVELOPE",
        "error",
        S_WS_ERRORS,
        "An `error` frame is the envelope: integer `status`, `error.code` and `error.message` strings.",
        spec="WebSocket Errors: 'WebSocket failures MUST be sent as a JSON error envelope with a "
        "status code and an error.code.' (schema WebSocketErrorEvent: type, status, error{code, "
        "message}), the spec's example being a turn refused with previous_response_not_found. "
        "Applied to an `error` frame that answers a response.create before any response event; "
        "inside a streamed response an `error` frame is the streaming `error` event ('the same "
        "streaming event objects'), judged by the streaming rules (its schema, then response.failed).",
    ),
    Rule(
        "WS-CLOSED-WITHOUT-ERROR",
        "error",
        S_WS_ERRORS,
        "The server does not close the connection on an unanswered turn without an error envelope.",
        spec="WebSocket Errors: 'WebSocket failures MUST be sent as a JSON error envelope'. A "
        "connection closed while a response.create has neither its terminal event nor an error "
        "envelope is a failure the client learns of without one (a close code is not the "
        "envelope). Judged only when the recording holds the close.",
    ),
    Rule(
        "WS-PREVIOUS-NOT-FOUND",
        "error",
        S_WS_CONTINUATION,
        "A store=false continuation from an id not in connection-local state fails with "
        "`previous_response_not_found`.",
        spec="WebSocket Continuation: 'With store=false, there is no persisted fallback; if the "
        "referenced response is not available from connection-local state, the server MUST fail "
        "the turn with an error whose code is previous_response_not_found.' The turn's own "
        "store=false decides. Connection-local state can only hold responses this connection "
        "produced, so an id it never produced (a new connection after a reconnect, an invented "
        "id) must fail that way; an older id it did produce may fail or continue (servers keep "
        "'the most recent' one, SHOULD).",
    ),
    Rule(
        "WS-FAILED-CONTINUATION-EVICTS",
        "error",
        S_WS_CONTINUATION,
        "After a continuation turn fails, continuing (store=false) from the same id fails with "
        "`previous_response_not_found`.",
        spec="WebSocket Continuation: 'If a continuation turn fails with a 4xx or 5xx error, the "
        "server MUST evict the referenced previous_response_id from the connection-local cache. A "
        "later attempt to continue from that evicted store=false response ID on the same "
        "connection MUST fail with previous_response_not_found.' A turn fails by an error "
        "envelope with status >= 400, or by response.failed.",
    ),
    Rule(
        "WS-COMPACT-NEW-CHAIN",
        "error",
        S_WS_COMPACTION,
        "A turn built on a compacted window starts a new chain: no `previous_response_id`.",
        spec="WebSocket Compaction: 'After standalone compaction, clients MUST start a new "
        "response on the WebSocket by omitting previous_response_id or setting it to null, "
        "passing the compacted output as the base input'. A create whose input holds a "
        "`compaction` item (what /responses/compact returns) is such a turn.",
    ),
    Rule(
        "WS-COMPACT-BASE-INPUT",
        "error",
        S_WS_COMPACTION,
        "A turn after standalone compaction passes the whole compacted window first in `input`.",
        spec="WebSocket Compaction: clients MUST pass 'the compacted output as the base input, and "
        "[append] the latest user or tool items'. Checked when the compaction reply is part of "
        "the recording: the create carrying its compaction item starts with its whole output.",
    ),
    Rule(
        "SCHEMA-COMPACT",
        "error",
        S_COMPACT_SCHEMA,
        "A /responses/compact reply matches CompactResource (object `response.compaction`, output items).",
    ),
)
