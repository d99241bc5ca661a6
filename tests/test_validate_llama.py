"""The validator against a real non-conformant server: open-responses-server over llama.cpp.

open-responses-server (PyPI) translates the Responses API onto a chat-completions backend;
here the backend is a real llama.cpp server (llama-cpp-python, SmolLM2-135M). Its output
breaks the spec in ways a schema-only tester does not see; the validator must name them.
Skipped, with the reason, when llama-cpp-python, the model or the package is missing.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx2
import pytest

from anyllm.testing.llama_server import LlamaServer, free_port
from anyllm.testing.validate import has_errors, validate_response, validate_stream

pytestmark = pytest.mark.llamacpp


def wait_http(url: str, proc: subprocess.Popen[bytes], timeout: float, log: Path) -> None:
    """Until ``url`` answers 200; fails with the server's log if it dies or never answers."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"server exited with {proc.returncode}:\n{log.read_text(errors='replace')[-2000:]}")
        try:
            if httpx2.get(url, timeout=1.0).status_code == 200:
                return
        except httpx2.HTTPError:
            pass
        time.sleep(0.2)
    pytest.fail(f"server did not answer {url} within {timeout:g} s")


@pytest.fixture(scope="module")
def ors_url(llama: LlamaServer) -> Iterator[str]:
    if importlib.util.find_spec("open_responses_server") is None:
        pytest.skip("open-responses-server is not installed (pip install open-responses-server)")
    llama_base = llama.base_url
    workdir = Path(tempfile.mkdtemp(prefix="ors-"))  # it writes ./log/ in its working directory
    port = free_port()
    env = {
        **os.environ,
        "OPENAI_BASE_URL_INTERNAL": llama_base.removesuffix("/v1"),
        "OPENAI_API_KEY": "unused",
        "API_ADAPTER_HOST": "127.0.0.1",
        "API_ADAPTER_PORT": str(port),
        "MCP_SERVERS_CONFIG_PATH": str(workdir / "no-mcp-servers.json"),
    }
    log = workdir / "server.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "open_responses_server.server_entrypoint:app",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
            ],
            cwd=workdir,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_http(f"http://127.0.0.1:{port}/health", proc, 60, log)
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


REQUEST = {"model": "smollm2", "input": "Say hello.", "max_output_tokens": 16, "temperature": 0}


def test_streaming_deviations_are_reported(ors_url: str) -> None:
    import httpx2

    body = {**REQUEST, "stream": True}
    reply = httpx2.post(f"{ors_url}/responses", json=body, timeout=120)
    assert reply.status_code == 200
    for profile in ("openresponses", "openai"):
        found = validate_stream(
            reply.content,
            profile,
            request=body,  # type: ignore[arg-type]
            content_type=reply.headers.get("content-type"),
        )
        rules = {v.rule for v in found if v.severity == "error"}
        assert has_errors(found)
        # No sequence_number/content_index, no output_item.added, no content_part.added,
        # and the final item was never opened or closed.
        assert {
            "SCHEMA-EVENT",
            "ITEM-ADDED-BEFORE-DELTA",
            "CONTENT-PART-ADDED-BEFORE-DELTA",
            "ITEM-NOT-STREAMED",
        } <= rules, sorted(rules)
    strict = {v.rule for v in validate_stream(reply.content, request=body)}
    assert {"SSE-EVENT-NAME-MISSING", "SSE-DONE-TERMINAL", "SCHEMA-RESPONSE", "SCHEMA-ITEM"} <= strict


def test_non_streaming_reply_is_reported(ors_url: str) -> None:
    import httpx2

    reply = httpx2.post(f"{ors_url}/responses", json=REQUEST, timeout=120)
    found = validate_response(
        reply.content, "openai", request=REQUEST, content_type=reply.headers.get("content-type")
    )
    assert has_errors(found), reply.text[:200]
