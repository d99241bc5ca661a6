"""anyllm.params is the single source of parameter facts: the client's checks, the wire checks
and the Hypothesis strategies all agree with it, and it agrees with the spec's schemas.

Each test here fails when one reader drifts: a strategy that generates a value the client
refuses, a check that lets through a value just outside a range, a closed set that no
longer matches the spec's enum.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given

from anyllm.api import _check_native, build_request
from anyllm.errors import InvalidRequestError
from anyllm.params import PARAMS, ParamFact
from anyllm.providers.registry import provider_metadata
from anyllm.testing import strategies as S
from anyllm.testing.fuzz_plugin import fuzz_settings
from anyllm.testing.wire_checks import wire_problems

SCHEMAS = Path(__file__).resolve().parents[1] / "schemas"
TOOL = {"type": "function", "name": "f", "parameters": {"type": "object", "properties": {}}}
FUZZED = S.FUZZED_PARAMS
NUMBERS = [fact for fact in PARAMS.values() if fact.kind == "number"]
INTEGERS = [fact for fact in PARAMS.values() if fact.kind == "positive_int"]
CHOICES = [fact for fact in PARAMS.values() if fact.allowed and fact.name != "tool_choice"]
SPEC_STRICTER = [fact for fact in PARAMS.values() if fact.spec_allowed]


def arguments(name: str, value: Any) -> dict[str, Any]:
    """``responses()`` keyword arguments that put ``value`` at the (possibly dotted) ``name``."""
    if name in ("reasoning.effort", "reasoning.summary"):
        return {"reasoning": {name.split(".")[1]: value}}
    if name == "text.format.type":
        fmt = {"type": value, "name": "r", "schema": {"type": "object"}} if value == "json_schema" else {}
        return {"text": {"format": {"type": value, **fmt}}}
    if name == "tool_choice.type":
        return {"tools": [TOOL], "tool_choice": {"type": value, "name": "f", "tools": [TOOL], "mode": "auto"}}
    if name == "tool_choice":
        return {"tools": [TOOL], "tool_choice": value}
    return {name: value}


def check(args: dict[str, Any], provider: str = "openresponses") -> dict[str, Any]:
    """What responses() checks before choosing a backend; the body, or InvalidRequestError."""
    body = build_request("m", "hi", dict(args), {})
    _check_native(provider_metadata(provider), body)
    return body


def refused(args: dict[str, Any], provider: str = "openresponses") -> InvalidRequestError:
    with pytest.raises(InvalidRequestError) as info:
        check(args, provider)
    return info.value


# -- the strategies generate only what the client accepts -------------------------------------


@pytest.mark.parametrize("name", FUZZED)
def test_strategies_never_generate_a_value_the_client_refuses(name: str) -> None:
    @fuzz_settings()
    @given(S.parameter_values(name))
    def accepted(value: Any) -> None:
        for provider in ("openresponses", "openai"):
            check(arguments(name, value), provider)

    accepted()


# -- the client refuses just outside each fact, and accepts its edges --------------------------


@pytest.mark.parametrize("fact", NUMBERS, ids=lambda f: f.name)
def test_numbers_are_refused_just_outside_their_range(fact: ParamFact) -> None:
    low, high = fact.bounds()
    check(arguments(fact.name, low))
    check(arguments(fact.name, high))
    for outside in (math.nextafter(low, -math.inf), math.nextafter(high, math.inf)):
        error = refused(arguments(fact.name, outside))
        assert error.param == fact.name and fact.name in str(error)


@pytest.mark.parametrize("fact", INTEGERS, ids=lambda f: f.name)
def test_integers_are_refused_below_their_minimum(fact: ParamFact) -> None:
    least = int(fact.low or 1)
    check(arguments(fact.name, max(least, fact.native_min or least)))
    error = refused(arguments(fact.name, least - 1))
    assert error.param == fact.name
    if fact.native_min is not None:
        below_native = arguments(fact.name, fact.native_min - 1)
        build_request("m", "hi", below_native, {})  # fine for a translated provider ...
        check(below_native, "mistral")
        assert refused(below_native, "openresponses").param == fact.name  # ... not for a native one
        assert refused(below_native, "openai").param == fact.name


@pytest.mark.parametrize("fact", CHOICES, ids=lambda f: f.name)
def test_closed_sets_accept_their_members_and_nothing_else(fact: ParamFact) -> None:
    for value in fact.spec_allowed or fact.allowed:
        check(arguments(fact.name, value))
    error = refused(arguments(fact.name, "not-a-" + fact.name.replace(".", "-")))
    assert error.param == fact.top_level and fact.name.split(".")[0] in str(error)


@pytest.mark.parametrize("fact", SPEC_STRICTER, ids=lambda f: f.name)
def test_spec_closed_sets_bind_the_openresponses_protocol_only(fact: ParamFact) -> None:
    beyond_spec = [v for v in fact.allowed if v not in fact.spec_allowed] or ["beyond-the-spec"]
    for value in beyond_spec:
        args = arguments(fact.name, [value] if fact.kind == "string_list" else value)
        error = refused(args, "openresponses")
        assert error.param == fact.top_level and fact.name in str(error)
        check(args, "openai")  # OpenAI's superset


def test_metadata_limits() -> None:
    fact = PARAMS["metadata"]
    assert fact.max_items and fact.max_key_length and fact.max_length
    check({"metadata": {f"k{i}": "v" for i in range(fact.max_items)}})
    check({"metadata": {"k" * fact.max_key_length: "v" * fact.max_length}})
    for bad in (
        {f"k{i}": "v" for i in range(fact.max_items + 1)},
        {"k" * (fact.max_key_length + 1): "v"},
        {"k": "v" * (fact.max_length + 1)},
    ):
        assert refused({"metadata": bad}).param == "metadata"


def test_stream_is_checked_but_never_put_in_the_body() -> None:
    assert "stream" not in build_request("m", "hi", {"stream": True}, {})
    assert "stream" not in build_request("m", "hi", {"stream": False}, {})
    with pytest.raises(InvalidRequestError) as info:
        build_request("m", "hi", {"stream": "yes"}, {})
    assert info.value.param == "stream"


# -- the wire checks read the same ranges ----------------------------------------------------------


@pytest.mark.parametrize(
    ("protocol", "body", "where"),
    [
        ("chat", {"model": "m", "messages": [{"role": "user", "content": "hi"}]}, None),
        ("anthropic", {"model": "m", "max_tokens": 8, "messages": [{"role": "user", "content": "hi"}]}, None),
        ("gemini", {"contents": [{"role": "user", "parts": [{"text": "hi"}]}]}, "generationConfig"),
    ],
)
@pytest.mark.parametrize("name", ["temperature", "top_p"])
def test_wire_checks_use_the_table_ranges(
    protocol: str, body: dict[str, Any], where: str | None, name: str
) -> None:
    low, high = PARAMS[name].bounds(protocol)
    key = "topP" if (protocol, name) == ("gemini", "top_p") else name

    def problems(value: float) -> list[str]:
        sent = json.loads(json.dumps(body))
        (sent.setdefault(where, {}) if where else sent)[key] = value
        return wire_problems(protocol, sent)

    assert problems(low) == [] and problems(high) == []
    assert problems(math.nextafter(high, math.inf)) != []
    assert problems(math.nextafter(low, -math.inf)) != []


def test_anthropic_temperature_is_narrower() -> None:
    assert PARAMS["temperature"].bounds("anthropic") == (0.0, 1.0)
    assert PARAMS["temperature"].bounds("chat") == PARAMS["temperature"].bounds() == (0.0, 2.0)


# -- the table agrees with the spec's schemas ----------------------------------------------------


def schema(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((SCHEMAS / f"{name}.json").read_text())
    return loaded


def type_consts(*names: str) -> set[str]:
    """The ``type`` each named object schema fixes (a one-value enum in these schemas)."""
    return {value for name in names for value in schema(name)["properties"]["type"]["enum"]}


def test_spec_closed_sets_match_the_schemas() -> None:
    assert set(PARAMS["service_tier"].spec_allowed) == set(schema("ServiceTierEnum")["enum"])
    assert set(PARAMS["include"].spec_allowed) == set(schema("IncludeEnum")["enum"])
    assert set(PARAMS["truncation"].allowed) == set(schema("TruncationEnum")["enum"])
    assert set(PARAMS["reasoning.effort"].spec_allowed) == set(schema("ReasoningEffortEnum")["enum"])
    assert set(PARAMS["reasoning.effort"].allowed) == {*schema("ReasoningEffortEnum")["enum"], "minimal"}
    assert set(PARAMS["reasoning.summary"].allowed) == set(schema("ReasoningSummaryEnum")["enum"])
    assert set(PARAMS["tool_choice"].allowed) == set(schema("ToolChoiceValueEnum")["enum"])
    formats = [ref["$ref"].removesuffix(".json") for ref in schema("TextFormatParam")["oneOf"]]
    assert set(PARAMS["text.format.type"].spec_allowed) == type_consts(*formats)
    choices = [ref["$ref"].removesuffix(".json") for ref in schema("SpecificToolChoiceParam")["oneOf"]]
    assert set(PARAMS["tool_choice.type"].spec_allowed) == type_consts(*choices, "AllowedToolsParam")


def test_integer_minimums_and_metadata_limits_match_the_schemas() -> None:
    body = schema("CreateResponseBody")["properties"]
    minimum = {name: body[name]["anyOf"][0]["minimum"] for name in ("max_output_tokens", "max_tool_calls")}
    assert minimum == {
        "max_output_tokens": PARAMS["max_output_tokens"].native_min,
        "max_tool_calls": PARAMS["max_tool_calls"].low,
    }
    metadata = schema("MetadataParam")
    assert metadata["maxProperties"] == PARAMS["metadata"].max_items
    assert metadata["additionalProperties"]["maxLength"] == PARAMS["metadata"].max_length
