"""What a conformance case talks to: a provider target, a validating client, and the
collector of violations that becomes the case's verdict.

Every response and every streamed event a case receives goes through the validator
(:mod:`anyllm.testing.validate`); the case's own expectations (``expect``) become
violations too, under ``CASE-*`` rule ids, so baselines and reports treat both alike.

For providers that speak Responses natively (:data:`NATIVE_PROTOCOLS`) the wire itself is
judged as well (:meth:`CaseValidator.check_wire`): the request bodies sent and the raw
replies, SSE framing included, from the cassette. The typed view cannot see framing
(``event:`` names, ``[DONE]``, ``id:``, Content-Type) nor anything after an event the
library refused, and a server is answerable for every byte it sent.
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import inspect
import json
from collections import Counter
from collections.abc import AsyncIterator, Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from anyllm.errors import AnyLLMError
from anyllm.providers.registry import ProviderMetadata
from anyllm.testing.rules import Profile
from anyllm.testing.validate import (
    StreamValidator,
    Violation,
    validate_compact,
    validate_request,
    validate_response,
    validate_stream,
)
from anyllm.testing.validate.compact_rules import is_compact_path
from anyllm.testing.wire_view import Refusal, WireFallback, attribute, collect_event, last_reply

if TYPE_CHECKING:
    from anyllm.testing.ws_client import CaseWebSocket, Compaction

__all__ = [
    "NATIVE_PROTOCOLS",
    "CaseValidator",
    "ConformanceClient",
    "StreamResult",
    "Target",
    "WireExchange",
    "as_dict",
    "function_calls",
    "judge_exchange",
    "output_text",
]

CASE_SECTION = "conformance case"
# Protocols whose wire is Responses itself: there the wire is what the spec judges.
NATIVE_PROTOCOLS = frozenset({"openresponses", "openai"})


@dataclass(frozen=True)
class Target:
    """One provider as the suite runs it: where, which model, judged by which profile."""

    provider: str
    metadata: ProviderMetadata
    model: str
    api_base: str
    # Hidden from repr: pytest prints a failing case's arguments, and a Target is one of them.
    api_key: str | None = field(repr=False)
    live: bool
    profile: Profile


def as_dict(obj: Any) -> dict[str, Any]:
    """A typed response or event as the JSON it stands for."""
    if isinstance(obj, dict):
        return obj
    dump = getattr(obj, "model_dump", None)
    if callable(dump):
        value = dump(mode="json", exclude_unset=True, by_alias=True)
        if isinstance(value, dict):
            return value
    raise TypeError(f"not a response or event: {type(obj).__name__}")


def output_text(response: Any) -> str:
    """All output_text of all message items, joined."""
    parts: list[str] = []
    for item in as_dict(response).get("output") or []:
        if item.get("type") == "message":
            parts.extend(
                str(c.get("text", "")) for c in item.get("content") or [] if c.get("type") == "output_text"
            )
    return "".join(parts)


def function_calls(response: Any) -> list[dict[str, Any]]:
    return [item for item in as_dict(response).get("output") or [] if item.get("type") == "function_call"]


@dataclass(frozen=True)
class WireExchange:
    """One HTTP exchange as it crossed the wire (as the cassette holds it: secrets scrubbed,
    compression undone, bytes otherwise untouched)."""

    number: int  # 1-based, in the order the case made its requests
    method: str
    path: str
    request_body: bytes | str
    status: int
    headers: Mapping[str, str]  # lower-case names
    body: bytes | str

    @property
    def creates_response(self) -> bool:
        """``POST {api_base}/responses``: the one endpoint the cases exercise."""
        return self.method.upper() == "POST" and self.path.rstrip("/").rsplit("/", 1)[-1] == "responses"

    @property
    def content_type(self) -> str:
        """The reply's Content-Type; "" when the server sent none (which the rules flag)."""
        return self.headers.get("content-type", "")

    def request_json(self) -> Any:
        try:
            return json.loads(self.request_body)
        except (ValueError, TypeError):
            return None


def _sse_events(body: bytes | str) -> int:
    from anyllm.testing.sse import split_sse

    return len(split_sse(body)[0])


def judge_exchange(exchange: WireExchange, profile: Profile) -> tuple[list[Violation], int]:
    """The violations of one wire exchange and the number of SSE events it carried.

    A reply with status >= 400 is judged by the error-body rules only, and only when it is an
    error body (``{"error": ...}``): whether an error was the right answer is the case's
    call (``expect_error``), and a request the server refused may be bad on purpose.
    Otherwise the request body is checked against CreateResponseBody, and the reply as a
    whole SSE stream (when the request asked for one) or as a JSON ResponseResource, with
    its Content-Type and the request it answers.
    """
    where = f"wire #{exchange.number} {exchange.method} {exchange.path} -> {exchange.status}"
    if exchange.method.upper() == "POST" and is_compact_path(exchange.path):
        return _judge_compact(exchange, profile, where), 0
    if not exchange.creates_response:
        return [], 0
    request = exchange.request_json()
    if exchange.status >= 400:
        try:
            body = json.loads(exchange.body)
        except (ValueError, TypeError):
            return [], 0
        if not (isinstance(body, dict) and "error" in body):
            return [], 0
        found = validate_response(body, profile, content_type=exchange.content_type, status=exchange.status)
        return _tagged(found, f"{where}, error body"), 0
    out = _tagged(validate_request(exchange.request_body, profile), f"wire #{exchange.number} request")
    if isinstance(request, dict) and request.get("stream") is True:
        found = validate_stream(exchange.body, profile, request=request, content_type=exchange.content_type)
        return out + _tagged(found, f"{where}, SSE"), _sse_events(exchange.body)
    found = validate_response(
        exchange.body, profile, request=request, content_type=exchange.content_type, status=exchange.status
    )
    return out + _tagged(found, where), 0


def _judge_compact(exchange: WireExchange, profile: Profile, where: str) -> list[Violation]:
    """A /responses/compact exchange: its reply (a CompactResource, or an error body)."""
    if exchange.status >= 400:
        try:
            body = json.loads(exchange.body)
        except (ValueError, TypeError):
            return []
        if not (isinstance(body, dict) and "error" in body):
            return []
    found = validate_compact(
        exchange.body, profile, content_type=exchange.content_type, status=exchange.status
    )
    return _tagged(found, where)


def _tagged(violations: list[Violation], where: str) -> list[Violation]:
    """Say which exchange a finding is about (the path stays a plain JSON path)."""
    return [dataclasses.replace(v, message=f"[{where}] {v.message}") for v in violations]


class CaseValidator:
    """Collects the violations of one case (validator findings and the case's own checks)."""

    def __init__(self, profile: Profile, case_id: str = "") -> None:
        self.profile = profile
        self.case_id = case_id
        self.violations: list[Violation] = []
        self.responses = 0
        self.events = 0
        # Set for native Responses providers: the plugin judges the wire after the case ran.
        self.wire_judged = False
        self.exchanges = 0
        self.wire_events = 0
        self._open: list[StreamValidator] = []
        # The case's WebSocketValidator, made by its first WebSocket connection or compaction
        # (anyllm.testing.ws_client).
        self.websocket: Any = None
        # The exchanges the case made so far (set by the plugin for native providers): when
        # the client refuses a reply, the case goes on with what arrived (wire_view).
        self.wire_source: Callable[[], list[WireExchange]] | None = None
        self.refusals: list[Refusal] = []
        self.wire_findings: dict[int, list[Violation]] = {}  # exchange number -> its wire findings

    def check_response(self, obj: Any, *, request: Any = None, status: int | None = None) -> list[Violation]:
        found = validate_response(as_dict(obj), self.profile, request=request, status=status)
        self.responses += 1
        self.violations.extend(found)
        return found

    def stream_validator(self, *, request: Any = None) -> StreamValidator:
        validator = StreamValidator(self.profile, request=request)
        self._open.append(validator)
        return validator

    def feed(self, validator: StreamValidator, event: Any) -> None:
        self.events += 1
        self.violations.extend(validator.feed(as_dict(event)))

    def finish(self, validator: StreamValidator) -> None:
        """The stream ended: the end-of-stream rules run (terminal event, items closed, ...)."""
        before = len(validator.violations)
        validator.finish()
        self.violations.extend(validator.violations[before:])
        if validator in self._open:
            self._open.remove(validator)

    def abandon(self, validator: StreamValidator) -> None:
        """The case closed the stream early on purpose: end-of-stream rules do not apply."""
        if validator in self._open:
            self._open.remove(validator)

    def check_wire(self, exchanges: Iterable[WireExchange]) -> list[Violation]:
        """Judge the exchanges the case made, on the wire; add and return what is new.

        A wire finding with the same (rule, path) as one already collected from the typed
        view is the same problem seen twice and is not added again (counted as a multiset,
        so a case with two broken replies keeps both).
        """
        seen = Counter((v.rule, v.path) for v in self.violations)
        added: list[Violation] = []
        for exchange in exchanges:
            found, events = judge_exchange(exchange, self.profile)
            self.wire_findings[exchange.number] = found
            if exchange.creates_response:
                self.exchanges += 1
                self.wire_events += events
            for violation in found:
                key = (violation.rule, violation.path)
                if seen[key] > 0:
                    seen[key] -= 1
                else:
                    added.append(violation)
        self.violations.extend(added)
        return added

    def end_stream(self, validator: StreamValidator, error: AnyLLMError | None) -> None:
        """A consumed stream ended. When the library gave up on it (``error``) and the wire is
        judged, the library's truncated view says nothing about how the server ended the
        stream (the wire does): its end-of-stream rules are not run."""
        if error is not None and self.wire_judged:
            self.abandon(validator)
        else:
            self.finish(validator)

    def expect(self, condition: object, rule: str, message: str, path: str = "$") -> bool:
        """A case's own check; a failure is a violation ``rule`` (``CASE-*``), not an exception,
        so the case goes on and the report shows every problem at once."""
        if not condition:
            self.violations.append(Violation(rule, "error", path, message, f"{CASE_SECTION} {self.case_id}"))
        return bool(condition)

    def errors(self) -> list[Violation]:
        return [v for v in self.violations if v.severity == "error"]

    def findings(self) -> list[Violation]:
        """The errors that are findings of their own (not consequences of another)."""
        return [v for v in self.violations if v.severity == "error" and v.cause is None]

    def consequences(self) -> list[Violation]:
        """The errors that only follow from another finding (see :mod:`anyllm.testing.wire_view`)."""
        return [v for v in self.violations if v.severity == "error" and v.cause is not None]

    def wire_reply(self) -> WireExchange | None:
        """The reply the client just read, as it crossed the wire (native providers only)."""
        if not self.wire_judged or self.wire_source is None:
            return None
        return last_reply(self.wire_source())

    def refused(self, error: BaseException, exchange: WireExchange, event: int | None) -> None:
        """anyllm's client refused ``exchange`` (at stream event ``event``)."""
        self.refusals.append(Refusal(exchange.number, event, error))

    def attribute(self, exc: BaseException | None = None) -> str | None:
        """After the wire was judged: mark what only follows from a refused reply (returns
        what ``exc``, the exception that ended the case, follows from, if it does)."""
        self.violations, cause = attribute(self.violations, self.refusals, self.wire_findings, exc)
        return cause


@dataclass
class StreamResult:
    """A consumed stream: every event as JSON, and the response of its terminal event."""

    events: list[dict[str, Any]] = field(default_factory=list)
    final: dict[str, Any] | None = None
    terminal: str | None = None
    error: AnyLLMError | None = None
    from_wire: bool = False  # the client refused the stream: ``events`` are the wire's (wire_view)

    @property
    def types(self) -> list[str]:
        return [str(e.get("type")) for e in self.events]

    def text(self) -> str:
        return "".join(
            str(e.get("delta", "")) for e in self.events if e.get("type") == "response.output_text.delta"
        )


# Keyword arguments of responses() that choose where and how to call, not what to send.
_CALL_ARGUMENTS = frozenset({"model", "provider", "api_key", "api_base", "client_args"})


@functools.cache
def _named_arguments() -> frozenset[str]:
    """The keywords ``responses()`` names (checked); any other keyword goes into the body as is."""
    import anyllm

    return frozenset(inspect.signature(anyllm.responses).parameters)


class ConformanceClient(WireFallback):
    """``anyllm.responses()`` bound to one target, validating everything it receives."""

    def __init__(self, target: Target, validator: CaseValidator) -> None:
        self.target = target
        self.validator = validator

    @property
    def provider(self) -> str:
        return self.target.provider

    @property
    def model(self) -> str:
        return self.target.model

    @property
    def metadata(self) -> ProviderMetadata:
        return self.target.metadata

    def _kwargs(self, params: dict[str, Any]) -> dict[str, Any]:
        out = {"provider": self.target.provider, "api_base": self.target.api_base, **params}
        if self.target.api_key is not None and "api_key" not in params:
            out["api_key"] = self.target.api_key
        return out

    def _request(self, input_data: Any, params: dict[str, Any], *, stream: bool = False) -> dict[str, Any]:
        """The request body ``responses()`` sends for these arguments, as JSON: built by the
        library's own builder, so the validator compares the reply with what really went out."""
        from anyllm.api import build_request
        from anyllm.request import ResponsesRequest

        sent = {k: v for k, v in params.items() if k not in _CALL_ARGUMENTS}
        named = {k: v for k, v in sent.items() if k in _named_arguments()}
        extra = {k: v for k, v in sent.items() if k not in named}
        body = build_request(params.get("model", self.target.model), input_data, named, extra)
        wire = ResponsesRequest(body, stream=stream).wire_body()
        return json.loads(json.dumps(wire, default=str))  # type: ignore[no-any-return]

    # -- non-streaming ---------------------------------------------------------------------

    def create(self, input_data: Any, **params: Any) -> dict[str, Any]:
        """One response, validated; returned as JSON."""
        import anyllm

        model = params.pop("model", self.target.model)
        try:
            response = anyllm.responses(model, input_data, **self._kwargs(params))
        except AnyLLMError as exc:
            return self._arrived(exc)
        self.validator.check_response(response, request=self._request(input_data, {**params, "model": model}))
        return as_dict(response)

    async def acreate(self, input_data: Any, **params: Any) -> dict[str, Any]:
        import anyllm

        model = params.pop("model", self.target.model)
        try:
            response = await anyllm.aresponses(model, input_data, **self._kwargs(params))
        except AnyLLMError as exc:
            return self._arrived(exc)
        self.validator.check_response(response, request=self._request(input_data, {**params, "model": model}))
        return as_dict(response)

    def expect_error(self, input_data: Any, **params: Any) -> AnyLLMError | None:
        """The call must fail with a typed error; its body (if any) is validated as an error body."""
        import anyllm

        model = params.pop("model", self.target.model)
        try:
            response = anyllm.responses(model, input_data, **self._kwargs(params))
        except AnyLLMError as exc:
            reply = self.validator.wire_reply()
            if reply is not None and reply.status < 400:  # accepted, with a reply the client refused
                self.validator.expect(
                    False,
                    "CASE-ERROR-EXPECTED",
                    f"the provider accepted a request it should reject: it answered {reply.status} "
                    f"(with a reply anyllm refused: {str(exc).split(': ', 1)[0][:160]})",
                )
                return None
            # The spec's error body is what a Responses server sends: a translated provider's
            # error is in its own protocol (Anthropic's has no code or param) and is not judged.
            native = self.target.metadata.protocol in NATIVE_PROTOCOLS
            if native and isinstance(exc.body, dict) and "error" in exc.body:
                self.validator.check_response(exc.body, status=exc.status_code)
            return exc
        self.validator.check_response(response, request=self._request(input_data, {**params, "model": model}))
        self.validator.expect(
            False, "CASE-ERROR-EXPECTED", "the provider accepted a request it should reject"
        )
        return None

    # -- streaming -------------------------------------------------------------------------

    def stream(self, input_data: Any, **params: Any) -> StreamResult:
        """Consume a whole stream, validating each event as it arrives and the end of it."""
        import anyllm

        model = params.pop("model", self.target.model)
        request = self._request(input_data, {**params, "model": model}, stream=True)
        events = anyllm.responses(model, input_data, stream=True, **self._kwargs(params))
        validator = self.validator.stream_validator(request=request)
        result = StreamResult()
        try:
            for event in events:
                self._take(result, validator, event)
        except AnyLLMError as exc:
            result.error = exc
            self._refused_stream(result, exc)
        self.validator.end_stream(validator, result.error)
        return result

    async def astream(self, input_data: Any, **params: Any) -> StreamResult:
        import anyllm

        model = params.pop("model", self.target.model)
        request = self._request(input_data, {**params, "model": model}, stream=True)
        events = await anyllm.aresponses(model, input_data, stream=True, **self._kwargs(params))
        validator = self.validator.stream_validator(request=request)
        result = StreamResult()
        try:
            async for event in events:
                self._take(result, validator, event)
        except AnyLLMError as exc:
            result.error = exc
            self._refused_stream(result, exc)
        self.validator.end_stream(validator, result.error)
        return result

    # -- the WebSocket transport and compaction (anyllm.testing.ws_client) -----------------

    def websocket(self) -> CaseWebSocket:
        """One WebSocket connection to the target: ``with client.websocket() as ws:``, then
        ``ws.turn(input, **params)``; recorded or replayed with the case's cassette and
        judged on the wire."""
        from anyllm.testing.ws_client import CaseWebSocket

        return CaseWebSocket(self)

    def compact(self, input_data: Any = None, **params: Any) -> Compaction | AnyLLMError:
        """``anyllm.compact()`` against the target, validated: the reply and the window as
        input items, or the typed error it failed with."""
        from anyllm.testing.ws_client import run_compact

        return run_compact(self, input_data, params)

    def stream_prefix(self, input_data: Any, count: int, **params: Any) -> StreamResult:
        """Read ``count`` events, then close the stream early (the events read are validated)."""
        import anyllm

        model = params.pop("model", self.target.model)
        request = self._request(input_data, {**params, "model": model}, stream=True)
        events: Iterator[Any] = anyllm.responses(model, input_data, stream=True, **self._kwargs(params))
        validator = self.validator.stream_validator(request=request)
        result = StreamResult()
        try:
            for event in events:
                self._take(result, validator, event)
                if len(result.events) >= count:
                    break
        except AnyLLMError as exc:
            self._prefix_refused(result, exc, count)
        close = getattr(events, "close", None)
        if close is not None:
            close()
        self.validator.abandon(validator)
        return result

    async def astream_prefix(self, input_data: Any, count: int, **params: Any) -> StreamResult:
        import anyllm

        model = params.pop("model", self.target.model)
        request = self._request(input_data, {**params, "model": model}, stream=True)
        events: AsyncIterator[Any] = await anyllm.aresponses(
            model, input_data, stream=True, **self._kwargs(params)
        )
        validator = self.validator.stream_validator(request=request)
        result = StreamResult()
        try:
            async for event in events:
                self._take(result, validator, event)
                if len(result.events) >= count:
                    break
        except AnyLLMError as exc:
            self._prefix_refused(result, exc, count)
        aclose = getattr(events, "aclose", None)
        if aclose is not None:
            await aclose()
        self.validator.abandon(validator)
        return result

    def _take(self, result: StreamResult, validator: StreamValidator, event: Any) -> None:
        self.validator.feed(validator, event)
        collect_event(result, as_dict(event))


def run_async(coroutine: Any) -> Any:
    """Run an async case body without depending on an asyncio pytest plugin."""
    return asyncio.run(coroutine)
