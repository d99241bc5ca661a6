"""The WebSocket transport (spec "WebSocket Transport", "Continuation", "Reconnects", "Errors").

Each case is the official compliance tester's test of the same id (same requests, same
expectations), over ``anyllm.responses_websocket()``; the frames are also judged on the wire
by the WebSocket rules (``WS-*``) and the streaming rules. Servers that do not declare the
``websocket`` capability (the spec: servers MAY expose it) get "unsupported".
"""

from __future__ import annotations

from anyllm.testing.cases import case
from anyllm.testing.ws_client import WsTurn

MISSING_ID = "resp_openresponses_missing_0"  # the official test's id, made deterministic for replay


def user(text: str) -> dict:
    return {"type": "message", "role": "user", "content": text}


def completed(v, turn: WsTurn, what: str) -> bool:
    """The turn ended with response.completed (the official tester's completedStatus)."""
    status = turn.final.get("status") if turn.final else None
    why = f"error {type(turn.error).__name__}: {turn.error}" if turn.error else f"status {status!r}"
    return v.expect(
        turn.error is None and status == "completed",
        "CASE-WS-COMPLETED",
        f"{what}: the turn ends with a completed response (got {why})",
    )


def not_found(v, turn: WsTurn, what: str) -> bool:
    """The turn failed with previous_response_not_found (an envelope or a failed response)."""
    return v.expect(
        turn.error_code == "previous_response_not_found",
        "CASE-WS-PREVIOUS-NOT-FOUND",
        f"{what}: expected previous_response_not_found, got "
        f"{turn.error_code or (turn.final or {}).get('status') or 'no error code'}",
    )


@case("websocket-response", requires=("websocket",), official="websocket-response", feature="one turn")
def test_websocket_response(anyllm_client, conformance_validator):
    with anyllm_client.websocket() as ws:
        turn = ws.turn([user("Count from 1 to 3.")])
    completed(conformance_validator, turn, "the turn")
    conformance_validator.expect(turn.events, "CASE-WS-EVENTS", "streaming events were received")


@case(
    "websocket-sequential-responses",
    requires=("websocket",),
    official="websocket-sequential-responses",
    feature="two turns on one connection",
)
def test_websocket_sequential_responses(anyllm_client, conformance_validator):
    with anyllm_client.websocket() as ws:
        first = ws.turn("Reply with exactly: first", store=False)
        second = ws.turn("Reply with exactly: second", store=False, previous_response_id=None)
    completed(conformance_validator, first, "turn 1")
    completed(conformance_validator, second, "turn 2")


@case(
    "websocket-continuation",
    requires=("websocket",),
    official="websocket-continuation",
    feature="store=false continuation on the socket",
)
def test_websocket_continuation(anyllm_client, conformance_validator):
    v = conformance_validator
    with anyllm_client.websocket() as ws:
        first = ws.turn("Remember the code word: cobalt. Reply with OK.", store=False)
        if not v.expect(first.response_id, "CASE-ID", "the first turn returns a response id"):
            return
        second = ws.turn(
            "What is the code word? Reply with only the code word.",
            store=False,
            previous_response_id=first.response_id,
        )
    completed(v, first, "turn 1")
    completed(v, second, "the continuation")


@case(
    "websocket-reconnect-store-false-recovery",
    requires=("websocket",),
    official="websocket-reconnect-store-false-recovery",
    feature="reconnect: previous_response_not_found, then a new chain",
)
def test_websocket_reconnect_store_false_recovery(anyllm_client, conformance_validator):
    v = conformance_validator
    with anyllm_client.websocket() as ws:
        first = ws.turn("Remember the code word: copper. Reply with OK.", store=False)
    if not v.expect(first.response_id, "CASE-ID", "the first turn returns a response id"):
        return
    with anyllm_client.websocket() as ws:
        reconnect = ws.turn(
            "Try to continue after reconnect. Reply with exactly: reconnected",
            store=False,
            previous_response_id=first.response_id,
        )
        recovery = ws.turn(
            [
                user(
                    "The previous store:false chain could not continue after reconnect. "
                    "Start a new response and reply with exactly: recovered"
                )
            ],
            store=False,
            previous_response_id=None,
        )
    not_found(v, reconnect, "continuing a store=false chain on a new connection")
    completed(v, recovery, "the recovery turn (a new chain)")


@case(
    "websocket-previous-response-not-found",
    requires=("websocket",),
    official="websocket-previous-response-not-found",
    feature="store=false continuation from an unknown id",
)
def test_websocket_previous_response_not_found(anyllm_client, conformance_validator):
    with anyllm_client.websocket() as ws:
        turn = ws.turn(
            "This should fail because the previous response is missing.",
            store=False,
            previous_response_id=MISSING_ID,
        )
    not_found(conformance_validator, turn, "continuing from an id the server never produced")


@case(
    "websocket-failed-continuation-evicts-cache",
    requires=("websocket",),
    official="websocket-failed-continuation-evicts-cache",
    feature="a failed continuation evicts the id",
)
def test_websocket_failed_continuation_evicts_cache(anyllm_client, conformance_validator):
    v = conformance_validator
    with anyllm_client.websocket() as ws:
        first = ws.turn("Remember the code word: ember. Reply with OK.", store=False)
        if not v.expect(first.response_id, "CASE-ID", "the first turn returns a response id"):
            return
        failing = ws.turn(
            [
                {
                    "type": "function_call_output",
                    "call_id": "call_openresponses_missing",
                    "output": "No matching tool call exists in the previous response.",
                }
            ],
            store=False,
            previous_response_id=first.response_id,
        )
        retry = ws.turn(
            "Try to continue after the failed turn. Reply with exactly: stale",
            store=False,
            previous_response_id=first.response_id,
        )
    failed = failing.error is not None or (failing.final or {}).get("status") == "failed"
    v.expect(
        failed,
        "CASE-WS-FAILED",
        "a continuation answering a tool call that does not exist fails "
        f"(got status {(failing.final or {}).get('status')!r})",
    )
    not_found(v, retry, "continuing from the id the failed continuation evicted")
