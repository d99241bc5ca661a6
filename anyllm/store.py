"""The local response store: ``previous_response_id`` and ``store=True`` for stateless providers.

The spec says a server given ``previous_response_id`` MUST treat the prior response's input
and output as context, in the order previous input -> previous output -> new input. Chat
Completions, Messages and generateContent servers keep nothing, so the library keeps it:
one SQLite file (WAL mode, so readers never block the writer and several processes can
share it).

Storage choice: each row holds a response's *own* new input items (what that call sent,
not the context reconstructed for it) and its output items. :meth:`ResponseStore.context_for`
rebuilds the whole conversation by walking the ``previous_response_id`` links back to the
first response. This keeps every row small (a long conversation is not copied into each
turn, which would grow the file quadratically) and makes the chain explicit; the cost is
one indexed lookup per turn, inside one read transaction so a concurrent writer cannot
tear the chain.

Nothing touches the disk at import or construction: the file and its directory are
created on the first write, and a read before any write finds nothing without creating
the file.
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

from anyllm.errors import InvalidRequestError, NotFoundError

__all__ = [
    "STORE_PATH_ENV",
    "ResponseStore",
    "StoredResponse",
    "default_store_path",
    "output_item_to_input",
    "user_cache_dir",
]

STORE_PATH_ENV = "ANYLLM_STORE_PATH"
BUSY_TIMEOUT_S = 30.0
_SCHEMA_VERSION = 1
_SCHEMA = """
CREATE TABLE IF NOT EXISTS responses (
    id TEXT PRIMARY KEY,
    previous_response_id TEXT,
    provider TEXT NOT NULL,
    model TEXT NOT NULL,
    input_items TEXT NOT NULL,
    output_items TEXT NOT NULL,
    created_at REAL NOT NULL
)
"""


@dataclass(frozen=True, slots=True)
class StoredResponse:
    """One stored turn: its own input items, its raw output items, and its link back."""

    response_id: str
    input_items: list[dict[str, Any]]
    output_items: list[dict[str, Any]]
    provider: str
    model: str
    previous_response_id: str | None
    created_at: float


def _private_file(path: Path) -> None:
    """Make the database's missing directories 0700 and the file itself 0600, whatever the
    umask (022 would give 0755 and 0644): a store holds conversations. SQLite gives its WAL
    and shared-memory files the database's mode. What exists already keeps its mode (the
    user's cache directory, a shared /tmp, a file the user made)."""
    missing = []
    parent = path.parent
    while not parent.exists():
        missing.append(parent)
        parent = parent.parent
    for directory in reversed(missing):
        with contextlib.suppress(FileExistsError):  # another process made it meanwhile
            directory.mkdir(mode=0o700)
    with contextlib.suppress(FileExistsError):  # an existing database keeps its mode
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))


def user_cache_dir() -> Path:
    """The platform's per-user cache directory (stdlib only, so no platformdirs dependency)."""
    if sys.platform == "win32":
        local = os.environ.get("LOCALAPPDATA")
        return Path(local) if local else Path.home() / "AppData" / "Local"
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Caches"
    xdg = os.environ.get("XDG_CACHE_HOME")
    # The XDG spec says relative values are invalid and must be ignored.
    return Path(xdg) if xdg and os.path.isabs(xdg) else Path.home() / ".cache"


def default_store_path() -> Path:
    """``$ANYLLM_STORE_PATH`` if set, else ``<user cache dir>/anyllm/responses.sqlite3``."""
    override = os.environ.get(STORE_PATH_ENV)
    if override:
        return Path(override).expanduser()
    return user_cache_dir() / "anyllm" / "responses.sqlite3"


class ResponseStore:
    """Responses kept on disk so that a later call can continue from them.

    Thread-safe (one connection guarded by a lock; SQLite calls are short) and
    process-safe (SQLite's own locking, with a busy timeout rather than an immediate
    "database is locked"). A store used after ``fork`` opens its own connection in the child.
    ``close()`` releases the connection; a later call opens it again.
    """

    def __init__(self, path: str | os.PathLike[str] | None = None) -> None:
        self._path = Path(path) if path is not None else default_store_path()
        self._memory = str(path) == ":memory:"
        self._lock = threading.RLock()
        self._conn: sqlite3.Connection | None = None
        self._pid = os.getpid()

    @property
    def path(self) -> Path:
        return self._path

    def __repr__(self) -> str:
        return f"ResponseStore({str(self._path)!r})"

    # ------------------------------------------------------------------ connection

    def _connection(self, *, create: bool) -> sqlite3.Connection | None:
        """The open connection; None when reading a store that was never written."""
        if self._conn is not None and self._pid != os.getpid():
            # Inherited across fork: SQLite connections must not be shared with the parent.
            self._conn = None
        if self._conn is not None:
            return self._conn
        if not self._memory:
            if not create and not self._path.exists():
                return None
            _private_file(self._path)
        conn = sqlite3.connect(
            self._path if not self._memory else ":memory:",
            timeout=BUSY_TIMEOUT_S,
            isolation_level=None,  # autocommit; transactions are explicit
            check_same_thread=False,  # guarded by self._lock
        )
        try:
            conn.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = NORMAL")
            conn.execute(_SCHEMA)
            if conn.execute("PRAGMA user_version").fetchone()[0] == 0:
                conn.execute(f"PRAGMA user_version = {_SCHEMA_VERSION}")
        except BaseException:
            conn.close()
            raise
        self._conn = conn
        self._pid = os.getpid()
        return conn

    def close(self) -> None:
        """Release the connection (the file stays); the store reopens on next use."""
        with self._lock:
            if self._conn is not None and self._pid == os.getpid():
                self._conn.close()
            self._conn = None

    def __enter__(self) -> ResponseStore:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # ------------------------------------------------------------------ operations

    def save(
        self,
        response_id: str,
        *,
        input_items: list[dict[str, Any]] | str,
        output_items: list[dict[str, Any]],
        provider: str,
        model: str,
        previous_response_id: str | None,
    ) -> None:
        """Keep one turn. ``input_items`` is this call's own new input, not the rebuilt context.

        A string input is stored as the user message it stands for. Saving an existing id
        replaces it (a retried save is harmless).
        """
        if not isinstance(response_id, str) or not response_id:
            raise InvalidRequestError(f"response id must be a non-empty string, got {response_id!r}")
        if isinstance(input_items, str):
            input_items = [{"type": "message", "role": "user", "content": input_items}]
        input_json = _dump_items(input_items, "input_items", response_id)
        output_json = _dump_items(output_items, "output_items", response_id)
        with self._lock:
            conn = self._connection(create=True)
            assert conn is not None
            conn.execute(
                "INSERT OR REPLACE INTO responses (id, previous_response_id, provider, model, "
                "input_items, output_items, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (response_id, previous_response_id, provider, model, input_json, output_json, time.time()),
            )

    def load(self, response_id: str) -> StoredResponse | None:
        """One stored turn as saved (raw output items), or None."""
        with self._lock:
            conn = self._connection(create=False)
            if conn is None:
                return None
            return _fetch(conn, response_id)

    def delete(self, response_id: str) -> bool:
        """Forget one turn; True if it existed. Later turns that point to it lose their context."""
        with self._lock:
            conn = self._connection(create=False)
            if conn is None:
                return False
            cursor = conn.execute("DELETE FROM responses WHERE id = ?", (response_id,))
            return cursor.rowcount > 0

    def context_for(self, previous_response_id: str) -> list[dict[str, Any]]:
        """Every item of the conversation ending at ``previous_response_id``, as input items.

        Order: first turn's input, its output, second turn's input, its output, ... Output
        items are converted to the input item shapes (see :func:`output_item_to_input`).
        """
        with self._lock:
            conn = self._connection(create=False)
            chain: list[StoredResponse] = []
            if conn is not None:
                conn.execute("BEGIN")
                try:
                    chain = self._walk(conn, previous_response_id)
                finally:
                    conn.execute("COMMIT")
            if not chain:
                raise NotFoundError(
                    f"Previous response {previous_response_id!r} was not found in the local response "
                    f"store ({self._path}). For providers without server-side state, a response can "
                    "be continued only if the call that created it passed store=True (and used the "
                    "same store).",
                    code="previous_response_not_found",
                    param="previous_response_id",
                )
        items: list[dict[str, Any]] = []
        for turn in reversed(chain):
            items.extend(turn.input_items)
            items.extend(output_item_to_input(item) for item in turn.output_items)
        return items

    def _walk(self, conn: sqlite3.Connection, response_id: str) -> list[StoredResponse]:
        """The chain from ``response_id`` back to its first turn (newest first)."""
        chain: list[StoredResponse] = []
        seen: set[str] = set()
        current: str | None = response_id
        while current is not None:
            if current in seen:
                raise InvalidRequestError(
                    f"The stored chain of response {response_id!r} loops back to {current!r}; "
                    f"the local response store ({self._path}) is inconsistent",
                    param="previous_response_id",
                )
            seen.add(current)
            turn = _fetch(conn, current)
            if turn is None:
                if not chain:
                    return []
                raise NotFoundError(
                    f"Response {current!r}, an earlier turn of {response_id!r}, is missing from the "
                    f"local response store ({self._path}); it was deleted or never stored (store=True "
                    "must be passed on every call of the conversation)",
                    code="previous_response_not_found",
                    param="previous_response_id",
                )
            chain.append(turn)
            current = turn.previous_response_id
        return chain


def _dump_items(items: Any, what: str, response_id: str) -> str:
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        raise InvalidRequestError(f"{what} of response {response_id!r} must be a list of dicts")
    try:
        return json.dumps(items, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise InvalidRequestError(
            f"{what} of response {response_id!r} is not JSON-serializable: {exc}"
        ) from exc


def _fetch(conn: sqlite3.Connection, response_id: str) -> StoredResponse | None:
    row = conn.execute(
        "SELECT id, input_items, output_items, provider, model, previous_response_id, created_at "
        "FROM responses WHERE id = ?",
        (response_id,),
    ).fetchone()
    if row is None:
        return None
    return StoredResponse(
        response_id=row[0],
        input_items=json.loads(row[1]),
        output_items=json.loads(row[2]),
        provider=row[3],
        model=row[4],
        previous_response_id=row[5],
        created_at=row[6],
    )


# ---------------------------------------------------------------------- output -> input

_STATUSES = ("in_progress", "completed", "incomplete")


def _pick(item: dict[str, Any], keys: tuple[str, ...]) -> dict[str, Any]:
    return {k: item[k] for k in keys if k in item and item[k] is not None}


def _assistant_part(part: Any) -> Any:
    if not isinstance(part, dict):
        return part
    kind = part.get("type")
    if kind == "refusal":
        return _pick(part, ("type", "refusal"))
    text = part.get("text")
    if kind == "output_text" or isinstance(text, str):
        out: dict[str, Any] = {"type": "output_text", "text": text if isinstance(text, str) else ""}
        citations = [
            _pick(a, ("type", "start_index", "end_index", "url", "title"))
            for a in part.get("annotations") or []
            if isinstance(a, dict) and a.get("type") == "url_citation"
        ]
        if citations:
            out["annotations"] = citations
        return out
    return part


def output_item_to_input(item: dict[str, Any]) -> dict[str, Any]:
    """One output item (ResponseResource.output) in the shape CreateResponseBody.input accepts.

    Checked against the spec's ItemParam schemas: assistant messages keep id, status and
    phase, content parts become output_text/refusal (logprobs dropped, url citations kept);
    reasoning keeps id, summary and encrypted_content but drops ``content``, which the
    input schema admits only as null; function calls and their outputs keep their fields.
    Unknown item types (provider extensions) pass through unchanged.
    """
    kind = item.get("type")
    if kind == "message" and item.get("role", "assistant") == "assistant":
        out = _pick(item, ("type", "id", "role", "status", "phase"))
        out["role"] = "assistant"
        content = item.get("content")
        out["content"] = [_assistant_part(p) for p in content] if isinstance(content, list) else content or ""
        return out
    if kind == "function_call":
        out = _pick(item, ("type", "id", "call_id", "name", "arguments", "status"))
        if out.get("status") not in _STATUSES:
            out.pop("status", None)
        return out
    if kind == "function_call_output":
        out = _pick(item, ("type", "id", "call_id", "output", "status"))
        if out.get("status") not in _STATUSES:
            out.pop("status", None)
        return out
    if kind == "reasoning":
        out = _pick(item, ("type", "id", "encrypted_content"))
        out["summary"] = [
            {"type": "summary_text", "text": s["text"]}
            for s in item.get("summary") or []
            if isinstance(s, dict) and isinstance(s.get("text"), str)
        ]
        return out
    if kind == "compaction":
        return _pick(item, ("type", "id", "encrypted_content"))
    return item
