#!/usr/bin/env bash
# The project's own tests, lint and types, on a fresh machine: set-up, then run.
# The live llama.cpp tests are required here (ANYLLM_REQUIRE_LLAMA=1): a missing server
# fails the run instead of skipping them.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh live
VENV="${ANYLLM_VENV:-.venv}"
export ANYLLM_REQUIRE_LLAMA=1
"$VENV/bin/ruff" check anyllm tests conformance benchmarks scripts
"$VENV/bin/mypy"
"$VENV/bin/python" -m pytest tests "$@"
