"""Conforming WebSocket exchanges for the validator tests, built from the spec's own examples.

A turn is the ``response.create`` message of the spec's "WebSocket Transport" example (model
``gpt-openresponses-1``, ``store: false``) answered by the doc-derived event stream of
:mod:`tests.validate_samples`, its response id made unique per turn; an exchange is a list
of records (:mod:`anyllm.testing.validate.ws_records`), as JSONL lines hold them.
"""

from __future__ import annotations

import json
from typing import Any

from tests.validate_samples import doc_derived_stream

Record = dict[str, Any]

NOT_FOUND_ENVELOPE: dict[str, Any] = {  # the spec's own example (WebSocket Errors)
    "type": "error",
    "status": 400,
    "error": {
        "code": "previous_response_not_found",
        "message": "Previous response with id 'resp_abc' not found.",
        "param": "previous_response_id",
    },
}

COMPACTED_WINDOW: list[dict[str, Any]] = [  # the example of CompactResource in the OpenAPI document
    {
        "id": "msg_000",
        "type": "message",
        "status": "completed",
        "content": [{"type": "input_text", "text": "Create a simple landing page for a dog petting cafe."}],
        "role": "user",
    },
    {"id": "cmp_001", "type": "compaction", "encrypted_content": "gAAAAABpM0Yj-...="},
]


def create(input_data: Any = "Find the bug in fizz_buzz().", **fields: Any) -> dict[str, Any]:
    """A response.create message (store false, as in the spec's example)."""
    return {
        "type": "response.create",
        "model": "gpt-openresponses-1",
        "store": False,
        "input": input_data,
        **fields,
    }


def events_for(response_id: str, previous: str | None = None) -> list[dict[str, Any]]:
    """The doc-derived stream as the answer to one turn: response ``response_id``."""
    events = doc_derived_stream()
    for event in events:
        response = event.get("response")
        if isinstance(response, dict):
            response["id"] = response_id
            response["previous_response_id"] = previous
    return events


def send(body: Any) -> Record:
    return {"direction": "send", "at": 0.0, "text": body if isinstance(body, str) else json.dumps(body)}


def recv(body: Any) -> Record:
    return {"direction": "recv", "at": 0.1, "text": body if isinstance(body, str) else json.dumps(body)}


def opened(status: int = 101) -> Record:
    return {"direction": "open", "path": "/v1/responses", "status": status}


def closed(code: int = 1000, reason: str = "") -> Record:
    return {"direction": "close", "at": 1.0, "code": code, "reason": reason}


def turn(body: dict[str, Any], answer: list[dict[str, Any]]) -> list[Record]:
    return [send(body), *(recv(event) for event in answer)]


def one_turn() -> list[Record]:
    """One connection, one completed turn, closed normally."""
    return [opened(), *turn(create(), events_for("resp_1")), closed()]


def follow_up(previous: str, **fields: Any) -> dict[str, Any]:
    """A continuation: only the new items (a tool output, as in the spec's example)."""
    items = [{"type": "function_call_output", "call_id": "call_1", "output": "tool result"}]
    return create(items, previous_response_id=previous, **fields)


def continuation() -> list[Record]:
    """Two turns: the second continues (store false) from the first with only new input."""
    return [
        opened(),
        *turn(create(), events_for("resp_1")),
        *turn(follow_up("resp_1"), events_for("resp_2", previous="resp_1")),
        closed(),
    ]
