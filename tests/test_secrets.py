"""Secrets never leave the process, and hostile cassettes are refused, never rewritten.

The canary: each provider auth style (``Authorization: Bearer``, ``x-api-key``,
``api-key``, ``x-goog-api-key``, ``?key=``) carries a unique fake key, recorded through the
pytest plugin against a real loopback server. The key must reach the server (or the check
proves nothing) and then appear in no cassette, report, log line, exception message or
repr. Servers answer with doc-derived wire shapes (``tests/helpers/faults.py``).
"""

from __future__ import annotations

import base64
import json
import os
import urllib.parse
import uuid
from collections.abc import Iterator
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

import httpcore2  # noqa: F401 - imported before pytester runs (see tests/test_plugin.py)
import httpx2  # noqa: F401
import pytest
import yaml

import anyllm
from anyllm.errors import AnyLLMError, AuthenticationError
from anyllm.providers import factory as backends
from anyllm.providers.registry import provider_metadata
from tests.helpers.faults import WIRES, Behaviour, Conn, FaultServer, Request, reply

pytest_plugins = ["pytester"]

PLUGIN_ARGS = (
    []
    if any(ep.value == "anyllm.testing.plugin" for ep in entry_points(group="pytest11"))
    else ["-p", "anyllm.testing.plugin"]
)

# auth style -> (provider, protocol)
STYLES: dict[str, tuple[str, str]] = {
    "bearer-openresponses": ("openresponses", "openresponses"),
    "bearer-openai-sdk": ("openai", "openai"),
    "bearer-chat": ("openai_compatible", "chat"),
    "x-api-key": ("anthropic", "anthropic"),
    "api-key": ("azureopenai", "openai"),
    "x-goog-api-key": ("gemini", "gemini"),
}


def canary(style: str) -> str:
    return f"canary-{style}-{uuid.uuid4().hex}"


def forms(secret: str) -> list[str]:
    """The key as it could appear in text: raw, URL-quoted, base64 (three alignments)."""
    raw = secret.encode()
    found = {secret, urllib.parse.quote(secret, safe=""), urllib.parse.quote_plus(secret)}
    for pad in range(3):
        encoded = base64.b64encode(b"\0" * pad + raw).decode()
        found.add(encoded[(0, 2, 3)[pad] : ((pad + len(raw)) // 3) * 4])
    return sorted(f for f in found if len(f) >= 12)


def leaks(text: str, secret: str) -> list[str]:
    return [f for f in forms(secret) if f in text]


def protocol_server(protocol: str) -> Behaviour:
    """A valid reply for any request; 401 (vendor error body) when the prompt says "denied"."""
    wire = WIRES[protocol]
    ok = reply(200, wire.reply)
    denied = reply(401, wire.error_body(401, "Incorrect API key provided"))

    def behaviour(conn: Conn, request: Request) -> None:
        (denied if b"denied" in request.body else ok)(conn, request)

    return behaviour


def run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    # "." : the pytester directory's cases (--provider with no path runs the packaged suites)
    return pytester.runpytest(*PLUGIN_ARGS, "-p", "no:cacheprovider", "-p", "no:asyncio", ".", *args)


def every_file_text(root: Path) -> Iterator[tuple[Path, str]]:
    for path in root.rglob("*"):
        if path.is_file() and "__pycache__" not in path.parts:
            yield path, path.read_bytes().decode("utf-8", "replace")


# -- the canary, through the plugin -----------------------------------------------------------

CANARY_SUITE = """
import os

import httpx2
import pytest

from anyllm.testing.cases import case


@case("canary-basic")
def test_basic(anyllm_client):
    anyllm_client.create("hello", max_output_tokens=16)


@case("canary-denied")
def test_denied(anyllm_client):
    anyllm_client.create("denied", max_output_tokens=16)


@case("canary-query-key")
def test_query_key(anyllm_case, vcr_cassette):
    if anyllm_case.provider != "gemini":
        pytest.skip("the ?key= style is Gemini's")
    key = os.environ["GEMINI_API_KEY"]
    url = anyllm_case.target.api_base + "/models/gemini-doc:generateContent"
    reply = httpx2.post(url, params={"key": key}, json={"contents": [{"parts": [{"text": "hi"}]}]})
    assert reply.status_code == 200
"""


@pytest.mark.parametrize("style", list(STYLES))
def test_canary_key_reaches_the_server_and_nothing_else(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, style: str
) -> None:
    provider, protocol = STYLES[style]
    secret = canary(style)
    env = provider_metadata(provider).api_key_env
    assert env is not None
    monkeypatch.setenv(env, secret)
    pytester.makepyfile(test_canary=CANARY_SUITE)
    with FaultServer(protocol_server(protocol)) as server:
        result = run(
            pytester,
            f"--provider={provider}",
            f"--api-base={provider}={server.url}{WIRES[protocol].base_path}",
            "--record",
            "--conformance-report=rep",
            "-k",
            "not query_key",
            "-o",
            "log_cli=true",
            "--log-cli-level=DEBUG",
            "-rA",
        )
    # The key travelled: in the provider's own header, and only there.
    sent = [name for r in server.requests for name, value in r.headers.items() if secret in value]
    assert sent, "the canary never reached the server: the check below would prove nothing"
    expected = {"authorization"} if style.startswith("bearer") else {style}
    if style == "api-key":
        expected = {"api-key"}  # the key travels once: no bearer header beside it
    assert set(sent) == expected
    # The denied case really failed with the provider's 401 (an exception was printed) ...
    outcomes = result.parseoutcomes()
    assert outcomes.get("failed") == 1 and "AuthenticationError" in result.stdout.str()
    # ... and no output line, log line, cassette or report holds the key in any form.
    output = "\n".join(result.outlines + result.errlines)
    assert "HTTP Request" in output or "DEBUG" in output, "log lines were not shown"
    assert leaks(output, secret) == []
    cassettes = list((pytester.path / "cassettes" / provider).glob("*.yaml"))
    assert {p.stem for p in cassettes} >= {"canary-basic", "canary-denied"}
    for path, text in every_file_text(pytester.path):
        assert leaks(text, secret) == [], f"{path.relative_to(pytester.path)} holds the key"
    assert "<REDACTED>" in (pytester.path / "cassettes" / provider / "canary-basic.yaml").read_text()
    assert (pytester.path / "rep.json").is_file() and (pytester.path / "rep.html").is_file()


def _query_key_run(
    pytester: pytest.Pytester, secret: str, *args: str
) -> tuple[pytest.RunResult, FaultServer]:
    pytester.makepyfile(test_canary=CANARY_SUITE)
    with FaultServer(protocol_server("gemini")) as server:
        result = run(
            pytester,
            "--provider=gemini",
            f"--api-base=gemini={server.url}/v1beta",
            "--record",
            "-k",
            "query_key",
            "--conformance-report=rep",
            *args,
        )
    result.assert_outcomes(passed=1)
    assert [r.path for r in server.requests if secret in r.path], "the canary never reached the server"
    return result, server


def test_canary_in_the_query_string_is_scrubbed(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret = canary("query")
    monkeypatch.setenv("GEMINI_API_KEY", secret)
    _query_key_run(pytester, secret)
    for path, text in every_file_text(pytester.path):
        assert leaks(text, secret) == [], f"{path.relative_to(pytester.path)} holds the key"
    recorded = yaml.safe_load((pytester.path / "cassettes" / "gemini" / "canary-query-key.yaml").read_text())
    uri = recorded["interactions"][0]["request"]["uri"]
    assert "key=%3CREDACTED%3E" in uri or "key=<REDACTED>" in uri


def test_canary_in_the_query_string_stays_out_of_log_lines(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret = canary("query-log")
    monkeypatch.setenv("GEMINI_API_KEY", secret)
    result, _ = _query_key_run(pytester, secret, "-o", "log_cli=true", "--log-cli-level=DEBUG")
    output = "\n".join(result.outlines + result.errlines)
    assert "HTTP Request" in output, "log lines were not shown"
    assert leaks(output, secret) == []


CAPLOG_SUITE = """
import base64
import logging
import os
import urllib.parse

import httpx2

from anyllm.testing.cases import case


@case("caplog-query-key")
def test_query_key_in_caplog(anyllm_case, vcr_cassette, caplog):
    caplog.set_level(logging.DEBUG)
    key = os.environ["GEMINI_API_KEY"]
    url = anyllm_case.target.api_base + "/models/gemini-doc:generateContent"
    reply = httpx2.post(url, params={"key": key}, json={"contents": [{"parts": [{"text": "hi"}]}]})
    assert reply.status_code == 200
    # Any library, any logger, the key as an argument, URL-quoted or base64: all redacted.
    logging.getLogger("some.library.child").debug("retrying %s as %s", url + "?alt=sse&key=" + key, key)
    encoded = (urllib.parse.quote(key), base64.b64encode(key.encode()))
    logging.getLogger("other").warning("auth %s / %s", *encoded)
    text = caplog.text + "\\n".join(r.getMessage() for r in caplog.records)
    assert "HTTP Request" in text and "retrying" in text and "auth" in text, text
    assert key not in text and base64.b64encode(key.encode()).decode()[:-4] not in text, text
    assert "key=<REDACTED>" in text and "as <REDACTED>" in text, text
"""


def test_caplog_at_debug_sees_no_key(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    """The plugin's log filter works on caplog's records (what a test inspects and what pytest
    prints for it), for the request loggers and for any other logger alike."""
    secret = canary("caplog")
    monkeypatch.setenv("GEMINI_API_KEY", secret)
    pytester.makepyfile(test_caplog=CAPLOG_SUITE)
    with FaultServer(protocol_server("gemini")) as server:
        base = f"--api-base=gemini={server.url}/v1beta"
        result = run(pytester, "--provider=gemini", base, "--record", "-rA")
    result.assert_outcomes(passed=1)
    assert [r.path for r in server.requests if secret in r.path], "the canary never reached the server"
    output = "\n".join(result.outlines + result.errlines)
    assert "Captured log call" in output and "HTTP Request" in output, "log lines were not shown"
    assert leaks(output, secret) == []


def test_the_log_filter_redacts_and_comes_off(monkeypatch: pytest.MonkeyPatch) -> None:
    """In-process: installed on a logger it rewrites that logger's records; on a handler,
    every record reaching it; removed, it is gone from both."""
    import logging

    from anyllm.testing.log_scrub import install

    secret = canary("filter")
    monkeypatch.setenv("OPENAI_API_KEY", secret)
    seen: list[str] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            seen.append(self.format(record))

    handler = Keep(logging.DEBUG)
    child = logging.getLogger("anyllm-test.child")
    child.setLevel(logging.DEBUG)
    child.addHandler(handler)
    child.propagate = False
    installed = install([handler])
    try:
        child.debug("GET %s", f"https://h/x?key={secret}&alt=sse")
        child.info("sent %r", {"Authorization": f"Bearer {secret}"})
        try:
            raise ValueError(f"bad key {secret}")
        except ValueError:
            child.exception("failed")
        logging.getLogger("httpx2").handle(
            logging.LogRecord("httpx2", logging.INFO, __file__, 1, "HTTP Request: %s", (secret,), None)
        )
    finally:
        installed.remove()
        child.removeHandler(handler)
    assert len(seen) == 3 and all(leaks(text, secret) == [] for text in seen), seen
    assert "key=<REDACTED>&alt=sse" in seen[0] and "Bearer <REDACTED>" in seen[1]
    assert "bad key <REDACTED>" in seen[2]
    assert not handler.filters and installed.filter not in logging.getLogger("httpx2").filters
    child.addHandler(handler)
    try:
        child.debug("GET %s", f"https://h/x?key={secret}")
    finally:
        child.removeHandler(handler)
    assert secret in seen[-1], "the filter stayed installed"


# -- the canary, in-process: exceptions and reprs ------------------------------------------------

# Objects a user (or a pytest traceback with its reprs) gets to see. Each known leak is a
# strict xfail naming the file to fix; it turns into a failure once fixed, to be removed.
REPR_LEAKS: dict[str, str] = {}  # none known (ClientConfig hides its key since d83b334)


@pytest.mark.parametrize("what", ["exception", "backend", "config"])
@pytest.mark.parametrize("style", list(STYLES))
def test_canary_in_no_exception_message_or_repr(
    style: str, what: str, request: pytest.FixtureRequest
) -> None:
    if what in REPR_LEAKS:  # strict: the test still runs, and passing fails the run
        request.node.add_marker(pytest.mark.xfail(strict=True, reason=REPR_LEAKS[what]))
    provider, protocol = STYLES[style]
    secret = canary(style)
    wire = WIRES[protocol]
    with FaultServer(protocol_server(protocol)) as server:
        with pytest.raises(AuthenticationError) as info:
            anyllm.responses(
                "m", "denied", provider=provider, api_base=server.url + wire.base_path, api_key=secret
            )
        assert any(secret in v for r in server.requests for v in r.headers.values())
    backend = next(iter(backends._CACHE.values()))
    error: AnyLLMError = info.value
    seen = {
        "exception": f"{error} {error!r} {error.message} {error.body!r} {error.args!r}",
        "backend": repr(backend) + repr(getattr(backend, "transport", None)),
        "config": repr(backend.config),
    }[what]
    assert leaks(seen, secret) == []


def test_the_target_repr_hides_the_key() -> None:
    """The harness's Target is printed by pytest in tracebacks of failing cases."""
    from anyllm.testing.harness import Target

    secret = canary("target")
    meta = provider_metadata("openresponses")
    target = Target("openresponses", meta, "m", "http://127.0.0.1:9/v1", secret, False, "openresponses")
    assert leaks(repr(target), secret) == []


# -- hostile cassettes --------------------------------------------------------------------------

HOSTILE_SUITE = """
from anyllm.testing.cases import case


@case("hostile-basic")
def test_basic(anyllm_client):
    anyllm_client.create("hello", max_output_tokens=16)
"""


def _record_one(pytester: pytest.Pytester, prompt: str = "hello") -> Path:
    """Record ``hostile-basic`` for openresponses against a loopback server; the cassette path."""
    pytester.makepyfile(test_hostile=HOSTILE_SUITE.replace('"hello"', json.dumps(prompt)))
    with FaultServer(protocol_server("openresponses")) as server:
        run(pytester, "--provider=openresponses", f"--api-base=openresponses={server.url}/v1", "--record")
    path = pytester.path / "cassettes" / "openresponses" / "hostile-basic.yaml"
    assert path.is_file()
    return path


def _replay(pytester: pytest.Pytester, *args: str) -> tuple[pytest.RunResult, dict[str, Any]]:
    result = run(pytester, "--provider=openresponses", "--conformance-report=rep", *args)
    report = json.loads((pytester.path / "rep.json").read_text())
    rows = {r["case"]: r for r in report["results"] if r["provider"] == "openresponses"}
    return result, rows["hostile-basic"]


def _unchanged(path: Path, before: bytes, mtime: int) -> None:
    assert path.read_bytes() == before, f"{path.name} was rewritten"
    assert path.stat().st_mtime_ns == mtime, f"{path.name} was touched"


CORRUPT = b"interactions:\n- request: {body: [unclosed\n  response: : :\n\t- tab\n"


@pytest.mark.parametrize("mode", ["none", "once", "new_episodes"])
def test_a_corrupt_cassette_fails_the_case_and_is_never_rewritten(
    pytester: pytest.Pytester, mode: str
) -> None:
    path = _record_one(pytester)
    path.write_bytes(CORRUPT)
    mtime = path.stat().st_mtime_ns
    with FaultServer(protocol_server("openresponses")) as server:
        _, row = _replay(pytester, f"--record-mode={mode}", f"--api-base=openresponses={server.url}/v1")
        assert server.requests == [], "a corrupt cassette was taken as a reason to go live"
    assert row["verdict"] == "failed"
    _unchanged(path, CORRUPT, mtime)
    assert not [p for p in path.parent.iterdir() if p.name.endswith(".tmp")]


def test_a_corrupt_cassette_error_names_the_file(pytester: pytest.Pytester) -> None:
    path = _record_one(pytester)
    path.write_bytes(CORRUPT)
    result, row = _replay(pytester)
    assert row["verdict"] == "failed" and row["rules"] == ["CASSETTE-CORRUPT"], row
    output = "\n".join(result.outlines + result.errlines)
    assert "hostile-basic.yaml" in output and "not valid YAML" in output and "line 3, column 11" in output
    assert "hostile-basic.yaml" in row["reason"] and "<unicode string>" not in output


UNREADABLE = {
    "not-utf8": b"interactions: []\nmetadata: {model: \xff\xfe}\n",  # vcrpy alone: "empty", re-recorded
    "empty": b"  \n",  # vcrpy alone: missing, re-recorded
    "not-a-cassette": b"interactions: 5\n",
    "a-list": b"- 1\n- 2\n",
}


@pytest.mark.parametrize("kind", list(UNREADABLE))
def test_an_unreadable_cassette_is_refused_not_re_recorded(pytester: pytest.Pytester, kind: str) -> None:
    path = _record_one(pytester)
    content = UNREADABLE[kind]
    path.write_bytes(content)
    mtime = path.stat().st_mtime_ns
    with FaultServer(protocol_server("openresponses")) as server:
        result, row = _replay(pytester, "--record-mode=once", f"--api-base=openresponses={server.url}/v1")
        assert server.requests == [], "an unreadable cassette was taken as a reason to go live"
    assert row["verdict"] == "failed" and row["rules"] == ["CASSETTE-CORRUPT"], row
    assert "hostile-basic.yaml" in result.stdout.str()
    _unchanged(path, content, mtime)


def test_corrupt_yaml_is_replaced_only_by_rewrite(pytester: pytest.Pytester) -> None:
    path = _record_one(pytester)
    path.write_bytes(CORRUPT)
    with FaultServer(protocol_server("openresponses")) as server:
        result, row = _replay(pytester, "--record-mode=rewrite", f"--api-base=openresponses={server.url}/v1")
        assert len(server.requests) == 1
    assert row["verdict"] == "passed", result.stdout.str()[-2000:]
    assert yaml.safe_load(path.read_text())["interactions"]


def _planted(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, bytes, str]:
    """A recorded cassette with a live key's value planted in its body, the key in the env."""
    path = _record_one(pytester)
    secret = canary("planted")
    planted = path.read_text().replace("Hello", secret).encode()
    assert secret.encode() in planted
    path.write_bytes(planted)
    monkeypatch.setenv("OPENRESPONSES_API_KEY", secret)
    return path, planted, secret


def test_a_cassette_with_a_planted_key_is_left_alone_and_not_printed(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    path, planted, secret = _planted(pytester, monkeypatch)
    mtime = path.stat().st_mtime_ns
    for mode in ("none", "once", "new_episodes"):
        result, _ = _replay(pytester, f"--record-mode={mode}")
        assert leaks("\n".join(result.outlines + result.errlines), secret) == [], "the key was printed"
        _unchanged(path, planted, mtime)
    for report in pytester.path.glob("rep.*"):
        assert leaks(report.read_text(), secret) == [], f"{report.name} holds the key"


def test_a_cassette_with_a_planted_key_is_refused_naming_the_file(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, _, secret = _planted(pytester, monkeypatch)
    result, row = _replay(pytester)
    assert row["verdict"] == "failed" and "CASSETTE-SECRET" in row["rules"]
    output = "\n".join(result.outlines + result.errlines)
    assert "hostile-basic.yaml" in output and "OPENRESPONSES_API_KEY" in output
    assert leaks(output + json.dumps(row), secret) == []


@pytest.mark.parametrize("encode", ["url", "base64"])
def test_a_cassette_with_an_encoded_planted_key_is_refused(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, encode: str
) -> None:
    path = _record_one(pytester)
    secret = canary("planted") + "/+="  # characters that URL-quoting changes
    encoded = (
        urllib.parse.quote(secret, safe="")
        if encode == "url"
        else base64.b64encode(b"user:" + secret.encode()).decode()
    )
    path.write_text(path.read_text().replace("Hello", encoded))
    monkeypatch.setenv("OPENRESPONSES_API_KEY", secret)
    result, row = _replay(pytester)
    assert row["verdict"] == "failed" and row["rules"] == ["CASSETTE-SECRET"], row
    assert "OPENRESPONSES_API_KEY" in result.stdout.str()


def test_a_cassette_for_another_request_names_file_and_difference(pytester: pytest.Pytester) -> None:
    path = _record_one(pytester, prompt="hello")
    before, mtime = path.read_bytes(), path.stat().st_mtime_ns
    pytester.makepyfile(test_hostile=HOSTILE_SUITE.replace('"hello"', '"goodbye"'))
    result, row = _replay(pytester)
    assert row["verdict"] == "failed" and row["rules"] == ["CASSETTE-MISMATCH"]
    output = result.stdout.str()
    assert "hostile-basic.yaml" in output and "$.input" in output
    _unchanged(path, before, mtime)


def test_record_once_over_an_existing_cassette_changes_nothing(pytester: pytest.Pytester) -> None:
    path = _record_one(pytester, prompt="hello")
    before, mtime = path.read_bytes(), path.stat().st_mtime_ns
    pytester.makepyfile(test_hostile=HOSTILE_SUITE.replace('"hello"', '"goodbye"'))
    with FaultServer(protocol_server("openresponses")) as server:
        _, row = _replay(pytester, "--record", f"--api-base=openresponses={server.url}/v1")
        assert server.requests == [], "record mode once went live although the cassette exists"
    assert row["verdict"] == "failed"
    _unchanged(path, before, mtime)


@pytest.fixture(autouse=True)
def _no_inherited_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    """Real keys in the developer's environment must not mix with the canaries."""
    for name in list(os.environ):
        if name.endswith(("_API_KEY", "_TOKEN")):
            monkeypatch.delenv(name, raising=False)
