"""The strategies themselves: what they generate is valid against the schema they claim,
whole streams pass the validator, and importing the module costs nothing."""

from __future__ import annotations

import subprocess
import sys

import pytest
from hypothesis import given
from hypothesis import strategies as st

from anyllm.testing import strategies as S
from anyllm.testing.fuzz_plugin import fuzz_settings
from anyllm.testing.validate import default_store, validate_request, validate_stream

SCHEMAS = [
    "CreateResponseBody",
    "ItemParam",
    "ResponsesToolParam",
    "ResponseResource",
    "ToolChoiceParam",
    "ItemField",
]


@pytest.mark.parametrize("name", SCHEMAS)
def test_values_match_their_schema(name: str) -> None:
    validator = default_store().validator(name)

    @fuzz_settings()
    @given(S.from_schema(name))
    def check(value: object) -> None:
        assert validator.is_valid(value), [str(e) for e in validator.iter_errors(value)][:3]

    check()


@fuzz_settings()
@given(S.create_response_bodies())
def test_request_bodies_pass_validate_request(body: dict) -> None:
    assert body["model"] == "fuzz-model" and body["input"] is not None
    assert [str(v) for v in validate_request(body) if v.severity == "error"] == []


@fuzz_settings()
@given(S.event_streams())
def test_event_streams_pass_the_validator(events: list[dict]) -> None:
    assert events[0]["type"] == "response.created"
    assert [str(v) for v in validate_stream(events) if v.severity == "error"] == []


@fuzz_settings()
@given(st.binary(max_size=64), st.data())
def test_chunked_reassembles(raw: bytes, data: st.DataObject) -> None:
    chunks = data.draw(S.chunked(raw))
    assert b"".join(chunks) == raw
    assert all(chunks) or raw == b""


@fuzz_settings()
@given(S.responses_arguments())
def test_responses_arguments_name_real_parameters(kwargs: dict) -> None:
    import inspect

    import anyllm

    assert set(kwargs) <= set(inspect.signature(anyllm.responses).parameters)


def test_import_does_no_work() -> None:
    code = (
        "import sys, anyllm.testing.strategies;"
        "heavy = [m for m in ('anyllm.testing.validate', 'openresponses_types', 'openai', 'jsonschema_rs')"
        " if m in sys.modules]; print(heavy)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
