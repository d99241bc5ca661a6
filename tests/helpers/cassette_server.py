"""A loopback server that answers with what a real server answered: a cassette directory's
recorded replies, byte for byte.

``certify`` runs the conformance suite live against an endpoint. Its tests need endpoints
that break the spec the way real servers do, fast and the same every time: this one serves
the committed cassettes of a column (``cassettes/open-responses-server/`` recorded from
open-responses-server 0.4.1 over llama-server, ``cassettes/llama-server-responses/`` from
llama-server's native endpoint), matching each request on its JSON body (the model left
out) and sending the recorded status, Content-Type and body, SSE in chunks. A request no
cassette holds gets a 599 saying so, which a test sees as a failure of its own. The live
end-to-end test runs certify against the real servers (tests/test_certify.py).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from anyllm.testing.cassettes import load_yaml
from tests.helpers.loopback import LoopbackServer, Reply, Seen

__all__ = ["CassetteServer", "recorded_replies"]


def _key(body: Any) -> str:
    if not isinstance(body, dict):
        return json.dumps(body)
    return json.dumps({k: v for k, v in body.items() if k != "model"}, sort_keys=True)


def recorded_replies(directory: Path) -> dict[str, Reply]:
    """{request body key: the recorded reply} of every cassette in ``directory``."""
    out: dict[str, Reply] = {}
    for path in sorted(directory.glob("*.yaml")):
        doc = load_yaml(path.read_text(encoding="utf-8")) or {}
        for interaction in doc.get("interactions") or []:
            request, response = interaction["request"], interaction["response"]
            try:
                body = json.loads(request.get("body") or "null")
            except ValueError:
                continue
            headers = {
                str(k).lower(): v[0] if isinstance(v, list) else v for k, v in response["headers"].items()
            }
            raw = response["body"]["string"]
            data = raw.encode("utf-8") if isinstance(raw, str) else bytes(raw)
            ctype = str(headers.get("content-type", "application/json"))
            if ctype.startswith("text/event-stream"):
                cut = max(1, len(data) // 3)
                reply = Reply(
                    response["status"]["code"], b"", {"content-type": ctype}, chunks=[data[:cut], data[cut:]]
                )
            else:
                reply = Reply(response["status"]["code"], data, {"content-type": ctype})
            out.setdefault(_key(body), reply)
    return out


class CassetteServer(LoopbackServer):
    """``with CassetteServer(directory) as server:`` serves ``server.url`` like the recorded server."""

    def __init__(self, directory: Path) -> None:
        self.replies = recorded_replies(directory)
        self.unmatched: list[Any] = []
        super().__init__(self._answer)

    def __enter__(self) -> CassetteServer:
        super().__enter__()
        return self

    def _answer(self, seen: Seen) -> Reply:
        try:
            body = seen.json()
        except ValueError:
            body = None
        reply = self.replies.get(_key(body))
        if reply is None:
            self.unmatched.append(body)
            return Reply.json({"error": {"message": "no recorded reply for this request"}}, status=599)
        return reply
