"""Structured output: text.format json_schema and json_object."""

from __future__ import annotations

import json

import jsonschema_rs

from anyllm.testing.cases import case
from anyllm.testing.harness import output_text
from conformance.common import PERSON_SCHEMA, user


@case("json-schema-output", requires=("json_schema",), feature="text.format json_schema")
def test_json_schema_output(anyllm_client, conformance_validator):
    response = anyllm_client.create(
        [user("Invent a person. Reply with JSON holding name and age.")],
        text={"format": {"type": "json_schema", "name": "person", "schema": PERSON_SCHEMA, "strict": True}},
        max_output_tokens=64,
    )
    v = conformance_validator
    text = output_text(response)
    try:
        value = json.loads(text)
    except ValueError:
        v.expect(False, "CASE-JSON-OUTPUT", f"the output text is JSON (got {text[:80]!r})")
        return
    errors = [e.message for e in jsonschema_rs.validator_for(PERSON_SCHEMA).iter_errors(value)]
    v.expect(not errors, "CASE-JSON-SCHEMA", f"the JSON matches the requested schema ({errors[:2]})")
    fmt = ((response.get("text") or {}).get("format") or {}).get("type")
    v.expect(fmt == "json_schema", "CASE-PARAM-ECHO", f"text.format echoed (got {fmt!r})", "$.text.format")


@case("json-object-output", requires=("json_object",), feature="text.format json_object")
def test_json_object_output(anyllm_client, conformance_validator):
    response = anyllm_client.create(
        [user("Reply with a JSON object with a key 'ok' set to true.")],
        text={"format": {"type": "json_object"}},
        max_output_tokens=48,
    )
    text = output_text(response)
    try:
        ok = isinstance(json.loads(text), dict)
    except ValueError:
        ok = False
    conformance_validator.expect(
        ok, "CASE-JSON-OUTPUT", f"the output text is a JSON object (got {text[:80]!r})"
    )
