"""A server that echoes the key back (issue 13, items 2, 4 and 18): in an error body, a
reply, streamed deltas (whole or in pieces), headers; plain, JSON-escaped or base64.

Against real loopback servers (``tests.helpers.canaries.echo_behaviour``, doc-derived wire
shapes), through the real clients and the real cassette. What a recording shows its client
is what the cassette holds, scrubbed; a key split across deltas is cut out of every
fragment; pytest's tracebacks with ``--tb=long``/``-l`` and the reports hold no key; a
certificate keeps no password.
"""

from __future__ import annotations

import argparse
import json
import os
from collections.abc import Iterator
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

import httpcore2  # noqa: F401 - imported before pytester runs (see tests/test_plugin.py)
import httpx2
import pytest
import yaml

import anyllm
from anyllm.errors import AuthenticationError
from anyllm.providers.factory import clear_backends
from anyllm.testing.cassettes import CassetteSettings, use_cassette
from anyllm.testing.cassettes.secrets import scrub_response
from tests.helpers.canaries import (
    BASE_PATHS,
    KEY_VARIABLES,
    STYLES,
    canary,
    echo_behaviour,
    scan_cassette,
    scan_text,
)
from tests.helpers.faults import FaultServer

pytest_plugins = ["pytester"]

PLUGIN_ARGS = (
    []
    if any(ep.value == "anyllm.testing.plugin" for ep in entry_points(group="pytest11"))
    else ["-p", "anyllm.testing.plugin"]
)


@pytest.fixture(autouse=True)
def _no_inherited_keys(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Real keys in the developer's environment must not mix with the canaries."""
    for name in list(os.environ):
        if name.endswith(("_API_KEY", "_TOKEN")):
            monkeypatch.delenv(name, raising=False)
    clear_backends()
    yield
    clear_backends()


def _record(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, style: str, prompt: str, *, stream: bool
) -> tuple[Any, str, Path]:
    """One call recorded through the cassette against the echo server: (what the client
    got or raised, the canary, the cassette)."""
    provider, protocol = STYLES[style]
    secret = canary()
    monkeypatch.setenv(KEY_VARIABLES[provider], secret)
    path = tmp_path / f"{style}.yaml"
    with FaultServer(echo_behaviour(protocol)) as server:
        base = server.url + BASE_PATHS[protocol]
        with use_cassette(path, CassetteSettings(record_mode="once")):
            try:
                got: Any = anyllm.responses("m", prompt, provider=provider, api_base=base, stream=stream)
                if stream:
                    got = [e.model_dump(mode="json", exclude_unset=True) for e in got]
            except AuthenticationError as exc:
                got = exc
        assert any(secret in v for r in server.requests for v in r.headers.values()), "the key never left"
    return got, secret, path


# -- item 2: the recording client gets the scrubbed reply ----------------------------------------


@pytest.mark.parametrize("encoding", ["plain", "json", "base64"])
@pytest.mark.parametrize("style", list(STYLES))
def test_an_echoed_key_in_an_error_body_never_reaches_the_client(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, style: str, encoding: str
) -> None:
    """Was: the exception (and so the report, and pytest's output) quoted the key."""
    monkeypatch.setenv("ANYLLM_STORE_PATH", str(tmp_path / "store.sqlite3"))
    error, secret, path = _record(tmp_path, monkeypatch, style, f"echo-error-{encoding}", stream=False)
    assert isinstance(error, AuthenticationError)
    seen = f"{error} {error!r} {error.message} {error.body!r} {error.args!r}"
    assert "<REDACTED>" in seen and scan_text("exception", seen, {"key": secret}) == []
    assert scan_cassette("cassette", path.read_text(), {"key": secret}) == []


@pytest.mark.parametrize("style", list(STYLES))
def test_a_split_key_streams_to_the_client_and_replays_as_one_marker(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, style: str
) -> None:
    """Item 4: a key sent in 3-character deltas. Was: the cassette held the fragments and
    the client (and the validator's messages) joined them back into the key."""
    monkeypatch.setenv("ANYLLM_STORE_PATH", str(tmp_path / "store.sqlite3"))
    recorded, secret, path = _record(tmp_path, monkeypatch, style, "echo-stream-split", stream=True)
    text = "".join(e.get("delta", "") for e in recorded if e["type"] == "response.output_text.delta")
    assert text == "Your key: <REDACTED>.", text
    assert scan_cassette("cassette", path.read_text(), {"key": secret}) == []
    clear_backends()
    provider, protocol = STYLES[style]
    with use_cassette(path, CassetteSettings(record_mode="none")):
        replayed = anyllm.responses(
            "m",
            "echo-stream-split",
            provider=provider,
            stream=True,
            api_base="http://127.0.0.1:9" + BASE_PATHS[protocol],
        )
        events = [e.model_dump(mode="json", exclude_unset=True) for e in replayed]
    assert events[-1]["type"] == "response.completed"
    done = [e["text"] for e in events if e["type"] == "response.output_text.done"]
    assert done == ["Your key: <REDACTED>."]


# -- item 4: the scrubber on each protocol's stream shape ------------------------------------------


def _echoed_stream(protocol: str, encoding: str, secret: str) -> dict[str, Any]:
    """The echo server's raw reply to a stream request, as the recorder serializes it."""
    request: dict[str, Any] = {"model": "m", "input": f"echo-stream-{encoding}", "stream": True}
    path = "/v1beta/models/m:streamGenerateContent?alt=sse" if protocol == "gemini" else "/v1/x"
    with FaultServer(echo_behaviour(protocol)) as server:
        reply = httpx2.post(server.url + path, json=request, headers={"authorization": f"Bearer {secret}"})
    return {
        "status": {"code": reply.status_code, "message": "OK"},
        "headers": {k: [v] for k, v in reply.headers.items()},
        "body": {"string": reply.content},
    }


@pytest.mark.parametrize("encoding", ["split", "split-json", "json", "base64"])
@pytest.mark.parametrize("protocol", ["openresponses", "chat", "anthropic", "gemini"])
def test_the_scrubber_cuts_a_key_out_of_every_delta(protocol: str, encoding: str) -> None:
    secret = canary()
    response = _echoed_stream(protocol, encoding, secret)
    before = response["body"]["string"].decode()
    assert scan_cassette("raw", yaml.safe_dump({"b": before}), {"key": secret}), "the echo did not happen"
    scrub_response(response, [secret])
    after = response["body"]["string"].decode()
    assert scan_cassette("scrubbed", yaml.safe_dump({"b": after}), {"key": secret}) == []
    # One marker for one key, in the first fragment (Responses repeats the text in its done events).
    deltas = [
        line
        for line in after.splitlines()
        if line.startswith("data:") and ".done" not in line and "response.completed" not in line
    ]
    assert sum(line.count("<REDACTED>") for line in deltas) == 1, after
    assert response["headers"]["content-length"] == [str(len(response["body"]["string"]))]
    # Events that held no part of the key keep their bytes.
    pairs = list(zip(before.splitlines(), after.splitlines(), strict=True))
    assert all(old == new for old, new in pairs if not old.startswith("data: {")), "framing changed"
    for old, new in pairs:
        if old.startswith("data: {") and json.loads(old[5:]) == json.loads(new[5:]):
            assert old == new, "an event without the key was re-serialized"


def test_the_scrubber_keeps_the_deltas_joining_to_the_done_text() -> None:
    """Responses: deltas and done text agree after scrubbing (the key was whole in the done
    text, in pieces in the deltas), so no rule fires that the server did not break."""
    secret = canary()
    response = _echoed_stream("openresponses", "split", secret)
    scrub_response(response, [secret])
    events = [
        json.loads(line[5:])
        for line in response["body"]["string"].decode().splitlines()
        if line.startswith("data:") and line != "data: [DONE]"
    ]
    deltas = "".join(e["delta"] for e in events if e["type"] == "response.output_text.delta")
    done = next(e["text"] for e in events if e["type"] == "response.output_text.done")
    assert deltas == done == "Your key: <REDACTED>."
    from anyllm.testing.validate import validate_stream

    assert [v.rule for v in validate_stream(events) if v.severity == "error"] == []


# -- item 2: pytest's own output ---------------------------------------------------------------

TRACEBACK_SUITE = """
import anyllm


def test_denied(echo_url):
    api_key = "{key}"
    headers = {{"authorization": "Bearer " + api_key, "x-padding": "x" * 300, "again": api_key}}
    anyllm.responses("m", "echo-error-plain", provider="openresponses", api_base=echo_url, api_key=api_key)


def test_prints(echo_url):
    print("the key is", "{key}", "escaped", "{escaped}")
    assert False
"""


@pytest.mark.parametrize("style", ["long", "short", "native", "auto"])
def test_tracebacks_with_locals_show_no_key(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, style: str
) -> None:
    """Was: ``-l`` printed ``api_key = 'sk-...'`` (and every dict holding it, cut at 240
    characters, possibly mid-key) in each frame, ``--tb=long`` the arguments."""
    secret = canary()
    escaped = "".join(f"\\\\u{ord(c):04x}" for c in secret)
    pytester.makepyfile(test_tb=TRACEBACK_SUITE.format(key=secret, escaped=escaped))
    with FaultServer(echo_behaviour("openresponses")) as server:
        pytester.makeconftest(
            f"import pytest\n\n@pytest.fixture\ndef echo_url():\n    return {server.url + '/v1'!r}\n"
        )
        monkeypatch.setenv("OPENRESPONSES_API_KEY", secret)
        result = pytester.runpytest(
            *PLUGIN_ARGS, "-p", "no:cacheprovider", "-p", "no:asyncio", "-l", f"--tb={style}", "-rA"
        )
    result.assert_outcomes(failed=2)
    output = "\n".join(result.outlines + result.errlines)
    assert "AuthenticationError" in output and "<REDACTED>" in output
    assert scan_text("pytest output", output, {"key": secret}) == []


# -- the redactor and the certificate ------------------------------------------------------------


def test_the_redactor_finds_keys_behind_escapes_runs_and_urls() -> None:
    from anyllm.testing.redact import Redactor

    secret = canary()
    redactor = Redactor([secret])
    escaped = "".join(f"\\u{ord(c):04x}" for c in secret)
    samples = {
        "raw": f"key {secret} end",
        "json": f'{{"message": "key {escaped} end"}}',
        "repr of json": repr(json.dumps({"m": secret}).replace("/", "\\/")),
        "slash": f"key {secret.replace('/', chr(92) + '/')} end",
        "truncated": f"{{'a': 'Bearer {secret[:20]}...{secret[-14:]}'}}",
        "url": "see http://someone:hunter2-pass@127.0.0.1:9/v1 now",
    }
    for name, text in samples.items():
        clean = redactor.text(text)
        assert "<REDACTED>" in clean, name
        assert scan_text(name, clean, {"key": secret, "password": "hunter2-pass"}) == [], (name, clean)
    assert redactor.text("nothing here: canary-, 127.0.0.1") == "nothing here: canary-, 127.0.0.1"


def test_certify_keeps_no_password_or_key_in_the_certificate() -> None:
    """Item 18: ``certify --api-base http://user:pw@host`` kept the password in
    certificate.json and certificate.md."""
    from anyllm.testing.certify import _certificate, _markdown, verify_certificate
    from anyllm.testing.redact import redact_url, url_secrets

    base = "http://someone:s3cret-pass%2Fword@127.0.0.1:8000/v1?key=query-secret-123"
    args = argparse.Namespace(provider="openresponses", api_base=base, model="m", signed_off_by=None)
    report = {"results": [{"case": "basic-response", "verdict": "passed", "model": "m"}]}
    cert = _certificate(args, report, 0)
    text = json.dumps(cert) + _markdown(cert)
    assert cert["api_base"] == "http://someone:<REDACTED>@127.0.0.1:8000/v1?key=<REDACTED>"
    assert "s3cret" not in text and "query-secret" not in text and verify_certificate(cert)
    assert url_secrets(base) == ["s3cret-pass/word", "query-secret-123"]
    assert redact_url("http://127.0.0.1:8000/v1") == "http://127.0.0.1:8000/v1"
