"""Plain text generation: the basics every provider must get right."""

from __future__ import annotations

from anyllm.testing.cases import case
from anyllm.testing.harness import output_text
from conformance.common import MAX_TOKENS, message_items, user


@case("basic-response", official="basic-response", feature="plain text")
def test_basic_response(anyllm_client, conformance_validator):
    response = anyllm_client.create("Say hello in one short sentence.", max_output_tokens=MAX_TOKENS)
    v = conformance_validator
    v.expect(response.get("object") == "response", "CASE-OBJECT", "object is 'response'", "$.object")
    v.expect(
        response.get("status") in ("completed", "incomplete"),
        "CASE-STATUS",
        f"status {response.get('status')}",
    )
    v.expect(message_items(response), "CASE-OUTPUT-MESSAGE", "the output holds a message item", "$.output")
    v.expect(output_text(response).strip(), "CASE-OUTPUT-TEXT", "the message holds non-empty output_text")


@case("instructions", feature="instructions")
def test_instructions(anyllm_client, conformance_validator):
    instructions = "You are a terse assistant. Answer in at most five words."
    response = anyllm_client.create(
        "What colour is the sky?", instructions=instructions, max_output_tokens=MAX_TOKENS
    )
    conformance_validator.expect(
        response.get("instructions") == instructions,
        "CASE-INSTRUCTIONS-ECHO",
        "the response echoes the request's instructions",
        "$.instructions",
    )
    conformance_validator.expect(output_text(response).strip(), "CASE-OUTPUT-TEXT", "non-empty output_text")


@case("system-prompt", official="system-prompt", feature="system message")
def test_system_prompt(anyllm_client, conformance_validator):
    response = anyllm_client.create(
        [
            {
                "type": "message",
                "role": "system",
                "content": "You are a pirate. Always answer like a pirate.",
            },
            user("Say hello."),
        ],
        max_output_tokens=MAX_TOKENS,
    )
    conformance_validator.expect(
        message_items(response), "CASE-OUTPUT-MESSAGE", "a message item in the output"
    )
    conformance_validator.expect(
        response.get("status") == "completed" or response.get("status") == "incomplete",
        "CASE-STATUS",
        f"status {response.get('status')}",
    )


@case("developer-message", feature="developer message")
def test_developer_message(anyllm_client, conformance_validator):
    response = anyllm_client.create(
        [
            {"type": "message", "role": "developer", "content": "Answer with a single word."},
            user("Name a fruit."),
        ],
        max_output_tokens=MAX_TOKENS,
    )
    conformance_validator.expect(output_text(response).strip(), "CASE-OUTPUT-TEXT", "non-empty output_text")


@case("input-content-parts", feature="input_text content parts")
def test_input_content_parts(anyllm_client, conformance_validator):
    response = anyllm_client.create(
        [
            {
                "type": "message",
                "role": "user",
                "content": [
                    {"type": "input_text", "text": "Here are two parts."},
                    {"type": "input_text", "text": "Reply with the word ok."},
                ],
            }
        ],
        max_output_tokens=MAX_TOKENS,
    )
    conformance_validator.expect(output_text(response).strip(), "CASE-OUTPUT-TEXT", "non-empty output_text")


@case("multi-turn", official="multi-turn", feature="multi-turn input")
def test_multi_turn(anyllm_client, conformance_validator):
    response = anyllm_client.create(
        [
            user("My name is Ada."),
            {"type": "message", "role": "assistant", "content": "Nice to meet you, Ada."},
            user("What is my name?"),
        ],
        max_output_tokens=MAX_TOKENS,
    )
    conformance_validator.expect(
        message_items(response), "CASE-OUTPUT-MESSAGE", "a message item in the output"
    )


@case("unicode-text", feature="non-ASCII text round trip")
def test_unicode_text(anyllm_client, conformance_validator):
    response = anyllm_client.create(
        "Répète exactement: «こんにちは» — ça va? 🙂", max_output_tokens=MAX_TOKENS
    )
    text = output_text(response)
    conformance_validator.expect(text.strip(), "CASE-OUTPUT-TEXT", "non-empty output_text")
    conformance_validator.expect(
        "\ufffd" not in text, "CASE-UTF8", "no U+FFFD replacement character in the text"
    )


@case("max-output-tokens-incomplete", feature="max_output_tokens -> incomplete")
def test_max_output_tokens_incomplete(anyllm_client, conformance_validator):
    response = anyllm_client.create(
        "Write a long story about a dragon, at least ten paragraphs.", max_output_tokens=16
    )
    v = conformance_validator
    v.expect(
        response.get("status") == "incomplete",
        "CASE-INCOMPLETE-STATUS",
        f"status is 'incomplete' when max_output_tokens cuts the answer (got {response.get('status')!r})",
        "$.status",
    )
    details = response.get("incomplete_details") or {}
    v.expect(
        details.get("reason") == "max_output_tokens",
        "CASE-INCOMPLETE-REASON",
        f"incomplete_details.reason is 'max_output_tokens' (got {details!r})",
        "$.incomplete_details",
    )
    v.expect(
        response.get("max_output_tokens") == 16,
        "CASE-PARAM-ECHO",
        "max_output_tokens echoed",
        "$.max_output_tokens",
    )


@case("sampling-echo", feature="temperature / top_p echo")
def test_sampling_echo(anyllm_client, conformance_validator):
    response = anyllm_client.create("Say hi.", temperature=0.5, top_p=0.9, max_output_tokens=MAX_TOKENS)
    conformance_validator.expect(
        response.get("temperature") == 0.5,
        "CASE-PARAM-ECHO",
        f"temperature echoed (got {response.get('temperature')!r})",
        "$.temperature",
    )
    conformance_validator.expect(
        response.get("top_p") == 0.9,
        "CASE-PARAM-ECHO",
        f"top_p echoed (got {response.get('top_p')!r})",
        "$.top_p",
    )


@case("metadata-echo", feature="metadata echo")
def test_metadata_echo(anyllm_client, conformance_validator):
    metadata = {"suite": "anyllm", "case": "metadata-echo"}
    response = anyllm_client.create("Say hi.", metadata=metadata, max_output_tokens=MAX_TOKENS)
    conformance_validator.expect(
        response.get("metadata") == metadata,
        "CASE-METADATA-ECHO",
        f"metadata echoed (got {response.get('metadata')!r})",
        "$.metadata",
    )


@case("usage-accounting", feature="usage")
def test_usage_accounting(anyllm_client, conformance_validator):
    response = anyllm_client.create("Count from one to three.", max_output_tokens=MAX_TOKENS)
    usage = response.get("usage") or {}
    v = conformance_validator
    if v.expect(usage, "CASE-USAGE", "the response reports usage", "$.usage"):
        v.expect(usage.get("input_tokens", 0) > 0, "CASE-USAGE", "input_tokens > 0", "$.usage.input_tokens")
        v.expect(
            usage.get("output_tokens", 0) > 0, "CASE-USAGE", "output_tokens > 0", "$.usage.output_tokens"
        )
        v.expect(
            usage.get("total_tokens") == usage.get("input_tokens", 0) + usage.get("output_tokens", 0),
            "CASE-USAGE-TOTAL",
            f"total_tokens = input_tokens + output_tokens ({usage})",
            "$.usage.total_tokens",
        )


@case("response-identity", feature="id, object, created_at, model")
def test_response_identity(anyllm_client, conformance_validator):
    response = anyllm_client.create("Say hi.", max_output_tokens=MAX_TOKENS)
    v = conformance_validator
    v.expect(
        isinstance(response.get("id"), str) and response["id"], "CASE-ID", "the response has an id", "$.id"
    )
    v.expect(
        isinstance(response.get("created_at"), int) and response["created_at"] > 1_600_000_000,
        "CASE-CREATED-AT",
        "created_at is a Unix time in seconds",
        "$.created_at",
    )
    v.expect(
        isinstance(response.get("model"), str) and response["model"],
        "CASE-MODEL",
        "model is named",
        "$.model",
    )
    ids = [item.get("id") for item in response.get("output") or []]
    v.expect(
        all(ids) and len(set(ids)) == len(ids),
        "CASE-ITEM-IDS",
        "every output item has a unique id",
        "$.output",
    )
