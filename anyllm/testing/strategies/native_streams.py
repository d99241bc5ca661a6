"""Provider-native chunk streams (chat completions, Anthropic Messages, Gemini) with the
script each one encodes, for the bridges' stream translators."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from hypothesis import strategies as st

from anyllm.testing.strategies.streams import Script, scripts

__all__ = [
    "ChunkStream",
    "anthropic_events",
    "anthropic_streams",
    "chat_events",
    "chat_streams",
    "gemini_events",
    "gemini_streams",
]


@dataclass(frozen=True, slots=True)
class ChunkStream:
    """A provider stream as (event name, data text) pairs, and the script it encodes."""

    script: Script
    events: tuple[tuple[str | None, str], ...]


def _bridge_scripts(kinds: tuple[str, ...], endings: tuple[str, ...]) -> st.SearchStrategy[Script]:
    return scripts(kinds=kinds, endings=endings)


def chat_events(script: Script, role_chunk: bool, usage_last: bool, done: bool) -> ChunkStream:
    """``script`` as ``chat.completion.chunk`` data: an opening role chunk or not, usage in its
    own last chunk or with the finish reason, ``[DONE]`` or not."""

    def chunk(delta: dict[str, Any] | None, finish: str | None = None, **extra: Any) -> tuple[None, str]:
        choices = [] if delta is None else [{"index": 0, "delta": delta, "finish_reason": finish}]
        body = {
            "id": "chatcmpl-fuzz",
            "object": "chat.completion.chunk",
            "model": script.model,
            "choices": choices,
        }
        return None, json.dumps({**body, **extra})

    out = [chunk({"role": "assistant", "content": ""})] if role_chunk else []
    calls = 0
    for step in script.steps:
        if step.kind == "tool":
            head = {
                "index": calls,
                "id": f"call_{calls}",
                "type": "function",
                "function": {"name": step.name, "arguments": ""},
            }
            out.append(chunk({"tool_calls": [head]}))
            out += [
                chunk({"tool_calls": [{"index": calls, "function": {"arguments": p}}]}) for p in step.pieces
            ]
            calls += 1
        else:
            key = {"text": "content", "refusal": "refusal", "reasoning": "reasoning_content"}[step.kind]
            out += [chunk({key: piece}) for piece in step.pieces]
    finish = {"completed": "tool_calls" if calls else "stop", "incomplete": "length"}[script.ending]
    usage = {"prompt_tokens": 3, "completion_tokens": 5, "total_tokens": 8}
    if usage_last:
        out.append(chunk({}, finish))
        out.append(chunk(None, usage=usage))
    else:
        out.append(chunk({}, finish, usage=usage))
    if done:
        out.append((None, "[DONE]"))
    return ChunkStream(script, tuple(out))


def chat_streams() -> st.SearchStrategy[ChunkStream]:
    """``chat.completion.chunk`` streams (OpenAI, llama.cpp, Mistral shapes) with their script."""
    return st.builds(
        chat_events,
        _bridge_scripts(("text", "refusal", "reasoning", "tool"), ("completed", "incomplete")),
        st.booleans(),
        st.booleans(),
        st.booleans(),
    )


def anthropic_events(script: Script, pings: bool) -> ChunkStream:
    """``script`` as Anthropic Messages SSE events, with ``ping`` events between them or not."""
    out: list[tuple[str | None, str]] = []

    def emit(kind: str, **body: Any) -> None:
        out.append((kind, json.dumps({"type": kind, **body})))
        if pings and len(out) % 3 == 0:
            out.append(("ping", json.dumps({"type": "ping"})))

    emit(
        "message_start",
        message={
            "id": "msg_fuzz",
            "type": "message",
            "role": "assistant",
            "model": script.model,
            "content": [],
            "stop_reason": None,
            "usage": {"input_tokens": 3, "output_tokens": 1},
        },
    )
    for index, step in enumerate(script.steps):
        if step.kind == "text":
            emit("content_block_start", index=index, content_block={"type": "text", "text": ""})
            for piece in step.pieces:
                emit("content_block_delta", index=index, delta={"type": "text_delta", "text": piece})
        elif step.kind == "reasoning":
            emit(
                "content_block_start",
                index=index,
                content_block={"type": "thinking", "thinking": "", "signature": ""},
            )
            for piece in step.pieces:
                emit("content_block_delta", index=index, delta={"type": "thinking_delta", "thinking": piece})
            emit("content_block_delta", index=index, delta={"type": "signature_delta", "signature": "sig"})
        else:  # tool
            emit(
                "content_block_start",
                index=index,
                content_block={"type": "tool_use", "id": f"toolu_{index}", "name": step.name, "input": {}},
            )
            for piece in step.pieces:
                emit(
                    "content_block_delta",
                    index=index,
                    delta={"type": "input_json_delta", "partial_json": piece},
                )
        emit("content_block_stop", index=index)
    stop = {"completed": "end_turn", "incomplete": "max_tokens"}[script.ending]
    emit("message_delta", delta={"stop_reason": stop, "stop_sequence": None}, usage={"output_tokens": 7})
    emit("message_stop")
    return ChunkStream(script, tuple(out))


def anthropic_streams() -> st.SearchStrategy[ChunkStream]:
    """Anthropic Messages SSE streams (text, thinking, tool_use blocks) with their script."""
    return st.builds(
        anthropic_events,
        _bridge_scripts(("text", "reasoning", "tool"), ("completed", "incomplete")),
        st.booleans(),
    )


def gemini_events(script: Script, per_chunk: int) -> ChunkStream:
    """``script`` as Gemini ``GenerateContentResponse`` chunks of ``per_chunk`` parts each."""
    parts: list[dict[str, Any]] = []
    for step in script.steps:
        if step.kind == "tool":
            parts.append(
                {"functionCall": {"name": step.name, "args": json.loads("".join(step.pieces) or "{}")}}
            )
        else:
            for piece in step.pieces:
                parts.append(
                    {"text": piece, "thought": True} if step.kind == "reasoning" else {"text": piece}
                )
    groups = [parts[i : i + per_chunk] for i in range(0, len(parts), per_chunk)] or [[]]
    finish = {"completed": "STOP", "incomplete": "MAX_TOKENS"}[script.ending]
    out: list[tuple[str | None, str]] = []
    for number, group in enumerate(groups):
        candidate: dict[str, Any] = {"content": {"role": "model", "parts": group}, "index": 0}
        body: dict[str, Any] = {"candidates": [candidate], "modelVersion": script.model}
        if number == len(groups) - 1:
            candidate["finishReason"] = finish
            body["usageMetadata"] = {"promptTokenCount": 3, "candidatesTokenCount": 5, "totalTokenCount": 8}
        out.append((None, json.dumps(body)))
    return ChunkStream(script, tuple(out))


def gemini_streams() -> st.SearchStrategy[ChunkStream]:
    """``streamGenerateContent?alt=sse`` chunk streams with their script."""
    return st.builds(
        gemini_events,
        _bridge_scripts(("text", "reasoning", "tool"), ("completed", "incomplete")),
        st.integers(1, 3),
    )
