"""Responses <-> Google Gemini ``generateContent`` (``v1beta``, ``x-goog-api-key``).

Pure functions: a Responses request body in, a GenerateContentRequest out; a
GenerateContentResponse (whole, or one SSE chunk at a time from
``streamGenerateContent?alt=sse``) in, ``ResponseStreamBuilder`` calls out.
Wire format: https://ai.google.dev/api/generate-content (camelCase JSON).

Decisions (each one visible to callers, so written down here):

Request
* ``instructions`` and every ``system``/``developer`` message -> ``systemInstruction``
  (text parts, in input order); a system message in mid-conversation loses its position.
* ``user`` messages and ``function_call_output`` items -> ``user`` contents; assistant
  messages, ``function_call`` items and Gemini reasoning items -> ``model`` contents.
  Consecutive items of one role form one content (parallel calls share one turn, and so do
  their responses, as Gemini expects).
* Parts: text; data URLs (``input_image.image_url``, ``input_file.file_data``,
  ``input_video.video_url``) -> ``inlineData {mimeType, data}``; ``file_data`` given as bare
  base64 takes its type from ``filename``; http(s)/gs URLs -> ``fileData {fileUri[,
  mimeType]}`` (type guessed from the extension). ``detail`` is a hint Gemini has no
  per-part field for in v1beta and is ignored.
* ``function_call`` -> ``functionCall {name, args[, id]}``; ``function_call_output`` ->
  ``functionResponse {name, response[, id]}``. The name is looked up from the
  ``function_call`` item with the same ``call_id`` in the input (previous_response_id
  context included); without one: InvalidRequestError naming the call_id. An output that is
  a JSON object is the ``response``; anything else is wrapped as ``{"output": ...}``, the key
  Gemini documents for function output. Non-text output parts: UnsupportedParameterError.
* Call ids: Gemini's newer models give ``functionCall.id``; it becomes the ``call_id`` and is
  sent back on both parts. Older models give none: the bridge makes ``call_<32 hex>`` and
  never sends those to Gemini (it matches such calls by order, as documented).
* Thought signatures (https://ai.google.dev/gemini-api/docs/thought-signatures): the
  Responses items have no field for them except a reasoning item's ``encrypted_content``
  (``call_id`` is limited to 64 characters by the spec, too short for a signature), so a
  signature becomes a reasoning item whose ``encrypted_content`` says where it belongs:
  ``gemini:next:<sig>`` on the part of the next item (a ``functionCall``, or the part after
  a thought), ``gemini:prev:<sig>`` on the last text part of the assistant message before
  it, ``gemini:part:<sig>`` on an empty text part of its own. Sent back, each signature goes
  exactly there, so Gemini 3's validation of function-call signatures passes. Thought text
  is not sent back (Gemini keeps its reasoning state in the signatures); reasoning items
  without a Gemini signature (text only, or another provider's) carry nothing Gemini can use
  and are skipped.
* tools -> ``[{functionDeclarations: [{name, description, parametersJsonSchema}]}]``:
  ``parametersJsonSchema`` takes full JSON Schema (``$defs``, ``$ref``, ``anyOf``,
  ``additionalProperties``), so nothing is converted to the OpenAPI subset of
  ``parameters`` and nothing is lost. Only function tools.
* tool_choice -> ``toolConfig.functionCallingConfig``: auto -> ``AUTO`` (``VALIDATED`` when
  every tool is ``strict``: schema adherence is what strict asks for), none -> ``NONE``,
  required -> ``ANY``, ``{type: function, name}`` -> ``ANY`` + ``allowedFunctionNames``;
  ``allowed_tools`` keeps every tool visible (as the spec requires) and sets
  ``allowedFunctionNames`` with ``ANY`` (required) or ``VALIDATED`` (auto: calls or text,
  restricted names; Gemini takes the names only with those two modes). The reply is
  checked too: a call outside the allowed set is a model error (ProviderError,
  ``tool_not_allowed``). ``parallel_tool_calls=False`` with tools: Gemini cannot switch
  parallel calls off: UnsupportedParameterError.
* ``generationConfig``: ``maxOutputTokens``, ``temperature``, ``topP``, ``presencePenalty``,
  ``frequencyPenalty``; ``text.format`` json_schema -> ``responseMimeType:
  application/json`` + ``responseJsonSchema`` (full JSON Schema again), json_object ->
  ``responseMimeType: application/json``.
* ``reasoning.effort`` -> ``thinkingConfig``: Gemini 3 models (name ``gemini-3…``) take
  ``thinkingLevel`` (minimal/low/medium/high; ``none`` and ``xhigh`` have no level there:
  UnsupportedParameterError); older models take ``thinkingBudget`` (:data:`EFFORT_BUDGETS`,
  ``none`` -> 0). The docs forbid sending both. ``reasoning.summary`` (any value) ->
  ``includeThoughts: true``: Gemini's thoughts are summaries, returned only when asked.
* Not expressible: ``top_logprobs`` > 0 (the builder returns no log probabilities),
  ``background``, ``conversation``, ``truncation="auto"``, ``max_tool_calls``,
  ``prompt_cache_key``/``prompt_cache_retention``, ``user``/``safety_identifier``, service
  tiers other than auto/default, any ``include`` entry, ``text.verbosity`` other than
  medium, non-function tools: UnsupportedParameterError naming the parameter.
  ``metadata`` is the caller's annotation: echoed in the response, not sent (Gemini has no
  such field). ``stream_options`` is ignored (Gemini always streams usage).
* Unknown keys (``**kwargs`` of ``responses()``) pass through into the request body and win
  over translated keys (``safetySettings``, ``cachedContent``, ...); a passed
  ``generationConfig`` or ``toolConfig`` is merged key by key over the translated one.

Response
* ``candidates[0].content.parts``: text -> message ``output_text``; ``thought: true`` ->
  reasoning; ``functionCall`` -> ``function_call`` (``arguments`` = ``json.dumps(args)``;
  calls arrive whole, so each is opened and closed at once). Other part kinds (code
  execution, inline images) cannot be Responses output: ProviderError naming the kind.
  Other candidates are ignored (the Responses API has one output).
* ``finishReason``: STOP -> completed; MAX_TOKENS -> incomplete (``max_output_tokens``);
  SAFETY, RECITATION, BLOCKLIST, PROHIBITED_CONTENT, SPII and the IMAGE_* filters ->
  incomplete (``content_filter``), keeping what was written; anything else
  (MALFORMED_FUNCTION_CALL, LANGUAGE, OTHER, ...) -> ProviderError with the reason as code.
* A blocked prompt (``promptFeedback.blockReason``, no candidates) -> ContentFilterError:
  nothing was generated, so there is no response to call incomplete.
* Usage: ``input_tokens`` = promptTokenCount + toolUsePromptTokenCount, ``output_tokens`` =
  candidatesTokenCount + thoughtsTokenCount (Responses counts reasoning inside output),
  ``cached_tokens`` = cachedContentTokenCount, ``reasoning_tokens`` = thoughtsTokenCount.
* Streaming: every SSE ``data`` is a whole GenerateContentResponse with new parts; the
  ending (its ``finishReason``) is applied when the stream closes, so usage sent with or
  after the last chunk is kept. A stream that closes without a ``finishReason`` was cut
  short (StreamError); an ``{"error": {...}}`` chunk becomes ``error_from_http`` with the
  error's ``code`` as the status.
"""

from __future__ import annotations

import base64
import binascii
import json
import mimetypes
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote, urlsplit

from anyllm.errors import (
    AnyLLMError,
    ContentFilterError,
    InvalidRequestError,
    ProviderError,
    StreamError,
    UnsupportedParameterError,
    error_from_http,
)
from anyllm.providers.translated import StreamTranslator, input_items
from anyllm.streaming import SSEEvent
from anyllm.translate.common import new_id, usage_dict
from anyllm.translate.stream import ResponseStreamBuilder

__all__ = [
    "EFFORT_BUDGETS",
    "SIGNATURE_PREFIX",
    "GeminiStreamTranslator",
    "model_path",
    "translate_request",
    "translate_response",
]

PROVIDER = "gemini"
SIGNATURE_PREFIX = "gemini:"
EFFORT_BUDGETS: dict[str, int] = {
    "none": 0,
    "minimal": 512,
    "low": 1024,
    "medium": 8192,
    "high": 24576,
    "xhigh": 32768,
}
_THINKING_LEVELS = frozenset({"minimal", "low", "medium", "high"})

# Responses request fields this module translates (or leaves to the base class on purpose).
_RESPONSES_FIELDS = frozenset(
    {
        "model", "input", "instructions", "tools", "tool_choice", "parallel_tool_calls",
        "max_output_tokens", "temperature", "top_p", "presence_penalty", "frequency_penalty",
        "reasoning", "text", "metadata", "user", "safety_identifier", "stream", "stream_options",
        "store", "previous_response_id", "include", "background", "conversation", "truncation",
        "max_tool_calls", "prompt_cache_key", "prompt_cache_retention", "service_tier", "top_logprobs",
    }
)  # fmt: skip
_MERGED_KEYS = ("generationConfig", "toolConfig")

_FILTERED = frozenset(
    {
        "SAFETY", "RECITATION", "BLOCKLIST", "PROHIBITED_CONTENT", "SPII",
        "IMAGE_SAFETY", "IMAGE_PROHIBITED_CONTENT", "IMAGE_RECITATION",
    }
)  # fmt: skip
_GENERATED_CALL_ID = re.compile(r"^call_[0-9a-f]{32}$")
_DATA_URL = re.compile(r"^data:(?P<mime>[^;,]+)?(?P<params>(?:;[^;,]*)*),(?P<data>.*)$", re.DOTALL)


# ============================================================================ request


def _unsupported(param: str, why: str) -> UnsupportedParameterError:
    return UnsupportedParameterError(f"gemini cannot express {param}: {why}", provider=PROVIDER, param=param)


def _invalid(param: str, why: str) -> InvalidRequestError:
    return InvalidRequestError(f"{param}: {why}", provider=PROVIDER, param=param)


def model_path(model: str, *, stream: bool) -> str:
    """``models/{model}:generateContent`` (or the SSE streaming method) for a model name.

    ``models/x`` and ``tunedModels/x`` are accepted as they are. ``alt=sse`` sits in the path
    because the transport's query parameters are per client, not per call.
    """
    name = model.strip()
    if "/" not in name:
        name = f"models/{name}"
    method = "streamGenerateContent?alt=sse" if stream else "generateContent"
    return f"{quote(name, safe='/-._~')}:{method}"


def translate_request(body: Mapping[str, Any], *, stream: bool = False) -> dict[str, Any]:
    """A Responses request body -> a GenerateContentRequest; raises before any network call.

    ``stream`` changes nothing in the body (streaming is chosen by the method in the path)
    and is accepted for symmetry with the other bridges.
    """
    _check_unsupported(body)
    system, contents = _contents(body)
    request: dict[str, Any] = {"contents": contents}
    if system:
        request["systemInstruction"] = {"parts": system}
    tools, tool_config = _tools(body)
    if tools:
        request["tools"] = tools
    if tool_config:
        request["toolConfig"] = tool_config
    config = _generation_config(body)
    if config:
        request["generationConfig"] = config
    for key, value in body.items():
        if key in _RESPONSES_FIELDS:
            continue
        if key in _MERGED_KEYS and isinstance(value, Mapping) and isinstance(request.get(key), dict):
            request[key] = {**request[key], **value}
        else:
            request[key] = value
    return request


def _check_unsupported(body: Mapping[str, Any]) -> None:
    if body.get("top_logprobs"):
        raise _unsupported("top_logprobs", "this bridge returns no log probabilities")
    if body.get("background"):
        raise _unsupported("background", "generateContent has no background mode")
    if body.get("conversation") is not None:
        raise _unsupported("conversation", "generateContent keeps no server-side conversations")
    if body.get("truncation") == "auto":
        raise _unsupported("truncation", "generateContent does not truncate context ('auto')")
    if body.get("max_tool_calls") is not None:
        raise _unsupported("max_tool_calls", "generateContent cannot limit the number of tool calls")
    for name in ("prompt_cache_key", "prompt_cache_retention"):
        if body.get(name) is not None:
            raise _unsupported(name, "Gemini caches implicitly or by cachedContent, not by key or retention")
    for name in ("user", "safety_identifier"):
        if body.get(name) is not None:
            raise _unsupported(name, "generateContent has no end-user identifier")
    tier = body.get("service_tier")
    if tier is not None and tier not in ("auto", "default"):
        raise _unsupported("service_tier", f"{tier!r} (only 'auto' and 'default')")
    include = body.get("include") or []
    if include:
        raise _unsupported("include", f"{list(include)} (no extra output fields are available)")
    text = body.get("text")
    if isinstance(text, Mapping) and text.get("verbosity") not in (None, "medium"):
        raise _unsupported("text.verbosity", f"{text.get('verbosity')!r} (Gemini has no verbosity control)")
    if body.get("parallel_tool_calls") is False and body.get("tools"):
        raise _unsupported("parallel_tool_calls", "False (Gemini cannot switch parallel function calls off)")


# -- contents ---------------------------------------------------------------------------------


class _Contents:
    """Builds ``contents``: one content per run of same-role items, signatures placed."""

    def __init__(self) -> None:
        self.contents: list[dict[str, Any]] = []
        self.pending_signature: str | None = None  # a ``gemini:next:`` signature waiting for its part

    def _parts(self, role: str) -> list[dict[str, Any]]:
        if role != "model":
            self.flush_signature()
        if not self.contents or self.contents[-1]["role"] != role:
            self.contents.append({"role": role, "parts": []})
        parts: list[dict[str, Any]] = self.contents[-1]["parts"]
        return parts

    def user(self, part: dict[str, Any]) -> None:
        self._parts("user").append(part)

    def model(self, part: dict[str, Any]) -> None:
        if self.pending_signature is not None:
            part["thoughtSignature"] = self.pending_signature
            self.pending_signature = None
        self._parts("model").append(part)

    def flush_signature(self) -> None:
        """A ``next`` signature with no model part after it keeps an empty part of its own."""
        if self.pending_signature is None:
            return
        signature, self.pending_signature = self.pending_signature, None
        if not self.contents or self.contents[-1]["role"] != "model":
            self.contents.append({"role": "model", "parts": []})
        self.contents[-1]["parts"].append({"text": "", "thoughtSignature": signature})

    def signature(self, encrypted: str) -> None:
        """Place one signature from a reasoning item's ``encrypted_content``."""
        where, _, signature = encrypted[len(SIGNATURE_PREFIX) :].partition(":")
        if not signature:
            return
        if where == "next":
            if self.pending_signature is not None:
                self.model({"text": ""})  # two signatures in a row: the first one keeps its own part
            self.pending_signature = signature
            return
        last = self.contents[-1] if self.contents and self.contents[-1]["role"] == "model" else None
        if (
            where == "prev"
            and last
            and "text" in last["parts"][-1]
            and "thoughtSignature" not in last["parts"][-1]
        ):
            last["parts"][-1]["thoughtSignature"] = signature
            return
        if self.pending_signature is not None:
            self.model({"text": ""})
        self._parts("model").append({"text": "", "thoughtSignature": signature})


def _contents(body: Mapping[str, Any]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    items = input_items(body.get("input"))
    system: list[dict[str, Any]] = []
    instructions = body.get("instructions")
    if instructions:
        system.append({"text": str(instructions)})
    names = {
        str(item.get("call_id")): str(item.get("name"))
        for item in items
        if isinstance(item, Mapping) and item.get("type") == "function_call"
    }
    out = _Contents()
    for index, item in enumerate(items):
        where = f"input[{index}]"
        if not isinstance(item, Mapping):
            raise _invalid(where, f"expected an item dict, got {type(item).__name__}")
        kind = item.get("type", "message" if "role" in item else None)
        if kind == "message":
            _message(item, where, system, out)
        elif kind == "function_call":
            out.model({"functionCall": _function_call(item, where)})
        elif kind == "function_call_output":
            out.user({"functionResponse": _function_response(item, where, names)})
        elif kind == "reasoning":
            encrypted = item.get("encrypted_content")
            if isinstance(encrypted, str) and encrypted.startswith(SIGNATURE_PREFIX):
                out.signature(encrypted)
        else:
            raise _unsupported(f"{where}.type", f"{kind!r} items have no generateContent counterpart")
    out.flush_signature()
    if not out.contents:
        raise _invalid("input", "no user or assistant content to send (Gemini needs at least one turn)")
    return system, out.contents


def _message(item: Mapping[str, Any], where: str, system: list[dict[str, Any]], out: _Contents) -> None:
    role = item.get("role")
    content = item.get("content")
    raw_parts: list[Any] = (
        [{"type": "input_text", "text": content}] if isinstance(content, str) else content or []
    )
    if not isinstance(raw_parts, list):
        raise _invalid(f"{where}.content", "must be a string or a list of content parts")
    if role in ("system", "developer"):
        for number, part in enumerate(raw_parts):
            converted = _part(part, f"{where}.content[{number}]")
            if "text" not in converted:
                raise _unsupported(f"{where}.content[{number}]", "a system instruction holds text only")
            system.append(converted)
        return
    if role not in ("user", "assistant"):
        raise _invalid(f"{where}.role", f"{role!r} is not user, assistant, system or developer")
    for number, part in enumerate(raw_parts):
        converted = _part(part, f"{where}.content[{number}]")
        if role == "assistant":
            out.model(converted)
        else:
            out.user(converted)


def _part(part: Any, where: str) -> dict[str, Any]:
    if isinstance(part, str):
        return {"text": part}
    if not isinstance(part, Mapping):
        raise _invalid(where, f"expected a content part dict, got {type(part).__name__}")
    kind = part.get("type")
    if kind in ("input_text", "output_text", "text"):
        return {"text": str(part.get("text", ""))}
    if kind == "refusal":
        return {"text": str(part.get("refusal", ""))}
    if kind == "input_image":
        if part.get("file_id"):
            raise _unsupported(f"{where}.file_id", "Gemini cannot resolve OpenAI file ids; send image_url")
        return _media(part.get("image_url"), None, f"{where}.image_url")
    if kind == "input_file":
        if part.get("file_id"):
            raise _unsupported(
                f"{where}.file_id", "Gemini cannot resolve OpenAI file ids; send file_data or file_url"
            )
        filename = part.get("filename")
        if part.get("file_data"):
            return _media(part["file_data"], filename, f"{where}.file_data")
        return _media(part.get("file_url"), filename, f"{where}.file_url")
    if kind == "input_video":
        return _media(part.get("video_url"), None, f"{where}.video_url")
    raise _unsupported(f"{where}.type", f"content part type {kind!r}")


def _guess_type(name: str | None) -> str | None:
    if not name:
        return None
    return mimetypes.guess_type(urlsplit(name).path or name)[0]


def _media(value: Any, filename: Any, where: str) -> dict[str, Any]:
    """A data URL or bare base64 -> ``inlineData``; an http(s)/gs URL -> ``fileData``."""
    if not isinstance(value, str) or not value:
        raise _invalid(where, "is missing")
    match = _DATA_URL.match(value)
    if match:
        mime = match.group("mime") or _guess_type(filename if isinstance(filename, str) else None)
        if not mime:
            raise _invalid(where, "data URL without a media type")
        data = match.group("data")
        if ";base64" not in (match.group("params") or ""):
            data = base64.b64encode(data.encode("utf-8")).decode("ascii")
        return {"inlineData": {"mimeType": mime, "data": data}}
    scheme = urlsplit(value).scheme.lower()
    if scheme in ("http", "https", "gs"):
        file_data = {"fileUri": value}
        mime = _guess_type(filename if isinstance(filename, str) else None) or _guess_type(value)
        if mime:
            file_data = {"mimeType": mime, "fileUri": value}
        return {"fileData": file_data}
    # Bare base64 (Responses file_data may be that, with a filename giving the type).
    mime = _guess_type(filename if isinstance(filename, str) else None)
    try:
        base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise _invalid(where, "is neither a data URL, an http(s)/gs URL nor base64 data") from None
    if not mime:
        raise _invalid(where, "base64 data needs a filename with a known extension (or send a data URL)")
    return {"inlineData": {"mimeType": mime, "data": value}}


def _call_id(item: Mapping[str, Any], where: str) -> str:
    call_id = item.get("call_id")
    if not isinstance(call_id, str) or not call_id:
        raise _invalid(f"{where}.call_id", "is missing")
    return call_id


def _function_call(item: Mapping[str, Any], where: str) -> dict[str, Any]:
    call_id = _call_id(item, where)
    name = item.get("name")
    if not isinstance(name, str) or not name:
        raise _invalid(f"{where}.name", "is missing")
    raw = item.get("arguments") or "{}"
    try:
        args = json.loads(raw) if isinstance(raw, str) else raw
    except ValueError:
        raise _invalid(f"{where}.arguments", f"is not JSON: {str(raw)[:80]!r}") from None
    if not isinstance(args, Mapping):
        raise _invalid(f"{where}.arguments", "must be a JSON object (Gemini's args is an object)")
    call: dict[str, Any] = {"name": name, "args": dict(args)}
    if not _GENERATED_CALL_ID.match(call_id):
        call["id"] = call_id
    return call


def _function_response(item: Mapping[str, Any], where: str, names: Mapping[str, str]) -> dict[str, Any]:
    call_id = _call_id(item, where)
    name = names.get(call_id)
    if name is None:
        raise _invalid(
            f"{where}.call_id",
            f"no function_call item with call_id {call_id!r} in the input: Gemini's functionResponse "
            "needs the function's name (send the function_call item too, or use previous_response_id)",
        )
    output = item.get("output", "")
    if isinstance(output, list):
        texts = []
        for number, part in enumerate(output):
            if not isinstance(part, Mapping) or part.get("type") not in ("input_text", "output_text"):
                kind = part.get("type") if isinstance(part, Mapping) else type(part).__name__
                raise _unsupported(
                    f"{where}.output[{number}]", f"{kind!r} parts in a function output (text only)"
                )
            texts.append(str(part.get("text", "")))
        output = "".join(texts)
    response: Any = output
    if isinstance(output, str):
        try:
            response = json.loads(output)
        except ValueError:
            response = output
    if not isinstance(response, Mapping):
        response = {"output": output}
    result: dict[str, Any] = {"name": name, "response": dict(response)}
    if not _GENERATED_CALL_ID.match(call_id):
        result["id"] = call_id
    return result


# -- tools ------------------------------------------------------------------------------------


def _tools(body: Mapping[str, Any]) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    tools = body.get("tools") or []
    declarations: list[dict[str, Any]] = []
    for index, tool in enumerate(tools):
        if not isinstance(tool, Mapping) or tool.get("type") != "function":
            kind = tool.get("type") if isinstance(tool, Mapping) else type(tool).__name__
            raise _unsupported(f"tools[{index}]", f"tool type {kind!r} (only function tools)")
        declaration: dict[str, Any] = {"name": tool["name"]}
        if tool.get("description"):
            declaration["description"] = tool["description"]
        if tool.get("parameters") is not None:
            declaration["parametersJsonSchema"] = tool["parameters"]
        declarations.append(declaration)
    if not declarations:
        return [], {}
    all_strict = all(tool.get("strict") is True for tool in tools)
    config = _calling_config(body.get("tool_choice", "auto"), {d["name"] for d in declarations}, all_strict)
    return [{"functionDeclarations": declarations}], {"functionCallingConfig": config}


def _calling_config(choice: Any, names: set[str], all_strict: bool) -> dict[str, Any]:
    auto = "VALIDATED" if all_strict else "AUTO"
    if choice is None or choice == "auto":
        return {"mode": auto}
    if choice == "none":
        return {"mode": "NONE"}
    if choice == "required":
        return {"mode": "ANY"}
    if isinstance(choice, Mapping) and choice.get("type") == "function":
        name = choice.get("name")
        if name not in names:
            raise _invalid("tool_choice.name", f"{name!r} is not one of the tools ({sorted(names)})")
        return {"mode": "ANY", "allowedFunctionNames": [name]}
    if isinstance(choice, Mapping) and choice.get("type") == "allowed_tools":
        allowed = _allowed_names(choice)
        unknown = sorted(set(allowed) - names)
        if unknown:
            raise _invalid("tool_choice.tools", f"{unknown} are not among the tools ({sorted(names)})")
        mode = choice.get("mode", "auto")
        if mode not in ("auto", "required"):
            raise _invalid("tool_choice.mode", f"{mode!r} is not 'auto' or 'required'")
        return {"mode": "ANY" if mode == "required" else "VALIDATED", "allowedFunctionNames": allowed}
    kind = choice.get("type") if isinstance(choice, Mapping) else choice
    raise _unsupported("tool_choice", f"{kind!r} (only auto, none, required, function and allowed_tools)")


def _allowed_names(choice: Mapping[str, Any]) -> list[str]:
    names: list[str] = []
    for index, tool in enumerate(choice.get("tools") or []):
        if not isinstance(tool, Mapping) or tool.get("type") != "function" or not tool.get("name"):
            raise _unsupported(f"tool_choice.tools[{index}]", "only {type: function, name} entries")
        names.append(str(tool["name"]))
    if not names:
        raise _invalid("tool_choice.tools", "allowed_tools needs at least one tool")
    return names


def allowed_tool_names(tool_choice: Any) -> set[str] | None:
    """The names a reply may call under ``tool_choice`` (None: any tool)."""
    if isinstance(tool_choice, Mapping):
        if tool_choice.get("type") == "allowed_tools":
            return {str(t.get("name")) for t in tool_choice.get("tools") or [] if isinstance(t, Mapping)}
        if tool_choice.get("type") == "function":
            return {str(tool_choice.get("name"))}
    return None


# -- generation config ------------------------------------------------------------------------


def _generation_config(body: Mapping[str, Any]) -> dict[str, Any]:
    config: dict[str, Any] = {}
    for source, target in (
        ("max_output_tokens", "maxOutputTokens"),
        ("temperature", "temperature"),
        ("top_p", "topP"),
        ("presence_penalty", "presencePenalty"),
        ("frequency_penalty", "frequencyPenalty"),
    ):
        if body.get(source) is not None:
            config[target] = body[source]
    text = body.get("text")
    fmt = text.get("format") if isinstance(text, Mapping) else None
    if isinstance(fmt, Mapping):
        kind = fmt.get("type")
        if kind == "json_schema":
            schema = fmt.get("schema")
            if not isinstance(schema, Mapping):
                raise _invalid("text.format.schema", "json_schema needs a schema object")
            schema = dict(schema)
            if fmt.get("description") and "description" not in schema:
                schema["description"] = fmt["description"]
            config["responseMimeType"] = "application/json"
            config["responseJsonSchema"] = schema
        elif kind == "json_object":
            config["responseMimeType"] = "application/json"
        elif kind not in (None, "text"):
            raise _unsupported("text.format.type", f"{kind!r}")
    thinking = _thinking(body)
    if thinking:
        config["thinkingConfig"] = thinking
    return config


def _thinking(body: Mapping[str, Any]) -> dict[str, Any]:
    reasoning = body.get("reasoning")
    if not isinstance(reasoning, Mapping):
        return {}
    thinking: dict[str, Any] = {}
    effort = reasoning.get("effort")
    if effort is not None:
        if effort not in EFFORT_BUDGETS:
            raise _invalid("reasoning.effort", f"{effort!r} is not one of {sorted(EFFORT_BUDGETS)}")
        model = str(body.get("model", "")).rsplit("/", 1)[-1].lower()
        if model.startswith("gemini-3"):
            if effort not in _THINKING_LEVELS:
                raise _unsupported(
                    "reasoning.effort",
                    f"{effort!r} on {model} (Gemini 3 thinking levels: minimal, low, medium, high)",
                )
            thinking["thinkingLevel"] = effort
        else:
            thinking["thinkingBudget"] = EFFORT_BUDGETS[effort]
    if reasoning.get("summary") is not None and effort != "none":
        thinking["includeThoughts"] = True
    return thinking


# ============================================================================ response


def _signature_item(builder: ResponseStreamBuilder, where: str, signature: str) -> list[dict[str, Any]]:
    """A reasoning item holding ``gemini:<where>:<signature>``, closed at once: an open
    reasoning item (the thought just streamed) takes it; otherwise a new, empty one."""
    out = builder.encrypted_reasoning(f"{SIGNATURE_PREFIX}{where}:{signature}")
    return out + builder.end_items()


def _usage(meta: Any) -> dict[str, Any] | None:
    if not isinstance(meta, Mapping):
        return None
    keys = ("promptTokenCount", "candidatesTokenCount", "thoughtsTokenCount", "totalTokenCount")
    if not any(key in meta for key in keys):
        return None

    def count(key: str) -> int:
        value = meta.get(key)
        return int(value) if isinstance(value, int | float) else 0

    thoughts = count("thoughtsTokenCount")
    return usage_dict(
        count("promptTokenCount") + count("toolUsePromptTokenCount"),
        count("candidatesTokenCount") + thoughts,
        cached_tokens=count("cachedContentTokenCount"),
        reasoning_tokens=thoughts,
    )


def _error(payload: Mapping[str, Any]) -> AnyLLMError:
    """An ``{"error": {code, message, status}}`` body (a stream chunk or a 200 reply)."""
    inner = payload.get("error")
    code = inner.get("code") if isinstance(inner, Mapping) else None
    status = code if isinstance(code, int) and 400 <= code < 600 else 500
    return error_from_http(status, json.dumps(payload), {}, provider=PROVIDER)


class _Reader:
    """Turns GenerateContentResponse chunks into builder calls; shared by both call kinds."""

    def __init__(self, builder: ResponseStreamBuilder) -> None:
        self.builder = builder
        self.allowed = allowed_tool_names(builder.response.get("tool_choice"))
        self.calls = 0
        self.in_text = False  # the last thing written was message text
        self.text_signature: str | None = None  # belongs to the message being written
        self.finish_reason: str | None = None
        self.finish_message = ""

    def feed(self, chunk: Any) -> list[dict[str, Any]]:
        if not isinstance(chunk, Mapping):
            raise ProviderError(
                f"gemini sent {type(chunk).__name__}, not a GenerateContentResponse", provider=PROVIDER
            )
        if "error" in chunk:
            raise _error(chunk)
        if chunk.get("modelVersion"):
            self.builder.set_model(str(chunk["modelVersion"]))
        usage = _usage(chunk.get("usageMetadata"))
        if usage is not None:
            self.builder.set_usage(usage)
        candidates = chunk.get("candidates") or []
        if not candidates:
            feedback = chunk.get("promptFeedback")
            reason = feedback.get("blockReason") if isinstance(feedback, Mapping) else None
            if reason:
                raise ContentFilterError(
                    f"gemini blocked the prompt (blockReason {reason})",
                    provider=PROVIDER,
                    code=str(reason),
                    body=dict(chunk),
                )
            return []
        candidate = candidates[0]
        content = candidate.get("content") if isinstance(candidate, Mapping) else None
        parts = content.get("parts") if isinstance(content, Mapping) else None
        out: list[dict[str, Any]] = []
        for part in parts or []:
            if isinstance(part, Mapping):
                out += self._part(part)
        if isinstance(candidate, Mapping) and candidate.get("finishReason"):
            self.finish_reason = str(candidate["finishReason"])
            self.finish_message = str(candidate.get("finishMessage") or "")
        return out

    def _flush_text_signature(self) -> list[dict[str, Any]]:
        self.in_text = False
        signature, self.text_signature = self.text_signature, None
        return _signature_item(self.builder, "prev", signature) if signature else []

    def _part(self, part: Mapping[str, Any]) -> list[dict[str, Any]]:
        builder = self.builder
        signature = part.get("thoughtSignature")
        signature = signature if isinstance(signature, str) and signature else None
        if "functionCall" in part:
            out = self._flush_text_signature()
            if signature:
                out += _signature_item(builder, "next", signature)
            call = part["functionCall"] if isinstance(part["functionCall"], Mapping) else {}
            name = str(call.get("name") or "")
            if self.allowed is not None and name not in self.allowed:
                raise ProviderError(
                    f"the model called tool {name!r}, which tool_choice does not permit "
                    f"({sorted(self.allowed)}); the call was rejected",
                    provider=PROVIDER,
                    code="tool_not_allowed",
                )
            key = self.calls
            self.calls += 1
            call_id = call.get("id")
            out += builder.tool_call(
                key,
                call_id=str(call_id) if call_id else new_id("call"),
                name=name,
                arguments=json.dumps(call.get("args") or {}, ensure_ascii=False),
            )
            out += builder.end_tool_call(key)
            return out
        if "text" in part or part.get("thought"):
            text = str(part.get("text") or "")
            if part.get("thought"):
                out = self._flush_text_signature()
                out += builder.reasoning(text)
                if signature:
                    out += _signature_item(builder, "next", signature)
                return out
            out = []
            if text:
                if self.text_signature is not None:
                    out += self._flush_text_signature()
                out += builder.text(text)
                self.in_text = True
            if signature:
                if self.in_text:
                    if self.text_signature is not None:
                        out += self._flush_text_signature()
                    self.text_signature = signature
                else:
                    out += _signature_item(builder, "part", signature)
            return out
        kinds = sorted(k for k in part if k not in ("thought", "thoughtSignature", "partMetadata"))
        raise ProviderError(
            f"gemini returned a part of kind {kinds} that Responses output cannot hold", provider=PROVIDER
        )

    def finish(self) -> list[dict[str, Any]]:
        out = self._flush_text_signature()
        reason = self.finish_reason
        if reason is None:
            raise StreamError("gemini's stream ended without a finishReason (cut short)", provider=PROVIDER)
        if reason == "STOP":
            return out + self.builder.complete()
        if reason == "MAX_TOKENS":
            return out + self.builder.incomplete("max_output_tokens")
        if reason in _FILTERED:
            return out + self.builder.incomplete("content_filter")
        detail = f": {self.finish_message}" if self.finish_message else ""
        raise ProviderError(
            f"gemini stopped with finishReason {reason}{detail}", provider=PROVIDER, code=reason
        )


def translate_response(reply: Any, builder: ResponseStreamBuilder) -> list[dict[str, Any]]:
    """Feed a whole GenerateContentResponse to ``builder`` and finish it; returns the events
    (unused for non-streaming calls, handy for tests)."""
    reader = _Reader(builder)
    out = reader.feed(reply)
    if reader.finish_reason is None:
        raise ProviderError(
            f"gemini answered without a finishReason: {json.dumps(reply)[:200]}", provider=PROVIDER
        )
    return out + reader.finish()


class GeminiStreamTranslator(StreamTranslator):
    """``streamGenerateContent?alt=sse`` chunks -> Responses events."""

    def __init__(self, builder: ResponseStreamBuilder) -> None:
        super().__init__(builder)
        self._reader = _Reader(builder)

    def feed(self, event: SSEEvent) -> list[dict[str, Any]]:
        data = event.data.strip()
        if not data:
            return []
        try:
            chunk = json.loads(data)
        except ValueError:
            raise StreamError(
                f"gemini sent a stream event that is not JSON: {data[:120]!r}", provider=PROVIDER
            ) from None
        return self._reader.feed(chunk)

    def end(self) -> list[dict[str, Any]]:
        if self.builder.finished:
            return []
        return self._reader.finish()
