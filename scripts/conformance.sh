#!/usr/bin/env bash
# The main job: the compliance matrix (every provider and every named target of
# conformance/targets.yaml x every conformance case) replayed from the committed cassettes. No key and no network: replay blocks every non-loopback
# connection. Prints the matrix; writes JSON, Markdown and HTML reports to reports/.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh replay
VENV="${ANYLLM_VENV:-.venv}"
"$VENV/bin/python" -m pytest conformance -p no:cacheprovider -r fEX --provider=all --target=all \
    --conformance-report=reports/conformance "$@"
