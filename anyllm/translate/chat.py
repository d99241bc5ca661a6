"""Responses <-> OpenAI-style chat completions, as pure functions.

One module serves every chat-completions vendor (Mistral, llama.cpp, Together, Cerebras,
SambaNova, Perplexity, any OpenAI-compatible server). Where vendors differ on the wire, a
:class:`ChatDialect` row says how, with the evidence next to it; everything else is the
OpenAI chat shape.

Decisions (and why):

* Nothing is dropped silently: a Responses feature the target cannot express raises
  :class:`UnsupportedParameterError` naming it, before any network call.
* ``metadata`` and ``store`` describe the Responses object, which the library builds itself:
  they are echoed in the returned response (and ``store`` feeds the local response store),
  not sent to the provider.
* ``reasoning`` input items (a previous turn's thinking) have no counterpart in chat
  requests — providers that stream ``reasoning_content`` ask clients not to send it back —
  so they are left out of the provider request; their turn's messages and tool calls stay.
* ``developer`` messages become ``system`` messages: most OpenAI-compatible servers
  (llama.cpp, vLLM, Mistral) do not know the ``developer`` role.
* ``tool_choice`` ``allowed_tools`` is expressed by sending only the allowed tools with the
  chosen mode, which means the same thing on every server.
* Unknown keyword arguments (``responses(..., seed=1)``) go into the provider body as
  given: the caller asked for them by name. Mistral's ``seed`` is spelled ``random_seed``.
* A stream ends on ``finish_reason`` or ``data: [DONE]``; if the connection closes with
  neither, the response was cut short and :class:`StreamError` is raised. ``[DONE]`` with no
  finish reason (seen from real OpenAI-compatible gateways) counts as a normal end.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Literal

from anyllm.errors import AnyLLMError, ProviderError, StreamError, UnsupportedParameterError, error_from_http
from anyllm.providers.translated import StreamTranslator
from anyllm.streaming import DONE, SSEEvent
from anyllm.translate.common import usage_dict
from anyllm.translate.stream import ResponseStreamBuilder

__all__ = [
    "DIALECTS",
    "ChatDialect",
    "ChatStreamTranslator",
    "apply_finish",
    "chat_usage",
    "dialect_for",
    "error_from_chunk",
    "translate_chat_response",
    "translate_request",
]

FileStyle = Literal["openai", "mistral", "none"]

# Every field a Responses request body can carry (spec CreateResponseBody, plus the
# OpenAI extras responses() accepts). Anything else in the body came from **kwargs.
RESPONSES_FIELDS = frozenset(
    {
        "model", "input", "previous_response_id", "include", "tools", "tool_choice", "metadata",
        "text", "temperature", "top_p", "presence_penalty", "frequency_penalty",
        "parallel_tool_calls", "stream", "stream_options", "background", "max_output_tokens",
        "max_tool_calls", "reasoning", "safety_identifier", "prompt_cache_key", "truncation",
        "instructions", "store", "service_tier", "top_logprobs", "user", "conversation",
        "prompt_cache_retention",
    }
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class ChatDialect:
    """How one vendor's chat completions differ from OpenAI's."""

    name: str
    max_tokens_field: str = "max_tokens"
    stream_usage: bool = True  # send stream_options.include_usage
    required_choice: str = "required"
    seed_field: str = "seed"
    tools: bool = True
    images: bool = True
    files: FileStyle = "none"
    json_object: bool = True
    json_schema: Literal["openai", "llamacpp"] = "openai"
    reasoning_effort: bool = True
    user: bool = True
    prompt_cache_key: bool = False
    openai_extras: bool = False  # safety_identifier, service_tier, text.verbosity
    text_only_strings: bool = False  # collapse text-part lists to one string
    null_content: bool = True  # an assistant turn of only tool calls has content null (else "")


DIALECTS: dict[str, ChatDialect] = {
    # Mistral (docs.mistral.ai/api, recorded traffic): tool_choice "any" for required
    # (pydantic-ai sends it), random_seed, max_tokens, prompt_cache_key, usage always in
    # the last chunk (no stream_options), PDFs as "document_url" parts; no ``user`` field.
    "mistral": ChatDialect(
        "mistral",
        stream_usage=False,
        required_choice="any",
        seed_field="random_seed",
        files="mistral",
        user=False,
        prompt_cache_key=True,
    ),
    # llama-cpp-python's server: response_format is {"type": "json_object", "schema": ...}
    # (grammar-constrained), no images (text models), list content is rendered verbatim by
    # chat templates, so text parts are joined; no reasoning effort.
    "llamacpp": ChatDialect(
        "llamacpp",
        images=False,
        json_schema="llamacpp",
        reasoning_effort=False,
        text_only_strings=True,
        null_content=False,  # its request model wants a string (pydantic 500s on null)
    ),
    "together": ChatDialect("together"),
    # Cerebras (inference-docs.cerebras.ai): max_completion_tokens.
    "cerebras": ChatDialect("cerebras", max_tokens_field="max_completion_tokens"),
    "sambanova": ChatDialect("sambanova"),
    # Perplexity (docs.perplexity.ai): no tools, json_schema only, usage in every chunk.
    "perplexity": ChatDialect("perplexity", stream_usage=False, tools=False, json_object=False),
    # Any OpenAI-compatible server: the OpenAI chat shape, OpenAI's extras passed on.
    "openai_compatible": ChatDialect(
        "openai_compatible", files="openai", prompt_cache_key=True, openai_extras=True
    ),
}


def dialect_for(provider: str, *, tools: bool = True, images: bool = True) -> ChatDialect:
    """The dialect of a chat provider, narrowed by the registry's declared capabilities."""
    base = DIALECTS.get(provider) or ChatDialect(provider)
    if (base.tools and not tools) or (base.images and not images):
        from dataclasses import replace

        base = replace(base, tools=base.tools and tools, images=base.images and images)
    return base


def _unsupported(dialect: ChatDialect, param: str, why: str = "") -> UnsupportedParameterError:
    reason = f": {why}" if why else ""
    return UnsupportedParameterError(
        f"{param} cannot be expressed for provider {dialect.name!r} (chat completions){reason}",
        provider=dialect.name,
        param=param,
    )


# -- request -----------------------------------------------------------------------------------


def translate_request(body: dict[str, Any], dialect: ChatDialect, *, stream: bool) -> dict[str, Any]:
    """A Responses request body -> a chat-completions request body for ``dialect``."""
    _reject_inexpressible(body, dialect)
    out: dict[str, Any] = {"model": body["model"]}
    messages: list[dict[str, Any]] = []
    instructions = body.get("instructions")
    if instructions:
        messages.append({"role": "system", "content": instructions})
    messages.extend(_messages(body.get("input"), dialect))
    if not messages:
        raise UnsupportedParameterError(
            "input is empty: chat completions need at least one message", param="input"
        )
    out["messages"] = messages

    _tools(body, dialect, out)
    _text_format(body.get("text"), dialect, out)
    for name in ("temperature", "top_p", "presence_penalty", "frequency_penalty"):
        if body.get(name) is not None:
            out[name] = body[name]
    if body.get("max_output_tokens") is not None:
        out[dialect.max_tokens_field] = body["max_output_tokens"]
    if body.get("top_logprobs"):
        out["logprobs"] = True
        out["top_logprobs"] = body["top_logprobs"]
    reasoning = body.get("reasoning")
    if isinstance(reasoning, dict):
        if reasoning.get("summary") not in (None, "none"):
            raise _unsupported(dialect, "reasoning.summary", "chat completions return no reasoning summaries")
        if reasoning.get("effort") is not None:
            if not dialect.reasoning_effort:
                raise _unsupported(dialect, "reasoning.effort")
            out["reasoning_effort"] = reasoning["effort"]
    if body.get("user") is not None:
        if not dialect.user:
            raise _unsupported(dialect, "user")
        out["user"] = body["user"]
    if body.get("prompt_cache_key") is not None:
        if not dialect.prompt_cache_key:
            raise _unsupported(dialect, "prompt_cache_key")
        out["prompt_cache_key"] = body["prompt_cache_key"]
    if body.get("safety_identifier") is not None:
        if not dialect.openai_extras:
            raise _unsupported(dialect, "safety_identifier")
        out["safety_identifier"] = body["safety_identifier"]
    tier = body.get("service_tier")
    if tier is not None and tier not in ("auto", "default"):
        if not dialect.openai_extras:
            raise _unsupported(dialect, "service_tier")
        out["service_tier"] = tier

    for name, value in body.items():
        if name not in RESPONSES_FIELDS:
            out[dialect.seed_field if name == "seed" else name] = value
    if stream:
        out["stream"] = True
        if dialect.stream_usage:
            out["stream_options"] = {"include_usage": True}
    return out


def _reject_inexpressible(body: dict[str, Any], dialect: ChatDialect) -> None:
    if body.get("background"):
        raise _unsupported(dialect, "background", "chat completions run in the foreground only")
    if body.get("include"):
        raise _unsupported(dialect, "include")
    if body.get("conversation") is not None:
        raise _unsupported(dialect, "conversation", "use previous_response_id (kept in the local store)")
    if body.get("truncation") not in (None, "disabled"):
        raise _unsupported(dialect, "truncation", "only 'disabled' is possible")
    if body.get("max_tool_calls") is not None:
        raise _unsupported(dialect, "max_tool_calls")
    if body.get("prompt_cache_retention") is not None:
        raise _unsupported(dialect, "prompt_cache_retention")
    text = body.get("text")
    if isinstance(text, dict) and text.get("verbosity") is not None and not dialect.openai_extras:
        raise _unsupported(dialect, "text.verbosity")


def _tools(body: dict[str, Any], dialect: ChatDialect, out: dict[str, Any]) -> None:
    tools = body.get("tools") or []
    choice = body.get("tool_choice")
    if not dialect.tools:
        if tools:
            raise _unsupported(dialect, "tools", "this provider has no tool calling")
        if choice not in (None, "auto", "none"):
            raise _unsupported(dialect, "tool_choice", "this provider has no tool calling")
        if body.get("parallel_tool_calls") is not None:
            raise _unsupported(dialect, "parallel_tool_calls", "this provider has no tool calling")
        return
    chat_tools: dict[str, dict[str, Any]] = {}
    for index, tool in enumerate(tools):
        if not isinstance(tool, dict) or tool.get("type", "function") != "function":
            kind = tool.get("type") if isinstance(tool, dict) else type(tool).__name__
            raise _unsupported(dialect, f"tools[{index}]", f"only function tools exist there, not {kind!r}")
        function: dict[str, Any] = {"name": tool["name"]}
        if tool.get("description") is not None:
            function["description"] = tool["description"]
        function["parameters"] = tool.get("parameters") or {"type": "object", "properties": {}}
        if isinstance(tool.get("strict"), bool):
            function["strict"] = tool["strict"]
        chat_tools[tool["name"]] = {"type": "function", "function": function}
    sent = list(chat_tools.values())
    if isinstance(choice, str):
        if choice == "required":
            out["tool_choice"] = dialect.required_choice
        else:
            out["tool_choice"] = choice
    elif isinstance(choice, dict):
        kind = choice.get("type")
        if kind == "function":
            name = choice.get("name")
            if name not in chat_tools:
                raise UnsupportedParameterError(
                    f"tool_choice names function {name!r}, which is not among the tools", param="tool_choice"
                )
            out["tool_choice"] = {"type": "function", "function": {"name": name}}
        elif kind == "allowed_tools":
            names = []
            for allowed in choice.get("tools") or []:
                name = allowed.get("name") if isinstance(allowed, dict) else None
                if (
                    not isinstance(allowed, dict)
                    or allowed.get("type") != "function"
                    or name not in chat_tools
                ):
                    raise UnsupportedParameterError(
                        f"tool_choice.allowed_tools entry {allowed!r} names no function tool of this request",
                        param="tool_choice",
                    )
                names.append(name)
            sent = [chat_tools[name] for name in names]
            mode = choice.get("mode", "auto")
            out["tool_choice"] = dialect.required_choice if mode == "required" else mode
        else:
            raise _unsupported(dialect, "tool_choice", f"type {kind!r} has no chat counterpart")
    if sent:
        out["tools"] = sent
    if body.get("parallel_tool_calls") is not None and sent:
        out["parallel_tool_calls"] = body["parallel_tool_calls"]


def _text_format(text: Any, dialect: ChatDialect, out: dict[str, Any]) -> None:
    fmt = text.get("format") if isinstance(text, dict) else None
    if isinstance(text, dict) and text.get("verbosity") is not None:
        out["verbosity"] = text["verbosity"]
    if not isinstance(fmt, dict) or fmt.get("type", "text") == "text":
        return
    kind = fmt.get("type")
    if kind == "json_object":
        if not dialect.json_object:
            raise _unsupported(dialect, "text.format", "json_object mode is not offered; use json_schema")
        out["response_format"] = {"type": "json_object"}
    elif kind == "json_schema":
        schema = fmt.get("schema")
        if not isinstance(schema, dict):
            raise UnsupportedParameterError(
                "text.format json_schema needs a 'schema' object", param="text.format"
            )
        if dialect.json_schema == "llamacpp":
            out["response_format"] = {"type": "json_object", "schema": schema}
            return
        spec: dict[str, Any] = {"name": fmt.get("name") or "response", "schema": schema}
        if fmt.get("description") is not None:
            spec["description"] = fmt["description"]
        if isinstance(fmt.get("strict"), bool):
            spec["strict"] = fmt["strict"]
        out["response_format"] = {"type": "json_schema", "json_schema": spec}
    else:
        raise _unsupported(dialect, "text.format", f"format type {kind!r}")


def _messages(value: Any, dialect: ChatDialect) -> list[dict[str, Any]]:
    if value is None:
        return []
    if isinstance(value, str):
        return [{"role": "user", "content": value}]
    messages: list[dict[str, Any]] = []
    attachments: list[dict[str, Any]] = []  # tool-output images/files, sent after the tool messages

    def flush() -> None:
        if attachments:
            messages.append({"role": "user", "content": list(attachments)})
            attachments.clear()

    for index, item in enumerate(value):
        where = f"input[{index}]"
        kind = item.get("type") or ("message" if "role" in item else None)
        if kind == "message":
            flush()
            messages.append(_message(item, dialect, where))
        elif kind == "function_call":
            flush()
            call = {
                "id": item["call_id"],
                "type": "function",
                "function": {"name": item["name"], "arguments": item.get("arguments") or "{}"},
            }
            last = messages[-1] if messages else None
            if last is not None and last["role"] == "assistant":
                last.setdefault("tool_calls", []).append(call)
            else:
                content = None if dialect.null_content else ""
                messages.append({"role": "assistant", "content": content, "tool_calls": [call]})
        elif kind == "function_call_output":
            text, extra = _tool_output(item.get("output"), dialect, where)
            messages.append({"role": "tool", "tool_call_id": item["call_id"], "content": text})
            attachments.extend(extra)
        elif kind == "reasoning":
            continue  # see the module docstring: chat requests have no place for it
        else:
            raise _unsupported(dialect, f"{where}.type", f"input item type {kind!r}")
    flush()
    return messages


_ROLES = {"user": "user", "assistant": "assistant", "system": "system", "developer": "system"}


def _message(item: dict[str, Any], dialect: ChatDialect, where: str) -> dict[str, Any]:
    role = _ROLES.get(str(item.get("role")))
    if role is None:
        raise UnsupportedParameterError(
            f"{where}.role {item.get('role')!r} is not a chat role", param=f"{where}.role"
        )
    content = item.get("content")
    message: dict[str, Any] = {"role": role}
    if isinstance(content, str):
        message["content"] = content
        return message
    if not isinstance(content, list):
        raise UnsupportedParameterError(
            f"{where}.content must be a string or a list of parts", param=f"{where}.content"
        )
    parts: list[dict[str, Any]] = []
    refusal: list[str] = []
    for number, part in enumerate(content):
        place = f"{where}.content[{number}]"
        kind = part.get("type") if isinstance(part, dict) else None
        if kind in ("input_text", "output_text", "text", "summary_text", "reasoning_text"):
            parts.append({"type": "text", "text": part.get("text", "")})
        elif kind == "refusal" and role == "assistant":
            refusal.append(str(part.get("refusal", "")))
        elif kind == "input_image" and role == "user":
            parts.append(_image_part(part, dialect, place))
        elif kind == "input_file" and role == "user":
            parts.append(_file_part(part, dialect, place))
        else:
            raise _unsupported(
                dialect, f"{place}.type", f"content part {kind!r} in a {item.get('role')} message"
            )
    if refusal:
        message["refusal"] = "".join(refusal)
    if all(p["type"] == "text" for p in parts) and (
        role != "user" or dialect.text_only_strings or len(parts) == 1
    ):
        message["content"] = ("" if role == "assistant" else "\n").join(p["text"] for p in parts)
    else:
        message["content"] = parts
    return message


def _image_part(part: dict[str, Any], dialect: ChatDialect, place: str) -> dict[str, Any]:
    if not dialect.images:
        raise _unsupported(dialect, place, "this provider takes no image input")
    url = part.get("image_url")
    if isinstance(url, dict):  # the chat shape, passed by mistake: accept its url
        url = url.get("url")
    if not isinstance(url, str) or not url:
        if part.get("file_id"):
            raise _unsupported(dialect, f"{place}.file_id", "pass image_url (a URL or a data: URL) instead")
        raise UnsupportedParameterError(f"{place} has no image_url", param=place)
    image: dict[str, Any] = {"url": url}
    if part.get("detail") is not None:
        image["detail"] = part["detail"]
    return {"type": "image_url", "image_url": image}


def _file_part(part: dict[str, Any], dialect: ChatDialect, place: str) -> dict[str, Any]:
    data = part.get("file_data")
    filename = part.get("filename")
    if dialect.files == "openai":
        file: dict[str, Any] = {}
        if data:
            file["file_data"] = (
                data if str(data).startswith("data:") else f"data:{_mime(filename)};base64,{data}"
            )
        elif part.get("file_id"):
            file["file_id"] = part["file_id"]
        else:
            raise _unsupported(dialect, f"{place}.file_url", "chat 'file' parts take file_data or file_id")
        if filename:
            file["filename"] = filename
        return {"type": "file", "file": file}
    if dialect.files == "mistral":
        if data:
            url = data if str(data).startswith("data:") else f"data:{_mime(filename)};base64,{data}"
        elif part.get("file_url"):
            url = part["file_url"]
        else:
            raise _unsupported(dialect, f"{place}.file_id", "Mistral documents take file_data or file_url")
        document: dict[str, Any] = {"type": "document_url", "document_url": url}
        if filename:
            document["document_name"] = filename
        return document
    raise _unsupported(dialect, place, "this provider takes no file input")


def _mime(filename: Any) -> str:
    import mimetypes

    guessed = mimetypes.guess_type(str(filename or ""))[0]
    return guessed or "application/pdf"


def _tool_output(output: Any, dialect: ChatDialect, where: str) -> tuple[str, list[dict[str, Any]]]:
    """A function_call_output's output: tool messages carry text; images and files follow
    in a user message (chat tool messages cannot hold them)."""
    if output is None:
        return "", []
    if isinstance(output, str):
        return output, []
    if not isinstance(output, list):
        return json.dumps(output), []
    texts: list[str] = []
    extra: list[dict[str, Any]] = []
    for number, part in enumerate(output):
        place = f"{where}.output[{number}]"
        kind = part.get("type") if isinstance(part, dict) else None
        if kind in ("input_text", "output_text", "text"):
            texts.append(str(part.get("text", "")))
        elif kind == "input_image":
            extra.append(_image_part(part, dialect, place))
        elif kind == "input_file":
            extra.append(_file_part(part, dialect, place))
        else:
            raise _unsupported(dialect, f"{place}.type", f"tool output part {kind!r}")
    if extra and not texts:
        texts.append("(the tool's output follows in the next message)")
    return "\n".join(texts), extra


# -- response ----------------------------------------------------------------------------------


def chat_usage(usage: Any) -> dict[str, Any] | None:
    """The spec's Usage from a chat ``usage`` object (OpenAI, Mistral, DeepSeek, Groq shapes)."""
    if not isinstance(usage, dict):
        return None
    prompt_details = usage.get("prompt_tokens_details")
    completion_details = usage.get("completion_tokens_details")
    cached = prompt_details.get("cached_tokens") if isinstance(prompt_details, dict) else None
    if cached is None:
        cached = usage.get("num_cached_tokens", usage.get("prompt_cache_hit_tokens"))
    reasoning = completion_details.get("reasoning_tokens") if isinstance(completion_details, dict) else None
    return usage_dict(
        usage.get("prompt_tokens"),
        usage.get("completion_tokens"),
        cached_tokens=cached if isinstance(cached, int) else None,
        reasoning_tokens=reasoning if isinstance(reasoning, int) else None,
    )


def _usage_of(payload: dict[str, Any]) -> dict[str, Any] | None:
    usage = chat_usage(payload.get("usage"))
    if usage is None:
        groq = payload.get("x_groq")  # Groq puts stream usage here
        if isinstance(groq, dict):
            usage = chat_usage(groq.get("usage"))
    return usage


_COMPLETED = frozenset({"stop", "tool_calls", "function_call", "end_turn", "eos", "stop_sequence"})
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


def _feed_message(builder: ResponseStreamBuilder, message: dict[str, Any]) -> list[dict[str, Any]]:
    """One message (or stream delta) into the builder: reasoning, text, refusal, tool calls."""
    out: list[dict[str, Any]] = []
    reasoning = _reasoning_text(message)
    if reasoning:
        out += builder.reasoning(reasoning)
    content = message.get("content")
    if content:
        for kind, text in _content_chunks(content):
            out += builder.reasoning(text) if kind == "reasoning" else builder.text(text)
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
    usage = _usage_of(reply)
    if usage is not None:
        builder.set_usage(usage)
    choice = choices[0]
    message = choice.get("message")
    if isinstance(message, dict):
        _feed_message(builder, message)
    apply_finish(builder, choice.get("finish_reason"), provider)


# -- stream ------------------------------------------------------------------------------------


class ChatStreamTranslator(StreamTranslator):
    """``chat.completion.chunk`` events -> Responses events.

    The finish reason is remembered, not acted on at once: usage arrives in a later chunk
    (``stream_options.include_usage``) and some gateways repeat the finish chunk, so the
    response ends at ``[DONE]`` or when the stream closes.
    """

    def __init__(self, builder: ResponseStreamBuilder, provider: str) -> None:
        super().__init__(builder)
        self.provider = provider
        self.finish_reason: str | None = None
        self._model_set = False

    def feed(self, event: SSEEvent) -> list[dict[str, Any]]:
        data = event.data
        if data == DONE or data.strip() == DONE:
            return self._finish()
        if self.builder.finished:
            return []
        try:
            payload = json.loads(data)
        except ValueError:
            raise StreamError(
                f"{self.provider} sent a stream event that is not JSON: {data[:200]!r}",
                provider=self.provider,
            ) from None
        if not isinstance(payload, dict):
            raise StreamError(
                f"{self.provider} sent a stream event that is not an object", provider=self.provider
            )
        if event.event == "error" or ("error" in payload and not payload.get("choices")):
            raise error_from_chunk(payload, self.provider)
        if not self._model_set and isinstance(payload.get("model"), str):
            self.builder.set_model(payload["model"])
            self._model_set = True
        usage = _usage_of(payload)
        if usage is not None:
            self.builder.set_usage(usage)
        out: list[dict[str, Any]] = []
        choices = payload.get("choices")
        if isinstance(choices, list):
            for choice in choices:
                if not isinstance(choice, dict) or choice.get("index", 0) != 0:
                    continue
                delta = choice.get("delta")
                if isinstance(delta, dict):
                    out += _feed_message(self.builder, delta)
                reason = choice.get("finish_reason")
                if isinstance(reason, str) and reason:
                    self.finish_reason = reason
        return out

    def _finish(self) -> list[dict[str, Any]]:
        if self.builder.finished:
            return []
        return apply_finish(self.builder, self.finish_reason, self.provider)

    def end(self) -> list[dict[str, Any]]:
        if self.builder.finished:
            return []
        if self.finish_reason is None:
            raise StreamError(
                f"{self.provider}'s stream ended with neither a finish_reason nor [DONE]: it was cut short",
                provider=self.provider,
            )
        return self._finish()
