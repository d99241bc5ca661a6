"""The stream validator: every event through its schema, then the rule mixins, then the end.

:class:`StreamValidator` dispatches each event body on its ``type`` to the mixins that own
the rules (framing :mod:`.sse_framing`, items :mod:`.stream_items`, content and deltas
:mod:`.stream_deltas`, the response and its terminal event :mod:`.stream_lifecycle`), and
checks here what concerns every event: schema, sequence numbers, the first and the last.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from anyllm.testing import rules as R
from anyllm.testing.rules import Profile
from anyllm.testing.validate.inputs import media_type
from anyllm.testing.validate.schema_check import is_slug_prefixed
from anyllm.testing.validate.schema_store import UNION_SITES, SchemaStore
from anyllm.testing.validate.sse_framing import SSEFraming
from anyllm.testing.validate.stream_deltas import TEXT_DELTAS, TEXT_DONES, DeltaTracking
from anyllm.testing.validate.stream_lifecycle import ResponseLifecycle
from anyllm.testing.validate.violations import JsonPath, Violation

__all__ = ["StreamValidator", "validate_stream"]


class StreamValidator(SSEFraming, ResponseLifecycle, DeltaTracking):
    """Validate a stream incrementally: ``feed`` each event as it arrives, then ``finish``.

    ``feed`` accepts an event body (dict or pydantic model), an ``(event_name, data)`` pair
    (data as JSON text or an already-parsed dict), a ``{"event": ..., "data": ...}`` mapping, an
    ``SSEEvent``-like object (``.event``, ``.data``, ``.id``) or the string ``"[DONE]"``.
    Framing rules (``event:`` name, ``[DONE]``) apply only to framed input (pairs, SSE).
    """

    def __init__(
        self,
        profile: Profile = "openresponses",
        *,
        request: Any = None,
        content_type: str | None = None,
        store: SchemaStore | None = None,
    ) -> None:
        super().__init__(profile, request, store)
        self._handlers: dict[str, Callable[[dict[str, Any], int], None]] = {
            "response.created": self._on_snapshot,
            "response.queued": self._on_snapshot,
            "response.in_progress": self._on_snapshot,
            "response.completed": self._on_terminal,
            "response.failed": self._on_terminal,
            "response.incomplete": self._on_terminal,
            "error": self._on_error,
            "response.output_item.added": self._on_item_added,
            "response.output_item.done": self._on_item_done,
            "response.content_part.added": self._on_part_added,
            "response.content_part.done": self._on_part_done,
            "response.output_text.annotation.added": self._on_annotation,
            "response.function_call_arguments.delta": self._on_args_delta,
            "response.function_call_arguments.done": self._on_args_done,
            "response.reasoning_summary_part.added": self._on_summary_added,
            "response.reasoning_summary_part.done": self._on_summary_done,
            "response.reasoning_summary_text.delta": self._on_summary_delta,
            "response.reasoning_summary_text.done": self._on_summary_text_done,
        }
        for name in TEXT_DELTAS:
            self._handlers[name] = self._on_text_delta
        for name in TEXT_DONES:
            self._handlers[name] = self._on_text_done
        if content_type is not None and media_type(content_type) != "text/event-stream":
            self._sink.add(
                "SSE-CONTENT-TYPE", (), f"Content-Type is {content_type!r}, expected text/event-stream"
            )

    @property
    def violations(self) -> list[Violation]:
        """Every finding so far, in the order found."""
        return list(self._sink.items)

    def _on_body(self, body: dict[str, Any], name: str | None) -> None:
        """What every event must satisfy (order, schema), then the handler of its ``type``."""
        index = self._count
        self._count = index + 1
        sink = self._sink
        if self._done_at is not None:
            sink.add("SSE-DATA-AFTER-DONE", (index,), f"{body.get('type')!r} after [DONE]", self._line)
        t = body.get("type")
        if not isinstance(t, str):
            sink.add("SCHEMA-EVENT", (index, "type"), "event has no string `type`", self._line)
            return
        seq = body.get("sequence_number")
        if type(seq) is int:
            last = self._last_seq
            if last is not None and seq <= last:
                sink.add(
                    "STREAM-SEQUENCE-MONOTONIC",
                    (index, "sequence_number"),
                    f"sequence_number {seq} after {last}",
                    self._line,
                )
            self._last_seq = seq
        if index == 0 and t != "response.created":
            sink.add("STREAM-STARTS-WITH-CREATED", (index,), f"first event is {t!r}", self._line)
        if self._terminal_at is not None:
            sink.add(
                "TERMINAL-EVENT-LAST",
                (index,),
                f"{t!r} after the terminal event at [{self._terminal_at}]",
                self._line,
            )
        schema = self._events.get(t)
        if schema is not None:
            if not self._store.validator(schema).is_valid(body):
                self._schema_failure(schema, body, index)
        else:
            self._foreign_event(t, body, index)
        handler = self._handlers.get(t)
        if handler is not None:
            handler(body, index)
        elif "output_index" in body:
            self._item_for(body, index)

    def _schema_failure(self, schema: str, body: dict[str, Any], index: int) -> None:
        if schema in UNION_SITES:
            self._checker.obj(schema, body, (index,), "SCHEMA-EVENT", self._line)
        else:
            self._checker.errors(schema, body, (index,), "SCHEMA-EVENT", self._line)

    def _foreign_event(self, t: str, body: dict[str, Any], index: int) -> None:
        sink = self._sink
        if is_slug_prefixed(t):
            sink.once("EXTENSION-TYPE", f"event:{t}", (index,), f"extension event type {t!r}", self._line)
        elif self.profile == "openai" and t in R.OPENAI_EVENT_TYPES:
            sink.once("OPENAI-EXTENSION", f"event:{t}", (index,), f"OpenAI event type {t!r}", self._line)
        else:
            sink.once(
                "EXTENSION-TYPE-PREFIXED",
                f"event:{t}",
                (index,),
                f"event type {t!r} is not in the spec and not slug-prefixed",
                self._line,
            )
            return
        if type(body.get("sequence_number")) is not int:
            sink.add(
                "EXTENSION-EVENT-FIELDS",
                (index, "sequence_number"),
                f"extension event {t!r} has no integer sequence_number",
                self._line,
            )

    def finish(self) -> list[Violation]:
        """The stream ended: report what never came. Returns the violations it found."""
        items = self._sink.items
        start = len(items)
        if self._finished:
            return []
        self._finished = True
        end: JsonPath = (self._count,)
        if self._terminal_at is None:
            self._sink.add(
                "TERMINAL-EVENT-MISSING",
                end,
                "the stream ended without response.completed/failed/incomplete"
                if self._count
                else "the stream is empty",
            )
        if self._error_at is not None:
            self._sink.add(
                "ERROR-EVENT-FOLLOWED-BY-FAILED",
                (self._error_at,),
                "an error event was not followed by response.failed",
            )
        if self._framed and self._done_at is None:
            self._sink.add("SSE-DONE-TERMINAL", end, "the stream did not end with data: [DONE]")
        return items[start:]


def validate_stream(
    events: Any,
    profile: Profile = "openresponses",
    *,
    request: Any = None,
    content_type: str | None = None,
    store: SchemaStore | None = None,
) -> list[Violation]:
    """Validate a whole stream: raw SSE (bytes/str) or an iterable of events (``StreamValidator.feed``)."""
    validator = StreamValidator(profile, request=request, content_type=content_type, store=store)
    if isinstance(events, (bytes, bytearray, str)):
        if not validator._feed_capture(events):
            return validator.violations
    else:
        for ev in events:
            validator.feed(ev)
    validator.finish()
    return validator.violations
