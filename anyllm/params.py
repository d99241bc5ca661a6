"""The facts about each ``responses()`` parameter, in one table, and the checks that apply them.

Ranges and closed sets used to be written out wherever they were needed: the argument
checks, the fuzz suite's wire checks and the Hypothesis strategies each had their own
``0..2`` for temperature. Now :data:`PARAMS` is the only place they are stated; ``api.py``
checks arguments with :func:`check_argument`, ``testing/wire_checks.py`` reads the ranges
and ``testing/strategies/`` generates values from them, so the three cannot disagree.

Two kinds of closed set: ``allowed`` is what anyllm accepts for every provider (OpenAI's
API, a superset of the spec); ``spec_allowed`` is the stricter set of the OpenResponses
request spec (``CreateResponseBody``), enforced only for the ``openresponses`` protocol,
where a strict server would answer 400. This module imports only ``anyllm.errors``.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Final, Literal

from anyllm.errors import InvalidRequestError

__all__ = [
    "PARAMS",
    "ParamFact",
    "check_argument",
    "check_native_limits",
    "check_tool_choice",
]

ParamKind = Literal[
    "number",  # int or float (not bool), finite, within [low, high]
    "positive_int",  # int (not bool), at least ``low``
    "bool",
    "string",  # non-empty str
    "choice",  # one of ``allowed``
    "string_list",  # list of str
    "metadata",  # dict of str -> str, bounded in size
    "mapping",  # dict; its members have facts of their own ("reasoning.effort")
    "id_or_mapping",  # an id string or a dict
    "tools",  # checked by anyllm.tools.normalize_tools
    "tool_choice",  # a mode in ``allowed``, or a dict with "type"
]


@dataclass(frozen=True, slots=True)
class ParamFact:
    """What one request parameter (or a member of one, dotted: ``reasoning.effort``) may be."""

    name: str
    kind: ParamKind
    low: float | None = None
    """Numbers: inclusive minimum. Integers: the least value accepted everywhere."""
    high: float | None = None
    """Numbers: inclusive maximum."""
    allowed: tuple[str, ...] = ()
    """The closed set anyllm accepts for every provider (empty: not a closed set)."""
    spec_allowed: tuple[str, ...] = ()
    """Where the OpenResponses spec is stricter than OpenAI: the spec's closed set, enforced
    for the openresponses protocol only (empty: no stricter set)."""
    native_min: int | None = None
    """The minimum a native Responses server (OpenAI's or the spec's) enforces with a 400."""
    protocol_bounds: tuple[tuple[str, float, float], ...] = ()
    """Narrower ranges of other wire protocols, as (protocol, low, high)."""
    max_items: int | None = None
    """Lists and dicts: most entries accepted."""
    max_key_length: int | None = None
    """Dicts: longest key accepted."""
    max_length: int | None = None
    """Strings (dict values for metadata): longest value accepted."""

    def bounds(self, protocol: str | None = None) -> tuple[float, float]:
        """The inclusive (low, high) range of a number, narrowed for ``protocol`` if it must be."""
        for name, low, high in self.protocol_bounds:
            if name == protocol:
                return low, high
        if self.low is None or self.high is None:
            raise ValueError(f"{self.name} has no numeric range")
        return self.low, self.high

    @property
    def top_level(self) -> str:
        """The argument of ``responses()`` this fact belongs to (``reasoning`` for ``reasoning.effort``)."""
        return self.name.split(".", 1)[0]


def _table(*facts: ParamFact) -> Mapping[str, ParamFact]:
    return MappingProxyType({fact.name: fact for fact in facts})


PARAMS: Final = _table(
    ParamFact("temperature", "number", 0.0, 2.0, protocol_bounds=(("anthropic", 0.0, 1.0),)),
    ParamFact("top_p", "number", 0.0, 1.0),
    ParamFact("presence_penalty", "number", -2.0, 2.0),
    ParamFact("frequency_penalty", "number", -2.0, 2.0),
    ParamFact("max_output_tokens", "positive_int", 1, native_min=16),
    ParamFact("max_tool_calls", "positive_int", 1),
    ParamFact("stream", "bool"),
    ParamFact("parallel_tool_calls", "bool"),
    ParamFact("store", "bool"),
    ParamFact("background", "bool"),
    ParamFact("instructions", "string"),
    ParamFact("user", "string"),
    ParamFact("safety_identifier", "string"),
    ParamFact("prompt_cache_key", "string"),
    ParamFact("previous_response_id", "string"),
    ParamFact("prompt_cache_retention", "string"),
    # OpenAI offers more tiers than the spec's ServiceTierEnum ("scale", ...).
    ParamFact("service_tier", "string", spec_allowed=("auto", "default", "flex", "priority")),
    ParamFact("truncation", "choice", allowed=("auto", "disabled")),
    ParamFact("metadata", "metadata", max_items=16, max_key_length=64, max_length=512),
    # OpenAI accepts more include values (file_search_call.results, ...) than the spec's IncludeEnum.
    ParamFact(
        "include", "string_list", spec_allowed=("reasoning.encrypted_content", "message.output_text.logprobs")
    ),
    ParamFact("reasoning", "mapping"),
    # The spec's ReasoningEffortEnum, plus OpenAI's "minimal" (its API accepts it; the spec
    # describes it but leaves it out of the enum).
    ParamFact(
        "reasoning.effort",
        "choice",
        allowed=("none", "minimal", "low", "medium", "high", "xhigh"),
        spec_allowed=("none", "low", "medium", "high", "xhigh"),
    ),
    ParamFact("reasoning.summary", "choice", allowed=("concise", "detailed", "auto")),
    ParamFact("text", "mapping"),
    # json_object is an OpenAI extension the spec's request TextFormatParam does not define.
    ParamFact(
        "text.format.type",
        "choice",
        allowed=("text", "json_object", "json_schema"),
        spec_allowed=("text", "json_schema"),
    ),
    ParamFact("conversation", "id_or_mapping"),
    ParamFact("tools", "tools"),
    ParamFact("tool_choice", "tool_choice", allowed=("auto", "none", "required")),
    # OpenAI's hosted-tool choices (file_search, web_search_preview, ...) are not in the spec.
    ParamFact("tool_choice.type", "choice", spec_allowed=("function", "allowed_tools")),
)
"""Every parameter anyllm checks, by name (dotted names are members of a dict parameter)."""


# --- checks ------------------------------------------------------------------------------------


def _fail(fact: ParamFact, message: str) -> InvalidRequestError:
    return InvalidRequestError(message, param=fact.top_level)


def _check_number(fact: ParamFact, value: Any) -> None:
    name = fact.name
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise _fail(fact, f"{name} must be a number, got {value!r}")
    low, high = fact.bounds()
    if not low <= value <= high:
        raise _fail(fact, f"{name} must be between {low:g} and {high:g}, got {value!r}")


def _check_positive_int(fact: ParamFact, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < (fact.low or 1):
        raise _fail(fact, f"{fact.name} must be a positive integer, got {value!r}")


def _check_bool(fact: ParamFact, value: Any) -> None:
    if not isinstance(value, bool):
        raise _fail(fact, f"{fact.name} must be True or False, got {value!r}")


def _check_string(fact: ParamFact, value: Any) -> None:
    if not isinstance(value, str) or not value:
        raise _fail(fact, f"{fact.name} must be a non-empty string, got {value!r}")


def _check_choice(fact: ParamFact, value: Any) -> None:
    if value not in fact.allowed:
        raise _fail(fact, f"{fact.name} must be one of {', '.join(fact.allowed)}, got {value!r}")


def _check_string_list(fact: ParamFact, value: Any) -> None:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise _fail(fact, f"{fact.name} must be a list of strings")


def _check_metadata(fact: ParamFact, value: Any) -> None:
    if not isinstance(value, Mapping):
        raise _fail(fact, "metadata must be a dict of strings")
    most_keys, key_length, value_length = fact.max_items, fact.max_key_length, fact.max_length
    if most_keys is not None and len(value) > most_keys:
        raise _fail(fact, f"metadata has {len(value)} keys; at most {most_keys} are allowed")
    for key, entry in value.items():
        if not isinstance(key, str) or (key_length is not None and len(key) > key_length):
            raise _fail(fact, f"metadata key {key!r} must be a string of at most {key_length} characters")
        if not isinstance(entry, str) or (value_length is not None and len(entry) > value_length):
            raise _fail(fact, f"metadata[{key!r}] must be a string of at most {value_length} characters")


def _check_mapping(fact: ParamFact, value: Any) -> None:
    if not isinstance(value, Mapping):
        raise _fail(fact, f"{fact.name} must be a dict, got {type(value).__name__}")
    if fact.name == "reasoning":
        for member in ("reasoning.effort", "reasoning.summary"):
            found = value.get(member.rsplit(".", 1)[1])
            if found is not None:
                _check_choice(PARAMS[member], found)
    elif fact.name == "text":
        _check_text_format(value.get("format"))


def _check_text_format(fmt: Any) -> None:
    if fmt is None:
        return
    fact = PARAMS["text.format.type"]
    if not isinstance(fmt, Mapping) or fmt.get("type") not in fact.allowed:
        raise _fail(
            fact, f"text.format must be a dict whose type is one of {', '.join(fact.allowed)}, got {fmt!r}"
        )
    if fmt["type"] == "json_schema":
        if not isinstance(fmt.get("name"), str) or not fmt["name"]:
            raise _fail(fact, "text.format json_schema needs a 'name'")
        if not isinstance(fmt.get("schema"), Mapping):
            raise _fail(fact, "text.format json_schema needs a 'schema' dict")


def _check_id_or_mapping(fact: ParamFact, value: Any) -> None:
    if not isinstance(value, str | Mapping):
        raise _fail(fact, f"{fact.name} must be an id string or a dict")


def _checked_elsewhere(fact: ParamFact, value: Any) -> None:
    """tools (anyllm.tools) and tool_choice (needs the tools: :func:`check_tool_choice`)."""


_CHECKS = {
    "number": _check_number,
    "positive_int": _check_positive_int,
    "bool": _check_bool,
    "string": _check_string,
    "choice": _check_choice,
    "string_list": _check_string_list,
    "metadata": _check_metadata,
    "mapping": _check_mapping,
    "id_or_mapping": _check_id_or_mapping,
    "tools": _checked_elsewhere,
    "tool_choice": _checked_elsewhere,
}


def check_argument(name: str, value: Any) -> None:
    """Raise InvalidRequestError naming ``name`` unless ``value`` fits its facts (unknown names
    and None pass: None means "not sent")."""
    fact = PARAMS.get(name)
    if fact is None or value is None:
        return
    _CHECKS[fact.kind](fact, value)


def check_tool_choice(tool_choice: Any, has_tools: bool) -> None:
    """``tool_choice``: a mode of its closed set ('required' only with tools) or a dict with a type."""
    modes = PARAMS["tool_choice"].allowed
    if isinstance(tool_choice, str):
        if tool_choice not in modes:
            raise InvalidRequestError(
                f"tool_choice must be one of {', '.join(modes)} or a dict, got {tool_choice!r}",
                param="tool_choice",
            )
        if tool_choice == "required" and not has_tools:
            raise InvalidRequestError("tool_choice='required' needs tools", param="tool_choice")
        return
    if not isinstance(tool_choice, Mapping) or "type" not in tool_choice:
        raise InvalidRequestError(
            f"tool_choice must be {', '.join(map(repr, modes))} or a dict with 'type', got {tool_choice!r}",
            param="tool_choice",
        )


# --- what a native Responses server refuses --------------------------------------------------------


def _values_at(body: Mapping[str, Any], dotted: str) -> Iterator[Any]:
    """The values a dotted name reaches in ``body`` (each entry of a list; none when absent)."""
    node: Any = body
    for part in dotted.split("."):
        if not isinstance(node, Mapping):
            return
        node = node.get(part)
    if isinstance(node, list):
        yield from node
    elif node is not None:
        yield node


def check_native_limits(body: Mapping[str, Any], *, provider: str, spec_only: bool) -> None:
    """Refuse what a native Responses server would refuse with a 400: values under a native
    minimum, and (``spec_only``: an OpenResponses server) values outside the spec's closed sets."""
    for fact in PARAMS.values():
        if fact.native_min is not None:
            for value in _values_at(body, fact.name):
                if isinstance(value, int) and value < fact.native_min:
                    raise _fail(
                        fact,
                        f"{fact.name} must be at least {fact.native_min} for provider {provider!r} "
                        f"(the Responses API minimum), got {value}",
                    )
        if spec_only and fact.spec_allowed:
            for value in _values_at(body, fact.name):
                if value not in fact.spec_allowed:
                    raise _fail(
                        fact,
                        f"{fact.name} {value!r} is not in the OpenResponses request spec, which allows "
                        f"{', '.join(fact.spec_allowed)} (provider {provider!r} speaks the spec)",
                    )
