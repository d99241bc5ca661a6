"""Every HTTP error reply becomes the right anyllm.errors class, keeping the provider's words.

Each case is a real HTTP reply from a server on 127.0.0.1, read by the real client path
(openai SDK for the openai protocol, httpx2 for the rest).
"""

from __future__ import annotations

from typing import Any

import pytest

from anyllm import responses
from anyllm.errors import (
    AnyLLMError,
    AuthenticationError,
    ContentFilterError,
    InvalidRequestError,
    NotFoundError,
    ProviderConnectionError,
    ProviderError,
    ProviderTimeoutError,
    RateLimitError,
    error_from_http,
    parse_retry_after,
)
from tests.helpers.loopback import LoopbackServer, Reply


def openai_body(message: str, kind: str, code: str | None = None) -> dict[str, Any]:
    return {"error": {"message": message, "type": kind, "code": code, "param": None}}


CASES: list[tuple[int, dict[str, Any], type[AnyLLMError]]] = [
    (
        400,
        openai_body("Invalid value for temperature", "invalid_request_error", "invalid_value"),
        InvalidRequestError,
    ),
    (
        401,
        openai_body("Incorrect API key provided", "invalid_request_error", "invalid_api_key"),
        AuthenticationError,
    ),
    (403, openai_body("Project does not have access", "permission_error"), AuthenticationError),
    (
        404,
        openai_body("The model 'nope' does not exist", "invalid_request_error", "model_not_found"),
        NotFoundError,
    ),
    (408, openai_body("Request timed out", "timeout"), ProviderTimeoutError),
    (409, openai_body("Conflict with a concurrent request", "conflict"), InvalidRequestError),
    (422, openai_body("Unprocessable entity", "invalid_request_error"), InvalidRequestError),
    (429, openai_body("Rate limit reached", "rate_limit_error", "rate_limit_exceeded"), RateLimitError),
    (500, openai_body("The server had an error", "server_error"), ProviderError),
    (503, openai_body("The engine is overloaded", "server_error"), ProviderError),
    (
        400,
        openai_body(
            "Your request was rejected by the safety system",
            "invalid_request_error",
            "content_policy_violation",
        ),
        ContentFilterError,
    ),
]


@pytest.mark.parametrize("provider", ["openai", "openresponses"])
@pytest.mark.parametrize(("status", "body", "error"), CASES, ids=[f"{c[0]}-{c[2].__name__}" for c in CASES])
def test_status_and_body_map_onto_the_hierarchy(
    provider: str, status: int, body: dict[str, Any], error: type[AnyLLMError]
) -> None:
    reply = Reply.json(body, status=status, headers={"x-request-id": "req_123"})
    with LoopbackServer(reply) as server, pytest.raises(error) as info:
        responses("m", "hi", provider=provider, api_base=server.url, api_key="k")
    raised = info.value
    assert type(raised) is error
    assert raised.status_code == status
    assert raised.message == body["error"]["message"]
    assert raised.request_id == "req_123"
    assert raised.provider == provider
    assert "req_123" in str(raised) and str(status) in str(raised)


@pytest.mark.parametrize("provider", ["openai", "openresponses"])
@pytest.mark.parametrize(
    ("header", "value", "seconds"), [("retry-after", "7", 7.0), ("retry-after-ms", "1500", 1.5)]
)
def test_rate_limit_keeps_the_retry_after_hint(
    provider: str, header: str, value: str, seconds: float
) -> None:
    reply = Reply.json(openai_body("slow down", "rate_limit_error"), status=429, headers={header: value})
    with LoopbackServer(reply) as server, pytest.raises(RateLimitError) as info:
        responses("m", "hi", provider=provider, api_base=server.url, api_key="k")
    assert info.value.retry_after == pytest.approx(seconds)


def test_rate_limit_without_hint_has_no_retry_after() -> None:
    reply = Reply.json(openai_body("slow down", "rate_limit_error"), status=429)
    with LoopbackServer(reply) as server, pytest.raises(RateLimitError) as info:
        responses("m", "hi", provider="openresponses", api_base=server.url)
    assert info.value.retry_after is None


def test_html_error_page_keeps_a_snippet() -> None:
    reply = Reply(502, b"<html><body><h1>502 Bad Gateway</h1></body></html>", {"content-type": "text/html"})
    with LoopbackServer(reply) as server, pytest.raises(ProviderError) as info:
        responses("m", "hi", provider="openresponses", api_base=server.url)
    assert info.value.status_code == 502
    assert "502 Bad Gateway" in str(info.value)


def test_connection_refused_is_a_connection_error() -> None:
    with LoopbackServer(Reply()) as server:
        url = server.url
    with pytest.raises(ProviderConnectionError):
        responses("m", "hi", provider="openresponses", api_base=url)


@pytest.mark.parametrize("provider", ["openai", "openresponses"])
def test_a_server_that_never_answers_times_out(provider: str) -> None:
    import threading

    release = threading.Event()

    def stall(_seen: Any) -> Reply:
        release.wait(5)
        return Reply.json({})

    with LoopbackServer(stall) as server:
        try:
            with pytest.raises(ProviderTimeoutError):
                responses(
                    "m",
                    "hi",
                    provider=provider,
                    api_base=server.url,
                    api_key="k",
                    client_args={"timeout": 0.3},
                )
        finally:
            release.set()


def test_retries_happen_only_when_asked_and_only_for_retryable_statuses() -> None:
    calls = {"n": 0}

    def flaky(_seen: Any) -> Reply:
        calls["n"] += 1
        if calls["n"] < 3:
            return Reply.json(
                openai_body("overloaded", "server_error"), status=503, headers={"retry-after": "0"}
            )
        from tests.helpers.synth import synth_response

        return Reply.json(synth_response())

    with LoopbackServer(flaky) as server:
        with pytest.raises(ProviderError):
            responses("m", "hi", provider="openresponses", api_base=server.url)
        assert calls["n"] == 1
        result = responses(
            "m", "hi", provider="openresponses", api_base=server.url, client_args={"max_retries": 3}
        )
        assert result.status == "completed"
        assert calls["n"] == 3
    bad = Reply.json(openai_body("bad", "invalid_request_error"), status=400)
    with LoopbackServer(bad) as server:
        with pytest.raises(InvalidRequestError):
            responses(
                "m", "hi", provider="openresponses", api_base=server.url, client_args={"max_retries": 3}
            )
        assert len(server.requests) == 1, "a 400 was retried"


# -- provider error body shapes (as each vendor's API reference documents them) ---------------

DOC_DERIVED_BODIES = [
    # docs.anthropic.com/en/api/errors
    (
        {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}},
        529,
        ProviderError,
        "Overloaded",
    ),
    (
        {"type": "error", "error": {"type": "authentication_error", "message": "invalid x-api-key"}},
        401,
        AuthenticationError,
        "invalid x-api-key",
    ),
    # ai.google.dev/gemini-api/docs/troubleshooting
    (
        {"error": {"code": 400, "message": "API key not valid.", "status": "INVALID_ARGUMENT"}},
        400,
        InvalidRequestError,
        "API key not valid.",
    ),
    (
        {"error": {"code": 429, "message": "Resource has been exhausted", "status": "RESOURCE_EXHAUSTED"}},
        429,
        RateLimitError,
        "Resource has been exhausted",
    ),
    # docs.mistral.ai/api (error object)
    (
        {"object": "error", "message": "Invalid model: nope", "type": "invalid_model", "code": "1500"},
        400,
        InvalidRequestError,
        "Invalid model: nope",
    ),
    # FastAPI-style validation error (llama-cpp-python server, vLLM)
    (
        {"detail": [{"loc": ["body", "messages"], "msg": "field required"}]},
        422,
        InvalidRequestError,
        "field required",
    ),
]


@pytest.mark.parametrize(("body", "status", "error", "message"), DOC_DERIVED_BODIES)
def test_doc_derived_vendor_error_bodies(
    body: Any, status: int, error: type[AnyLLMError], message: str
) -> None:
    import json

    mapped = error_from_http(status, json.dumps(body).encode(), {}, provider="p")
    assert type(mapped) is error
    assert message in mapped.message


def test_retry_after_http_date() -> None:
    import time
    from email.utils import formatdate

    value = parse_retry_after({"retry-after": formatdate(time.time() + 30, usegmt=True)})
    assert value is not None and 25 <= value <= 31


# -- the hierarchy as documented ----------------------------------------------------------------


def test_the_module_docstring_draws_the_real_tree() -> None:
    import re

    import anyllm.errors as errors

    drawn: dict[str, str | None] = {}
    parents: list[str] = []
    root_column: int | None = None
    for line in (errors.__doc__ or "").splitlines():
        match = re.search(r"(?:^\s*|── )([A-Z]\w*Error)\b", line)
        if not match:
            continue
        column = match.start(1)
        root_column = column if root_column is None else root_column
        depth = (column - root_column) // 4
        parents[depth:] = [match.group(1)]
        drawn[match.group(1)] = parents[depth - 1] if depth else None
    classes = {
        name: getattr(errors, name)
        for name in errors.__all__
        if isinstance(getattr(errors, name), type) and issubclass(getattr(errors, name), Exception)
    }
    assert set(drawn) == set(classes)
    for name, parent in drawn.items():
        assert parent is None or classes[name].__bases__[0] is classes[parent], name


def test_every_error_class_says_when_it_is_raised() -> None:
    import anyllm.errors as errors

    for name in errors.__all__:
        cls = getattr(errors, name)
        if isinstance(cls, type) and issubclass(cls, errors.AnyLLMError) and cls is not errors.AnyLLMError:
            assert "raised" in (cls.__doc__ or "").lower(), name


def test_unsupported_parameter_error_ends_with_what_to_do_next() -> None:
    from anyllm.errors import UnsupportedParameterError

    error = UnsupportedParameterError(
        "anthropic cannot express top_logprobs", provider="anthropic", param="top_logprobs"
    )
    text = str(error)
    assert error.message == "anthropic cannot express top_logprobs"  # the provider's own words, unchanged
    assert text.startswith("anthropic cannot express top_logprobs (provider=anthropic)")
    assert text.endswith(error.next_steps())
    assert "drop top_logprobs" in text and "**kwargs" in text and "capabilities" in text
    item = str(UnsupportedParameterError("input[0].role 'x' is not a chat role", param="input[0].role"))
    assert item.endswith("or send this input to a provider whose protocol can carry it.")
