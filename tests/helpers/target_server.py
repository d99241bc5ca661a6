"""A small OpenResponses server run as a target's own process (tests/test_targets.py).

Started by the harness from a target file's ``start.command`` exactly as LiteLLM or
open-responses-server are: ``python target_server.py PORT PIDFILE``. It answers
``POST /v1/responses`` (JSON, or SSE when ``stream`` is true) with the shapes the
OpenResponses specification documents (ResponseResource and its streaming event sequence),
only for ``Authorization: Bearer $TARGET_KEY`` (the harness's per-session ``{secret}``),
serves ``GET /ready``, and forks one idle child whose pid it writes to PIDFILE: stopping the
target must stop its whole process group, workers included.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

TEXT = "Hello there!"


def response(body: dict[str, Any]) -> dict[str, Any]:
    now = int(time.time())
    return {
        "id": "resp_target0001",
        "object": "response",
        "created_at": now,
        "completed_at": now,
        "status": "completed",
        "incomplete_details": None,
        "model": body.get("model", "m"),
        "previous_response_id": None,
        "instructions": body.get("instructions"),
        "output": [
            {
                "type": "message",
                "id": "msg_target0001",
                "status": "completed",
                "role": "assistant",
                "content": [{"type": "output_text", "text": TEXT, "annotations": [], "logprobs": []}],
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
            "input_tokens": 3,
            "output_tokens": 3,
            "total_tokens": 6,
            "input_tokens_details": {"cached_tokens": 0},
            "output_tokens_details": {"reasoning_tokens": 0},
        },
        "max_output_tokens": body.get("max_output_tokens"),
        "max_tool_calls": None,
        "store": False,
        "background": False,
        "service_tier": "default",
        "metadata": {},
        "safety_identifier": None,
        "prompt_cache_key": None,
    }


def stream(body: dict[str, Any]) -> bytes:
    final = response(body)
    start = {**final, "status": "in_progress", "output": [], "completed_at": None, "usage": None}
    item = final["output"][0]
    part = {"type": "output_text", "text": "", "annotations": [], "logprobs": []}
    ids = {"item_id": item["id"], "output_index": 0, "content_index": 0}
    events: list[dict[str, Any]] = [
        {"type": "response.created", "response": start},
        {"type": "response.in_progress", "response": start},
        {
            "type": "response.output_item.added",
            "output_index": 0,
            "item": {**item, "status": "in_progress", "content": []},
        },
        {"type": "response.content_part.added", **ids, "part": part},
        {"type": "response.output_text.delta", **ids, "delta": TEXT, "logprobs": []},
        {"type": "response.output_text.done", **ids, "text": TEXT, "logprobs": []},
        {"type": "response.content_part.done", **ids, "part": item["content"][0]},
        {"type": "response.output_item.done", "output_index": 0, "item": item},
        {"type": "response.completed", "response": final},
    ]
    out = b""
    for number, event in enumerate(events):
        event["sequence_number"] = number
        out += f"event: {event['type']}\ndata: {json.dumps(event)}\n\n".encode()
    return out + b"data: [DONE]\n\n"


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def _send(self, status: int, payload: bytes, ctype: str) -> None:
        self.send_response(status)
        self.send_header("content-type", ctype)
        self.send_header("content-length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def do_GET(self) -> None:
        self._send(200 if self.path == "/ready" else 404, b"{}", "application/json")

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers.get("content-length") or 0)) or b"{}")
        if self.headers.get("authorization") != f"Bearer {os.environ['TARGET_KEY']}":
            error = {"error": {"message": "bad key", "type": "authentication_error", "code": "401"}}
            self._send(401, json.dumps(error).encode(), "application/json")
        elif body.get("stream"):
            self._send(200, stream(body), "text/event-stream")
        else:
            self._send(200, json.dumps(response(body)).encode(), "application/json")

    def log_message(self, *args: object) -> None:
        pass


def main() -> None:
    port, pidfile = int(sys.argv[1]), sys.argv[2]
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
    with open(pidfile, "w", encoding="utf-8") as out:
        out.write(str(child.pid))
    ThreadingHTTPServer(("127.0.0.1", port), Handler).serve_forever()


if __name__ == "__main__":
    main()
