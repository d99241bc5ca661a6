"""Spec-valid Responses bodies and event streams, made by the library's own state machine.

Used as what a conformant OpenResponses server would send, in tests that need a server
which is correct by construction. Real providers' bytes are tested from the corpus.
"""

from __future__ import annotations

from typing import Any

from anyllm.translate.common import usage_dict
from anyllm.translate.stream import ResponseStreamBuilder


def synth_events(
    request: dict[str, Any] | None = None,
    *,
    text: str = "Hello from loopback",
    pieces: int = 4,
    tool: tuple[str, str] | None = None,
) -> list[dict[str, Any]]:
    """A complete conforming stream: text in ``pieces`` deltas, optionally one tool call."""
    request = request or {"model": "loopback-model", "input": "hi"}
    builder = ResponseStreamBuilder(request, model=str(request.get("model", "loopback-model")))
    events = builder.start()
    size = max(1, len(text) // pieces)
    for start in range(0, len(text), size):
        events += builder.text(text[start : start + size])
    if tool is not None:
        name, arguments = tool
        events += builder.tool_call(0, call_id="call_loop", name=name, arguments=arguments)
    builder.set_usage(usage_dict(5, 7))
    events += builder.complete()
    return events


def synth_response(request: dict[str, Any] | None = None, **kwargs: Any) -> dict[str, Any]:
    """The final ResponseResource of ``synth_events``."""
    response: dict[str, Any] = synth_events(request, **kwargs)[-1]["response"]
    return response
