"""The local response store on real SQLite files: round trips, chains, errors, concurrency."""

from __future__ import annotations

import gzip
import json
import multiprocessing
import os
import sqlite3
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from anyllm.errors import InvalidRequestError, NotFoundError
from anyllm.store import (
    STORE_PATH_ENV,
    ResponseStore,
    StoredResponse,
    default_store_path,
    output_item_to_input,
    user_cache_dir,
)


def _user(text: str) -> dict[str, Any]:
    return {"type": "message", "role": "user", "content": [{"type": "input_text", "text": text}]}


def _assistant(text: str, msg_id: str) -> dict[str, Any]:
    """An output message in ResponseResource.output shape (status, annotations, logprobs)."""
    return {
        "type": "message",
        "id": msg_id,
        "status": "completed",
        "role": "assistant",
        "content": [{"type": "output_text", "text": text, "annotations": [], "logprobs": []}],
    }


def _function_call(call_id: str) -> dict[str, Any]:
    return {
        "type": "function_call",
        "id": f"fc_{call_id}",
        "call_id": call_id,
        "name": "get_weather",
        "arguments": '{"city":"Paris"}',
        "status": "completed",
    }


def _reasoning(rs_id: str) -> dict[str, Any]:
    return {
        "type": "reasoning",
        "id": rs_id,
        "summary": [{"type": "summary_text", "text": "thinking about weather"}],
        "content": [{"type": "reasoning_text", "text": "The user wants the weather."}],
        "encrypted_content": "gAAAA-opaque",
    }


# ------------------------------------------------------------------ basics


def test_round_trip(tmp_path: Path) -> None:
    store = ResponseStore(tmp_path / "r.sqlite3")
    before = time.time()
    store.save(
        "resp_1",
        input_items=[_user("hi")],
        output_items=[_assistant("hello", "msg_1")],
        provider="mistral",
        model="mistral-small-latest",
        previous_response_id=None,
    )
    loaded = store.load("resp_1")
    assert isinstance(loaded, StoredResponse)
    assert loaded.response_id == "resp_1"
    assert loaded.input_items == [_user("hi")]
    assert loaded.output_items == [_assistant("hello", "msg_1")]  # raw, as saved
    assert (loaded.provider, loaded.model, loaded.previous_response_id) == (
        "mistral",
        "mistral-small-latest",
        None,
    )
    assert before - 1 <= loaded.created_at <= time.time() + 1
    assert store.load("resp_unknown") is None
    store.close()
    # A fresh store on the same file (another "process") sees the same data.
    assert ResponseStore(tmp_path / "r.sqlite3").load("resp_1") == loaded


def test_string_input_is_stored_as_user_message(tmp_path: Path) -> None:
    store = ResponseStore(tmp_path / "r.sqlite3")
    store.save("r", input_items="hi", output_items=[], provider="p", model="m", previous_response_id=None)
    assert store.context_for("r") == [{"type": "message", "role": "user", "content": "hi"}]


def test_save_replaces_existing_id(tmp_path: Path) -> None:
    store = ResponseStore(tmp_path / "r.sqlite3")
    for text in ("first", "second"):
        store.save(
            "r",
            input_items=[_user(text)],
            output_items=[],
            provider="p",
            model="m",
            previous_response_id=None,
        )
    loaded = store.load("r")
    assert loaded is not None and loaded.input_items == [_user("second")]


def test_wal_mode_and_synchronous_normal(tmp_path: Path) -> None:
    path = tmp_path / "r.sqlite3"
    store = ResponseStore(path)
    store.save("r", input_items=[], output_items=[], provider="p", model="m", previous_response_id=None)
    with sqlite3.connect(path) as other:
        assert other.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    conn = store._connection(create=False)
    assert conn is not None
    assert conn.execute("PRAGMA synchronous").fetchone()[0] == 1  # NORMAL
    assert conn.execute("PRAGMA busy_timeout").fetchone()[0] >= 1000


def test_delete_and_close_then_reuse(tmp_path: Path) -> None:
    store = ResponseStore(tmp_path / "r.sqlite3")
    store.save("r", input_items=[], output_items=[], provider="p", model="m", previous_response_id=None)
    store.close()
    assert store.load("r") is not None  # reopened lazily
    assert store.delete("r") is True
    assert store.delete("r") is False
    assert store.load("r") is None


def test_memory_store_works_without_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    store = ResponseStore(":memory:")
    store.save(
        "r", input_items=[_user("x")], output_items=[], provider="p", model="m", previous_response_id=None
    )
    assert store.context_for("r") == [_user("x")]
    assert list(tmp_path.iterdir()) == []


def test_bad_items_are_rejected_before_writing(tmp_path: Path) -> None:
    path = tmp_path / "r.sqlite3"
    store = ResponseStore(path)
    with pytest.raises(InvalidRequestError, match=r"output_items of response 'r' is not JSON-serializable"):
        store.save(
            "r",
            input_items=[],
            output_items=[{"x": object()}],
            provider="p",
            model="m",
            previous_response_id=None,
        )
    with pytest.raises(InvalidRequestError, match="input_items of response 'r' must be a list of dicts"):
        store.save(
            "r", input_items=["no"], output_items=[], provider="p", model="m", previous_response_id=None
        )  # type: ignore[list-item]
    with pytest.raises(InvalidRequestError, match="non-empty string"):
        store.save("", input_items=[], output_items=[], provider="p", model="m", previous_response_id=None)
    assert not path.exists()


# ------------------------------------------------------------------ laziness and paths


def test_no_file_until_first_write(tmp_path: Path) -> None:
    path = tmp_path / "nested" / "dir" / "responses.sqlite3"
    store = ResponseStore(path)
    assert store.load("resp_x") is None
    assert store.delete("resp_x") is False
    with pytest.raises(NotFoundError):
        store.context_for("resp_x")
    store.close()
    assert not (tmp_path / "nested").exists()
    store.save("resp_x", input_items=[], output_items=[], provider="p", model="m", previous_response_id=None)
    assert path.is_file()


def test_env_var_overrides_default_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "custom" / "store.db"
    monkeypatch.setenv(STORE_PATH_ENV, str(target))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    store = ResponseStore()
    assert store.path == target
    assert not target.exists()
    store.save("r", input_items=[], output_items=[], provider="p", model="m", previous_response_id=None)
    assert target.is_file()
    assert not (tmp_path / "xdg").exists()


def test_default_path_follows_xdg_cache_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(STORE_PATH_ENV, raising=False)
    monkeypatch.setattr(sys, "platform", "linux")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert default_store_path() == tmp_path / "xdg" / "anyllm" / "responses.sqlite3"
    monkeypatch.setenv("XDG_CACHE_HOME", "relative/ignored")  # invalid per the XDG spec
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert default_store_path() == tmp_path / "home" / ".cache" / "anyllm" / "responses.sqlite3"
    assert ResponseStore().path == default_store_path()


def test_platform_cache_dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setattr(sys, "platform", "darwin")
    assert user_cache_dir() == tmp_path / "Library" / "Caches"
    monkeypatch.setattr(sys, "platform", "win32")
    monkeypatch.setenv("LOCALAPPDATA", str(tmp_path / "Local"))
    assert user_cache_dir() == tmp_path / "Local"


# ------------------------------------------------------------------ chains


def _save_chain(store: ResponseStore) -> list[dict[str, Any]]:
    """Three turns: text, a tool call, the tool's result and an answer. Returns the expected context."""
    store.save(
        "resp_1",
        input_items=[{"type": "message", "role": "system", "content": "be brief"}, _user("weather?")],
        output_items=[_reasoning("rs_1"), _function_call("call_1")],
        provider="mistral",
        model="m",
        previous_response_id=None,
    )
    tool_result = {"type": "function_call_output", "call_id": "call_1", "output": '{"temp": 21}'}
    store.save(
        "resp_2",
        input_items=[tool_result],
        output_items=[_assistant("21 degrees", "msg_2")],
        provider="mistral",
        model="m",
        previous_response_id="resp_1",
    )
    store.save(
        "resp_3",
        input_items=[_user("thanks")],
        output_items=[_assistant("you're welcome", "msg_3")],
        provider="mistral",
        model="m",
        previous_response_id="resp_2",
    )
    as_input_msg = lambda text, msg_id: {  # noqa: E731
        "type": "message",
        "id": msg_id,
        "status": "completed",
        "role": "assistant",
        "content": [{"type": "output_text", "text": text}],
    }
    return [
        {"type": "message", "role": "system", "content": "be brief"},
        _user("weather?"),
        {
            "type": "reasoning",
            "id": "rs_1",
            "summary": [{"type": "summary_text", "text": "thinking about weather"}],
            "encrypted_content": "gAAAA-opaque",
        },
        _function_call("call_1"),
        tool_result,
        as_input_msg("21 degrees", "msg_2"),
        _user("thanks"),
        as_input_msg("you're welcome", "msg_3"),
    ]


def test_chain_of_three_in_spec_order(tmp_path: Path) -> None:
    store = ResponseStore(tmp_path / "r.sqlite3")
    expected = _save_chain(store)
    assert store.context_for("resp_3") == expected
    assert store.context_for("resp_2") == expected[:6]
    assert store.context_for("resp_1") == expected[:4]


def test_missing_id_names_it_and_store_true(tmp_path: Path) -> None:
    store = ResponseStore(tmp_path / "r.sqlite3")
    _save_chain(store)
    with pytest.raises(NotFoundError) as info:
        store.context_for("resp_nope")
    message = str(info.value)
    assert "'resp_nope'" in message
    assert "store=True" in message
    assert info.value.code == "previous_response_not_found"
    assert info.value.param == "previous_response_id"


def test_missing_ancestor_names_the_gap(tmp_path: Path) -> None:
    store = ResponseStore(tmp_path / "r.sqlite3")
    _save_chain(store)
    assert store.delete("resp_1")
    with pytest.raises(NotFoundError, match=r"'resp_1', an earlier turn of 'resp_3'"):
        store.context_for("resp_3")


def test_cycle_is_reported_not_looped(tmp_path: Path) -> None:
    store = ResponseStore(tmp_path / "r.sqlite3")
    store.save("a", input_items=[], output_items=[], provider="p", model="m", previous_response_id="b")
    store.save("b", input_items=[], output_items=[], provider="p", model="m", previous_response_id="a")
    with pytest.raises(InvalidRequestError, match="loops back"):
        store.context_for("a")


# ------------------------------------------------------------------ concurrency


def _write_many(path: str, prefix: str, count: int) -> None:
    """Run in another process (spawn): its own store on the shared file."""
    store = ResponseStore(path)
    for i in range(count):
        store.save(
            f"{prefix}_{i}",
            input_items=[_user(f"{prefix} {i}")],
            output_items=[_assistant(f"answer {i}", f"msg_{prefix}_{i}")],
            provider="p",
            model="m",
            previous_response_id=f"{prefix}_{i - 1}" if i else None,
        )
    store.close()


def _count(path: Path) -> int:
    with sqlite3.connect(path) as conn:
        return int(conn.execute("SELECT COUNT(*) FROM responses").fetchone()[0])


def test_concurrent_threads_lose_nothing(tmp_path: Path) -> None:
    path = tmp_path / "r.sqlite3"
    shared = ResponseStore(path)
    errors: list[BaseException] = []

    def work(index: int) -> None:
        try:
            # Half the threads share one store object, half open their own on the same file.
            store = shared if index % 2 else ResponseStore(path)
            for i in range(40):
                store.save(
                    f"t{index}_{i}",
                    input_items=[_user(str(i))],
                    output_items=[],
                    provider="p",
                    model="m",
                    previous_response_id=f"t{index}_{i - 1}" if i else None,
                )
                store.load(f"t{index}_{i}")
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors
    assert _count(path) == 8 * 40
    # Each thread's 40-turn chain is complete and in order.
    for n in range(8):
        context = shared.context_for(f"t{n}_39")
        assert [item["content"][0]["text"] for item in context] == [str(i) for i in range(40)]


def test_two_processes_and_a_thread_lose_nothing(tmp_path: Path) -> None:
    path = tmp_path / "r.sqlite3"
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_write_many, args=(str(path), f"p{n}", 100)) for n in range(2)]
    for proc in procs:
        proc.start()
    _write_many(str(path), "parent", 100)  # the parent writes at the same time
    for proc in procs:
        proc.join(timeout=120)
        assert proc.exitcode == 0
    assert _count(path) == 300
    store = ResponseStore(path)
    for prefix in ("p0", "p1", "parent"):
        context = store.context_for(f"{prefix}_99")
        assert len(context) == 200
        assert context[0] == _user(f"{prefix} 0")
        assert context[-1]["content"][0]["text"] == "answer 99"


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_store_survives_fork(tmp_path: Path) -> None:
    store = ResponseStore(tmp_path / "r.sqlite3")
    store.save("before", input_items=[], output_items=[], provider="p", model="m", previous_response_id=None)
    proc = multiprocessing.get_context("fork").Process(
        target=lambda: store.save(
            "child", input_items=[], output_items=[], provider="p", model="m", previous_response_id="before"
        )
    )
    proc.start()
    proc.join(timeout=60)
    assert proc.exitcode == 0
    assert store.context_for("child") == []
    loaded = store.load("child")
    assert loaded is not None and loaded.previous_response_id == "before"


# ------------------------------------------------------------------ output items replayed as input


def _spec_document() -> dict[str, Any]:
    """The official OpenAPI document (test extra openresponses-py, or ../shared)."""
    try:
        from importlib.resources import files

        return dict(json.loads((files("openresponses") / "openapi" / "2026-04-24.json").read_text()))
    except (ImportError, FileNotFoundError, ModuleNotFoundError):
        pass
    shared = Path(os.environ.get("ANYLLM_SHARED_DIR", Path(__file__).resolve().parents[2] / "shared"))
    spec = shared / "openresponses" / "openapi.json"
    if not spec.is_file():
        pytest.skip("the OpenResponses OpenAPI document is not available")
    return dict(json.loads(spec.read_text()))


@pytest.fixture(scope="module")
def item_param_validator() -> Any:
    from jsonschema.validators import Draft202012Validator

    doc = _spec_document()
    schema = {"$ref": "#/components/schemas/ItemParam", "components": doc["components"]}
    return Draft202012Validator(schema)


def test_context_items_are_valid_input_items(tmp_path: Path, item_param_validator: Any) -> None:
    store = ResponseStore(tmp_path / "r.sqlite3")
    _save_chain(store)
    raw_outputs = [item for n in (1, 2, 3) for item in store.load(f"resp_{n}").output_items]  # type: ignore[union-attr]
    # The raw reasoning output is NOT a valid input item (its `content` must be null there),
    # so the conversion is doing real work.
    assert any(not item_param_validator.is_valid(item) for item in raw_outputs)
    for item in store.context_for("resp_3"):
        errors = [e.message for e in item_param_validator.iter_errors(item)]
        assert not errors, (item, errors)


def test_output_item_conversion_details() -> None:
    message = {
        "type": "message",
        "id": "msg_1",
        "status": "completed",
        "role": "assistant",
        "phase": "final_answer",
        "content": [
            {
                "type": "output_text",
                "text": "see",
                "logprobs": [{"token": "see", "logprob": -0.1, "bytes": [115], "top_logprobs": []}],
                "annotations": [
                    {
                        "type": "url_citation",
                        "url": "https://x.test",
                        "start_index": 0,
                        "end_index": 3,
                        "title": "X",
                    }
                ],
            },
            {"type": "refusal", "refusal": "no"},
            {"type": "text", "text": "plain"},
        ],
    }
    assert output_item_to_input(message) == {
        "type": "message",
        "id": "msg_1",
        "status": "completed",
        "role": "assistant",
        "phase": "final_answer",
        "content": [
            {
                "type": "output_text",
                "text": "see",
                "annotations": [
                    {
                        "type": "url_citation",
                        "start_index": 0,
                        "end_index": 3,
                        "url": "https://x.test",
                        "title": "X",
                    }
                ],
            },
            {"type": "refusal", "refusal": "no"},
            {"type": "output_text", "text": "plain"},
        ],
    }
    extension = {"type": "acme:widget_call", "id": "w_1", "payload": {"a": 1}}
    assert output_item_to_input(extension) is extension


def _corpus_output_items() -> list[dict[str, Any]]:
    shared = Path(os.environ.get("ANYLLM_SHARED_DIR", Path(__file__).resolve().parents[2] / "shared"))
    corpus = shared / "corpus" / "interactions.jsonl.gz"
    if not corpus.is_file():
        pytest.skip("../shared/corpus is absent")
    items: list[dict[str, Any]] = []
    with gzip.open(corpus, "rt", encoding="utf-8") as fh:
        for line in fh:
            record = json.loads(line)
            body = record.get("response_json")
            if not (isinstance(body, dict) and body.get("object") == "response"):
                continue
            for item in body.get("output") or []:
                if isinstance(item, dict) and item.get("type") in ("message", "function_call", "reasoning"):
                    items.append(item)
    if not items:
        pytest.skip("no Responses output items in the corpus")
    return items


@pytest.mark.corpus
def test_real_output_items_replay_as_valid_input(item_param_validator: Any) -> None:
    items = _corpus_output_items()
    failures = []
    for item in items:
        converted = output_item_to_input(item)
        if not item_param_validator.is_valid(converted):
            failures.append(
                (item.get("type"), [e.message for e in item_param_validator.iter_errors(converted)][:2])
            )
    assert not failures, f"{len(failures)} of {len(items)} real output items failed: {failures[:5]}"


# -- permissions (issue 13, item 18) -----------------------------------------------------------


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX permission bits")
def test_the_store_is_private_to_its_user(tmp_path: Path) -> None:
    """Conversations are private: under the usual umask 022 the directories the store creates
    are 0700 and the database (with its WAL and shared-memory files) 0600, not 0755/0644."""
    path = tmp_path / "cache" / "anyllm" / "responses.sqlite3"
    old = os.umask(0o022)
    try:
        store = ResponseStore(path)
        store.save(
            "resp_1",
            input_items=[_user("hi")],
            output_items=[_assistant("hello", "msg_1")],
            provider="p",
            model="m",
            previous_response_id=None,
        )
        assert store.load("resp_1") is not None
        files = sorted(p.name for p in path.parent.iterdir())
        modes = {p.name: p.stat().st_mode & 0o777 for p in path.parent.iterdir()}
        store.close()
    finally:
        os.umask(old)
    assert (path.parent.stat().st_mode & 0o777, (tmp_path / "cache").stat().st_mode & 0o777) == (0o700, 0o700)
    assert "responses.sqlite3-wal" in files, files  # WAL mode: the side files exist while open
    assert modes == dict.fromkeys(files, 0o600), modes


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX permission bits")
def test_the_store_leaves_existing_directories_alone(tmp_path: Path) -> None:
    """A directory that exists already (the user's cache, /tmp) keeps its mode: the store
    makes only what it creates private."""
    shared = tmp_path / "shared"
    shared.mkdir(mode=0o755)
    shared.chmod(0o755)
    store = ResponseStore(shared / "responses.sqlite3")
    store.save(
        "resp_1",
        input_items=[_user("hi")],
        output_items=[_assistant("hello", "msg_1")],
        provider="p",
        model="m",
        previous_response_id=None,
    )
    store.close()
    assert shared.stat().st_mode & 0o777 == 0o755
    assert (shared / "responses.sqlite3").stat().st_mode & 0o777 == 0o600
