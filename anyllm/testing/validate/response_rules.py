"""Non-streaming replies: a ResponseResource (or an error body) and the rules on a whole response.

:func:`check_response_rules` holds what no schema expresses (status against error and
incomplete_details, unique item ids, item statuses against the response's); the stream
validator applies it to the terminal event's response too.
"""

from __future__ import annotations

from typing import Any

from anyllm.testing import rules as R
from anyllm.testing.rules import Profile
from anyllm.testing.validate.inputs import as_json_value, as_request, json_type, media_type, parse_json_text
from anyllm.testing.validate.request_rules import check_request_obeyed
from anyllm.testing.validate.schema_check import SchemaChecker
from anyllm.testing.validate.schema_store import SchemaStore, default_store
from anyllm.testing.validate.violations import JsonPath, Sink, Violation

__all__ = ["check_response_rules", "validate_response"]


def check_response_rules(
    sink: Sink, resp: dict[str, Any], path: JsonPath, request: dict[str, Any] | None, line: int | None = None
) -> None:
    """Rules on a final response that no schema expresses."""
    status = resp.get("status")
    if isinstance(status, str) and status not in R.RESPONSE_STATUSES:
        sink.add(
            "RESPONSE-STATUS-KNOWN",
            (*path, "status"),
            f"status {status!r} is not one of {', '.join(sorted(R.RESPONSE_STATUSES))}",
            line,
        )
    if status == "failed" and not resp.get("error"):
        sink.add(
            "RESPONSE-FAILED-HAS-ERROR",
            (*path, "error"),
            "status is 'failed' but error is null/absent",
            line,
        )
    if status == "incomplete" and not resp.get("incomplete_details"):
        sink.add(
            "RESPONSE-INCOMPLETE-DETAILS",
            (*path, "incomplete_details"),
            "status is 'incomplete' but incomplete_details is null/absent",
            line,
        )
    output = resp.get("output")
    items = [it for it in output if isinstance(it, dict)] if isinstance(output, list) else []
    seen: dict[str, int] = {}
    for i, item in enumerate(items):
        item_id = item.get("id")
        if isinstance(item_id, str):
            if item_id in seen:
                sink.add(
                    "ITEM-ID-UNIQUE",
                    (*path, "output", i, "id"),
                    f"item id {item_id!r} already used by output[{seen[item_id]}]",
                    line,
                )
            else:
                seen[item_id] = i
        item_status = item.get("status")
        if item_status == "incomplete":
            if i != len(items) - 1:
                sink.add(
                    "ITEM-INCOMPLETE-LAST",
                    (*path, "output", i, "status"),
                    f"output[{i}] is incomplete but {len(items) - 1 - i} item(s) follow it",
                    line,
                )
            if status != "incomplete":
                sink.add(
                    "ITEM-INCOMPLETE-RESPONSE-STATUS",
                    (*path, "status"),
                    f"output[{i}] is incomplete but the response status is {status!r}",
                    line,
                )
        elif item_status == "in_progress" and status == "completed":
            sink.add(
                "ITEM-STATUS-TERMINAL",
                (*path, "output", i, "status"),
                f"output[{i}] is still in_progress in a completed response",
                line,
            )
    if request is not None:
        check_request_obeyed(sink, resp, items, path, request, line)


def _is_error_body(obj: dict[str, Any], status: int | None) -> bool:
    """``{"error": {...}}`` rather than a ResponseResource. A ResponseResource has ``error`` too
    (null unless failed), so without ``object`` it is told apart by the HTTP status when known;
    without a status, a null ``error`` means a response (an error body's error is an object)."""
    if "error" not in obj or "object" in obj:
        return False
    if status is not None and status >= 400:
        return True
    if obj["error"] is None:
        return False
    return status is None or "id" not in obj


def validate_response(
    obj: Any,
    profile: Profile = "openresponses",
    *,
    request: Any = None,
    content_type: str | None = None,
    status: int | None = None,
    store: SchemaStore | None = None,
) -> list[Violation]:
    """Validate a non-streaming reply: a ResponseResource, or an error body ``{"error": {...}}``.

    ``obj``: dict, pydantic model, or JSON text. ``request`` (optional) enables the rules that
    depend on it (tool_choice, previous_response_id). ``content_type`` and ``status`` are the
    HTTP reply's, when known.
    """
    sink = Sink(profile)
    checker = SchemaChecker(store or default_store(), sink)
    if content_type is not None and media_type(content_type) != "application/json":
        sink.add("CONTENT-TYPE-JSON", (), f"Content-Type is {content_type!r}, expected application/json")
    obj = as_json_value(obj)
    if isinstance(obj, (str, bytes, bytearray)):
        ok, obj = parse_json_text(sink, bytes(obj) if isinstance(obj, bytearray) else obj, ())
        if not ok:
            return sink.items
    if not isinstance(obj, dict):
        sink.add("SCHEMA-RESPONSE", (), f"a response body is a JSON object, got {json_type(obj)}")
        return sink.items
    if _is_error_body(obj, status):
        checker.error_payload(obj["error"], ("error",))
        return sink.items
    checker.obj("ResponseResource", obj, (), "SCHEMA-RESPONSE")
    check_response_rules(sink, obj, (), as_request(request))
    return sink.items
