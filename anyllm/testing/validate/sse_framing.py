"""How events reach the stream validator, and the SSE framing rules that only framed input has.

``feed`` accepts bodies, ``(event name, data)`` pairs, ``{"event", "data", "id"}`` mappings,
SSE event objects and ``"[DONE]"``. Framed input is judged on its framing too: ``event:``
equal to the body's ``type``, JSON ``data``, no ``id:``, nothing after the final ``[DONE]``.
A raw capture (bytes or text) is split by :func:`anyllm.testing.sse.split_sse`, which also
says where it is binary or cut off.
"""

from __future__ import annotations

import json
from typing import Any

from anyllm.testing.validate.inputs import as_json_value
from anyllm.testing.validate.stream_state import StreamState
from anyllm.testing.validate.violations import Violation

__all__ = ["SSEFraming"]


class SSEFraming(StreamState):
    """The input forms of ``feed`` and the framing rules (``SSE-*``)."""

    def feed(self, event: Any, *, line: int | None = None) -> list[Violation]:
        """Check one event; return the violations it caused."""
        items = self._sink.items
        start = len(items)
        self._line = line
        if isinstance(event, dict) and "type" in event:
            self._on_body(event, None)
        elif isinstance(event, tuple) or (isinstance(event, list) and len(event) == 2):
            name, data = event
            self._framed_event(name, data, None)
        elif isinstance(event, dict) and "data" in event:
            self._framed_event(event.get("event"), event["data"], event.get("id"))
        elif isinstance(event, str):
            self._framed_event(None, event, None, name_expected=False)
        elif hasattr(event, "data") and hasattr(event, "event"):
            if line is None:
                self._line = getattr(event, "line", None)
            self._framed_event(event.event, event.data, getattr(event, "id", None))
        else:
            body = as_json_value(event)
            if isinstance(body, dict):
                self._on_body(body, None)
            else:
                self._sink.add("INPUT-MALFORMED", (self._count,), f"not an event: {type(event).__name__}")
                self._count += 1
        return items[start:] if len(items) > start else []

    def _framed_event(self, name: Any, data: Any, event_id: Any, *, name_expected: bool = True) -> None:
        self._framed = self._framed or name_expected
        index = self._count
        if event_id is not None:
            self._sink.once("SSE-ID-PRESENT", "id", (index,), f"event carries id: {event_id!r}", self._line)
        if isinstance(data, str):
            if data == "[DONE]":
                self._framed = True
                if self._done_at is not None:
                    self._sink.add("SSE-DATA-AFTER-DONE", (index,), "a second [DONE]", self._line)
                else:
                    self._done_at = index
                self._count += 1
                return
            try:
                body = json.loads(data)
            except json.JSONDecodeError as exc:
                self._sink.add(
                    "SSE-DATA-JSON", (index,), f"data is not JSON ({exc.msg}): {data[:80]!r}", self._line
                )
                self._count += 1
                return
        else:
            body = as_json_value(data)
        if not isinstance(body, dict):
            self._sink.add(
                "SSE-DATA-JSON", (index,), f"data is not a JSON object: {str(data)[:80]!r}", self._line
            )
            self._count += 1
            return
        if name_expected:
            if name is None:
                self._sink.once(
                    "SSE-EVENT-NAME-MISSING",
                    "name",
                    (index,),
                    "event has no `event:` field (first of possibly several)",
                    self._line,
                )
            elif name != body.get("type"):
                self._sink.add(
                    "SSE-EVENT-MATCHES-TYPE",
                    (index,),
                    f"`event: {name}` but the body's type is {body.get('type')!r}",
                    self._line,
                )
        self._on_body(body, name)

    def _feed_capture(self, raw: bytes | bytearray | str) -> bool:
        """Feed a raw SSE capture; False when it is binary, which ends the judgement there."""
        from anyllm.testing.sse import split_sse

        framed, problems = split_sse(bytes(raw) if isinstance(raw, bytearray) else raw)
        for problem in problems:
            if problem.kind == "binary":
                self._sink.add("INPUT-MALFORMED", (), problem.message, problem.line)
                return False
        for ev in framed:
            self.feed(ev, line=ev.line)
        for problem in problems:
            self._sink.add("SSE-TRUNCATED", (self._count,), problem.message, problem.line)
        return True
