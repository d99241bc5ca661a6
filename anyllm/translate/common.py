"""Pieces every bridge shares: ids, the ResponseResource echo of a request, usage.

A translated provider answers in its own shape; the bridges build the spec's
ResponseResource from the request (which it must echo: tools, tool_choice, sampling
parameters, metadata, ...) plus what the provider produced. Every one of the 31 required
fields is filled with the request's value or the spec's zero value, never left out.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Mapping
from typing import Any

__all__ = [
    "new_id",
    "response_skeleton",
    "tool_echo",
    "usage_dict",
]


def new_id(prefix: str) -> str:
    """An opaque unique id in the style real servers use (``resp_…``, ``msg_…``, ``fc_…``)."""
    return f"{prefix}_{uuid.uuid4().hex}"


def tool_echo(tool: dict[str, Any]) -> dict[str, Any]:
    """A request tool as the response's ``tools`` list shows it (every field present)."""
    return {
        "type": tool.get("type", "function"),
        "name": tool.get("name", ""),
        "description": tool.get("description"),
        "parameters": tool.get("parameters"),
        "strict": tool.get("strict"),
    }


def _text_echo(text: Any) -> dict[str, Any]:
    if not isinstance(text, dict) or not isinstance(text.get("format"), dict):
        echo: dict[str, Any] = {"format": {"type": "text"}}
    else:
        fmt = dict(text["format"])
        if fmt.get("type") == "json_schema":
            # Spec bug (documented): the output-side JsonSchemaResponseFormat admits only a null
            # schema. The schema the caller sent is echoed anyway, as real servers do; the
            # validator reports it under SPEC-BUG-TEXT-FORMAT-SCHEMA, not as an error.
            fmt = {
                "type": "json_schema",
                "name": fmt.get("name", "response"),
                "description": fmt.get("description"),
                "schema": fmt.get("schema"),
                "strict": bool(fmt.get("strict", False)),
            }
        echo = {"format": fmt}
    if isinstance(text, dict) and text.get("verbosity") is not None:
        echo["verbosity"] = text["verbosity"]
    return echo


def usage_dict(
    input_tokens: int | None,
    output_tokens: int | None,
    *,
    cached_tokens: int | None = None,
    reasoning_tokens: int | None = None,
) -> dict[str, Any]:
    """The spec's Usage object, with zeros where the provider gave nothing."""
    inp = int(input_tokens or 0)
    out = int(output_tokens or 0)
    return {
        "input_tokens": inp,
        "output_tokens": out,
        "total_tokens": inp + out,
        "input_tokens_details": {"cached_tokens": int(cached_tokens or 0)},
        "output_tokens_details": {"reasoning_tokens": int(reasoning_tokens or 0)},
    }


def response_skeleton(
    request: Mapping[str, Any],
    *,
    response_id: str,
    model: str,
    created_at: int | None = None,
    status: str = "in_progress",
    stored: bool = False,
) -> dict[str, Any]:
    """A ResponseResource dict echoing ``request``, with no output yet."""
    reasoning = request.get("reasoning")
    tools = request.get("tools") or []
    return {
        "id": response_id,
        "object": "response",
        "created_at": created_at if created_at is not None else int(time.time()),
        "completed_at": None,
        "status": status,
        "incomplete_details": None,
        "model": model,
        "previous_response_id": request.get("previous_response_id"),
        "instructions": request.get("instructions"),
        "output": [],
        "error": None,
        "tools": [tool_echo(t) for t in tools if isinstance(t, dict)],
        "tool_choice": request.get("tool_choice", "auto"),
        "truncation": request.get("truncation", "disabled"),
        "parallel_tool_calls": bool(request.get("parallel_tool_calls", True)),
        "text": _text_echo(request.get("text")),
        "top_p": float(request.get("top_p", 1.0)),
        "presence_penalty": float(request.get("presence_penalty", 0.0)),
        "frequency_penalty": float(request.get("frequency_penalty", 0.0)),
        "top_logprobs": int(request.get("top_logprobs", 0)),
        "temperature": float(request.get("temperature", 1.0)),
        "reasoning": (
            {"effort": reasoning.get("effort"), "summary": reasoning.get("summary")}
            if isinstance(reasoning, dict)
            else None
        ),
        "usage": None,
        "max_output_tokens": request.get("max_output_tokens"),
        "max_tool_calls": request.get("max_tool_calls"),
        "store": stored,
        "background": False,
        "service_tier": request.get("service_tier") or "default",
        "metadata": request.get("metadata") or {},
        "safety_identifier": request.get("safety_identifier"),
        "prompt_cache_key": request.get("prompt_cache_key"),
    }
