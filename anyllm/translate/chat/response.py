"""A chat completion (or one stream chunk's delta) -> ResponseStreamBuilder calls.

Shared by whole replies and streams: usage in every vendor's shape, the finish reasons,
error objects inside a 200 reply or a stream, and reasoning, text, refusal and tool-call
content, including Mistral's chunk lists and the legacy ``function_call`` shape.

``message.annotations`` of type ``url_citation`` (OpenAI's search models, OpenRouter's web
search; ``{"type": "url_citation", "url_citation": {url, title, start_index, end_index}}``)
map one to one onto the spec's ``url_citation`` annotation of the message's output_text
part, with ``response.output_text.annotation.added`` when streaming. The indices are
character offsets into the message content, which is that part's text. OpenRouter's extra
``content`` (an excerpt of the page) has no place in the annotation and is not kept.
Annotations that arrive before any text wait for it; an annotation with no text to cite
(the message had none) cites nothing and is not kept.
"""

from __future__ import annotations

import json
import math
from typing import Any

from anyllm.errors import AnyLLMError, ProviderError, StreamError, error_from_http
from anyllm.translate.common import usage_dict
from anyllm.translate.stream import ResponseStreamBuilder

__all__ = [
    "annotate",
    "apply_finish",
    "chat_usage",
    "error_from_chunk",
    "feed_message",
    "translate_chat_response",
    "url_citations",
    "usage_of",
]


def _token_count(usage: dict[str, Any], name: str, provider: str, streaming: bool) -> int | None:
    """``usage[name]`` as a count: absent or null is None; a whole non-negative number is read
    (JSON has one number type: ``3.0`` is 3); anything else is the provider's fault, typed."""
    value = usage.get(name)
    if value is None:
        return None
    if (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and math.isfinite(value)
        and value >= 0
        and value == int(value)
    ):
        return int(value)
    kind = StreamError if streaming else ProviderError
    raise kind(
        f"{provider} sent usage.{name} {value!r}, not a token count (a non-negative whole number)",
        provider=provider,
    )


def chat_usage(usage: Any, provider: str = "chat", *, streaming: bool = False) -> dict[str, Any] | None:
    """The spec's Usage from a chat ``usage`` object (OpenAI, Mistral, DeepSeek, Groq shapes).

    A ``prompt_tokens`` or ``completion_tokens`` that is not a count raises ProviderError
    (StreamError when ``streaming``) naming it, never a bare ``ValueError`` from ``int()``.
    """
    if not isinstance(usage, dict):
        return None
    prompt_details = usage.get("prompt_tokens_details")
    completion_details = usage.get("completion_tokens_details")
    cached = prompt_details.get("cached_tokens") if isinstance(prompt_details, dict) else None
    if cached is None:
        cached = usage.get("num_cached_tokens", usage.get("prompt_cache_hit_tokens"))
    reasoning = completion_details.get("reasoning_tokens") if isinstance(completion_details, dict) else None
    return usage_dict(
        _token_count(usage, "prompt_tokens", provider, streaming),
        _token_count(usage, "completion_tokens", provider, streaming),
        cached_tokens=cached if isinstance(cached, int) else None,
        reasoning_tokens=reasoning if isinstance(reasoning, int) else None,
    )


def usage_of(
    payload: dict[str, Any], provider: str = "chat", *, streaming: bool = False
) -> dict[str, Any] | None:
    usage = chat_usage(payload.get("usage"), provider, streaming=streaming)
    if usage is None:
        groq = payload.get("x_groq")  # Groq puts stream usage here
        if isinstance(groq, dict):
            usage = chat_usage(groq.get("usage"), provider, streaming=streaming)
    return usage


_MAX_TOKENS = frozenset({"length", "max_tokens", "model_length"})
_FILTERED = frozenset({"content_filter", "safety", "recitation"})
_FAILED = frozenset({"error", "insufficient_system_resource"})


def apply_finish(builder: ResponseStreamBuilder, reason: str | None, provider: str) -> list[dict[str, Any]]:
    """End the response for a chat ``finish_reason``."""
    if reason in _MAX_TOKENS:
        return builder.incomplete("max_output_tokens")
    if reason in _FILTERED:
        return builder.incomplete("content_filter")
    if reason in _FAILED:
        raise ProviderError(
            f"{provider} ended the completion with finish_reason {reason!r}", provider=provider
        )
    return builder.complete()


def error_from_chunk(payload: Any, provider: str) -> AnyLLMError:
    """A provider error object found inside a stream or a 200 reply, typed like an HTTP error."""
    inner = payload.get("error") if isinstance(payload, dict) else None
    status = 500
    for source in (inner, payload):
        if isinstance(source, dict):
            for key in ("status_code", "status", "code"):
                value = source.get(key)
                if isinstance(value, int) and not isinstance(value, bool) and 400 <= value < 600:
                    status = value
                    break
            else:
                continue
            break
    error = error_from_http(status, json.dumps(payload), {}, provider=provider)
    if error.status_code == 500 and status == 500:
        error.status_code = None  # no HTTP status was given: do not invent one
    return error


def _content_chunks(content: Any) -> list[tuple[str, str]]:
    """(kind, text) pieces of a message content: a string, or Mistral-style chunk lists."""
    if isinstance(content, str):
        return [("text", content)] if content else []
    pieces: list[tuple[str, str]] = []
    if isinstance(content, list):
        for chunk in content:
            if not isinstance(chunk, dict):
                continue
            if chunk.get("type") == "thinking":
                for inner in chunk.get("thinking") or []:
                    if isinstance(inner, dict) and isinstance(inner.get("text"), str):
                        pieces.append(("reasoning", inner["text"]))
            elif isinstance(chunk.get("text"), str):
                pieces.append(("text", chunk["text"]))
    return pieces


def _reasoning_text(message: dict[str, Any]) -> str | None:
    for key in ("reasoning_content", "reasoning"):
        value = message.get(key)
        if isinstance(value, str) and value:
            return value
    return None


def url_citations(annotations: Any) -> list[dict[str, Any]]:
    """The spec's url_citation annotations from a chat ``annotations`` list (other kinds,
    such as OpenRouter's ``file`` annotations, have no spec counterpart)."""
    found: list[dict[str, Any]] = []
    for annotation in annotations if isinstance(annotations, list) else []:
        if not isinstance(annotation, dict) or annotation.get("type") != "url_citation":
            continue
        inner = annotation.get("url_citation")
        fields = inner if isinstance(inner, dict) else annotation  # nested (OpenAI) or flat
        url = fields.get("url")
        if not isinstance(url, str) or not url:
            continue
        start, end, title = fields.get("start_index"), fields.get("end_index"), fields.get("title")
        found.append(
            {
                "type": "url_citation",
                "url": url,
                "title": title if isinstance(title, str) else "",
                "start_index": start if isinstance(start, int) and start >= 0 else 0,
                "end_index": end if isinstance(end, int) and end >= 0 else -1,
            }
        )
    return found


def annotate(builder: ResponseStreamBuilder, pending: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Attach the ``pending`` annotations to the open output_text part, if one is open (an
    end index the provider left out spans to the end of the text written so far)."""
    if not pending or not builder.annotating():
        return []
    out: list[dict[str, Any]] = []
    for annotation in pending:
        if annotation["end_index"] < 0:
            annotation = {**annotation, "end_index": builder.text_offset()}
        out += builder.annotate(annotation)
    pending.clear()
    return out


def feed_message(
    builder: ResponseStreamBuilder, message: dict[str, Any], pending: list[dict[str, Any]] | None = None
) -> list[dict[str, Any]]:
    """One message (or stream delta) into the builder: reasoning, text, annotations,
    refusal, tool calls. ``pending`` keeps annotations that found no text yet (streams)."""
    out: list[dict[str, Any]] = []
    reasoning = _reasoning_text(message)
    if reasoning:
        out += builder.reasoning(reasoning)
    content = message.get("content")
    if content:
        for kind, text in _content_chunks(content):
            out += builder.reasoning(text) if kind == "reasoning" else builder.text(text)
    annotations = message.get("annotations")
    if annotations or pending:
        waiting = pending if pending is not None else []
        waiting.extend(url_citations(annotations))
        out += annotate(builder, waiting)
    refusal = message.get("refusal")
    if isinstance(refusal, str) and refusal:
        out += builder.refusal(refusal)
    calls = message.get("tool_calls")
    if isinstance(calls, list) and calls:
        for position, call in enumerate(calls):
            if not isinstance(call, dict):
                continue
            raw_function = call.get("function")
            function: dict[str, Any] = raw_function if isinstance(raw_function, dict) else {}
            key = call.get("index", position)
            arguments = function.get("arguments")
            out += builder.tool_call(
                key,
                call_id=call.get("id") or None,
                name=function.get("name") or None,
                arguments=arguments
                if isinstance(arguments, str)
                else json.dumps(arguments)
                if arguments
                else "",
            )
    elif isinstance(message.get("function_call"), dict) and message["function_call"].get("name"):
        function = message["function_call"]  # the legacy single-call shape (empty ones are padding)
        out += builder.tool_call(
            "function_call", name=function.get("name") or None, arguments=function.get("arguments") or ""
        )
    return out


def translate_chat_response(reply: Any, builder: ResponseStreamBuilder, provider: str) -> None:
    """A whole chat completion into ``builder``, ended by its finish_reason."""
    if isinstance(reply, dict) and "error" in reply and not reply.get("choices"):
        raise error_from_chunk(reply, provider)
    choices = reply.get("choices") if isinstance(reply, dict) else None
    if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
        raise ProviderError(f"{provider} answered with no choices: {str(reply)[:200]!r}", provider=provider)
    if isinstance(reply.get("model"), str):
        builder.set_model(reply["model"])
    usage = usage_of(reply, provider)
    if usage is not None:
        builder.set_usage(usage)
    choice = choices[0]
    message = choice.get("message")
    if isinstance(message, dict):
        feed_message(builder, message)
    apply_finish(builder, choice.get("finish_reason"), provider)
