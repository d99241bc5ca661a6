"""Responses request -> Gemini GenerateContentRequest (top-level fields, tools, generation config).

The input items become ``contents`` in :mod:`anyllm.translate.gemini.contents`.
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
* Extension items: ``gemini:<kind>`` items (code execution, inline data, ... see
  :mod:`anyllm.translate.gemini.hosted`) go back into the model turn as the parts they
  carry; ``gemini:grounding_metadata``/``gemini:url_context_metadata`` describe an answer
  and are not sent; other implementations' extension items (``anthropic:*``) are skipped:
  the spec says such items are "specific to that implementation and not assumed to be
  portable".
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
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from anyllm.spec import REQUEST_FIELDS
from anyllm.translate.base import check_unsupported, passthrough_fields
from anyllm.translate.gemini.common import PROVIDER, invalid, unsupported
from anyllm.translate.gemini.contents import contents_of

__all__ = ["EFFORT_BUDGETS", "translate_request"]

EFFORT_BUDGETS: dict[str, int] = {
    "none": 0,
    "minimal": 512,
    "low": 1024,
    "medium": 8192,
    "high": 24576,
    "xhigh": 32768,
}
_THINKING_LEVELS = frozenset({"minimal", "low", "medium", "high"})

_MERGED_KEYS = ("generationConfig", "toolConfig")

# The Responses fields generateContent can express; using any other one fails, naming it.
SUPPORTED_FIELDS = REQUEST_FIELDS - {
    "top_logprobs", "background", "conversation", "truncation", "max_tool_calls", "prompt_cache_key",
    "prompt_cache_retention", "user", "safety_identifier", "service_tier", "include",
}  # fmt: skip
_UNSUPPORTED_REASONS = {
    "top_logprobs": "this bridge returns no log probabilities",
    "background": "generateContent has no background mode",
    "conversation": "generateContent keeps no server-side conversations",
    "truncation": "generateContent does not truncate context ('auto')",
    "max_tool_calls": "generateContent cannot limit the number of tool calls",
    "prompt_cache_key": "Gemini caches implicitly or by cachedContent, not by key or retention",
    "prompt_cache_retention": "Gemini caches implicitly or by cachedContent, not by key or retention",
    "user": "generateContent has no end-user identifier",
    "safety_identifier": "generateContent has no end-user identifier",
    "service_tier": "{value!r} (only 'auto' and 'default')",
    "include": "{value!r} (no extra output fields are available)",
}


def translate_request(body: Mapping[str, Any], *, stream: bool = False) -> dict[str, Any]:
    """A Responses request body -> a GenerateContentRequest; raises before any network call.

    ``stream`` changes nothing in the body (streaming is chosen by the method in the path)
    and is accepted for symmetry with the other bridges.
    """
    _check_unsupported(body)
    system, contents = contents_of(body)
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
    for key, value in passthrough_fields(body).items():
        if key in _MERGED_KEYS and isinstance(value, Mapping) and isinstance(request.get(key), dict):
            request[key] = {**request[key], **value}
        else:
            request[key] = value
    return request


def _check_unsupported(body: Mapping[str, Any]) -> None:
    check_unsupported(body, SUPPORTED_FIELDS, PROVIDER, _UNSUPPORTED_REASONS)
    text = body.get("text")
    if isinstance(text, Mapping) and text.get("verbosity") not in (None, "medium"):
        raise unsupported("text.verbosity", f"{text.get('verbosity')!r} (Gemini has no verbosity control)")
    if body.get("parallel_tool_calls") is False and body.get("tools"):
        raise unsupported("parallel_tool_calls", "False (Gemini cannot switch parallel function calls off)")


# -- tools ------------------------------------------------------------------------------------


def _tools(body: Mapping[str, Any]) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    tools = body.get("tools") or []
    declarations: list[dict[str, Any]] = []
    for index, tool in enumerate(tools):
        if not isinstance(tool, Mapping) or tool.get("type") != "function":
            kind = tool.get("type") if isinstance(tool, Mapping) else type(tool).__name__
            raise unsupported(f"tools[{index}]", f"tool type {kind!r} (only function tools)")
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
            raise invalid("tool_choice.name", f"{name!r} is not one of the tools ({sorted(names)})")
        return {"mode": "ANY", "allowedFunctionNames": [name]}
    if isinstance(choice, Mapping) and choice.get("type") == "allowed_tools":
        allowed = _allowed_names(choice)
        unknown = sorted(set(allowed) - names)
        if unknown:
            raise invalid("tool_choice.tools", f"{unknown} are not among the tools ({sorted(names)})")
        mode = choice.get("mode", "auto")
        if mode not in ("auto", "required"):
            raise invalid("tool_choice.mode", f"{mode!r} is not 'auto' or 'required'")
        return {"mode": "ANY" if mode == "required" else "VALIDATED", "allowedFunctionNames": allowed}
    kind = choice.get("type") if isinstance(choice, Mapping) else choice
    raise unsupported("tool_choice", f"{kind!r} (only auto, none, required, function and allowed_tools)")


def _allowed_names(choice: Mapping[str, Any]) -> list[str]:
    names: list[str] = []
    for index, tool in enumerate(choice.get("tools") or []):
        if not isinstance(tool, Mapping) or tool.get("type") != "function" or not tool.get("name"):
            raise unsupported(f"tool_choice.tools[{index}]", "only {type: function, name} entries")
        names.append(str(tool["name"]))
    if not names:
        raise invalid("tool_choice.tools", "allowed_tools needs at least one tool")
    return names


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
                raise invalid("text.format.schema", "json_schema needs a schema object")
            schema = dict(schema)
            if fmt.get("description") and "description" not in schema:
                schema["description"] = fmt["description"]
            config["responseMimeType"] = "application/json"
            config["responseJsonSchema"] = schema
        elif kind == "json_object":
            config["responseMimeType"] = "application/json"
        elif kind not in (None, "text"):
            raise unsupported("text.format.type", f"{kind!r}")
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
            raise invalid("reasoning.effort", f"{effort!r} is not one of {sorted(EFFORT_BUDGETS)}")
        model = str(body.get("model", "")).rsplit("/", 1)[-1].lower()
        if model.startswith("gemini-3"):
            if effort not in _THINKING_LEVELS:
                raise unsupported(
                    "reasoning.effort",
                    f"{effort!r} on {model} (Gemini 3 thinking levels: minimal, low, medium, high)",
                )
            thinking["thinkingLevel"] = effort
        else:
            thinking["thinkingBudget"] = EFFORT_BUDGETS[effort]
    if reasoning.get("summary") is not None and effort != "none":
        thinking["includeThoughts"] = True
    return thinking
