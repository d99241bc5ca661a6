"""The stream state machine: provider deltas in, spec-conformant Responses events out.

Every bridge (chat completions, Anthropic, Gemini) reduces its provider's stream to a few
calls — text, refusal, reasoning, tool-call fragments, usage, and one ending — and this
class turns them into the event sequence the spec requires: ``response.created`` and
``response.in_progress`` first; ``output_item.added`` before anything else of an item;
``content_part.added`` before deltas; ``*.done`` events carrying the full text;
``content_part.done`` and ``output_item.done`` closing each; monotonically increasing
``sequence_number``; exactly one terminal event, last, whose response holds every item
that was streamed, with the same ids. What real bridges get wrong is mostly order and
identity, so both live here, once, for every bridge.

Events are plain dicts (cheap to build); the backends type them.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from anyllm.errors import StreamError
from anyllm.translate.common import new_id, response_skeleton

__all__ = ["ResponseStreamBuilder"]

PartKind = Literal["output_text", "refusal", "reasoning_text"]

_DELTA_EVENT: dict[str, str] = {
    "output_text": "response.output_text.delta",
    "refusal": "response.refusal.delta",
    "reasoning_text": "response.reasoning.delta",
}
# Item types whose schema has no ``status`` (the spec's ReasoningBody and CompactionBody).
_NO_STATUS = frozenset({"reasoning", "compaction"})
_DONE_EVENT: dict[str, str] = {
    "output_text": "response.output_text.done",
    "refusal": "response.refusal.done",
    "reasoning_text": "response.reasoning.done",
}


@dataclass(slots=True)
class _Item:
    """One output item while it is open."""

    index: int
    data: dict[str, Any]
    part_kind: PartKind | None = None
    part_chunks: list[str] = field(default_factory=list)
    annotations: list[dict[str, Any]] = field(default_factory=list)  # of the open output_text part
    trailers: list[dict[str, Any]] = field(default_factory=list)  # items emitted right after this one
    closed: bool = False


class ResponseStreamBuilder:
    """Builds one Responses event stream; call ``start()`` first and one ending last."""

    def __init__(
        self,
        request: Mapping[str, Any],
        *,
        model: str,
        response_id: str | None = None,
        created_at: int | None = None,
        stored: bool = False,
    ) -> None:
        self.response = response_skeleton(
            request,
            response_id=response_id or new_id("resp"),
            model=model,
            created_at=created_at,
            stored=stored,
        )
        self._seq = 0
        self._items: list[_Item] = []
        self._content_item: _Item | None = None  # the open message or reasoning item
        self._tool_calls: dict[Any, _Item] = {}  # open function calls by provider key
        self._extensions: dict[Any, _Item] = {}  # open extension items by provider key
        self._ended_tool_keys: set[Any] = set()
        self.started = False
        self.finished = False

    # -- plumbing --------------------------------------------------------------------------

    def _event(self, event_type: str, **fields: Any) -> dict[str, Any]:
        event = {"type": event_type, "sequence_number": self._seq, **fields}
        self._seq += 1
        return event

    def _snapshot(self) -> dict[str, Any]:
        snapshot = dict(self.response)
        snapshot["output"] = [dict(item.data) for item in self._items]
        return snapshot

    def _require_open(self) -> None:
        if not self.started:
            raise StreamError("stream builder used before start()")
        if self.finished:
            raise StreamError("provider sent data after the response ended")

    def _add_item(self, data: dict[str, Any], out: list[dict[str, Any]]) -> _Item:
        item = _Item(index=len(self._items), data=data)
        self._items.append(item)
        out.append(self._event("response.output_item.added", output_index=item.index, item=dict(data)))
        return item

    # -- lifecycle -------------------------------------------------------------------------

    def start(self) -> list[dict[str, Any]]:
        """``response.created`` then ``response.in_progress``."""
        if self.started:
            return []
        self.started = True
        return [
            self._event("response.created", response=self._snapshot()),
            self._event("response.in_progress", response=self._snapshot()),
        ]

    def set_model(self, model: str) -> None:
        """The provider may name the exact model it served only in its stream."""
        if model:
            self.response["model"] = model

    def set_usage(self, usage: dict[str, Any]) -> None:
        self.response["usage"] = usage

    # -- content ---------------------------------------------------------------------------

    def text(self, delta: str) -> list[dict[str, Any]]:
        return self._content("message", "output_text", delta)

    def refusal(self, delta: str) -> list[dict[str, Any]]:
        return self._content("message", "refusal", delta)

    def reasoning(self, delta: str) -> list[dict[str, Any]]:
        return self._content("reasoning", "reasoning_text", delta)

    def _content(self, item_type: str, kind: PartKind, delta: str) -> list[dict[str, Any]]:
        self._require_open()
        out: list[dict[str, Any]] = []
        if not delta:
            return out
        item = self._content_item
        if item is None or item.data["type"] != item_type:
            self._close_all(out)
            if item_type == "message":
                data = {
                    "id": new_id("msg"),
                    "type": "message",
                    "status": "in_progress",
                    "role": "assistant",
                    "content": [],
                }
            else:
                data = {"id": new_id("rs"), "type": "reasoning", "summary": [], "content": []}
            item = self._add_item(data, out)
            self._content_item = item
        if item.part_kind != kind:
            self._close_part(item, out)
            item.part_kind = kind
            item.part_chunks = []
            item.annotations = []
            out.append(
                self._event(
                    "response.content_part.added",
                    item_id=item.data["id"],
                    output_index=item.index,
                    content_index=len(item.data["content"]),
                    part=_empty_part(kind),
                )
            )
        item.part_chunks.append(delta)
        fields: dict[str, Any] = {
            "item_id": item.data["id"],
            "output_index": item.index,
            "content_index": len(item.data["content"]),
            "delta": delta,
        }
        if kind == "output_text":
            fields["logprobs"] = []
        out.append(self._event(_DELTA_EVENT[kind], **fields))
        return out

    def _close_part(self, item: _Item, out: list[dict[str, Any]]) -> None:
        kind = item.part_kind
        if kind is None:
            return
        full = "".join(item.part_chunks)
        content_index = len(item.data["content"])
        done_fields: dict[str, Any] = {
            "item_id": item.data["id"],
            "output_index": item.index,
            "content_index": content_index,
        }
        if kind == "refusal":
            done_fields["refusal"] = full
        else:
            done_fields["text"] = full
        if kind == "output_text":
            done_fields["logprobs"] = []
        out.append(self._event(_DONE_EVENT[kind], **done_fields))
        part = _full_part(kind, full)
        if kind == "output_text" and item.annotations:
            part["annotations"] = list(item.annotations)
        out.append(
            self._event(
                "response.content_part.done",
                item_id=item.data["id"],
                output_index=item.index,
                content_index=content_index,
                part=part,
            )
        )
        item.data["content"] = [*item.data["content"], part]
        item.part_kind = None
        item.part_chunks = []
        item.annotations = []

    def encrypted_reasoning(self, value: str) -> list[dict[str, Any]]:
        """Attach opaque reasoning state (a provider's signature) to the open reasoning item,
        or to a new empty one, so it round-trips as ``encrypted_content``."""
        self._require_open()
        out: list[dict[str, Any]] = []
        item = self._content_item
        if item is None or item.data["type"] != "reasoning":
            self._close_all(out)
            data = {"id": new_id("rs"), "type": "reasoning", "summary": [], "content": []}
            item = self._add_item(data, out)
            self._content_item = item
        item.data["encrypted_content"] = value
        return out

    def text_offset(self) -> int:
        """Characters already written into the output_text part being streamed (0 when none
        is open): where the next text starts, for annotations that cite a span of it."""
        item = self._content_item
        if item is None or item.part_kind != "output_text":
            return 0
        return sum(map(len, item.part_chunks))  # on demand: nothing added to each delta

    def open_text(self) -> str:
        """The text of the output_text part being streamed ('' when none is open)."""
        item = self._content_item
        return "".join(item.part_chunks) if item is not None and item.part_kind == "output_text" else ""

    def annotate(self, annotation: dict[str, Any]) -> list[dict[str, Any]]:
        """Add an annotation (a ``url_citation``) to the output_text part being streamed:
        ``response.output_text.annotation.added`` now, and the part's ``annotations`` when
        it closes. Its indices are character offsets into that part's text (end exclusive).

        Without an open output_text part there is no text to cite and nothing is emitted:
        check :meth:`annotating` first."""
        self._require_open()
        item = self._content_item
        if item is None or item.part_kind != "output_text":
            return []
        item.annotations.append(annotation)
        return [
            self._event(
                "response.output_text.annotation.added",
                item_id=item.data["id"],
                output_index=item.index,
                content_index=len(item.data["content"]),
                annotation_index=len(item.annotations) - 1,
                annotation=dict(annotation),
            )
        ]

    def annotating(self) -> bool:
        """Whether an output_text part is open, so :meth:`annotate` has text to cite."""
        item = self._content_item
        return item is not None and item.part_kind == "output_text"

    def open_message_id(self) -> str | None:
        """The id of the message item being written, if one is open."""
        item = self._content_item
        return str(item.data["id"]) if item is not None and item.data["type"] == "message" else None

    def trail(self, data: dict[str, Any]) -> list[dict[str, Any]]:
        """An extension item about the message being written (its raw citations, grounding):
        emitted, whole, right after that message closes. Without an open message it is
        emitted at once. A message that ends ``incomplete`` must be the last item (spec,
        item lifecycle), so its trailers are not emitted (the bridges document this)."""
        self._require_open()
        item = self._content_item
        if item is not None and item.data["type"] == "message":
            item.trailers.append(data)
            return []
        return self.extension(data)

    def open_extension(self, key: Any, data: dict[str, Any]) -> list[dict[str, Any]]:
        """Open an item of an extension (or other non-streamed) type known by ``key``; it is
        closed by :meth:`end_extension` or by the next item, like a function call."""
        self._require_open()
        out: list[dict[str, Any]] = []
        self._close_all(out)
        item = self._add_item(dict(data), out)
        self._extensions[key] = item
        return out

    def update_extension(self, key: Any, data: dict[str, Any]) -> None:
        """Replace the data of the open extension item ``key`` (what output_item.done will show)."""
        item = self._extensions.get(key)
        if item is not None:
            item.data = {**data, "id": item.data["id"]}

    def end_extension(self, key: Any) -> list[dict[str, Any]]:
        """Close the extension item ``key`` (completed)."""
        out: list[dict[str, Any]] = []
        item = self._extensions.pop(key, None)
        if item is not None:
            self._close_item(item, out)
        return out

    def extension(self, data: dict[str, Any]) -> list[dict[str, Any]]:
        """An extension item that arrived whole: added and done at once."""
        key = object()
        return self.open_extension(key, data) + self.end_extension(key)

    def end_items(self) -> list[dict[str, Any]]:
        """Close whatever is open, so the next content starts a new item (a provider's block end)."""
        self._require_open()
        out: list[dict[str, Any]] = []
        self._close_all(out)
        return out

    # -- tool calls ------------------------------------------------------------------------

    def tool_call(
        self,
        key: Any,
        *,
        call_id: str | None = None,
        name: str | None = None,
        arguments: str = "",
    ) -> list[dict[str, Any]]:
        """A fragment of the function call known by ``key`` (chat's index, Anthropic's block).

        The first fragment of a key opens the item and must carry the name (the spec wants
        ``output_item.added`` to show it); later fragments append argument text.
        """
        self._require_open()
        out: list[dict[str, Any]] = []
        item = self._tool_calls.get(key)
        if item is None:
            if key in self._ended_tool_keys:
                raise StreamError(f"provider sent more of tool call {key!r} after it ended")
            if not name:
                raise StreamError(f"provider started tool call {key!r} without a function name")
            # Items are streamed one after another, as OpenAI does: a new call closes the
            # open ones (a later fragment for a closed call is a provider error, above).
            self._close_all(out)
            data = {
                "id": new_id("fc"),
                "type": "function_call",
                "status": "in_progress",
                "call_id": call_id or new_id("call"),
                "name": name,
                "arguments": "",
            }
            item = self._add_item(data, out)
            self._tool_calls[key] = item
        if arguments:
            item.part_chunks.append(arguments)
            out.append(
                self._event(
                    "response.function_call_arguments.delta",
                    item_id=item.data["id"],
                    output_index=item.index,
                    delta=arguments,
                )
            )
        return out

    def end_tool_call(self, key: Any) -> list[dict[str, Any]]:
        """The provider said this call is complete (Anthropic's content_block_stop)."""
        out: list[dict[str, Any]] = []
        item = self._tool_calls.pop(key, None)
        if item is not None:
            self._close_item(item, out)
            self._ended_tool_keys.add(key)
        return out

    # -- closing ---------------------------------------------------------------------------

    def _close_item(self, item: _Item, out: list[dict[str, Any]], status: str = "completed") -> None:
        if item.closed:
            return
        if item.data["type"] == "function_call":
            arguments = "".join(item.part_chunks)
            if not arguments:
                # A call without arguments still needs a JSON object, and the deltas must add up to it.
                arguments = "{}"
                out.append(
                    self._event(
                        "response.function_call_arguments.delta",
                        item_id=item.data["id"],
                        output_index=item.index,
                        delta=arguments,
                    )
                )
            out.append(
                self._event(
                    "response.function_call_arguments.done",
                    item_id=item.data["id"],
                    output_index=item.index,
                    arguments=arguments,
                )
            )
            item.data["arguments"] = arguments
        else:
            self._close_part(item, out)
        if item.data["type"] not in _NO_STATUS:
            item.data["status"] = status
        item.closed = True
        out.append(self._event("response.output_item.done", output_index=item.index, item=dict(item.data)))
        trailers, item.trailers = item.trailers, []
        if status != "incomplete":
            for data in trailers:
                trailer = self._add_item(dict(data), out)
                self._close_item(trailer, out)

    def _close_all(self, out: list[dict[str, Any]], last_status: str = "completed") -> None:
        open_items = [item for item in self._items if not item.closed]
        for position, item in enumerate(open_items):
            status = last_status if position == len(open_items) - 1 else "completed"
            self._close_item(item, out, status)
        for key in self._tool_calls:
            self._ended_tool_keys.add(key)
        self._tool_calls.clear()
        self._extensions.clear()
        self._content_item = None

    def _terminal(self, event_type: str, status: str) -> dict[str, Any]:
        self.finished = True
        self.response["status"] = status
        if status == "completed":
            self.response["completed_at"] = int(time.time())
        self.response["output"] = [dict(item.data) for item in self._items]
        return self._event(event_type, response=dict(self.response))

    def complete(self) -> list[dict[str, Any]]:
        """Close every open item; ``response.completed`` last."""
        self._require_open()
        out: list[dict[str, Any]] = []
        self._close_all(out)
        out.append(self._terminal("response.completed", "completed"))
        return out

    def incomplete(self, reason: str = "max_output_tokens") -> list[dict[str, Any]]:
        """The token budget ran out: the item being written ends ``incomplete`` and is last."""
        self._require_open()
        out: list[dict[str, Any]] = []
        self._close_all(out, last_status="incomplete")
        self.response["incomplete_details"] = {"reason": reason}
        out.append(self._terminal("response.incomplete", "incomplete"))
        return out

    def fail(
        self, message: str, *, code: str = "server_error", error_type: str = "server_error"
    ) -> list[dict[str, Any]]:
        """An ``error`` event, then ``response.failed`` as the terminal event."""
        if self.finished:
            return []
        out = [] if self.started else self.start()
        out.append(
            self._event(
                "error",
                error={"type": error_type, "code": code, "message": message, "param": None},
            )
        )
        self.response["error"] = {"code": code, "message": message}
        out.append(self._terminal("response.failed", "failed"))
        return out


def _empty_part(kind: PartKind) -> dict[str, Any]:
    return _full_part(kind, "")


def _full_part(kind: PartKind, text: str) -> dict[str, Any]:
    if kind == "output_text":
        return {"type": "output_text", "text": text, "annotations": [], "logprobs": []}
    if kind == "refusal":
        return {"type": "refusal", "refusal": text}
    return {"type": "reasoning_text", "text": text}
