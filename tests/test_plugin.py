"""The pytest plugin itself, run through pytester: options, replay without network, record
then replay against a real loopback server, secret refusal, verdict kinds, reports, certify.

The loopback server is ``doc_derived_openresponses``: a fake OpenResponses server whose
replies follow the shapes of the OpenResponses specification (ResponseResource and the
streaming event sequence it documents); a test below checks them with the validator."""

from __future__ import annotations

import base64
import contextlib
import json
import os
import re
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib.metadata import entry_points
from pathlib import Path

import httpcore2  # noqa: F401 - imported here, before pytester runs: see below
import httpx2  # noqa: F401
import pytest
import yaml

from anyllm.testing.certify import verify_certificate
from anyllm.testing.validate import validate_response, validate_stream
from tests.helpers.loopback import LoopbackServer, Reply, Seen

pytest_plugins = ["pytester"]
# pytester's in-process runs restore sys.modules afterwards: a module first imported inside an
# inner run (httpcore2) would come back as new class objects later, while httpx2's exception
# map still holds the old ones. Importing both above keeps one copy for the whole session.

REPO = Path(__file__).resolve().parents[1]
PLUGIN_ARGS = (
    []
    if any(ep.value == "anyllm.testing.plugin" for ep in entry_points(group="pytest11"))
    else ["-p", "anyllm.testing.plugin"]
)


# -- the doc-derived OpenResponses server ------------------------------------------------------


def doc_derived_response(body: dict, text: str = "Hello there!") -> dict:
    return {
        "id": "resp_docderived0001",
        "object": "response",
        "created_at": 1_760_000_000,
        "completed_at": 1_760_000_001,
        "status": "completed",
        "incomplete_details": None,
        "model": body.get("model", "doc-model"),
        "previous_response_id": body.get("previous_response_id"),
        "instructions": body.get("instructions"),
        "output": [
            {
                "type": "message",
                "id": "msg_docderived0001",
                "status": "completed",
                "role": "assistant",
                "content": [{"type": "output_text", "text": text, "annotations": [], "logprobs": []}],
            }
        ],
        "error": None,
        "tools": [],
        "tool_choice": "auto",
        "truncation": "disabled",
        "parallel_tool_calls": True,
        "text": {"format": {"type": "text"}},
        "top_p": 1.0,
        "presence_penalty": 0.0,
        "frequency_penalty": 0.0,
        "top_logprobs": 0,
        "temperature": 1.0,
        "reasoning": None,
        "usage": {
            "input_tokens": 5,
            "output_tokens": 3,
            "total_tokens": 8,
            "input_tokens_details": {"cached_tokens": 0},
            "output_tokens_details": {"reasoning_tokens": 0},
        },
        "max_output_tokens": body.get("max_output_tokens"),
        "max_tool_calls": None,
        "store": True,
        "background": False,
        "service_tier": "default",
        "metadata": {},
        "safety_identifier": None,
        "prompt_cache_key": None,
    }


def doc_derived_stream(body: dict, text: str = "Hello there!") -> bytes:
    final = doc_derived_response(body, text)
    start = {**final, "status": "in_progress", "output": [], "completed_at": None, "usage": None}
    item = final["output"][0]
    empty_item = {**item, "status": "in_progress", "content": []}
    part = {"type": "output_text", "text": "", "annotations": [], "logprobs": []}
    half = len(text) // 2
    events = [
        {"type": "response.created", "response": start},
        {"type": "response.in_progress", "response": start},
        {"type": "response.output_item.added", "output_index": 0, "item": empty_item},
        {
            "type": "response.content_part.added",
            "item_id": item["id"],
            "output_index": 0,
            "content_index": 0,
            "part": part,
        },
        *[
            {
                "type": "response.output_text.delta",
                "item_id": item["id"],
                "output_index": 0,
                "content_index": 0,
                "delta": piece,
                "logprobs": [],
            }
            for piece in (text[:half], text[half:])
        ],
        {
            "type": "response.output_text.done",
            "item_id": item["id"],
            "output_index": 0,
            "content_index": 0,
            "text": text,
            "logprobs": [],
        },
        {
            "type": "response.content_part.done",
            "item_id": item["id"],
            "output_index": 0,
            "content_index": 0,
            "part": item["content"][0],
        },
        {"type": "response.output_item.done", "output_index": 0, "item": item},
        {"type": "response.completed", "response": final},
    ]
    out = b""
    for number, event in enumerate(events):
        event["sequence_number"] = number
        out += f"event: {event['type']}\ndata: {json.dumps(event)}\n\n".encode()
    return out + b"data: [DONE]\n\n"


class DocDerivedServer:
    """A real HTTP server on 127.0.0.1, answering POST /v1/responses (JSON or SSE)."""

    def __init__(self, leak: str | None = None) -> None:
        self.requests: list[dict] = []
        self.leak = leak
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers.get("content-length") or 0)) or b"{}")
                owner.requests.append(body)
                text = "Hello there!"
                if owner.leak:
                    text += " " + base64.b64encode(owner.leak.encode()).decode()
                if body.get("stream"):
                    payload, ctype = doc_derived_stream(body, text), "text/event-stream"
                else:
                    payload, ctype = json.dumps(doc_derived_response(body, text)).encode(), "application/json"
                self.send_response(200)
                self.send_header("content-type", ctype)
                self.send_header("content-length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/v1"

    def __enter__(self) -> DocDerivedServer:
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


@contextlib.contextmanager
def doc_derived_openresponses(leak: str | None = None) -> Iterator[DocDerivedServer]:
    with DocDerivedServer(leak) as server:
        yield server


def test_doc_derived_server_speaks_the_spec():
    body = {"model": "m", "input": "hi"}
    assert [v for v in validate_response(doc_derived_response(body)) if v.severity == "error"] == []
    assert [v for v in validate_stream(doc_derived_stream(body)) if v.severity == "error"] == []


# -- helpers ------------------------------------------------------------------------------------

SUITE = """
from anyllm.testing.cases import case


@case("plugin-basic", official="basic-response")
def test_basic(anyllm_client, conformance_validator):
    r = anyllm_client.create("PROMPT", max_output_tokens=16)
    conformance_validator.expect(r["status"] == "completed", "CASE-STATUS", "completed")


@case("plugin-stream", requires=("streaming",))
def test_stream(anyllm_client, conformance_validator):
    s = anyllm_client.stream("Say hi", max_output_tokens=16)
    conformance_validator.expect(s.terminal == "response.completed", "CASE-TERMINAL", "completed")
"""


def write_suite(pytester: pytest.Pytester, prompt: str = "Say hello") -> None:
    pytester.makepyfile(test_suite=SUITE.replace("PROMPT", prompt))


def run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    """pytest in the pytester directory, on its test files: "." says so, since --provider with no
    path runs the packaged suites (see test_front_door.py)."""
    return pytester.runpytest(*PLUGIN_ARGS, "-p", "no:cacheprovider", "-p", "no:asyncio", ".", *args)


def report_results(path: Path) -> dict[tuple[str, str], dict]:
    data = json.loads(path.read_text())
    return {(r["provider"], r["case"]): r for r in data["results"]}


# -- options ------------------------------------------------------------------------------------

SETTINGS_PROBE = """
import json
from anyllm.testing.plugin import SETTINGS_KEY

def test_probe(pytestconfig, anyllm_provider):
    s = pytestconfig.stash[SETTINGS_KEY]
    print("SETTINGS=" + json.dumps({"providers": s.providers, "models": s.models, "mode": s.record_mode,
                                    "bases": s.api_bases, "profile": s.profile,
                                    "cassettes": str(s.cassette_dir)}))
"""


def probe(pytester: pytest.Pytester, *args: str) -> dict:
    pytester.makepyfile(test_probe=SETTINGS_PROBE)
    result = run(pytester, "-s", *args)
    assert result.ret == 0, result.stdout.str()[-2000:]  # one pass per provider
    line = next(line for line in result.outlines if "SETTINGS=" in line)
    return json.loads(line.split("SETTINGS=", 1)[1].removesuffix("."))


def test_options_parse(pytester):
    s = probe(
        pytester,
        "--provider=llamacpp,openai",
        "--provider",
        "gemini",
        "--model",
        "llamacpp=smol",
        "--model",
        "fallback",
        "--record",
        "--api-base=http://127.0.0.1:1/v1",
        "--profile=openai",
        "--cassette-dir=cas",
    )
    assert s["providers"] == ["llamacpp", "openai", "gemini"]
    assert s["models"] == {"llamacpp": "smol", "*": "fallback"}
    assert s["mode"] == "once"
    assert s["bases"] == {"*": "http://127.0.0.1:1/v1"}
    assert s["profile"] == "openai"
    assert s["cassettes"].endswith("/cas")


def test_defaults_and_all(pytester):
    from anyllm.providers.registry import list_providers

    s = probe(pytester)
    assert s["providers"] == list_providers() and s["mode"] == "none" and s["profile"] == "auto"
    assert probe(pytester, "--record", "--record-mode=rewrite")["mode"] == "rewrite"


def test_ini_options_mirror_the_command_line(pytester):
    pytester.makeini(
        "[pytest]\nanyllm_providers = llamacpp openresponses\nanyllm_record_mode = new_episodes\n"
        "anyllm_models = llamacpp=tiny\n"
    )
    s = probe(pytester)
    assert s["providers"] == ["llamacpp", "openresponses"]
    assert s["mode"] == "new_episodes" and s["models"] == {"llamacpp": "tiny"}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--provider=nope"], "is not a provider"),
        (["--model=nope=x"], "is not a provider"),
        (["--record-mode=sometimes"], "invalid choice"),
    ],
)
def test_bad_options_are_usage_errors(pytester, args, message):
    pytester.makepyfile(test_x="def test_x(): pass")
    result = run(pytester, *args)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert message in "\n".join(result.errlines + result.outlines)


def test_plugin_is_inert_for_other_tests(pytester):
    pytester.makepyfile(
        test_x="import socket\ndef test_x():\n    assert socket.socket.connect.__name__ == 'connect'"
    )
    result = run(pytester)
    result.assert_outcomes(passed=1)
    assert "compliance matrix" not in result.stdout.str()


# -- record, replay, network ----------------------------------------------------------------------


def test_record_then_replay_round_trip(pytester):
    write_suite(pytester)
    with doc_derived_openresponses() as server:
        recorded = run(
            pytester,
            "--provider=openresponses",
            f"--api-base=openresponses={server.url}",
            "--record",
            "--conformance-report=rep",
        )
        recorded.assert_outcomes(passed=2)
        assert len(server.requests) == 2
        assert server.requests[1]["stream"] is True
    cassette = pytester.path / "cassettes" / "openresponses" / "plugin-basic.yaml"
    data = yaml.safe_load(cassette.read_text())
    meta = data["metadata"]
    assert meta["provider"] == "openresponses" and meta["spec_version"] == "2026-04-24"
    assert meta["model"] == "default" and meta["case"] == "plugin-basic" and meta["recorded_at"]
    assert data["interactions"][0]["request"]["uri"].startswith(server.url)
    # Replay: the server is gone, no --api-base, network blocked; same verdicts.
    replayed = run(pytester, "--provider=openresponses", "--conformance-report=rep2")
    replayed.assert_outcomes(passed=2)
    results = report_results(pytester.path / "rep2.json")
    assert results[("openresponses", "plugin-basic")]["mode"] == "replay"
    assert results[("openresponses", "plugin-stream")]["events"] == 10
    assert results[("openresponses", "plugin-basic")]["official"] == "basic-response"


def test_replay_needs_no_network_and_blocks_it(pytester):
    pytester.makepyfile(
        test_net="""
import socket
import pytest
from anyllm.testing.cases import case
from anyllm.testing.cassettes import NetworkBlockedError

@case("net-guard", offline=True)
def test_blocked(vcr_cassette):
    with pytest.raises(NetworkBlockedError), socket.socket() as sock:
        sock.connect(("192.0.2.1", 443))
"""
    )
    result = run(pytester, "--provider=openresponses")
    result.assert_outcomes(passed=1)


def test_a_changed_request_fails_loudly_naming_the_difference(pytester):
    write_suite(pytester)
    with doc_derived_openresponses() as server:
        run(
            pytester,
            "--provider=openresponses",
            f"--api-base=openresponses={server.url}",
            "--record",
            "-k",
            "basic",
        ).assert_outcomes(passed=1)
    write_suite(pytester, prompt="Say goodbye")
    result = run(pytester, "--provider=openresponses", "-k", "basic", "--conformance-report=rep")
    result.assert_outcomes(failed=1)
    row = report_results(pytester.path / "rep.json")[("openresponses", "plugin-basic")]
    assert row["rules"] == ["CASSETTE-MISMATCH"]
    assert "$.input" in result.stdout.str()


def test_a_cassette_holding_a_secret_is_refused(pytester, monkeypatch):
    # The server echoes the key base64-encoded, which the scrubber now replaces too: it is
    # put out of action, as a bug would, to show the refusal behind it (the second line).
    import anyllm.testing.cassettes.cassette as cassette_module

    monkeypatch.setattr(cassette_module, "scrub_response", lambda response, secrets: response)
    key = "or-secret-0123456789-abcdef"
    monkeypatch.setenv("OPENRESPONSES_API_KEY", key)
    write_suite(pytester)
    with doc_derived_openresponses(leak=key) as server:
        result = run(
            pytester,
            "--provider=openresponses",
            f"--api-base=openresponses={server.url}",
            "--record",
            "-k",
            "basic",
            "--conformance-report=rep",
        )
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    assert "OPENRESPONSES_API_KEY" in result.stdout.str() and key not in result.stdout.str()
    assert not (pytester.path / "cassettes" / "openresponses" / "plugin-basic.yaml").exists()
    row = report_results(pytester.path / "rep.json")[("openresponses", "plugin-basic")]
    assert row["verdict"] == "failed" and "CASSETTE-SECRET" in row["rules"]


# -- verdicts and reports ------------------------------------------------------------------------


def test_every_verdict_kind_and_the_reports(pytester):
    pytester.makepyfile(
        test_kinds="""
from anyllm.testing.cases import case

@case("kind-pass")
def test_pass(anyllm_client, conformance_validator):
    anyllm_client.create("a", max_output_tokens=16)

@case("kind-fail")
def test_fail(anyllm_client, conformance_validator):
    anyllm_client.create("b", max_output_tokens=16)
    conformance_validator.expect(False, "CASE-NEVER", "this case always fails")

@case("kind-baselined")
def test_baselined(anyllm_client, conformance_validator):
    anyllm_client.create("c", max_output_tokens=16)
    conformance_validator.expect(False, "CASE-KNOWN", "a reviewed deviation")

@case("kind-image", requires=("image_input",))
def test_image(anyllm_client):
    anyllm_client.create("d")

@case("kind-unrecorded")
def test_unrecorded(anyllm_client):
    anyllm_client.create("e")
"""
    )
    baselines = pytester.path / "conformance" / "baselines"
    baselines.mkdir(parents=True)
    (baselines / "openresponses.yaml").write_text(
        "cases:\n  kind-baselined:\n    rules: [CASE-KNOWN]\n"
        "    reason: the doc-derived server is like that\n"
    )
    with doc_derived_openresponses() as server:
        run(
            pytester,
            "--provider=openresponses",
            f"--api-base=openresponses={server.url}",
            "--record",
            "-k",
            "pass or fail or baselined",
        )
    (pytester.path / "cassettes" / "llamacpp").mkdir(parents=True)
    result = run(
        pytester,
        "--provider=openresponses,llamacpp",
        "-k",
        "not unrecorded or openresponses",
        "--conformance-report=out/report.html",
        "-v",
    )
    results = report_results(pytester.path / "out" / "report.json")
    kinds = {key: (row["verdict"], row["baselined"]) for key, row in results.items()}
    assert kinds[("openresponses", "kind-pass")] == ("passed", False)
    assert kinds[("openresponses", "kind-fail")] == ("failed", False)
    assert results[("openresponses", "kind-fail")]["rules"] == ["CASE-NEVER"]
    assert kinds[("openresponses", "kind-baselined")] == ("failed", True)
    assert (
        results[("openresponses", "kind-baselined")]["baseline_reason"]
        == "the doc-derived server is like that"
    )
    assert kinds[("llamacpp", "kind-image")] == ("unsupported", False)
    assert kinds[("openresponses", "kind-unrecorded")] == ("not_recorded", False)
    assert kinds[("llamacpp", "kind-pass")] == ("not_recorded", False)
    outcomes = result.parseoutcomes()
    assert outcomes["passed"] == 1 and outcomes["failed"] == 1
    # Each verdict is its own status in pytest's counts (not "skipped"/"xfailed").
    assert outcomes["baselined"] == 1 and outcomes["unsupported"] == 1 and outcomes["unrecorded"] == 5
    out = result.stdout.str()
    assert "anyllm compliance matrix" in out and "known deviation 1" in out
    assert "test_image[llamacpp] UNSUPPORTED" in out and "test_unrecorded[openresponses] NOT RECORDED" in out
    # -v lists every result that did not pass, with its reason.
    assert "llamacpp / kind-image: unsupported: llamacpp does not declare image_input" in out
    assert "openresponses / kind-unrecorded: not recorded: no cassette kind-unrecorded.yaml" in out
    html = (pytester.path / "out" / "report.html").read_text()
    assert "id='grid'" in html and "href='#r-openresponses-kind-fail'" in html
    assert "../cassettes/openresponses/kind-fail.yaml" in html
    md = (pytester.path / "out" / "report.md").read_text()
    assert "| `kind-fail` |" in md and "CASE-NEVER" in md


def test_new_violation_in_a_baselined_case_fails(pytester):
    pytester.makepyfile(
        test_b="""
from anyllm.testing.cases import case

@case("kind-drift")
def test_drift(anyllm_client, conformance_validator):
    anyllm_client.create("z", max_output_tokens=16)
    conformance_validator.expect(False, "CASE-KNOWN", "known")
    conformance_validator.expect(False, "CASE-NEW", "new")
"""
    )
    baselines = pytester.path / "conformance" / "baselines"
    baselines.mkdir(parents=True)
    (baselines / "openresponses.yaml").write_text(
        "cases:\n  kind-drift:\n    rules: [CASE-KNOWN]\n    reason: r\n"
    )
    with doc_derived_openresponses() as server:
        result = run(
            pytester, "--provider=openresponses", f"--api-base=openresponses={server.url}", "--record"
        )
    result.assert_outcomes(failed=1)
    (baselines / "openresponses.yaml").write_text("cases:\n  kind-drift:\n    rules: [CASE-KNOWN]\n")
    assert (
        run(pytester, "--provider=openresponses").ret == pytest.ExitCode.USAGE_ERROR
    )  # a reason is required


# -- certify ---------------------------------------------------------------------------------------


def test_certify_writes_a_verifiable_certificate(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    code = (
        "import sys, argparse\n"
        "from anyllm.testing.certify import add_certify_parser, run_certify\n"
        "p = argparse.ArgumentParser(); sub = p.add_subparsers(dest='c'); add_certify_parser(sub)\n"
        "sys.exit(run_certify(p.parse_args(sys.argv[1:])))\n"
    )
    with doc_derived_openresponses() as server:
        proc = subprocess.run(
            [
                sys.executable,
                "-c",
                code,
                "certify",
                "--provider=openresponses",
                f"--api-base={server.url}",
                f"--output={tmp_path}",
                "--signed-off-by=Test <t@example.org>",
                "-k",
                "basic_response or streaming_response or system_prompt",
            ],
            env=env,
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=300,
        )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    cert = json.loads((tmp_path / "certificate.json").read_text())
    assert verify_certificate(cert)
    assert cert["verdict"] == "conformant" and cert["spec_version"] == "2026-04-24"
    assert {r["case"] for r in cert["results"]} == {"basic-response", "streaming-response", "system-prompt"}
    assert all(len(r["cassette_sha256"]) == 64 for r in cert["results"])
    tampered = {**cert, "verdict": "not conformant"}
    assert not verify_certificate(tampered)
    assert (tmp_path / "certificate.md").read_text().startswith("# anyllm certificate: openresponses")


# -- the wire of native providers ----------------------------------------------------------------

WIRE_SUITE = """
from anyllm.testing.cases import case


@case("wire-good", requires=("streaming",))
def test_good(anyllm_client, conformance_validator):
    s = anyllm_client.stream("good", max_output_tokens=16)
    conformance_validator.expect(s.terminal == "response.completed", "CASE-TERMINAL", "completed")
    conformance_validator.expect(s.text() == "Hello there!", "CASE-TEXT", "the streamed text")


@case("wire-renamed", requires=("streaming",))
def test_renamed(anyllm_client, conformance_validator):
    s = anyllm_client.stream("renamed", max_output_tokens=16)
    conformance_validator.expect(s.terminal == "response.completed", "CASE-TERMINAL", "completed")
    conformance_validator.expect(s.text() == "Hello there!", "CASE-TEXT", "the streamed text")


@case("wire-refused", requires=("streaming",))
def test_refused(anyllm_client, conformance_validator):
    s = anyllm_client.stream("refused", max_output_tokens=16)
    conformance_validator.expect(s.terminal == "response.completed", "CASE-TERMINAL", "completed")


@case("wire-error-ok")
def test_error_ok(anyllm_client, conformance_validator):
    error = anyllm_client.expect_error("error-ok", max_output_tokens=16)
    conformance_validator.expect(error is not None and error.status_code == 404, "CASE-STATUS", "404")


@case("wire-error-bad-body")
def test_error_bad_body(anyllm_client, conformance_validator):
    error = anyllm_client.expect_error("error-bad-body", max_output_tokens=16)
    conformance_validator.expect(error is not None and error.status_code == 404, "CASE-STATUS", "404")
"""


def wire_reply(seen: Seen) -> Reply:
    """What each WIRE_SUITE case gets, chosen by its prompt. Built on the doc-derived
    stream, so every difference from a passing case is the one deliberate deviation."""
    body = seen.json()
    prompt = body["input"]
    sse = {"content-type": "text/event-stream"}
    if prompt == "good":
        return Reply(200, doc_derived_stream(body), sse)
    if prompt == "renamed":
        # Every `event:` name says "message" and [DONE] never comes: the body's types are
        # right, so anyllm types every event and the typed view sees a perfect stream.
        raw = doc_derived_stream(body).removesuffix(b"data: [DONE]\n\n")
        return Reply(200, re.sub(rb"(?m)^event: \S+$", b"event: message", raw), sse)
    if prompt == "refused":
        # Like open-responses-server: response.created without sequence_number, which anyllm
        # refuses at event #0; and a wire-only deviation further down that it never reaches.
        blocks = doc_derived_stream(body).split(b"\n\n")
        created = json.loads(blocks[0].split(b"data: ", 1)[1])
        del created["sequence_number"]
        blocks[0] = b"event: response.created\ndata: " + json.dumps(created).encode()
        blocks[5] = re.sub(rb"^event: \S+", b"event: response.output_text.done", blocks[5])
        return Reply(200, b"\n\n".join(blocks), sse)
    error = {"message": "no such model", "type": "not_found", "code": "model_not_found", "param": "model"}
    if prompt == "error-bad-body":
        del error["message"]
    return Reply.json({"error": error}, status=404)


def rules_and_wire(row: dict) -> tuple[list[str], list[str]]:
    """The row's rule ids, and the rule ids of its violations found on the wire."""
    return row["rules"], sorted({v["rule"] for v in row["violations"] if v["message"].startswith("[wire #")})


def test_wire_only_deviations_fail_a_native_case_recorded_and_replayed(pytester):
    pytester.makepyfile(test_wire=WIRE_SUITE)
    with LoopbackServer(wire_reply) as server:
        recorded = run(
            pytester,
            "--provider=openresponses",
            f"--api-base=openresponses={server.url}/v1",
            "--record",
            "--conformance-report=rec",
        )
    assert len(server.requests) == 5
    replayed = run(pytester, "--provider=openresponses", "--conformance-report=out/rep")
    for result, report in ((recorded, "rec.json"), (replayed, "out/rep.json")):
        result.assert_outcomes(passed=2, failed=3)
        rows = report_results(pytester.path / report)
        good, renamed = rows[("openresponses", "wire-good")], rows[("openresponses", "wire-renamed")]
        # The control: the same stream with its names and [DONE] passes, wire judged too.
        assert good["verdict"] == "passed" and good["wire_judged"] is True
        assert good["wire_exchanges"] == 1 and good["wire_events"] == 11
        # Only the wire sees the renamed events and the missing [DONE]: the case's own checks
        # and the typed view pass, so every violation of the row comes from the wire.
        assert rules_and_wire(renamed) == (
            ["SSE-DONE-TERMINAL", "SSE-EVENT-MATCHES-TYPE"],
            ["SSE-DONE-TERMINAL", "SSE-EVENT-MATCHES-TYPE"],
        )
        assert renamed["events"] == 10 and renamed["violation_count"] == 11
        assert all(
            v["message"].startswith("[wire #1 POST /v1/responses -> 200, SSE]") for v in renamed["violations"]
        )
        # Ten renamed events: one distinct finding, counted, first path kept (findings.py).
        renames = [
            (v["path"], v["count"]) for v in renamed["violations"] if v["rule"] == "SSE-EVENT-MATCHES-TYPE"
        ]
        assert renames == [("$[0]", 10)]
        assert renamed["violations"][0]["line"] == 1
    md = (pytester.path / "out" / "rep.md").read_text()
    assert "**openresponses / wire-renamed** (FAILED): SSE-DONE-TERMINAL, SSE-EVENT-MATCHES-TYPE" in md
    assert (
        "`SSE-EVENT-MATCHES-TYPE` at `$[0]` (x10): [wire #1 POST /v1/responses -> 200, SSE] `event: message`"
        in md
    )
    html = (pytester.path / "out" / "rep.html").read_text()
    assert "<code>SSE-DONE-TERMINAL</code> (error) at <code>$[10]</code>" in html
    assert "SSE-EVENT-MATCHES-TYPE" in replayed.stdout.str()
    # Only what the case used is judged: an interaction it never played (another prompt,
    # a broken reply) stays out of its verdict.
    cassette = pytester.path / "cassettes" / "openresponses" / "wire-good.yaml"
    data = yaml.safe_load(cassette.read_text())
    unused = json.loads(json.dumps(data["interactions"][0]))
    unused["request"]["body"] = unused["request"]["body"].replace('"good"', '"never sent"')
    unused["response"]["body"]["string"] = "data: {}\n\n"
    data["interactions"].append(unused)
    cassette.write_text(yaml.safe_dump(data))
    again = run(pytester, "--provider=openresponses", "-k", "good", "--conformance-report=rep3")
    again.assert_outcomes(passed=1)
    assert report_results(pytester.path / "rep3.json")[("openresponses", "wire-good")]["wire_exchanges"] == 1


def test_a_stream_the_library_refuses_is_judged_whole_on_the_wire(pytester):
    pytester.makepyfile(test_wire=WIRE_SUITE)
    with LoopbackServer(wire_reply) as server:
        run(
            pytester,
            "--provider=openresponses",
            f"--api-base=openresponses={server.url}/v1",
            "--record",
            "-k",
            "refused",
        )
    result = run(pytester, "--provider=openresponses", "-k", "refused", "--conformance-report=rep")
    result.assert_outcomes(failed=1)
    row = report_results(pytester.path / "rep.json")[("openresponses", "wire-refused")]
    assert row["events"] == 0 and row["wire_events"] == 11  # the library typed nothing
    rules, wire = rules_and_wire(row)
    # Event #0 is refused by anyllm and by the schema; event #5's name is wrong, which only
    # the wire shows (anyllm never got that far). The stream did end with response.completed
    # and [DONE]: the library's empty view must not be reported as a missing terminal event.
    assert wire == ["SCHEMA-EVENT", "SSE-EVENT-MATCHES-TYPE"]
    assert rules == ["CASE-TERMINAL", "SCHEMA-EVENT", "SSE-EVENT-MATCHES-TYPE"]
    paths = {(v["rule"], v["path"]) for v in row["violations"]}
    assert ("SCHEMA-EVENT", "$[0]") in paths and ("SSE-EVENT-MATCHES-TYPE", "$[5]") in paths
    assert row["refusals"] == []
    # --wire-fallback (what certify runs with): the case's own check of the terminal event
    # judges what arrived (anyllm.testing.wire_view), so it passes; the refusal is listed,
    # explained by the schema finding at event #0.
    result = run(
        pytester, "--provider=openresponses", "-k", "refused", "--conformance-report=fb", "--wire-fallback"
    )
    result.assert_outcomes(failed=1)
    row = report_results(pytester.path / "fb.json")[("openresponses", "wire-refused")]
    assert row["rules"] == ["SCHEMA-EVENT", "SSE-EVENT-MATCHES-TYPE"]
    assert [(r["where"], r["explained_by"].split(" at ")[0]) for r in row["refusals"]] == [
        ("wire #1, event #0", "SCHEMA-EVENT")
    ]


def test_an_expected_error_is_judged_by_the_error_rules_once(pytester):
    pytester.makepyfile(test_wire=WIRE_SUITE)
    with LoopbackServer(wire_reply) as server:
        run(
            pytester,
            "--provider=openresponses",
            f"--api-base=openresponses={server.url}/v1",
            "--record",
            "-k",
            "error",
        )
    result = run(pytester, "--provider=openresponses", "-k", "error", "--conformance-report=rep")
    result.assert_outcomes(passed=1, failed=1)
    rows = report_results(pytester.path / "rep.json")
    ok, bad = rows[("openresponses", "wire-error-ok")], rows[("openresponses", "wire-error-bad-body")]
    # A 404 the case asked for is no violation, and neither is the request it refused.
    assert ok["verdict"] == "passed" and ok["wire_exchanges"] == 1 and ok["violation_count"] == 0
    # The error body without `message`: the typed view (the exception's body) and the wire
    # find the same problem at the same path; it is counted once.
    assert bad["rules"] == ["SCHEMA-ERROR"]
    assert [(v["rule"], v["path"]) for v in bad["violations"]] == [("SCHEMA-ERROR", "$.error")]


def test_a_local_server_starts_once_on_first_need_and_stops_with_the_session():
    from anyllm.testing.llama_server import LlamaServerUnavailable
    from anyllm.testing.local_servers import LocalServerStarter, local_starters
    from anyllm.testing.plugin.session import SessionState
    from anyllm.testing.target_servers import BackendPool, TargetUnavailable
    from anyllm.testing.targets import load_targets

    # The llamacpp column is recorded against the llama-server its target starts.
    targets = load_targets()
    llama = local_starters(targets.targets, BackendPool(targets.backends))["llamacpp"]
    assert llama.unavailable is TargetUnavailable and llama.require_env == "ANYLLM_REQUIRE_LLAMA"

    calls: list[str] = []

    class Server:
        base_url, model = "http://127.0.0.1:1/v1", "tiny"

        def stop(self) -> None:
            calls.append("stop")

    def start() -> Server:
        calls.append("start")
        return Server()

    def broken() -> Server:
        calls.append("broken")
        raise LlamaServerUnavailable("not installed")

    state = SessionState()
    good = LocalServerStarter("good", start, LlamaServerUnavailable, "UNUSED")
    assert state.local_server("a", good) is state.local_server("a", good) is not None
    bad = LocalServerStarter("bad", broken, LlamaServerUnavailable, "UNUSED")
    assert state.local_server("b", bad) is None and state.local_server("b", bad) is None
    assert state.server_errors == {"b": "not installed"}  # remembered, not retried
    state.stop()
    assert calls == ["start", "broken", "stop"] and state.servers == {}
