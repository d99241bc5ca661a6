"""How fast the chat bridge turns a chat-completions stream into Responses events.

A 10,000-chunk chat stream (one text delta per chunk, then a finish chunk, a usage chunk and
``[DONE]``, as raw SSE bytes) is measured four ways, each beside the floor of merely
decoding the same bytes with SSEDecoder + json.loads:

1. decode only (the floor);
2. dict events: decoder + ChatStreamTranslator + ResponseStreamBuilder;
3. typed events: (2) then ``anyllm.types.event_from_dict`` per event;
4. the full backend path: ``anyllm.responses(provider="openai_compatible", stream=True)``
   against a loopback HTTP server serving the bytes (HTTP, decoding, translation, typing).

Run: ``python benchmarks/bench_translate.py [chunks] [repeats] [--json out.json]``. Prints
figures (and writes them with ``--json``); no thresholds.
"""

from __future__ import annotations

import json
import sys
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import anyllm
from anyllm.streaming import SSEDecoder
from anyllm.translate.chat import ChatStreamTranslator
from anyllm.translate.stream import ResponseStreamBuilder
from anyllm.types import event_from_dict

READ_SIZE = 65536  # bytes per feed, about what an HTTP client hands over


def chat_stream(chunks: int) -> bytes:
    """Realistic chunk shapes (OpenAI's field set), one short word per chunk."""
    head = {
        "id": "chatcmpl-bench",
        "object": "chat.completion.chunk",
        "created": 1700000000,
        "model": "bench-model",
    }
    lines = [
        {
            **head,
            "choices": [{"index": 0, "delta": {"role": "assistant", "content": ""}, "finish_reason": None}],
        }
    ]
    for number in range(chunks):
        delta = {"content": f" word{number % 100}"}
        lines.append(
            {**head, "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": None}]}
        )
    lines.append({**head, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})
    usage = {"prompt_tokens": 12, "completion_tokens": chunks, "total_tokens": chunks + 12}
    lines.append({**head, "choices": [], "usage": usage})
    body = b"".join(b"data: " + json.dumps(line).encode() + b"\n\n" for line in lines)
    return body + b"data: [DONE]\n\n"


def pieces(body: bytes) -> list[bytes]:
    return [body[i : i + READ_SIZE] for i in range(0, len(body), READ_SIZE)]


def decode_only(body: bytes) -> int:
    decoder = SSEDecoder()
    count = 0
    for piece in pieces(body):
        for event in decoder.feed(piece):
            if event.data != "[DONE]":
                json.loads(event.data)
            count += 1
    return count


def translate_dicts(body: bytes) -> list[dict[str, Any]]:
    builder = ResponseStreamBuilder({"model": "bench-model", "input": "hi"}, model="bench-model")
    translator = ChatStreamTranslator(builder, "bench")
    out = builder.start()
    decoder = SSEDecoder()
    for piece in pieces(body):
        for event in decoder.feed(piece):
            out.extend(translator.feed(event))
    out.extend(translator.end())
    return out


def translate_typed(body: bytes) -> int:
    return len([event_from_dict(event) for event in translate_dicts(body)])


class _Server:
    """A loopback server that answers every POST with the same SSE body."""

    def __init__(self, body: bytes) -> None:
        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("content-length") or 0))
                self.send_response(200)
                self.send_header("content-type", "text/event-stream")
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/v1"

    def close(self) -> None:
        self.server.shutdown()


def full_path(base: str) -> int:
    stream: Any = anyllm.responses(
        "bench-model", "hi", provider="openai_compatible", api_base=base, stream=True
    )
    return sum(1 for _ in stream)


def best(run: Callable[[], int], repeats: int) -> tuple[float, int]:
    times, count = [], 0
    for _ in range(repeats):
        start = time.perf_counter()
        count = run()
        times.append(time.perf_counter() - start)
    return min(times), count


def main() -> None:
    argv = sys.argv[1:]
    json_out = None
    if "--json" in argv:
        at = argv.index("--json")
        json_out = Path(argv[at + 1])
        del argv[at : at + 2]
    chunks = int(argv[0]) if len(argv) > 0 else 10_000
    repeats = int(argv[1]) if len(argv) > 1 else 5
    body = chat_stream(chunks)
    print(f"chat stream: {chunks:,} text chunks + finish + usage + [DONE], {len(body) / 1e6:.2f} MB")
    translate_typed(body)  # warm imports and caches
    server = _Server(body)
    try:
        full_path(server.base)
        rows = [
            ("decode only (SSEDecoder + json.loads)", best(lambda: decode_only(body), repeats)),
            ("dict events (translator + builder)", best(lambda: len(translate_dicts(body)), repeats)),
            ("typed events (+ event_from_dict)", best(lambda: translate_typed(body), repeats)),
            ("full path (loopback HTTP, responses())", best(lambda: full_path(server.base), repeats)),
        ]
    finally:
        server.close()
    floor = rows[0][1][0]
    print(f"{'path':42} {'best s':>8} {'items':>8} {'items/s':>12} {'chunks/s':>12} {'x decode':>9}")
    for name, (seconds, count) in rows:
        print(
            f"{name:42} {seconds:8.4f} {count:8,} {count / seconds:12,.0f} "
            f"{(chunks + 3) / seconds:12,.0f} {seconds / floor:9.2f}"
        )
    print("items = SSE events for 'decode only', Responses events otherwise; best of", repeats)
    if json_out is not None:
        figures = {name: {"best_s": s, "items": n, "items_per_s": n / s} for name, (s, n) in rows}
        json_out.write_text(json.dumps({"chunks": chunks, "repeats": repeats, "paths": figures}, indent=2))


if __name__ == "__main__":
    main()
