"""``POST /responses/compact`` and the WebSocket turn built on its window (spec "WebSocket
Compaction"); the official compliance tester's tests of the same ids. Servers that do not
declare the ``compaction`` capability get "unsupported".
"""

from __future__ import annotations

from anyllm.errors import AnyLLMError
from anyllm.testing.cases import case
from anyllm.testing.ws_client import raw_compact
from conformance.test_websocket import completed, user


@case("compact-response", requires=("compaction",), official="compact-response", feature="/responses/compact")
def test_compact_response(anyllm_client, conformance_validator):
    v = conformance_validator
    result = anyllm_client.compact(
        [
            user("We agreed to launch on Tuesday and notify support first."),
            {
                "type": "message",
                "role": "assistant",
                "content": "Understood. The launch is Tuesday, with support notified beforehand.",
            },
        ],
        prompt_cache_key="openresponses-compact-test",
    )
    if not v.expect(
        not isinstance(result, AnyLLMError),
        "CASE-COMPACT-OK",
        f"the compaction succeeds (got {type(result).__name__}: {result})",
    ):
        return
    body = result.body
    output = body.get("output") or []
    v.expect(output, "CASE-COMPACT-OUTPUT", "the compacted window has output items", "$.output")
    v.expect(
        body.get("object") == "response.compaction",
        "CASE-COMPACT-OBJECT",
        f"object is response.compaction (got {body.get('object')!r})",
        "$.object",
    )
    v.expect(
        any(item.get("type") == "compaction" for item in output if isinstance(item, dict)),
        "CASE-COMPACT-OUTPUT",
        "the output holds a compaction item",
        "$.output",
    )


@case(
    "compact-missing-model",
    requires=("compaction",),
    official="compact-missing-model",
    feature="/responses/compact without model",
)
def test_compact_missing_model(anyllm_client, conformance_validator):
    status, _body = raw_compact(anyllm_client, {"input": [user("Compact this conversation.")]})
    conformance_validator.expect(
        status in (400, 422),
        "CASE-COMPACT-STATUS",
        f"a compaction request without model is rejected with 400 or 422 (got {status})",
    )


@case(
    "websocket-compact-new-chain",
    requires=("websocket", "compaction"),
    official="websocket-compact-new-chain",
    feature="a new WebSocket chain on a compacted window",
)
def test_websocket_compact_new_chain(anyllm_client, conformance_validator):
    v = conformance_validator
    result = anyllm_client.compact(
        [
            {
                "type": "message",
                "role": "user",
                "content": [{"type": "input_text", "text": "Remember the compaction code word: slate."}],
            },
            {"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": "OK."}]},
            {
                "type": "message",
                "role": "user",
                "content": [
                    {"type": "input_text", "text": "Compress this conversation for later continuation."}
                ],
            },
        ]
    )
    if not v.expect(
        not isinstance(result, AnyLLMError),
        "CASE-COMPACT-OK",
        f"the compaction succeeds (got {type(result).__name__}: {result})",
    ):
        return
    with anyllm_client.websocket() as ws:
        turn = ws.turn(
            [*result.input_items, user("Continue from here. Reply with exactly: compacted")],
            store=False,
            tools=[],
            previous_response_id=None,
        )
    completed(v, turn, "the turn on the compacted window")
