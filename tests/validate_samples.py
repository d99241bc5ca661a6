"""Conforming samples for the validator tests, derived from the spec's own examples.

``doc_derived_*``: built from the examples of specification-2026-04-24.mdx (message,
function call, reasoning summary, the item/content-part lifecycle) filled out to the
schema's required fields. The rule tests mutate copies of them.
"""

from __future__ import annotations

import copy
import json
from typing import Any

WEATHER_TOOL = {
    "type": "function",
    "name": "get_weather",
    "description": "Current weather for a city.",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    "strict": True,
}


def doc_derived_items() -> list[dict[str, Any]]:
    """The final items: a reasoning summary, an assistant message, a function call."""
    return [
        {
            "type": "reasoning",
            "id": "rs_1",
            "summary": [{"type": "summary_text", "text": "User wants weather."}],
        },
        {
            "type": "message",
            "id": "msg_1",
            "status": "completed",
            "role": "assistant",
            "content": [{"type": "output_text", "text": "Hello there", "annotations": []}],
        },
        {
            "type": "function_call",
            "id": "fc_1",
            "call_id": "call_1",
            "name": "get_weather",
            "arguments": '{"city":"Paris"}',
            "status": "completed",
        },
    ]


def doc_derived_response(
    output: list[dict[str, Any]] | None = None, status: str = "completed"
) -> dict[str, Any]:
    """A ResponseResource with every field the schema requires."""
    return {
        "id": "resp_1",
        "object": "response",
        "created_at": 1760000000,
        "completed_at": 1760000001 if status == "completed" else None,
        "status": status,
        "incomplete_details": None,
        "model": "gpt-openresponses-1",
        "previous_response_id": None,
        "instructions": None,
        "output": doc_derived_items() if output is None else output,
        "error": None,
        "tools": [copy.deepcopy(WEATHER_TOOL)],
        "tool_choice": "auto",
        "truncation": "disabled",
        "parallel_tool_calls": True,
        "text": {"format": {"type": "text"}},
        "top_p": 1.0,
        "presence_penalty": 0.0,
        "frequency_penalty": 0.0,
        "top_logprobs": 0,
        "temperature": 1.0,
        "reasoning": None,
        "usage": {
            "input_tokens": 10,
            "output_tokens": 5,
            "total_tokens": 15,
            "input_tokens_details": {"cached_tokens": 0},
            "output_tokens_details": {"reasoning_tokens": 2},
        },
        "max_output_tokens": None,
        "max_tool_calls": None,
        "store": False,
        "background": False,
        "service_tier": "default",
        "metadata": {},
        "safety_identifier": None,
        "prompt_cache_key": None,
    }


def doc_derived_stream() -> list[dict[str, Any]]:
    """A conforming event sequence (bodies) ending in response.completed."""
    items = doc_derived_items()
    rs, msg, fc = items
    snapshot = doc_derived_response(output=[], status="in_progress")
    ev: list[dict[str, Any]] = [
        {"type": "response.created", "response": copy.deepcopy(snapshot)},
        {"type": "response.in_progress", "response": copy.deepcopy(snapshot)},
        # reasoning item with a streamed summary
        {
            "type": "response.output_item.added",
            "output_index": 0,
            "item": {"type": "reasoning", "id": "rs_1", "summary": []},
        },
        {
            "type": "response.reasoning_summary_part.added",
            "item_id": "rs_1",
            "output_index": 0,
            "summary_index": 0,
            "part": {"type": "summary_text", "text": ""},
        },
        {
            "type": "response.reasoning_summary_text.delta",
            "item_id": "rs_1",
            "output_index": 0,
            "summary_index": 0,
            "delta": "User wants",
        },
        {
            "type": "response.reasoning_summary_text.delta",
            "item_id": "rs_1",
            "output_index": 0,
            "summary_index": 0,
            "delta": " weather.",
        },
        {
            "type": "response.reasoning_summary_text.done",
            "item_id": "rs_1",
            "output_index": 0,
            "summary_index": 0,
            "text": "User wants weather.",
        },
        {
            "type": "response.reasoning_summary_part.done",
            "item_id": "rs_1",
            "output_index": 0,
            "summary_index": 0,
            "part": {"type": "summary_text", "text": "User wants weather."},
        },
        {"type": "response.output_item.done", "output_index": 0, "item": copy.deepcopy(rs)},
        # message with one text part
        {
            "type": "response.output_item.added",
            "output_index": 1,
            "item": {
                "type": "message",
                "id": "msg_1",
                "status": "in_progress",
                "role": "assistant",
                "content": [],
            },
        },
        {
            "type": "response.content_part.added",
            "item_id": "msg_1",
            "output_index": 1,
            "content_index": 0,
            "part": {"type": "output_text", "text": "", "annotations": []},
        },
        {
            "type": "response.output_text.delta",
            "item_id": "msg_1",
            "output_index": 1,
            "content_index": 0,
            "delta": "Hello",
            "logprobs": [],
        },
        {
            "type": "response.output_text.delta",
            "item_id": "msg_1",
            "output_index": 1,
            "content_index": 0,
            "delta": " there",
            "logprobs": [],
        },
        {
            "type": "response.output_text.done",
            "item_id": "msg_1",
            "output_index": 1,
            "content_index": 0,
            "text": "Hello there",
            "logprobs": [],
        },
        {
            "type": "response.content_part.done",
            "item_id": "msg_1",
            "output_index": 1,
            "content_index": 0,
            "part": {"type": "output_text", "text": "Hello there", "annotations": []},
        },
        {"type": "response.output_item.done", "output_index": 1, "item": copy.deepcopy(msg)},
        # function call
        {
            "type": "response.output_item.added",
            "output_index": 2,
            "item": {**copy.deepcopy(fc), "arguments": "", "status": "in_progress"},
        },
        {
            "type": "response.function_call_arguments.delta",
            "item_id": "fc_1",
            "output_index": 2,
            "delta": '{"city":',
        },
        {
            "type": "response.function_call_arguments.delta",
            "item_id": "fc_1",
            "output_index": 2,
            "delta": '"Paris"}',
        },
        {
            "type": "response.function_call_arguments.done",
            "item_id": "fc_1",
            "output_index": 2,
            "arguments": '{"city":"Paris"}',
        },
        {"type": "response.output_item.done", "output_index": 2, "item": copy.deepcopy(fc)},
        {"type": "response.completed", "response": doc_derived_response()},
    ]
    return renumber(ev)


def renumber(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Assign sequence_number 0, 1, 2, ... in list order."""
    for i, ev in enumerate(events):
        ev["sequence_number"] = i
    return events


def framed(events: list[dict[str, Any]], done: bool = True) -> list[tuple[str | None, str]]:
    """(event name, data) pairs as an SSE server would frame them."""
    pairs: list[tuple[str | None, str]] = [(ev["type"], json.dumps(ev)) for ev in events]
    if done:
        pairs.append((None, "[DONE]"))
    return pairs


def raw_sse(events: list[dict[str, Any]], done: bool = True) -> str:
    """The SSE text of a stream, as on the wire."""
    out = [f"event: {ev['type']}\ndata: {json.dumps(ev)}\n\n" for ev in events]
    if done:
        out.append("data: [DONE]\n\n")
    return "".join(out)


def find(events: list[dict[str, Any]], type_: str, **match: Any) -> int:
    """Index of the first event of a type (and matching fields)."""
    for i, ev in enumerate(events):
        if ev["type"] == type_ and all(ev.get(k) == v for k, v in match.items()):
            return i
    raise LookupError(type_)
