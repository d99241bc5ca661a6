"""Start and stop open-responses-server (PyPI) in front of a running llama-server.

open-responses-server 0.4.1 translates the Responses API onto a chat-completions backend.
It is a real third-party OpenResponses implementation that does not conform, which makes
it the harness's reference for catching deviations: the ``open-responses-server`` column
of the matrix is recorded against it (``pytest conformance --target=open-responses-server
--record-mode=rewrite``), and the validator's tests judge it live. How it is started is
written once, in the target file (``conformance/targets.yaml``); this is that recipe over a
llama-server the caller already runs. It listens on a free 127.0.0.1 port and is always
stopped afterwards.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from anyllm.testing.llama_server import LlamaServer
from anyllm.testing.target_servers import BackendPool, TargetUnavailable, start_target
from anyllm.testing.targets import load_targets

__all__ = ["TARGET", "OpenResponsesServerUnavailable", "open_responses_server"]

TARGET = "open-responses-server"


class OpenResponsesServerUnavailable(TargetUnavailable):
    """The package is not installed, or the server exited or never answered."""


@contextlib.contextmanager
def open_responses_server(backend: LlamaServer) -> Iterator[str]:
    """Serve the Responses API over ``backend``; yields the server's base URL (it serves
    ``/responses`` at its root)."""
    targets = load_targets()
    spec = targets.targets[TARGET]
    pool = BackendPool(targets.backends)
    if spec.backend is not None:
        pool.adopt(spec.backend, backend)
    try:
        server = start_target(spec, pool)
    except TargetUnavailable as exc:
        raise OpenResponsesServerUnavailable(str(exc)) from None
    try:
        yield server.base_url
    finally:
        server.stop()
