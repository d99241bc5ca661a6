"""Canary keys echoed back by a loopback server, and a scan of everything a run left behind.

Issue 13 asks how many keys end up in the artifacts of a recording run: cassettes,
``report.json/md/html``, pytest's stdout and stderr (``--tb=long -l``) and ``certify``'s
output, with a canary key in every auth style (bearer, ``x-api-key``, ``api-key``,
``x-goog-api-key``, ``?key=``, and a password in the URL), echoed back on every path (error
body, reply body, streamed deltas, response headers) in every encoding (plain,
JSON-escaped, base64, split across deltas). Goal: zero. Used by
``tests/test_secret_artifacts.py`` (the goal as a test) and ``benchmarks/bench_secrets.py``
(the figure).

The echo server speaks each protocol's documented wire shape (the vendors' error bodies
from :data:`tests.helpers.faults.WIRES`, streams built like theirs, Responses streams by
the library's own state machine) and echoes whatever credentials the request carried.

The scan (:func:`scan_tree`) is independent of the scrubber it judges: it looks for each
key raw, URL-quoted, base64 (every alignment), after undoing JSON and HTML escapes, as a
run of 12 or more of its characters (a truncated repr), and reassembled from the string
fields of a cassette's SSE events (deltas).
"""

from __future__ import annotations

import base64
import contextlib
import html
import json
import os
import re
import subprocess
import sys
import urllib.parse
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

import yaml

from anyllm.translate.common import usage_dict
from anyllm.translate.stream import ResponseStreamBuilder
from tests.helpers.faults import WIRES, Behaviour, Conn, FaultServer, Request

__all__ = [
    "ECHO_CASES",
    "STYLES",
    "Finding",
    "canary",
    "credentials",
    "echo_behaviour",
    "echo_suite",
    "run_certify",
    "run_recording",
    "scan_text",
    "scan_tree",
]

# auth style -> (provider, protocol); the ?key= style is Gemini's key sent as a query value.
STYLES: dict[str, tuple[str, str]] = {
    "bearer-openresponses": ("openresponses", "openresponses"),
    "bearer-openai-sdk": ("openai", "openai"),
    "bearer-chat": ("openai_compatible", "chat"),
    "x-api-key": ("anthropic", "anthropic"),
    "api-key": ("azureopenai", "openai"),
    "x-goog-api-key": ("gemini", "gemini"),
}
BASE_PATHS = {"openai": "/v1", "openresponses": "/v1", "chat": "/v1", "anthropic": "", "gemini": "/v1beta"}
KEY_VARIABLES = {
    "openresponses": "OPENRESPONSES_API_KEY",
    "openai": "OPENAI_API_KEY",
    "openai_compatible": "OPENAI_COMPATIBLE_API_KEY",
    "anthropic": "ANTHROPIC_API_KEY",
    "azureopenai": "AZURE_OPENAI_API_KEY",
    "gemini": "GEMINI_API_KEY",
}

# (echo path, encoding): what the prompt ``echo-PATH-ENCODING`` makes the server do.
ECHO_CASES: tuple[tuple[str, str], ...] = (
    ("error", "plain"),
    ("error", "json"),
    ("error", "base64"),
    ("reply", "plain"),
    ("reply", "json"),
    ("reply", "base64"),
    ("stream", "plain"),
    ("stream", "json"),
    ("stream", "base64"),
    ("stream", "split"),
    ("stream", "split-json"),
    ("stream", "split-mismatch"),  # Responses: the done text differs, so DELTA-DONE-MATCHES quotes both
    ("header", "plain"),
    ("header", "base64"),
)
# Sent by httpx2 straight to Gemini's endpoint with ?key=, through the cassette.
QUERY_CASES: tuple[tuple[str, str], ...] = tuple(
    c for c in ECHO_CASES if c[0] in ("error", "reply", "header")
)
MIN_RUN = 12  # a run of this many characters of a key counts as found (a truncated repr)


def canary() -> str:
    """A unique fake key; ``/``, ``+`` and ``=`` make URL-quoting, JSON ``\\/`` and base64
    differ. No words in it: a run of 12 of its characters is the key, not a provider name."""
    return f"canary-{uuid.uuid4().hex}/{uuid.uuid4().hex[:8]}+{uuid.uuid4().hex[:6]}="


def credentials(request: Request) -> list[str]:
    """Every credential the request carried: bearer, basic password, key headers, ``?key=``."""
    found: list[str] = []
    auth = request.headers.get("authorization", "")
    scheme, _, value = auth.partition(" ")
    if scheme.lower() == "bearer":
        found.append(value)
    elif scheme.lower() == "basic":
        found.append(base64.b64decode(value).decode("utf-8", "replace").partition(":")[2])
    found += [
        request.headers[h] for h in ("x-api-key", "api-key", "x-goog-api-key") if request.headers.get(h)
    ]
    query = urllib.parse.urlsplit(request.path).query
    found += [v for k, v in urllib.parse.parse_qsl(query) if k.lower() in ("key", "api_key")]
    return [f for f in found if f]


# -- the echo server ---------------------------------------------------------------------------

_MARK = re.compile(rb"echo-(error|reply|stream|header)-([a-z0-9-]+?)(?=[^a-z0-9-]|$)")


def _token(index: int) -> str:
    return f"@@CANARY{index}@@"


def _encode(fragment: str, encoding: str) -> str:
    """A fragment of the echoed text as it goes into the JSON body."""
    if encoding.endswith("json"):
        return "".join(f"\\u{ord(c):04x}" for c in fragment)
    return json.dumps(fragment)[1:-1]


def _stream_frames(protocol: str, request: dict[str, Any], pieces: list[str], mismatch: bool) -> list[str]:
    if protocol in ("openai", "openresponses"):
        builder = ResponseStreamBuilder(request, model=str(request.get("model", "m")))
        events = builder.start()
        for piece in pieces:
            events += builder.text(piece)
        builder.set_usage(usage_dict(5, 7))
        events += builder.complete()
        for event in events:
            if mismatch and event["type"] == "response.output_text.done":
                event["text"] += " (edited)"
        return [f"event: {e['type']}\ndata: {json.dumps(e)}\n\n" for e in events] + ["data: [DONE]\n\n"]
    if protocol == "chat":

        def chunk(delta: dict[str, Any], finish: str | None = None) -> str:
            body = {
                "id": "chatcmpl-echo",
                "object": "chat.completion.chunk",
                "created": 1700000000,
                "model": "m",
                "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
            }
            return f"data: {json.dumps(body)}\n\n"

        frames = [chunk({"role": "assistant", "content": ""})] + [chunk({"content": p}) for p in pieces]
        return [*frames, chunk({}, "stop"), "data: [DONE]\n\n"]
    if protocol == "anthropic":
        message: dict[str, Any] = {
            "id": "msg_echo",
            "type": "message",
            "role": "assistant",
            "content": [],
            "model": "m",
            "stop_reason": None,
            "stop_sequence": None,
            "usage": {"input_tokens": 5, "output_tokens": 1},
        }
        blocks: list[dict[str, Any]] = [
            {"type": "message_start", "message": message},
            {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}},
        ]
        blocks += [
            {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": p}}
            for p in pieces
        ]
        blocks += [
            {"type": "content_block_stop", "index": 0},
            {
                "type": "message_delta",
                "delta": {"stop_reason": "end_turn", "stop_sequence": None},
                "usage": {"output_tokens": 6},
            },
            {"type": "message_stop"},
        ]
        return [f"event: {e['type']}\ndata: {json.dumps(e)}\n\n" for e in blocks]
    return [f"data: {json.dumps(_gemini(p, i == len(pieces) - 1))}\r\n\r\n" for i, p in enumerate(pieces)]


def _gemini(text: str, last: bool) -> dict[str, Any]:
    candidate: dict[str, Any] = {"content": {"parts": [{"text": text}], "role": "model"}, "index": 0}
    if last:
        candidate["finishReason"] = "STOP"
    usage = {"promptTokenCount": 3, "candidatesTokenCount": 5, "totalTokenCount": 8}
    return {"candidates": [candidate], "usageMetadata": usage, "modelVersion": "gemini-echo"}


def _reply(protocol: str, request: dict[str, Any], text: str) -> dict[str, Any]:
    if protocol in ("openai", "openresponses"):
        builder = ResponseStreamBuilder(request, model=str(request.get("model", "m")))
        builder.start()
        builder.text(text)
        builder.set_usage(usage_dict(5, 7))
        response: dict[str, Any] = builder.complete()[-1]["response"]
        return response
    if protocol == "chat":
        message = {"role": "assistant", "content": text}
        return {
            "id": "chatcmpl-echo",
            "object": "chat.completion",
            "created": 1700000000,
            "model": "m",
            "choices": [{"index": 0, "message": message, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 3, "completion_tokens": 5, "total_tokens": 8},
        }
    if protocol == "anthropic":
        return {
            "id": "msg_echo",
            "type": "message",
            "role": "assistant",
            "model": "m",
            "content": [{"type": "text", "text": text}],
            "stop_reason": "end_turn",
            "stop_sequence": None,
            "usage": {"input_tokens": 5, "output_tokens": 6},
        }
    return _gemini(text, True)


def echo_behaviour(protocol: str) -> Behaviour:
    """Answer every request of ``protocol``, echoing its credentials as the prompt asks
    (``echo-PATH-ENCODING``); without a mark, a reply (or stream, split into deltas) holding
    them, and an ``x-echo-key`` header: what ``certify``'s own cases get."""

    def behaviour(conn: Conn, request: Request) -> None:
        mark = _MARK.search(request.body)
        path, encoding = (mark.group(1).decode(), mark.group(2).decode()) if mark else ("", "split")
        try:
            body = json.loads(request.body or b"{}")
        except ValueError:
            body = {}
        streaming = body.get("stream") is True or "streamGenerateContent" in request.path
        secret = " ".join(credentials(request)) or "no-credentials"
        echoed = base64.b64encode(secret.encode()).decode() if encoding == "base64" else secret
        split = encoding.startswith("split")
        fragments = [echoed[i : i + 3] for i in range(0, len(echoed), 3)] if split else [echoed]
        headers = {"x-echo-key": echoed} if path in ("header", "") else {}
        if path == "error":
            status, text = 401, json.dumps(WIRES[protocol].error_body(401, f"Incorrect API key: {_token(0)}"))
        elif streaming:
            pieces = ["Your key: ", *(_token(i) for i in range(len(fragments))), "."]
            frames = _stream_frames(protocol, body, pieces, encoding == "split-mismatch")
            status, text = 200, "".join(frames)
            headers["content-type"] = "text/event-stream"
        else:
            tokens = "".join(_token(i) for i in range(len(fragments)))
            status, text = 200, json.dumps(_reply(protocol, body, f"Your key: {tokens}."))
        for index, fragment in enumerate(fragments):
            text = text.replace(_token(index), _encode(fragment, encoding))
        content = text.encode()
        headers.setdefault("content-type", "application/json")
        conn.head(status, headers, length=len(content))
        conn.send(content)

    return behaviour


# -- the suite a recording run records ---------------------------------------------------------

_HEAD = """
import os

import httpx2
import pytest

from anyllm.testing.cases import case
"""

_CLIENT_CASE = """

@case("{name}")
def test_{fn}(anyllm_client):
    reply = anyllm_client.{call}("{name}", max_output_tokens=16)
    print("the client saw:", reply)
    assert False, f"the client saw {{reply}}"
"""

_QUERY_CASE = """

@case("query-{name}")
def test_query_{fn}(anyllm_case, vcr_cassette):
    if anyllm_case.provider != "gemini":
        pytest.skip("the ?key= style is Gemini's")
    key = os.environ["GEMINI_API_KEY"]
    url = anyllm_case.target.api_base + "/models/m:generateContent"
    body = {{"contents": [{{"parts": [{{"text": "{name}"}}]}}]}}
    reply = httpx2.post(url, params={{"key": key}}, json=body)
    print("the client saw:", reply.status_code, dict(reply.headers), reply.text)
    assert False, f"the client saw {{reply.text}} {{dict(reply.headers)}}"
"""


def echo_suite() -> str:
    """A conformance-style suite: one case per (path, encoding), each failing on purpose so
    pytest prints everything (traceback, locals, captured output) and reports a reason."""
    out = [_HEAD]
    for path, encoding in ECHO_CASES:
        name = f"echo-{path}-{encoding}"
        call = "stream" if path == "stream" else "create"
        out.append(_CLIENT_CASE.format(name=name, fn=name.replace("-", "_"), call=call))
    for path, encoding in QUERY_CASES:
        name = f"echo-{path}-{encoding}"
        out.append(_QUERY_CASE.format(name=name, fn=name.replace("-", "_")))
    return "".join(out)


# -- the scan ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Finding:
    """One key found in one artifact: which key, where, and how it was encoded."""

    artifact: str
    secret: str  # the key's name (never its value)
    how: str

    def __str__(self) -> str:
        return f"{self.artifact}: {self.secret} ({self.how})"


def _forms(value: str) -> dict[str, str]:
    raw = value.encode()
    forms = {
        "raw": value,
        "url-quoted": urllib.parse.quote(value, safe=""),
        "url-quoted+": urllib.parse.quote_plus(value),
    }
    for pad in range(3):
        for label, encode in (("base64", base64.b64encode), ("base64url", base64.urlsafe_b64encode)):
            text = encode(b"\0" * pad + raw).decode()[(0, 2, 3)[pad] : ((pad + len(raw)) // 3) * 4]
            forms[f"{label}@{pad}"] = text
    return forms


# A key's characters behind JSON escapes, at any depth of quoting (the repr of a JSON text).
_JSON_ESCAPE = re.compile(r"\\+u([0-9a-fA-F]{4})|\\+([\"'/])")


def _unescape_json(text: str) -> str:
    return _JSON_ESCAPE.sub(lambda m: chr(int(m[1], 16)) if m[1] else m[2], text)


def _longest_run(text: str, secret: str) -> int:
    """The longest run of ``secret``'s characters (at least MIN_RUN) found in ``text``, else 0."""
    best = 0
    for start in range(len(secret) - MIN_RUN + 1):
        if secret[start : start + MIN_RUN] in text:
            end = start + MIN_RUN
            while end < len(secret) and secret[start : end + 1] in text:
                end += 1
            best = max(best, end - start)
    return best


def scan_text(artifact: str, text: str, secrets: Mapping[str, str]) -> list[Finding]:
    """Every key of ``secrets`` ({name: value}) found in ``text``, with how it was found."""
    found: list[Finding] = []
    views = {"": text, "JSON-escaped ": _unescape_json(text), "HTML-escaped ": html.unescape(text)}
    for name, value in secrets.items():
        hows = [
            f"{view}{form}" for view, seen in views.items() for form, f in _forms(value).items() if f in seen
        ]
        if not hows:
            run = max(_longest_run(seen, value) for seen in views.values())
            hows = [f"{run} characters of it"] if run else []
        found += [Finding(artifact, name, hows[0])] if hows else []
    return found


def _string_leaves(data: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[tuple[Any, ...], str]]:
    if isinstance(data, str):
        yield path, data
    elif isinstance(data, dict):
        for key, value in data.items():
            yield from _string_leaves(value, (*path, key))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            yield from _string_leaves(value, (*path, index))


def _sse_reassembled(body: str) -> Iterator[str]:
    """Per JSON path, the string fields of an SSE body's events joined in order (deltas)."""
    joined: dict[tuple[Any, ...], list[str]] = {}
    for line in body.splitlines():
        if not line.startswith("data:"):
            continue
        try:
            event = json.loads(line[5:])
        except ValueError:
            continue
        for path, text in _string_leaves(event):
            joined.setdefault(path, []).append(text)
    for parts in joined.values():
        if len(parts) > 1:
            yield "".join(parts)


def scan_cassette(artifact: str, text: str, secrets: Mapping[str, str]) -> list[Finding]:
    """A cassette's text, plus the deltas of each recorded SSE body reassembled."""
    found = scan_text(artifact, text, secrets)
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError:
        return found
    bodies = [b for _, b in _string_leaves(data) if "data:" in b]
    seen = {f.secret for f in found}
    for body in bodies:
        for joined in _sse_reassembled(body):
            for f in scan_text(artifact, joined, secrets):
                if f.secret not in seen:
                    seen.add(f.secret)
                    found.append(Finding(artifact, f.secret, f"{f.how}, reassembled from SSE deltas"))
    return found


def scan_tree(root: Path, secrets: Mapping[str, str], *, label: str = "") -> list[Finding]:
    """Every file under ``root`` (cassettes with their deltas reassembled)."""
    found: list[Finding] = []
    for path in sorted(root.rglob("*")):
        if not path.is_file() or "__pycache__" in path.parts:
            continue
        text = path.read_bytes().decode("utf-8", "replace")
        name = label + str(path.relative_to(root))
        scan = scan_cassette if path.suffix in (".yaml", ".yml") else scan_text
        found += scan(name, text, secrets)
    return found


# -- the runs --------------------------------------------------------------------------------


def _plugin_args() -> list[str]:
    installed = any(ep.value == "anyllm.testing.plugin" for ep in entry_points(group="pytest11"))
    return [] if installed else ["-p", "anyllm.testing.plugin"]


def _clean_env(secrets: Mapping[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.endswith(("_API_KEY", "_TOKEN"))}
    repo = str(Path(__file__).resolve().parents[2])
    env["PYTHONPATH"] = repo + os.pathsep + env.get("PYTHONPATH", "")
    env.update(secrets)
    return env


@dataclass
class RunResult:
    """What a run left behind and what the scan found in it."""

    artifacts: int
    findings: list[Finding]
    returncode: int
    output: str = field(repr=False)  # stdout + stderr (to debug the run itself)
    secrets: dict[str, str] = field(default_factory=dict, repr=False)


def run_recording(workdir: Path, styles: tuple[str, ...] = tuple(STYLES)) -> RunResult:
    """Record :func:`echo_suite` for every auth style in ``styles`` against echo servers,
    with ``--tb=long -l -rA`` and DEBUG log lines, then scan cassettes, reports and output."""
    chosen = {style: STYLES[style] for style in styles}
    secrets = {KEY_VARIABLES[provider]: canary() for provider, _ in chosen.values()}
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / "test_echo.py").write_text(echo_suite())
    # one server per protocol: a server made and never entered would never close its socket
    protocols = dict.fromkeys(proto for _, proto in chosen.values())
    servers = {proto: FaultServer(echo_behaviour(proto)) for proto in protocols}
    with contextlib.ExitStack() as stack:
        for server in servers.values():
            stack.enter_context(server)
        args = [sys.executable, "-m", "pytest", *_plugin_args(), "-p", "no:cacheprovider", "-p", "no:asyncio",
                "--record", "--conformance-report=rep", "--tb=long", "-l", "-rA",
                "-o", "log_cli=true", "--log-cli-level=DEBUG", "test_echo.py"]  # fmt: skip
        for provider, proto in chosen.values():
            args += [
                f"--provider={provider}",
                f"--api-base={provider}={servers[proto].url}{BASE_PATHS[proto]}",
            ]
        proc = subprocess.run(
            args, cwd=workdir, env=_clean_env(secrets), capture_output=True, text=True, timeout=900
        )
    names = {v: k for k, v in secrets.items()}
    received = {names[c] for s in servers.values() for r in s.requests for c in credentials(r) if c in names}
    assert received == set(secrets), f"keys that never reached a server: {set(secrets) - received}"
    found = scan_tree(workdir, secrets)
    found += scan_text("pytest stdout", proc.stdout, secrets) + scan_text(
        "pytest stderr", proc.stderr, secrets
    )
    artifacts = sum(1 for p in workdir.rglob("*") if p.is_file() and "__pycache__" not in p.parts) + 2
    return RunResult(artifacts, found, proc.returncode, proc.stdout + proc.stderr, secrets)


def run_certify(workdir: Path) -> RunResult:
    """``anyllm-conformance certify`` against an echo server at ``http://user:PASSWORD@...``,
    with a canary key too; then scan its output directory and what it printed."""
    secrets = {"OPENRESPONSES_API_KEY": canary(), "URL password": canary()}
    password = urllib.parse.quote(secrets["URL password"], safe="")
    workdir.mkdir(parents=True, exist_ok=True)
    code = "import sys; from anyllm.testing.cli import main; sys.exit(main())"
    with FaultServer(echo_behaviour("openresponses")) as server:
        base = server.url.replace("http://", f"http://someone:{password}@") + "/v1"
        proc = subprocess.run(
            [
                sys.executable,
                "-c",
                code,
                "certify",
                "--provider=openresponses",
                f"--api-base={base}",
                f"--output={workdir / 'out'}",
                "-k",
                "basic_response or streaming_response",
            ],
            cwd=workdir,
            env=_clean_env({"OPENRESPONSES_API_KEY": secrets["OPENRESPONSES_API_KEY"]}),
            capture_output=True,
            text=True,
            timeout=600,
        )
        received = {c for r in server.requests for c in credentials(r)}
    assert received & set(secrets.values()), "no canary reached the server: the scan would prove nothing"
    found = scan_tree(workdir, secrets, label="certify ")
    found += scan_text("certify stdout", proc.stdout, secrets) + scan_text(
        "certify stderr", proc.stderr, secrets
    )
    artifacts = sum(1 for p in workdir.rglob("*") if p.is_file()) + 2
    return RunResult(artifacts, found, proc.returncode, proc.stdout + proc.stderr, secrets)
