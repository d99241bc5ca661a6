"""Replies of ``POST /responses/compact``: a CompactResource, or an error body.

The endpoint "returns a compacted input window, not a response ID" (spec "WebSocket
Compaction"): its reply is judged against ``CompactResource`` (items split by type, like a
response's output), an error reply against the error-body rules of HTTP.
"""

from __future__ import annotations

from typing import Any

from anyllm.testing.rules import Profile
from anyllm.testing.validate.inputs import as_json_value, json_type, media_type, parse_json_text
from anyllm.testing.validate.response_rules import validate_response
from anyllm.testing.validate.schema_check import SchemaChecker
from anyllm.testing.validate.schema_store import SchemaStore, default_store
from anyllm.testing.validate.violations import Sink, Violation

__all__ = ["is_compact_path", "validate_compact"]


def is_compact_path(path: str) -> bool:
    """``.../responses/compact``: the compaction endpoint (at any base path)."""
    return path.rstrip("/").endswith("/responses/compact")


def validate_compact(
    obj: Any,
    profile: Profile = "openresponses",
    *,
    content_type: str | None = None,
    status: int | None = None,
    store: SchemaStore | None = None,
) -> list[Violation]:
    """Validate a /responses/compact reply (dict, pydantic model or JSON text)."""
    if status is not None and status >= 400:
        return validate_response(obj, profile, content_type=content_type, status=status, store=store)
    sink = Sink(profile)
    if content_type is not None and media_type(content_type) != "application/json":
        sink.add("CONTENT-TYPE-JSON", (), f"Content-Type is {content_type!r}, expected application/json")
    obj = as_json_value(obj)
    if isinstance(obj, (str, bytes, bytearray)):
        ok, obj = parse_json_text(sink, bytes(obj) if isinstance(obj, bytearray) else obj, ())
        if not ok:
            return sink.items
    if not isinstance(obj, dict):
        sink.add("SCHEMA-COMPACT", (), f"a compaction reply is a JSON object, got {json_type(obj)}")
        return sink.items
    SchemaChecker(store or default_store(), sink).obj("CompactResource", obj, (), "SCHEMA-COMPACT")
    return sink.items
