"""Function tools: calls, results, parallel calls and every tool_choice form."""

from __future__ import annotations

import json

from anyllm.testing.cases import case
from anyllm.testing.harness import function_calls, output_text
from conformance.common import TIME_TOOL, WEATHER_TOOL, user


def _args_are_json(v, calls):
    for index, call in enumerate(calls):
        try:
            json.loads(call.get("arguments") or "")
            ok = True
        except ValueError:
            ok = False
        v.expect(
            ok,
            "CASE-TOOL-ARGS-JSON",
            f"function_call arguments are a JSON string ({call.get('arguments')!r})",
            f"$.output[{index}].arguments",
        )


@case("tool-calling", requires=("tools",), official="tool-calling", feature="function call")
def test_tool_calling(anyllm_client, conformance_validator):
    response = anyllm_client.create(
        [user("What's the weather like in San Francisco?")], tools=[WEATHER_TOOL], max_output_tokens=64
    )
    calls = function_calls(response)
    conformance_validator.expect(calls, "CASE-TOOL-CALLED", "the output holds a function_call", "$.output")
    _args_are_json(conformance_validator, calls)


@case("tool-result-round-trip", requires=("tools",), feature="function_call_output round trip")
def test_tool_result_round_trip(anyllm_client, conformance_validator):
    v = conformance_validator
    first = anyllm_client.create(
        [user("What is the weather in Paris? Use the tool.")],
        tools=[WEATHER_TOOL],
        tool_choice="required",
        max_output_tokens=64,
    )
    calls = function_calls(first)
    if not v.expect(calls, "CASE-TOOL-CALLED", "the first turn calls the tool", "$.output"):
        return
    call = calls[0]
    second = anyllm_client.create(
        [
            user("What is the weather in Paris? Use the tool."),
            {
                "type": "function_call",
                "call_id": call["call_id"],
                "name": call["name"],
                "arguments": call.get("arguments") or "{}",
            },
            {
                "type": "function_call_output",
                "call_id": call["call_id"],
                "output": '{"temp_c": 18, "sky": "clear"}',
            },
        ],
        tools=[WEATHER_TOOL],
        max_output_tokens=48,
    )
    v.expect(
        output_text(second).strip() or function_calls(second),
        "CASE-TOOL-RESULT-ANSWER",
        "the turn after the tool result answers",
        "$.output",
    )


@case("parallel-tool-calls", requires=("tools",), feature="parallel tool calls")
def test_parallel_tool_calls(anyllm_client, conformance_validator):
    response = anyllm_client.create(
        [user("Get the weather in Paris and the time in Tokyo. Use both tools.")],
        tools=[WEATHER_TOOL, TIME_TOOL],
        tool_choice="required",
        parallel_tool_calls=True,
        max_output_tokens=96,
    )
    calls = function_calls(response)
    v = conformance_validator
    v.expect(calls, "CASE-TOOL-CALLED", "at least one function_call", "$.output")
    call_ids = [c.get("call_id") for c in calls]
    v.expect(len(set(call_ids)) == len(call_ids), "CASE-CALL-IDS-UNIQUE", f"call ids are unique ({call_ids})")
    v.expect(
        response.get("parallel_tool_calls") is True,
        "CASE-PARAM-ECHO",
        "parallel_tool_calls echoed",
        "$.parallel_tool_calls",
    )


@case("parallel-tool-calls-disabled", requires=("tools",), feature="parallel_tool_calls=false")
def test_parallel_tool_calls_disabled(anyllm_client, conformance_validator):
    response = anyllm_client.create(
        [user("Get the weather in Paris and the time in Tokyo.")],
        tools=[WEATHER_TOOL, TIME_TOOL],
        tool_choice="required",
        parallel_tool_calls=False,
        max_output_tokens=96,
    )
    conformance_validator.expect(
        len(function_calls(response)) <= 1,
        "CASE-PARALLEL-DISABLED",
        "at most one function_call with parallel_tool_calls=false",
        "$.output",
    )


@case("tool-choice-none", requires=("tools",), feature="tool_choice none")
def test_tool_choice_none(anyllm_client, conformance_validator):
    response = anyllm_client.create(
        [user("What is the weather in Paris?")],
        tools=[WEATHER_TOOL],
        tool_choice="none",
        max_output_tokens=32,
    )
    conformance_validator.expect(
        not function_calls(response),
        "CASE-TOOL-CHOICE-NONE",
        "no function_call with tool_choice none",
        "$.output",
    )


@case("tool-choice-required", requires=("tools",), feature="tool_choice required")
def test_tool_choice_required(anyllm_client, conformance_validator):
    response = anyllm_client.create(
        [user("Hello there.")], tools=[WEATHER_TOOL], tool_choice="required", max_output_tokens=64
    )
    conformance_validator.expect(
        function_calls(response), "CASE-TOOL-CALLED", "a function_call with tool_choice required", "$.output"
    )


@case("tool-choice-named", requires=("tools",), feature="tool_choice {type: function, name}")
def test_tool_choice_named(anyllm_client, conformance_validator):
    response = anyllm_client.create(
        [user("What time is it in Tokyo?")],
        tools=[WEATHER_TOOL, TIME_TOOL],
        tool_choice={"type": "function", "name": "get_weather"},
        max_output_tokens=64,
    )
    calls = function_calls(response)
    conformance_validator.expect(
        calls and all(c.get("name") == "get_weather" for c in calls),
        "CASE-TOOL-NAMED",
        f"only the named tool is called ({[c.get('name') for c in calls]})",
        "$.output",
    )


@case("tool-choice-allowed-tools", requires=("tools",), feature="tool_choice allowed_tools")
def test_tool_choice_allowed_tools(anyllm_client, conformance_validator):
    response = anyllm_client.create(
        [user("What time is it in Tokyo, and what is the weather there?")],
        tools=[WEATHER_TOOL, TIME_TOOL],
        tool_choice={
            "type": "allowed_tools",
            "mode": "required",
            "tools": [{"type": "function", "name": "get_time"}],
        },
        max_output_tokens=64,
    )
    calls = function_calls(response)
    conformance_validator.expect(
        calls and all(c.get("name") == "get_time" for c in calls),
        "CASE-ALLOWED-TOOLS",
        f"only allowed tools are called ({[c.get('name') for c in calls]})",
        "$.output",
    )
