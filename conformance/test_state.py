"""Conversation state: previous_response_id and store."""

from __future__ import annotations

from anyllm.testing.cases import case
from conformance.common import MAX_TOKENS, message_items


@case("previous-response-id", feature="previous_response_id")
def test_previous_response_id(anyllm_client, conformance_validator):
    first = anyllm_client.create(
        "My favourite colour is teal. Say ok.", store=True, max_output_tokens=MAX_TOKENS
    )
    v = conformance_validator
    if not v.expect(first.get("id"), "CASE-ID", "the first response has an id", "$.id"):
        return
    second = anyllm_client.create(
        "What is my favourite colour?", previous_response_id=first["id"], max_output_tokens=MAX_TOKENS
    )
    v.expect(
        second.get("previous_response_id") == first["id"],
        "CASE-PREVIOUS-ECHO",
        "the second response names the first as previous_response_id",
        "$.previous_response_id",
    )
    v.expect(second.get("id") != first["id"], "CASE-ID", "a continuation is a new response", "$.id")
    v.expect(message_items(second), "CASE-OUTPUT-MESSAGE", "the continuation answers", "$.output")


@case("store-true", feature="store=true")
def test_store_true(anyllm_client, conformance_validator):
    response = anyllm_client.create("Say hi.", store=True, max_output_tokens=MAX_TOKENS)
    conformance_validator.expect(
        response.get("store") is True,
        "CASE-PARAM-ECHO",
        f"store echoed as true (got {response.get('store')!r})",
        "$.store",
    )


@case("store-false", feature="store=false")
def test_store_false(anyllm_client, conformance_validator):
    response = anyllm_client.create("Say hi.", store=False, max_output_tokens=MAX_TOKENS)
    conformance_validator.expect(
        response.get("store") is False,
        "CASE-PARAM-ECHO",
        f"store echoed as false (got {response.get('store')!r})",
        "$.store",
    )
