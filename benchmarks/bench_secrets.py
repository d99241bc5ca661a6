"""Keys found in the artifacts of a recording run, and of certify (goal: 0).

A recording run of one case per echo path (error body, reply body, streamed deltas,
headers) and encoding (plain, JSON-escaped, base64, split across deltas), for every auth
style (bearer through the library, the openai SDK and the chat bridge; ``x-api-key``;
``api-key``; ``x-goog-api-key``; ``?key=``), against loopback servers that echo each key
back; pytest runs with ``--record --tb=long -l -rA`` and DEBUG log lines. Then ``certify``
against an endpoint at ``http://user:PASSWORD@...`` with a key. Every file left behind
(cassettes, report.json/md/html, certificate.json/md) and all that was printed is scanned
for each key raw, URL-quoted, base64, behind JSON escapes, as a run of 12 of its
characters, and reassembled from SSE deltas (``tests/helpers/canaries.py``;
``tests/test_secret_artifacts.py`` is the same goal as a test).

    python benchmarks/bench_secrets.py [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.helpers.canaries import ECHO_CASES, QUERY_CASES, STYLES, run_certify, run_recording


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", type=Path, help="write the figures here")
    args = parser.parse_args()
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="anyllm-bench-secrets-") as scratch:
        recording = run_recording(Path(scratch) / "record")
        certify = run_certify(Path(scratch) / "certify")
    findings = [*recording.findings, *certify.findings]
    figures: dict[str, Any] = {
        "keys_found": len(findings),  # (artifact, key) pairs where the key was found
        "findings": [str(f) for f in findings],
        "artifacts_scanned": recording.artifacts + certify.artifacts,
        "keys": len(recording.secrets) + len(certify.secrets),
        "auth_styles": [*STYLES, "?key= (gemini)", "URL password (certify)"],
        "echo_cases": [f"{path}-{encoding}" for path, encoding in ECHO_CASES],
        "query_key_cases": [f"{path}-{encoding}" for path, encoding in QUERY_CASES],
        "seconds": round(time.perf_counter() - started, 1),
    }
    print(
        f"keys found in artifacts: {figures['keys_found']} ({figures['keys']} canary keys, "
        f"{figures['artifacts_scanned']} artifacts scanned, {figures['seconds']} s)"
    )
    for line in figures["findings"]:
        print("  ", line)
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
