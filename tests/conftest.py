"""Fixtures shared by the project's own tests."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from anyllm.providers.factory import clear_backends
from anyllm.testing.llama_server import LlamaServer, LlamaServerUnavailable, start_llama_server

REPO = Path(__file__).resolve().parents[1]


def shared_dir() -> Path:
    """../shared beside the checkout (or $ANYLLM_SHARED_DIR): the spec and the corpus."""
    return Path(os.environ.get("ANYLLM_SHARED_DIR", REPO.parent / "shared"))


# What ``python -X dev`` reports as "unclosed transport / socket / file", made a failure: as a
# warning, and as the unraisable exception it becomes when raised in a ``__del__``.
NO_UNCLOSED_RESOURCES = (
    "error::ResourceWarning",
    "error:(?s).*ResourceWarning:pytest.PytestUnraisableExceptionWarning",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The project's own tests (not the conformance suites, which users run) fail on anything
    left unclosed."""
    here = Path(__file__).resolve().parent
    for item in items:
        if here in Path(item.path).resolve().parents:
            for spec in NO_UNCLOSED_RESOURCES:
                item.add_marker(pytest.mark.filterwarnings(spec))


@pytest.fixture(autouse=True)
def _fresh_backends() -> Iterator[None]:
    """Each test gets its own clients, so servers started by one test never leak into another."""
    clear_backends()
    yield
    clear_backends()


@pytest.fixture(scope="session")
def llama() -> Iterator[LlamaServer]:
    """The real llama.cpp server with SmolLM2 on a free loopback port, for the whole session.

    Skips when llama-cpp-python is absent, unless ANYLLM_REQUIRE_LLAMA=1 (set by .ci/run),
    where a missing server fails the run instead of hiding the live tests.
    """
    try:
        server = start_llama_server()
    except LlamaServerUnavailable as exc:
        if os.environ.get("ANYLLM_REQUIRE_LLAMA") == "1":
            pytest.fail(f"live llama.cpp server required but unavailable: {exc}")
        pytest.skip(f"llama.cpp server unavailable: {exc}")
    try:
        yield server
    finally:
        server.stop()
