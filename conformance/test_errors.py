"""Errors: a provider must reject bad requests with a typed error, and the library must
catch bad arguments before any network call."""

from __future__ import annotations

import pytest

from anyllm.errors import AnyLLMError, InvalidRequestError, NotFoundError
from anyllm.testing.cases import case
from conformance.common import MAX_TOKENS


@case("error-unknown-model", feature="error on an unknown model")
def test_error_unknown_model(anyllm_client, conformance_validator):
    error = anyllm_client.expect_error(
        "Say hi.", model="no-such-model-anyllm-conformance", max_output_tokens=MAX_TOKENS
    )
    if error is not None:
        conformance_validator.expect(
            isinstance(error, NotFoundError | InvalidRequestError),
            "CASE-ERROR-TYPE",
            f"a not-found or invalid-request error (got {type(error).__name__}: {error})",
        )
        conformance_validator.expect(
            error.status_code is not None and 400 <= error.status_code < 500,
            "CASE-ERROR-STATUS",
            f"a 4xx status (got {error.status_code})",
        )


@case("error-bad-parameter", feature="error on a bad parameter")
def test_error_bad_parameter(anyllm_client, conformance_validator):
    error = anyllm_client.expect_error(
        "Say hi.", max_output_tokens=MAX_TOKENS, text={"format": {"type": "bogus-format"}}
    )
    if error is not None:
        conformance_validator.expect(
            isinstance(error, InvalidRequestError),
            "CASE-ERROR-TYPE",
            f"an invalid-request error (got {type(error).__name__}: {error})",
        )


@case("error-local-validation", feature="bad arguments caught before the network", offline=True)
def test_error_local_validation(anyllm_client, vcr_cassette):
    with pytest.raises(InvalidRequestError, match="temperature"):
        anyllm_client.create("Say hi.", temperature=7)
    with pytest.raises(AnyLLMError):
        anyllm_client.create("Say hi.", tool_choice="required")
    assert len(vcr_cassette.data) == 0 or vcr_cassette.play_count == 0, "no request reached the provider"
