"""Keyword arguments for ``responses()``: valid values read from :data:`anyllm.params.PARAMS`,
or wild ones a careless caller might pass."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from anyllm.testing.strategies.schema import from_schema, tools
from anyllm.testing.strategies.values import (
    _MAX_TEXT,
    _NAME,
    Strategy,
    _json_schema_objects,
    _text,
    wild_values,
)

__all__ = ["FUZZED_PARAMS", "parameter_values", "responses_arguments"]

# The parameters responses_arguments() varies. Left out on purpose: previous_response_id and
# conversation (they name server-side state no test server holds), background and
# prompt_cache_retention.
FUZZED_PARAMS = (
    "temperature",
    "top_p",
    "presence_penalty",
    "frequency_penalty",
    "max_output_tokens",
    "max_tool_calls",
    "stream",
    "parallel_tool_calls",
    "store",
    "instructions",
    "user",
    "safety_identifier",
    "prompt_cache_key",
    "service_tier",
    "truncation",
    "metadata",
    "include",
    "reasoning",
    "text",
    "tools",
    "tool_choice",
)
# Generation choices, not facts about the parameters: how large a valid integer gets.
_INT_CAPS = {"max_output_tokens": 4096, "max_tool_calls": 8}


def _reasoning_params() -> Strategy:
    """``reasoning`` dicts whose members come from the table's closed sets."""
    from anyllm.params import PARAMS

    effort, summary = PARAMS["reasoning.effort"], PARAMS["reasoning.summary"]
    optional = {
        "effort": st.none() | st.sampled_from(effort.spec_allowed or effort.allowed),
        "summary": st.none() | st.sampled_from(summary.spec_allowed or summary.allowed),
    }
    return st.fixed_dictionaries({}, optional=optional)


def _text_params() -> Strategy:
    """``text`` dicts: a format of each kind the table allows (a json_schema one complete
    with name and schema, as the client requires), and the spec's verbosity."""
    from anyllm.params import PARAMS

    fact = PARAMS["text.format.type"]

    def text_format(kind: str) -> Strategy:
        if kind != "json_schema":
            return st.just({"type": kind})
        required = {"type": st.just(kind), "name": _NAME, "schema": _json_schema_objects()}
        return st.fixed_dictionaries(required, optional={"strict": st.booleans()})

    formats = st.sampled_from(fact.spec_allowed or fact.allowed).flatmap(text_format)
    optional = {"format": st.none() | formats, "verbosity": from_schema("VerbosityEnum")}
    return st.fixed_dictionaries({}, optional=optional)


def _function_name(tool: Any) -> object:
    """A function tool's name; any other tool counts as unique."""
    return tool.get("name") if isinstance(tool, dict) and tool.get("type") == "function" else object()


def parameter_values(name: str) -> Strategy:
    """Values of the ``responses()`` argument ``name`` that the client accepts for every
    provider, read from :data:`anyllm.params.PARAMS`: numbers within range, integers from
    the native minimum up, the spec's closed set where it is stricter than OpenAI's."""
    from anyllm.params import PARAMS

    if name == "store":
        return st.just(False)  # store=True writes to the local response store on disk
    if name == "tools":  # function names must be unique (anyllm.tools.normalize_tools)
        return st.lists(tools(), max_size=2, unique_by=_function_name)
    if name == "tool_choice":
        return from_schema("ToolChoiceParam")  # its modes are checked against the table by the tests
    if name == "reasoning":
        return _reasoning_params()
    if name == "text":
        return _text_params()
    fact = PARAMS[name]
    closed = fact.spec_allowed or fact.allowed
    if fact.kind == "number":
        low, high = fact.bounds()
        return st.floats(low, high)
    if fact.kind == "positive_int":
        least = max(int(fact.low or 1), fact.native_min or 1)
        return st.integers(least, max(least, _INT_CAPS.get(name, least + 1000)))
    if fact.kind == "bool":
        return st.booleans()
    if fact.kind == "string_list" and closed:
        return st.lists(st.sampled_from(closed), max_size=2)
    if fact.kind in ("choice", "string") and closed:
        return st.sampled_from(closed)
    if fact.kind == "string":
        return _text(1, 12)
    if fact.kind == "metadata":
        keys = _text(max_size=min(8, fact.max_key_length or 8))
        values = _text(max_size=min(_MAX_TEXT, fact.max_length or _MAX_TEXT))
        return st.dictionaries(keys, values, max_size=min(4, fact.max_items or 4))
    raise ValueError(f"no strategy for parameter {name!r} ({fact.kind})")


def responses_arguments(names: tuple[str, ...] | None = None) -> st.SearchStrategy[dict[str, Any]]:
    """Keyword arguments for ``responses()``: a few parameters, each a valid value or a wild one."""
    pool = tuple(names or FUZZED_PARAMS)

    @st.composite
    def build(draw: st.DrawFn) -> dict[str, Any]:
        chosen = draw(st.lists(st.sampled_from(pool), max_size=3, unique=True))
        out: dict[str, Any] = {}
        for name in chosen:
            valid = name in FUZZED_PARAMS and draw(st.booleans())
            out[name] = draw(parameter_values(name) if valid else wild_values())
        return out

    return build()
