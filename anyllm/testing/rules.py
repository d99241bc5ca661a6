"""The rule catalogue of the conformance validator, and what each profile tolerates.

Why a catalogue: every verdict names the rule it applies, so reports, baselines and the
fuzzing work can enumerate the rules, and a test checks that each one has a violating and a
conforming sample. Section names are headings of the prose specification
(``specification-<version>.mdx``, the release :data:`anyllm.spec.SPEC_VERSION`) or, for
schema rules, the OpenAPI document.

Profiles:

``openresponses``
    The specification, strict: the schemas in ``schemas/`` and every observable MUST.
``openai``
    OpenAI's superset, judged as the openai SDK consumes it. Tolerated, and reported with a
    lower severity rather than hidden:

    * OpenAI's hosted-tool items, tools, tool choices, annotations (in output and in input
      messages), ``include`` values, the ``json_object`` request text format and streaming
      events (:data:`OPENAI_ITEM_TYPES`, :data:`OPENAI_EVENT_TYPES`, ...): ``OPENAI-EXTENSION``, info;
    * fields the spec requires but OpenAI's own ``Response`` type leaves optional or nullable
      (:data:`OPENAI_RELAXED_FIELDS`), absent or null: ``OPENAI-FIELD-RELAXED``, warning;
    * SSE framing the SDK does not rely on: no ``event:`` line (warning), no ``[DONE]``
      (OpenAI never sends it: info), an ``error`` event that ends the stream without
      ``response.failed`` (warning);
    * OpenAI's error ``type`` names (info);
    * unknown unprefixed types are warnings (errors under ``openresponses``).

    Everything else (order, lifecycle, identity, sequence numbers, schemas of the spec's own
    types) is judged as strictly as under ``openresponses``.

Deliberately not rules, because the spec states no MUST a client could observe broken:
``response.in_progress`` absent (it reports a move from ``queued``; a response created
``in_progress`` has none) or repeated; sequence numbers that skip (they are "monotonically
increasing", which STREAM-SEQUENCE-MONOTONIC checks, not consecutive); a content part added
while the previous one is open (parts "MAY emit multiple content parts, following the
pattern", and every event names its ``content_index``); fields other than ``id``/``type``
changing between ``output_item.added`` and ``.done`` (see TOOL-CALL-ID-MATCHES).
"""

from __future__ import annotations

from anyllm.testing.rule_model import PROFILES, Profile, Rule, Severity
from anyllm.testing.rules_websocket import WEBSOCKET_RULES

__all__ = ["PROFILES", "RULES", "Profile", "Rule", "Severity", "catalogue"]

# Section references (headings of the prose specification).
S_SCHEMA = "openapi.json: components/schemas"
S_HTTP = "Specification / HTTP Responses"
S_SSE = "Specification / HTTP Responses / Streaming HTTP Responses"
S_ITEM_STATE = "Items / Items are state machines"
S_ITEM_STREAM = "Items / Items are streamable"
S_ITEM_EXT = "Items / Items are extensible; Extending Open Responses / Extending Items"
S_EVENT_EXT = "Extending Open Responses / Extending streaming events"
S_STATE = "Key Principles / State machines; Streaming / State Machine events"
S_ERRORS = "Errors"
S_TOOL_CHOICE = "tool_choice"
S_ALLOWED = "tool_choice / allowed_tools"
S_PREVIOUS = "previous_response_id"
S_PROFILE = "anyllm profile 'openai' (see anyllm.testing.rules)"


_RULES: tuple[Rule, ...] = (
    # Schemas
    Rule("SCHEMA-RESPONSE", "error", S_SCHEMA, "A response body matches ResponseResource."),
    Rule("SCHEMA-EVENT", "error", S_SCHEMA, "A streaming event matches the schema of its `type`."),
    Rule("SCHEMA-ITEM", "error", S_SCHEMA, "An item matches the schema of its `type`."),
    Rule("SCHEMA-CONTENT", "error", S_SCHEMA, "A content part or annotation matches its schema."),
    Rule("SCHEMA-TOOL", "error", S_SCHEMA, "A tool, tool choice or text format matches its schema."),
    Rule("SCHEMA-REQUEST", "error", S_SCHEMA, "A request body matches CreateResponseBody."),
    Rule(
        "SCHEMA-ERROR", "error", S_ERRORS, "An error body holds an error object (type, code, message, param)."
    ),
    # Named exceptions and profile tolerances
    Rule(
        "SPEC-BUG-TEXT-FORMAT-SCHEMA",
        "info",
        S_SCHEMA,
        "Known spec bug: output-side JsonSchemaResponseFormat.schema admits only null, servers echo "
        "the schema object; accepted and reported.",
    ),
    Rule(
        "OPENAI-FIELD-RELAXED",
        "warning",
        S_PROFILE,
        "A field the spec requires is absent or null where OpenAI's Response type allows it.",
    ),
    Rule(
        "OPENAI-EXTENSION", "info", S_PROFILE, "An OpenAI hosted-tool type (item, tool, event, annotation)."
    ),
    # Extensions
    Rule(
        "EXTENSION-TYPE-PREFIXED",
        "error",
        S_ITEM_EXT,
        "Types outside the spec (items, tools, events) are prefixed with the implementor slug.",
        openai="warning",
    ),
    Rule("EXTENSION-TYPE", "info", S_ITEM_EXT, "A slug-prefixed extension type (clients may ignore it)."),
    Rule(
        "EXTENSION-ITEM-FIELDS",
        "error",
        S_ITEM_EXT,
        "Every item, extension items included, has id, type, status.",
    ),
    Rule(
        "EXTENSION-EVENT-FIELDS", "error", S_EVENT_EXT, "Extension events carry `type` and `sequence_number`."
    ),
    # Input and HTTP
    Rule("INPUT-MALFORMED", "error", S_HTTP, "The body is decodable JSON / SSE text (not binary, not cut)."),
    Rule("CONTENT-TYPE-JSON", "error", S_HTTP, "Non-streaming replies are `application/json`."),
    # SSE framing
    Rule("SSE-CONTENT-TYPE", "error", S_SSE, "Streaming replies have `Content-Type: text/event-stream`."),
    Rule(
        "SSE-DATA-JSON", "error", S_SSE, "Each `data` is a JSON-encoded event object (or the final `[DONE]`)."
    ),
    Rule("SSE-EVENT-NAME-MISSING", "error", S_SSE, "Each event has an `event:` field.", openai="warning"),
    Rule("SSE-EVENT-MATCHES-TYPE", "error", S_SSE, "The `event:` field equals the body's `type`."),
    Rule("SSE-DONE-TERMINAL", "error", S_SSE, "The stream ends with the literal `[DONE]`.", openai="info"),
    Rule("SSE-DATA-AFTER-DONE", "error", S_SSE, "Nothing follows `[DONE]`."),
    Rule("SSE-ID-PRESENT", "warning", S_SSE, "Servers SHOULD NOT use `id:`."),
    Rule("SSE-TRUNCATED", "error", S_SSE, "The byte stream ends at an event boundary."),
    # Stream order and identity
    Rule("STREAM-SEQUENCE-MONOTONIC", "error", S_EVENT_EXT, "`sequence_number` increases strictly."),
    Rule("STREAM-STARTS-WITH-CREATED", "warning", S_STATE, "The first event is `response.created`."),
    Rule(
        "STREAM-RESPONSE-ID-STABLE", "error", S_STATE, "Every response snapshot in a stream has the same id."
    ),
    Rule(
        "TERMINAL-EVENT-MISSING", "error", S_STATE, "A stream ends with response.completed/failed/incomplete."
    ),
    Rule("TERMINAL-EVENT-LAST", "error", S_STATE, "No event follows the terminal event (except `[DONE]`)."),
    Rule("TERMINAL-EVENT-UNIQUE", "error", S_STATE, "A stream has exactly one terminal event."),
    Rule(
        "TERMINAL-STATUS-MATCHES", "error", S_STATE, "The terminal event's response status matches its type."
    ),
    Rule(
        "TERMINAL-OUTPUT-EMPTY",
        "error",
        S_ITEM_STREAM,
        "response.completed's output is not empty when items were streamed.",
    ),
    Rule(
        "TERMINAL-OUTPUT-MATCHES-STREAM",
        "error",
        S_ITEM_STREAM,
        "The terminal response holds every streamed item, same ids, order and content.",
    ),
    Rule(
        "ITEM-NOT-STREAMED",
        "error",
        S_ITEM_STREAM,
        "Every item of the terminal response was streamed (added/done).",
    ),
    Rule(
        "TOOL-CALL-ID-MATCHES",
        "error",
        S_ITEM_STREAM,
        "A call_id of output_item.done (the item's final state) is the one in the final response.",
        spec="Items are streamable: output_item.added echoes the item 'with as much detail as is "
        "available at that time. For messages, this means at least the role, and for function_call, "
        "this is at least the name.' So between added and done only `id` and `type` are fixed "
        "(ITEM-DONE-MATCHES-ADDED: events name the item by id, items are 'discriminated based on "
        "the type field'); call_id, like arguments and status, may be filled in by output_item.done. "
        "From done on it is fixed: 'no updates may be made to the item after the item has moved "
        "into this state' (Items are state machines).",
    ),
    Rule(
        "TERMINAL-ITEM-MATCHES-DONE",
        "error",
        S_ITEM_STATE,
        "The terminal response's items keep the type, name, role and status of their output_item.done.",
        spec="Items are state machines: completed 'is a terminal status and no updates may be made to "
        "the item after the item has moved into this state'.",
    ),
    # Item lifecycle
    Rule(
        "ITEM-ADDED-BEFORE-DELTA",
        "error",
        S_ITEM_STREAM,
        "An item's first event is response.output_item.added.",
    ),
    Rule("ITEM-ADDED-UNIQUE", "error", S_ITEM_STREAM, "An output index is added once."),
    Rule(
        "OUTPUT-INDEX-SEQUENTIAL",
        "error",
        S_ITEM_STREAM,
        "Items are added at output_index 0, 1, 2, ... in order.",
    ),
    Rule(
        "OUTPUT-INDEX-CONSISTENT",
        "error",
        S_ITEM_STREAM,
        "An event's item_id is the id of the item at its output_index.",
    ),
    Rule(
        "ITEM-DONE-MISSING",
        "error",
        S_ITEM_STREAM,
        "Every added item is closed with response.output_item.done.",
    ),
    Rule(
        "ITEM-DONE-MATCHES-ADDED",
        "error",
        S_ITEM_STREAM,
        "output_item.done carries the added item's id and type.",
    ),
    Rule("ITEM-EVENT-AFTER-DONE", "error", S_ITEM_STATE, "No update to an item after output_item.done."),
    Rule("ITEM-DONE-STATUS", "warning", S_ITEM_STATE, "output_item.done carries a terminal item status."),
    Rule("DELTA-ITEM-TYPE", "error", S_ITEM_STREAM, "A delta event targets an item of a matching type."),
    Rule(
        "CONTENT-PART-ADDED-BEFORE-DELTA",
        "error",
        S_ITEM_STREAM,
        "response.content_part.added precedes a part's deltas.",
    ),
    Rule(
        "CONTENT-PART-DONE-MISSING",
        "error",
        S_ITEM_STREAM,
        "Every content part is closed before its item is done.",
    ),
    Rule(
        "CONTENT-INDEX-SEQUENTIAL",
        "error",
        S_ITEM_STREAM,
        "Content parts are added at content_index 0, 1, 2, ...",
    ),
    Rule(
        "SUMMARY-PART-ADDED-BEFORE-DELTA",
        "error",
        S_ITEM_STREAM,
        "response.reasoning_summary_part.added precedes summary deltas.",
    ),
    Rule(
        "DELTA-DONE-MISSING",
        "error",
        S_ITEM_STREAM,
        "Deltas end with their `*.done` event before the part closes.",
    ),
    Rule(
        "DELTA-DONE-MATCHES",
        "error",
        S_ITEM_STREAM,
        "A `*.done` event after one or more deltas holds their concatenation.",
    ),
    Rule(
        "DELTA-DONE-WITHOUT-DELTAS",
        "warning",
        S_ITEM_STREAM,
        "A `*.done` event states a non-empty value that no delta streamed.",
        spec="Items are streamable: response.content_part.added is 'followed by events representing "
        "the delta to the content part ... The delta events MAY be repeated many times, and end with "
        "response.<content_type>.done'. The spec sets no minimum count, and the done event (and "
        "output_item.done) carries the whole value, so a client loses nothing: not a MUST violation. "
        "It is still a deviation from the described pattern (a client rendering deltas shows nothing "
        "until done), hence a warning, not an error.",
    ),
    Rule(
        "DELTA-AFTER-DONE",
        "error",
        S_ITEM_STREAM,
        "No delta (and no second `*.done`) for a part or arguments after their `*.done` event.",
        spec="Items are streamable: 'The delta events MAY be repeated many times, and end with "
        "response.<content_type>.done.'",
    ),
    Rule(
        "DELTA-PART-TYPE",
        "error",
        S_ITEM_STREAM,
        "A text delta/done event is of its content part's type (response.<content_type>.delta).",
        spec="Items are streamable: 'The first event in such cases MUST be response.content_part.added, "
        "followed by events representing the delta to the content part, eg "
        "response.<content_type>.delta'.",
    ),
    Rule(
        "PART-DONE-MATCHES", "error", S_ITEM_STREAM, "content_part.done holds the text of the streamed part."
    ),
    Rule(
        "ITEM-DONE-CONTENT-MATCHES",
        "error",
        S_ITEM_STREAM,
        "output_item.done holds the streamed text and arguments.",
    ),
    Rule(
        "ERROR-EVENT-FOLLOWED-BY-FAILED",
        "error",
        S_ERRORS,
        "An `error` event is followed by response.failed.",
        openai="warning",
    ),
    # Response state
    Rule("RESPONSE-FAILED-HAS-ERROR", "error", S_ERRORS, "A failed response carries its error object."),
    Rule(
        "RESPONSE-INCOMPLETE-DETAILS",
        "error",
        S_ITEM_STATE,
        "An incomplete response carries incomplete_details.",
    ),
    Rule("RESPONSE-STATUS-KNOWN", "warning", S_STATE, "Response status is one of the defined states."),
    Rule("ITEM-INCOMPLETE-LAST", "error", S_ITEM_STATE, "An item in state `incomplete` is the last item."),
    Rule(
        "ITEM-INCOMPLETE-RESPONSE-STATUS",
        "error",
        S_ITEM_STATE,
        "An item in state `incomplete` makes the response `incomplete`.",
    ),
    Rule("ITEM-ID-UNIQUE", "error", S_ITEM_EXT, "Item ids are unique within a response."),
    Rule("ITEM-STATUS-TERMINAL", "warning", S_ITEM_STATE, "A completed response holds no in_progress item."),
    Rule(
        "ERROR-TYPE-KNOWN",
        "warning",
        S_ERRORS,
        "The error type is one the spec lists.",
        openai="info",
        spec="Errors: 'Type: The category of the error, such as server_error, model_error, "
        "invalid_request, or not_found' and the Error Types table; ErrorPayload.type is a free "
        "string. An unlisted type breaks no MUST but clients switching on the table miss it: warning.",
    ),
    Rule(
        "ERROR-TYPE-SPEC-EXAMPLE",
        "info",
        S_ERRORS,
        "The error type is `invalid_request_error`, the spec example's spelling of `invalid_request`.",
        spec="The spec disagrees with itself: its Error Types table lists `invalid_request` (400), "
        'while the JSON example in Errors (and OpenAI) uses "type": "invalid_request_error". A '
        "server that copies the spec's own example is not judged wrong: info, citing both places.",
    ),
    # Given the request
    Rule("TOOL-CHOICE-NONE", "error", S_TOOL_CHOICE, 'With tool_choice "none" the model calls no tool.'),
    Rule(
        "TOOL-CHOICE-REQUIRED", "error", S_TOOL_CHOICE, 'With tool_choice "required" the model calls a tool.'
    ),
    Rule("TOOL-CHOICE-FUNCTION", "error", S_TOOL_CHOICE, "A forced function tool is called."),
    Rule("ALLOWED-TOOLS-ENFORCED", "error", S_ALLOWED, "Only tools listed in allowed_tools are called."),
    Rule(
        "PREVIOUS-RESPONSE-ID-ECHOED",
        "error",
        S_PREVIOUS,
        "The response echoes the request's previous_response_id.",
    ),
)

# The WebSocket transport and /responses/compact have their own module (rules_websocket).
_RULES += WEBSOCKET_RULES
RULES: dict[str, Rule] = {rule.id: rule for rule in _RULES}


def catalogue() -> list[dict[str, str]]:
    """The catalogue as plain data (for reports and the CLI)."""
    return [
        {
            "id": r.id,
            "severity": r.severity,
            "openai_severity": r.severity_for("openai"),
            "section": r.section,
            "summary": r.summary,
            **({"spec": r.spec} if r.spec else {}),
        }
        for r in _RULES
    ]


# --- What the spec and the profiles know -------------------------------------------------

RESPONSE_STATUSES = frozenset({"queued", "in_progress", "completed", "failed", "incomplete", "cancelled"})
SPEC_ERROR_TYPES = frozenset(
    {"server_error", "invalid_request", "not_found", "model_error", "too_many_requests"}
)
SPEC_EXAMPLE_ERROR_TYPES = frozenset({"invalid_request_error"})  # see rule ERROR-TYPE-SPEC-EXAMPLE
OPENAI_ERROR_TYPES = frozenset(
    {
        "invalid_request_error",
        "authentication_error",
        "permission_error",
        "not_found_error",
        "rate_limit_error",
        "server_error",
        "api_error",
        "insufficient_quota",
    }
)

# OpenAI's Responses surface beyond the spec (openai SDK 3.57 and the upstream superset schemas).
OPENAI_ITEM_TYPES = frozenset(
    {
        "web_search_call",
        "file_search_call",
        "computer_call",
        "computer_call_output",
        "code_interpreter_call",
        "image_generation_call",
        "local_shell_call",
        "local_shell_call_output",
        "shell_call",
        "shell_call_output",
        "apply_patch_call",
        "apply_patch_call_output",
        "mcp_call",
        "mcp_list_tools",
        "mcp_approval_request",
        "mcp_approval_response",
        "custom_tool_call",
        "custom_tool_call_output",
        "tool_search_call",
        "tool_search_output",
        "program",
        "program_output",
        "additional_tools",
    }
)
OPENAI_TOOL_TYPES = frozenset(
    {
        "web_search",
        "web_search_2025_08_26",
        "web_search_preview",
        "web_search_preview_2025_03_11",
        "file_search",
        "computer",
        "computer_use_preview",
        "code_interpreter",
        "image_generation",
        "local_shell",
        "shell",
        "apply_patch",
        "mcp",
        "custom",
        "namespace",
        "tool_search",
        "programmatic_tool_calling",
    }
)
OPENAI_ANNOTATION_TYPES = frozenset({"file_citation", "container_file_citation", "file_path"})
OPENAI_TEXT_FORMAT_TYPES = frozenset({"json_object"})  # request side; the spec has it on output only
# OpenAI's `include` values beyond the spec's two (openai SDK: ResponseIncludable; a test compares).
OPENAI_INCLUDE_VALUES = frozenset(
    {
        "file_search_call.results",
        "web_search_call.results",
        "web_search_call.action.sources",
        "message.input_image.image_url",
        "computer_call_output.output.image_url",
        "code_interpreter_call.outputs",
    }
)
OPENAI_CONTENT_TYPES = frozenset({"output_audio", "input_audio", "computer_screenshot"})
OPENAI_EVENT_TYPES = frozenset(
    {
        "response.reasoning_text.delta",
        "response.reasoning_text.done",
        "response.audio.delta",
        "response.audio.done",
        "response.audio.transcript.delta",
        "response.audio.transcript.done",
        "response.code_interpreter_call.completed",
        "response.code_interpreter_call.in_progress",
        "response.code_interpreter_call.interpreting",
        "response.code_interpreter_call_code.delta",
        "response.code_interpreter_call_code.done",
        "response.compaction.compacting",
        "response.custom_tool_call_input.delta",
        "response.custom_tool_call_input.done",
        "response.file_search_call.completed",
        "response.file_search_call.in_progress",
        "response.file_search_call.searching",
        "response.image_generation_call.completed",
        "response.image_generation_call.generating",
        "response.image_generation_call.in_progress",
        "response.image_generation_call.partial_image",
        "response.mcp_call.completed",
        "response.mcp_call.failed",
        "response.mcp_call.in_progress",
        "response.mcp_call_arguments.delta",
        "response.mcp_call_arguments.done",
        "response.mcp_list_tools.completed",
        "response.mcp_list_tools.failed",
        "response.mcp_list_tools.in_progress",
        "response.shell_call_command.added",
        "response.shell_call_command.delta",
        "response.shell_call_command.done",
        "response.shell_call_output_content.delta",
        "response.shell_call_output_content.done",
        "response.apply_patch_call_operation_diff.delta",
        "response.apply_patch_call_operation_diff.done",
        "response.web_search_call.completed",
        "response.web_search_call.in_progress",
        "response.web_search_call.searching",
    }
)

# Fields the spec requires (and mostly forbids to be null) that OpenAI's own `Response`
# type (openai SDK 3.57, openai/types/responses/response.py) declares Optional: OpenAI
# omits them in older API versions and other OpenAI-compatible servers null them.
# A test compares these with the installed SDK.
OPENAI_RELAXED_FIELDS: dict[str, frozenset[str]] = {
    "ResponseResource": frozenset(
        {
            "completed_at",
            "status",
            "incomplete_details",
            "previous_response_id",
            "instructions",
            "error",
            "truncation",
            "text",
            "top_p",
            "presence_penalty",
            "frequency_penalty",
            "top_logprobs",
            "temperature",
            "reasoning",
            "usage",
            "max_output_tokens",
            "max_tool_calls",
            "store",
            "background",
            "service_tier",
            "metadata",
            "safety_identifier",
            "prompt_cache_key",
        }
    ),
    "TextField": frozenset({"format", "verbosity"}),
    "Reasoning": frozenset({"effort", "summary"}),
}
