"""Request bodies, and what a request demands of its response.

:func:`validate_request` checks a body against ``CreateResponseBody`` (items and tools split
by type). :func:`check_request_obeyed` holds the rules no schema expresses because they
relate two documents: ``tool_choice`` (none, required, a forced function, allowed_tools)
and the echo of ``previous_response_id``.
"""

from __future__ import annotations

from typing import Any

from anyllm.testing.rules import Profile
from anyllm.testing.validate.inputs import as_json_value, parse_json_text
from anyllm.testing.validate.schema_check import SchemaChecker
from anyllm.testing.validate.schema_store import SchemaStore, default_store
from anyllm.testing.validate.violations import JsonPath, Sink, Violation

__all__ = ["check_request_obeyed", "is_tool_call", "validate_request"]

_TOOL_CALL_SUFFIX = "_call"


def is_tool_call(item: dict[str, Any]) -> bool:
    """Function calls and the hosted tools' ``*_call`` items: what tool_choice constrains."""
    t = item.get("type")
    return isinstance(t, str) and (t == "function_call" or t.endswith(_TOOL_CALL_SUFFIX))


def check_request_obeyed(
    sink: Sink,
    resp: dict[str, Any],
    items: list[dict[str, Any]],
    path: JsonPath,
    request: dict[str, Any],
    line: int | None,
) -> None:
    """Rules the request imposes on its response: tool_choice, allowed_tools, previous_response_id."""
    prev = request.get("previous_response_id")
    if prev is not None and resp.get("previous_response_id") != prev:
        sink.add(
            "PREVIOUS-RESPONSE-ID-ECHOED",
            (*path, "previous_response_id"),
            f"request had previous_response_id {prev!r}, response has {resp.get('previous_response_id')!r}",
            line,
        )
    calls = [(i, it) for i, it in enumerate(items) if is_tool_call(it)]
    completed = resp.get("status") == "completed"
    choice = request.get("tool_choice")
    if choice == "none":
        for i, it in calls:
            sink.add(
                "TOOL-CHOICE-NONE",
                (*path, "output", i),
                f"tool_choice is 'none' but the model called {it.get('name') or it.get('type')!r}",
                line,
            )
    elif isinstance(choice, dict):
        ctype = choice.get("type")
        if ctype == "function" and completed:
            name = choice.get("name")
            if not any(it.get("type") == "function_call" and it.get("name") == name for _i, it in calls):
                sink.add(
                    "TOOL-CHOICE-FUNCTION",
                    (*path, "output"),
                    f"tool_choice forces function {name!r} but it was not called",
                    line,
                )
        elif ctype == "allowed_tools":
            allowed = {t.get("name") for t in choice.get("tools") or [] if isinstance(t, dict)}
            for i, it in calls:
                if it.get("type") == "function_call" and it.get("name") not in allowed:
                    sink.add(
                        "ALLOWED-TOOLS-ENFORCED",
                        (*path, "output", i, "name"),
                        f"function {it.get('name')!r} called; allowed_tools is {sorted(map(str, allowed))}",
                        line,
                    )
            if choice.get("mode") == "required" and completed and not calls:
                sink.add(
                    "TOOL-CHOICE-REQUIRED",
                    (*path, "output"),
                    "allowed_tools mode 'required' but no tool was called",
                    line,
                )
    if choice == "required" and completed and not calls:
        sink.add(
            "TOOL-CHOICE-REQUIRED",
            (*path, "output"),
            "tool_choice is 'required' but no tool was called",
            line,
        )


def validate_request(
    body: Any, profile: Profile = "openresponses", *, store: SchemaStore | None = None
) -> list[Violation]:
    """Validate a request body against CreateResponseBody (tools and items split by type)."""
    sink = Sink(profile)
    checker = SchemaChecker(store or default_store(), sink)
    body = as_json_value(body)
    if isinstance(body, (str, bytes)):
        ok, body = parse_json_text(sink, body, ())
        if not ok:
            return sink.items
    checker.obj("CreateResponseBody", body, (), "SCHEMA-REQUEST")
    return sink.items
