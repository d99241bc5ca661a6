"""Property: a generated ResponseResource survives openresponses-types unchanged.

Parsed into ``openresponses_types.ResponseResource`` and dumped again, nothing is lost or
added. The dump needs ``by_alias=True``: the model names the ``text.format.schema`` field
``schema_`` (``schema`` shadows a BaseModel attribute), and without the alias the dump
renames it (the validator dumps typed objects with the alias: checked below).
"""

from __future__ import annotations

from typing import Any

from hypothesis import example, given

from anyllm.testing import strategies as S
from anyllm.testing.fuzz_plugin import fuzz_settings
from anyllm.testing.validate import validate_response

JSON_SCHEMA_FORMAT: dict[str, Any] = {
    "type": "json_schema",
    "name": "person",
    "description": None,
    "schema": None,
    "strict": True,
}


def with_format(resource: dict[str, Any]) -> dict[str, Any]:
    return {**resource, "text": {"format": dict(JSON_SCHEMA_FORMAT)}}


@fuzz_settings()
@given(S.response_resources())
def test_generated_resources_pass_the_validator(resource: dict[str, Any]) -> None:
    assert [str(v) for v in validate_response(resource) if v.severity == "error"] == []


@fuzz_settings()
@given(S.response_resources())
def test_round_trip_through_the_types_loses_nothing(resource: dict[str, Any]) -> None:
    from openresponses_types import ResponseResource

    model = ResponseResource.model_validate(resource, strict=False)
    assert model.model_dump(mode="json", exclude_unset=True, by_alias=True) == resource


@example(with_format(S.play_script(S.Script(steps=()))[-1]["response"]))
@fuzz_settings(max_examples=0.2)
@given(S.response_resources().map(with_format))
def test_typed_resources_validate_like_their_dicts(resource: dict[str, Any]) -> None:
    from openresponses_types import ResponseResource

    assert [v for v in validate_response(resource) if v.severity == "error"] == []
    typed = ResponseResource.model_validate(resource)
    assert [str(v) for v in validate_response(typed) if v.severity == "error"] == []
