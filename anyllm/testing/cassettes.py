"""Cassettes: vcrpy over httpx2, with what conformance recording needs on top.

Why not vcrpy's own httpx2 stub: it reads a streamed body whole and replays it as one
chunk, so chunk-boundary bugs never show on replay, and it reads an endless SSE stream
forever while recording. This module keeps vcrpy's cassette model (record modes, the
YAML file, matchers, per-cassette metadata) and swaps the httpx2 transport stub for one
that

* re-delivers a recorded ``text/event-stream`` body in many chunks (event boundaries
  plus deliberately awkward splits: inside ``data:``, between CR and LF, inside a UTF-8
  character), byte for byte;
* records under a bound (bytes and seconds), raising :class:`RecordingLimitError` rather
  than hanging;
* scrubs secrets before anything is stored, and refuses to write a cassette that still
  holds the value of any provider key variable (:class:`SecretLeakError`), or to replay
  one that holds it (:class:`CassetteSecretError`);
* refuses a cassette it cannot read (:class:`CassetteCorruptError`, naming the file and
  the line) and leaves it as it is: only record mode ``rewrite`` replaces it;
* writes cassettes atomically (temporary file + ``os.replace``), so parallel recorders
  and interrupted runs never leave half a file;
* matches requests on method, path, query (minus ``key=``) and normalized JSON body, not
  on host or port (the llama.cpp server runs on a random port), and says what differs.
"""

from __future__ import annotations

import base64
import contextlib
import contextvars
import datetime as _dt
import functools
import hashlib
import ipaddress
import json
import os
import socket
import tempfile
import threading
import time
import urllib.parse
import zlib
from collections.abc import AsyncIterator, Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx2
import yaml
from vcr.cassette import Cassette, CassetteContextDecorator
from vcr.errors import CannotOverwriteExistingCassetteException
from vcr.patch import PATCHER_NAMES
from vcr.persisters.filesystem import CassetteNotFoundError
from vcr.request import Request as VcrRequest

__all__ = [
    "RECORD_MODES",
    "REDACTED",
    "SECRET_HEADERS",
    "SPEC_VERSION",
    "AnyllmCassette",
    "AtomicPersister",
    "CassetteCorruptError",
    "CassetteSecretError",
    "CassetteSettings",
    "NetworkBlockedError",
    "RecordingLimitError",
    "SecretLeakError",
    "Secrets",
    "block_network",
    "cassette_sha256",
    "json_body_matcher",
    "load_provenance",
    "load_yaml",
    "provider_secrets",
    "replay_chunks",
    "secret_forms",
    "use_cassette",
]

SPEC_VERSION = "2026-04-24"
REDACTED = "<REDACTED>"
RECORD_MODES = ("none", "once", "new_episodes", "all", "rewrite")
SECRET_HEADERS = frozenset(
    {"authorization", "x-api-key", "api-key", "x-goog-api-key", "proxy-authorization", "cookie", "set-cookie"}
)
SECRET_QUERY_PARAMS = frozenset({"key", "api_key", "api-key"})
# Values shorter than this are not scrubbed by value: replacing "x" everywhere would
# destroy the recording, and no real key is that short.
MIN_SECRET_LENGTH = 8
# Request fields that may differ between runs without the request meaning anything else.
VOLATILE_BODY_FIELDS = frozenset({"user", "safety_identifier", "prompt_cache_key"})


class SecretLeakError(RuntimeError):
    """A cassette would have held a secret: it was not written."""


class CassetteSecretError(SecretLeakError):
    """A cassette on disk holds the value of a live key: it is not replayed (nor changed)."""


class CassetteCorruptError(RuntimeError):
    """A cassette file that is not a readable vcrpy cassette. It is left as it is: taking it
    for a missing one would go live and overwrite it."""


class RecordingLimitError(RuntimeError):
    """A recorded body passed the size or time bound (an endless stream, most likely)."""


class NetworkBlockedError(RuntimeError):
    """Replay tried to open a non-loopback connection. Not an OSError on purpose: HTTP
    clients turn OSErrors into retryable connection errors, this must surface as it is."""


# -- secrets ----------------------------------------------------------------------------------


class Secrets(dict[str, str]):
    """{variable name: value}; its repr names the variables only, so a traceback (pytest
    prints function arguments) can never show a key."""

    def __repr__(self) -> str:
        return f"<secrets of {', '.join(sorted(self)) or 'nothing'}>"

    def longest_first(self) -> SecretValues:
        return SecretValues(sorted(set(self.values()), key=len, reverse=True))


class SecretValues(tuple[str, ...]):
    """Secret values, hidden from repr for the same reason."""

    def __repr__(self) -> str:
        return f"<{len(self)} secret values>"


def provider_secrets(extra: Iterable[str | None] = ()) -> Secrets:
    """{name: value} of every provider key variable set in the environment, plus ``extra``
    values (the configured key); short values are ignored (see MIN_SECRET_LENGTH)."""
    from anyllm.providers.registry import list_providers, provider_metadata

    found = Secrets()
    for name in list_providers():
        env = provider_metadata(name).api_key_env
        value = os.environ.get(env) if env else None
        if env and value and len(value) >= MIN_SECRET_LENGTH:
            found[env] = value
    for index, value in enumerate(extra):
        if value and len(value) >= MIN_SECRET_LENGTH and value not in found.values():
            found[f"configured key #{index + 1}"] = value
    return found


def secret_forms(value: str) -> list[str]:
    """The ways a key can appear in a serialized cassette: as is, URL-quoted, and base64 at
    each of the three byte alignments it can have inside a longer encoded body."""
    raw = value.encode("utf-8")
    forms = {value, urllib.parse.quote(value, safe=""), urllib.parse.quote_plus(value)}
    for pad in range(3):
        total = pad + len(raw)
        skip = (0, 2, 3)[pad]
        for encode in (base64.b64encode, base64.urlsafe_b64encode):
            text = encode(b"\x00" * pad + raw).decode("ascii")[skip : (total // 3) * 4]
            if len(text) >= MIN_SECRET_LENGTH:
                forms.add(text)
    return sorted(forms)


def _replace_all(data: Any, secrets: Sequence[str]) -> Any:
    if isinstance(data, bytes):
        for secret in secrets:
            data = data.replace(secret.encode("utf-8"), REDACTED.encode("ascii"))
        return data
    if isinstance(data, str):
        for secret in secrets:
            data = data.replace(secret, REDACTED)
        return data
    return data


def _scrub_uri(uri: str, secrets: Sequence[str]) -> str:
    parts = urllib.parse.urlsplit(uri)
    if parts.query:
        query = [
            (k, REDACTED if k.lower() in SECRET_QUERY_PARAMS else v)
            for k, v in urllib.parse.parse_qsl(parts.query, keep_blank_values=True)
        ]
        parts = parts._replace(query=urllib.parse.urlencode(query, safe="<>"))
    netloc = parts.netloc
    if "@" in netloc:  # user:password@host
        netloc = f"{REDACTED}@{netloc.rsplit('@', 1)[1]}"
    return str(_replace_all(urllib.parse.urlunsplit(parts._replace(netloc=netloc)), secrets))


def scrub_request(request: VcrRequest, secrets: Sequence[str]) -> VcrRequest:
    """Secret headers redacted, ``key=`` query values redacted, secret values replaced in the body."""
    for name in list(request.headers):
        if name.lower() in SECRET_HEADERS:
            request.headers[name] = REDACTED
        else:
            request.headers[name] = _replace_all(request.headers[name], secrets)
    request.uri = _scrub_uri(request.uri, secrets)
    body = request.body
    if isinstance(body, bytes | str):
        request.body = _replace_all(body, secrets)
    return request


def scrub_response(response: dict[str, Any], secrets: Sequence[str]) -> dict[str, Any]:
    headers = response.get("headers") or {}
    for name in list(headers):
        if name.lower() in SECRET_HEADERS:
            headers[name] = [REDACTED]
        else:
            headers[name] = [_replace_all(v, secrets) for v in headers[name]]
    body = response.get("body") or {}
    if "string" in body:
        body["string"] = _replace_all(body["string"], secrets)
    return response


def secret_found(text: str, secrets: Mapping[str, str]) -> str | None:
    """The name of the first variable whose value is in text in any form (raw, URL-quoted,
    base64), or None. Never the value."""
    for name, value in secrets.items():
        if any(form in text for form in secret_forms(value)):
            return name
    return None


def check_no_secrets(text: str, secrets: Mapping[str, str], where: str) -> None:
    """Raise SecretLeakError naming the variable (never the value) if any form of a secret is in text."""
    name = secret_found(text, secrets)
    if name is not None:
        raise SecretLeakError(
            f"refusing to write cassette {where}: it still contains the value of {name} "
            "after scrubbing (possibly encoded); nothing was written"
        )


# -- serialization ----------------------------------------------------------------------------


class _Dumper(yaml.SafeDumper):  # type: ignore[misc,unused-ignore]
    """Multi-line strings as literal blocks, so streamed bodies read like the wire in review.
    The emitter falls back to a quoted style whenever a block could not round-trip."""


def _represent_str(dumper: yaml.SafeDumper, data: str) -> yaml.ScalarNode:
    style = "|" if "\n" in data else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", data, style=style)


_Dumper.add_representer(str, _represent_str)


# libYAML's safe loader when PyYAML was built with it (several times faster), else the
# pure-Python one: cassettes are untrusted input either way, never the full loader.
SAFE_LOADER: type[Any] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load_yaml(text: str) -> Any:
    return yaml.load(text, Loader=SAFE_LOADER)


class YamlSerializer:
    """vcrpy's cassette layout, readable YAML, safe loading."""

    @staticmethod
    def serialize(cassette_dict: dict[str, Any]) -> str:
        return str(yaml.dump(cassette_dict, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=4096))

    @staticmethod
    def deserialize(cassette_string: str) -> Any:
        return load_yaml(cassette_string)


def _yaml_problem(exc: yaml.YAMLError) -> str:
    """The problem and its line and column from a PyYAML error (not its "<unicode string>")."""
    if not isinstance(exc, yaml.MarkedYAMLError):
        return str(exc).splitlines()[0] if str(exc) else type(exc).__name__

    def where(mark: Any) -> str:
        return f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""

    problem = f"{exc.problem or type(exc).__name__}{where(exc.problem_mark)}"
    return f"{exc.context}{where(exc.context_mark)}: {problem}" if exc.context else problem


def read_cassette(path: Path, secrets: Mapping[str, str]) -> Any:
    """The vcrpy tuple (requests, responses[, metadata]) of a cassette file, refusing one that
    holds a live key (CassetteSecretError) or that cannot be read (CassetteCorruptError).
    A missing file is vcrpy's CassetteNotFoundError."""
    from vcr.serialize import deserialize

    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise CassetteNotFoundError() from None
    fix = "it was left as it is; fix it, delete it, or re-record it with --record-mode=rewrite"
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise CassetteCorruptError(f"cassette {path} is not UTF-8 text (byte {exc.start}); {fix}") from None
    name = secret_found(text, secrets)
    if name is not None:
        raise CassetteSecretError(
            f"cassette {path} holds the value of {name} (possibly encoded): refusing to replay it; "
            "remove the key from the file (or re-record it with --record-mode=rewrite), and "
            f"revoke the key if the file was ever shared"
        )
    if not text.strip():
        raise CassetteCorruptError(f"cassette {path} is empty; {fix}")
    try:
        return deserialize(text, YamlSerializer())
    except yaml.YAMLError as exc:
        raise CassetteCorruptError(f"cassette {path} is not valid YAML: {_yaml_problem(exc)}; {fix}") from exc
    except (ValueError, KeyError, TypeError, AttributeError, IndexError) as exc:
        raise CassetteCorruptError(
            f"cassette {path} is not a vcrpy cassette ({type(exc).__name__}: {exc}); {fix}"
        ) from exc


class AtomicPersister:
    """Filesystem persister: secret check on the final text, then temp file + os.replace.

    ``fresh=True`` ignores an existing file on load (record mode ``rewrite``); the old file
    stays in place until the new one replaces it.
    """

    def __init__(self, secrets: Mapping[str, str], *, fresh: bool = False) -> None:
        self.secrets = Secrets(secrets)
        self.fresh = fresh

    def load_cassette(self, cassette_path: str | Path, serializer: Any) -> Any:
        """See :func:`read_cassette` (``serializer`` is always this module's YAML)."""
        if self.fresh:
            raise CassetteNotFoundError()
        return read_cassette(Path(cassette_path), self.secrets)

    def save_cassette(
        self, cassette_path: str | Path, cassette_dict: dict[str, Any], serializer: Any
    ) -> None:
        from vcr.serialize import serialize

        path = Path(cassette_path)
        data = serialize(cassette_dict, serializer)
        check_no_secrets(data, self.secrets, str(path))
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
                handle.write(data)
            os.replace(tmp, path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise


# -- matching ---------------------------------------------------------------------------------


def _normalize(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _normalize(v) for k, v in sorted(value.items()) if k not in VOLATILE_BODY_FIELDS}
    if isinstance(value, list):
        return [_normalize(v) for v in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _body_json(request: VcrRequest) -> Any:
    body = request.body
    if body is None or body == b"" or body == "":
        return None
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else str(body)
    try:
        return _normalize(json.loads(text))
    except ValueError:
        return text


def _first_difference(new: Any, old: Any, path: str = "$") -> str | None:
    if isinstance(new, dict) and isinstance(old, dict):
        for key in sorted(set(new) | set(old)):
            if key not in old:
                return f"{path}.{key}: sent {_short(new[key])}, not in the recording"
            if key not in new:
                return f"{path}.{key}: recorded {_short(old[key])}, not sent"
            found = _first_difference(new[key], old[key], f"{path}.{key}")
            if found:
                return found
        return None
    if isinstance(new, list) and isinstance(old, list):
        for index, (a, b) in enumerate(zip(new, old, strict=False)):
            found = _first_difference(a, b, f"{path}[{index}]")
            if found:
                return found
        if len(new) != len(old):
            return f"{path}: sent {len(new)} elements, recorded {len(old)}"
        return None
    if new != old:
        return f"{path}: sent {_short(new)}, recorded {_short(old)}"
    return None


def _short(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= 120 else text[:117] + "..."


def json_body_matcher(new: VcrRequest, recorded: VcrRequest) -> None:
    """vcrpy matcher: JSON bodies equal once keys are sorted, 1.0 == 1 and volatile fields dropped.
    The AssertionError names the first difference by JSON path."""
    a, b = _body_json(new), _body_json(recorded)
    if a != b:
        raise AssertionError(f"request body differs at {_first_difference(a, b)}")


def path_matcher(new: VcrRequest, recorded: VcrRequest) -> None:
    if new.path.rstrip("/") != recorded.path.rstrip("/"):
        raise AssertionError(f"path {new.path!r} != recorded {recorded.path!r}")


def query_matcher(new: VcrRequest, recorded: VcrRequest) -> None:
    def clean(request: VcrRequest) -> list[tuple[str, str]]:
        return sorted((k, v) for k, v in request.query if k.lower() not in SECRET_QUERY_PARAMS)

    if clean(new) != clean(recorded):
        raise AssertionError(f"query {clean(new)} != recorded {clean(recorded)}")


def method_matcher(new: VcrRequest, recorded: VcrRequest) -> None:
    if new.method != recorded.method:
        raise AssertionError(f"method {new.method} != recorded {recorded.method}")


MATCH_ON: tuple[Callable[[VcrRequest, VcrRequest], None], ...] = (
    method_matcher,
    path_matcher,
    query_matcher,
    json_body_matcher,
)


# -- chunked replay ---------------------------------------------------------------------------


def replay_chunks(body: bytes) -> list[bytes]:
    """Split an SSE body the way networks do, and worse: at every event boundary, and within
    events at awkward places (inside ``data:``, between CR and LF, inside a multi-byte
    character, single bytes). Deterministic, and the chunks join back to ``body`` exactly."""
    if len(body) < 2:
        return [body] if body else []
    cuts: set[int] = set()
    start = 0
    event_index = 0
    while start < len(body):
        ends = [
            (i + len(sep)) for sep in (b"\n\n", b"\r\n\r\n", b"\r\r") if (i := body.find(sep, start)) >= 0
        ]
        end = min(ends) if ends else len(body)
        length = end - start
        kind = event_index % 4
        if kind == 1 and length > 4:
            cuts.add(start + 3)  # inside the field name: "dat" | "a: ..."
        elif kind == 2 and length > 2:
            cuts.add(start + length // 2)
        elif kind == 3 and length > 1:
            cuts.update((start + 1, end - 1))  # single bytes at both ends
        cuts.add(end)
        start = end
        event_index += 1
    for index in range(1, len(body)):
        if body[index - 1 : index + 1] == b"\r\n" and index not in cuts and len(cuts) % 2 == 0:
            cuts.add(index)  # CR | LF
    utf8 = [i for i in range(1, len(body)) if 0x80 <= body[i] <= 0xBF and body[i - 1] >= 0xC0]
    cuts.update(utf8[::3])  # inside a multi-byte character
    points = sorted(c for c in cuts if 0 < c < len(body))
    chunks = [body[a:b] for a, b in zip([0, *points], [*points, len(body)], strict=True)]
    return [c for c in chunks if c]


class ReplayStream(httpx2.SyncByteStream, httpx2.AsyncByteStream):
    """A recorded body handed out chunk by chunk, sync or async."""

    def __init__(self, chunks: Sequence[bytes]) -> None:
        self.chunks = list(chunks)

    def __iter__(self) -> Iterator[bytes]:
        yield from self.chunks

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for chunk in self.chunks:
            yield chunk


def _is_sse(headers: Mapping[str, Any]) -> bool:
    for name, values in headers.items():
        if name.lower() == "content-type":
            vals = values if isinstance(values, list) else [values]
            return any("text/event-stream" in str(v) for v in vals)
    return False


def _replayed_response(recorded: dict[str, Any]) -> httpx2.Response:
    headers = [(name, value) for name, values in recorded["headers"].items() for value in values]
    body = recorded["body"]["string"]
    if isinstance(body, str):
        body = body.encode("utf-8")
    chunks = replay_chunks(body) if _is_sse(recorded["headers"]) else [body]
    message = recorded["status"].get("message")
    return httpx2.Response(
        recorded["status"]["code"],
        headers=headers,
        stream=ReplayStream(chunks),
        extensions={"reason_phrase": message.encode("ascii")} if message else {},
    )


# -- bounded recording ------------------------------------------------------------------------


@dataclass(frozen=True)
class RecordBounds:
    max_bytes: int = 8 * 1024 * 1024
    max_seconds: float = 120.0


def _decoded(headers: httpx2.Headers, content: bytes) -> tuple[list[tuple[str, str]], bytes]:
    """Stored bodies are plain text: gzip/deflate are undone (and the headers fixed) so
    scrubbing and review see the real bytes."""
    encoding = headers.get("content-encoding", "").strip().lower()
    items = list(headers.multi_items())
    if encoding in ("gzip", "deflate", "x-gzip"):
        wbits = zlib.MAX_WBITS | 32 if encoding != "deflate" else zlib.MAX_WBITS
        try:
            content = zlib.decompress(content, wbits)
        except zlib.error:
            content = zlib.decompress(content, -zlib.MAX_WBITS)
        items = [(k, v) for k, v in items if k.lower() not in ("content-encoding", "content-length")]
        items.append(("content-length", str(len(content))))
    return items, content


def _serialize_response(response: httpx2.Response, content: bytes) -> dict[str, Any]:
    items, content = _decoded(response.headers, content)
    headers: dict[str, list[str]] = {}
    for name, value in items:
        headers.setdefault(name, []).append(value)
    return {
        "status": {"code": response.status_code, "message": response.reason_phrase},
        "headers": headers,
        "body": {"string": content},
    }


def _bounded_read(chunks: Iterable[bytes], bounds: RecordBounds, url: str) -> bytes:
    deadline = time.monotonic() + bounds.max_seconds
    parts: list[bytes] = []
    total = 0
    for chunk in chunks:
        parts.append(chunk)
        total += len(chunk)
        if total > bounds.max_bytes:
            raise RecordingLimitError(f"recording {url}: body passed {bounds.max_bytes} bytes; not recorded")
        if time.monotonic() > deadline:
            raise RecordingLimitError(
                f"recording {url}: body still open after {bounds.max_seconds:g} s; not recorded"
            )
    return b"".join(parts)


async def _abounded_read(chunks: AsyncIterator[bytes], bounds: RecordBounds, url: str) -> bytes:
    deadline = time.monotonic() + bounds.max_seconds
    parts: list[bytes] = []
    total = 0
    async for chunk in chunks:
        parts.append(chunk)
        total += len(chunk)
        if total > bounds.max_bytes:
            raise RecordingLimitError(f"recording {url}: body passed {bounds.max_bytes} bytes; not recorded")
        if time.monotonic() > deadline:
            raise RecordingLimitError(
                f"recording {url}: body still open after {bounds.max_seconds:g} s; not recorded"
            )
    return b"".join(parts)


def _limit_read_timeout(request: httpx2.Request, bounds: RecordBounds) -> None:
    """A server that sends nothing at all must not block one read longer than the bound."""
    timeout = dict(request.extensions.get("timeout") or {})
    current = timeout.get("read")
    timeout["read"] = bounds.max_seconds if current is None else min(float(current), bounds.max_seconds)
    request.extensions["timeout"] = timeout


def _vcr_request(request: httpx2.Request, body: bytes) -> VcrRequest:
    return VcrRequest(request.method, str(request.url), body, dict(request.headers))


def _handle_sync(cassette: AnyllmCassette, transport: Any, request: httpx2.Request) -> httpx2.Response:
    body = b"".join(request.stream)  # type: ignore[arg-type]
    request.stream = httpx2.ByteStream(body)
    vreq = _vcr_request(request, body)
    if cassette.can_play_response_for(vreq):
        return _replayed_response(cassette.play_response(vreq))
    if cassette.write_protected and cassette.filter_request(vreq):
        raise CannotOverwriteExistingCassetteException(cassette=cassette, failed_request=vreq)
    _limit_read_timeout(request, cassette.bounds)
    response = _PATCH.real_sync(transport, request)
    try:
        content = _bounded_read(response.stream, cassette.bounds, str(request.url))  # type: ignore[arg-type]
    finally:
        response.stream.close()  # type: ignore[union-attr]
    recorded = _serialize_response(response, content)
    cassette.record(vreq, recorded)
    return _replayed_response(recorded)


async def _handle_async(cassette: AnyllmCassette, transport: Any, request: httpx2.Request) -> httpx2.Response:
    body = b"".join([part async for part in request.stream])  # type: ignore[union-attr]
    request.stream = httpx2.ByteStream(body)
    vreq = _vcr_request(request, body)
    if cassette.can_play_response_for(vreq):
        return _replayed_response(cassette.play_response(vreq))
    if cassette.write_protected and cassette.filter_request(vreq):
        raise CannotOverwriteExistingCassetteException(cassette=cassette, failed_request=vreq)
    _limit_read_timeout(request, cassette.bounds)
    response = await _PATCH.real_async(transport, request)
    try:
        content = await _abounded_read(response.stream.__aiter__(), cassette.bounds, str(request.url))
    finally:
        await response.stream.aclose()
    recorded = _serialize_response(response, content)
    cassette.record(vreq, recorded)
    return _replayed_response(recorded)


class _Patch:
    """The httpx2 transport patch, installed while at least one cassette is active.

    Why not ``mock.patch`` per cassette (as vcrpy does): cassettes entered and left by
    several threads restore each other's patches in the wrong order and can leave a stale
    stub installed for the rest of the process. Here the patch is reference-counted under a
    lock, and each request goes to the cassette active in its own context (thread or task),
    or else to the most recently entered one.
    """

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.active: list[AnyllmCassette] = []
        self.current: contextvars.ContextVar[AnyllmCassette | None] = contextvars.ContextVar(
            "anyllm_cassette", default=None
        )
        self.real_sync: Callable[..., httpx2.Response] = httpx2.HTTPTransport.handle_request
        self.real_async: Callable[..., Any] = httpx2.AsyncHTTPTransport.handle_async_request

    def cassette(self) -> AnyllmCassette:
        with self.lock:
            mine = self.current.get()
            if mine is not None and any(c is mine for c in self.active):
                return mine
            if not self.active:
                raise RuntimeError("anyllm cassette patch called with no active cassette")
            return self.active[-1]

    def enter(self, cassette: AnyllmCassette) -> contextvars.Token[AnyllmCassette | None]:
        with self.lock:
            if not self.active:
                self.real_sync = httpx2.HTTPTransport.handle_request
                self.real_async = httpx2.AsyncHTTPTransport.handle_async_request
                httpx2.HTTPTransport.handle_request = _dispatch_sync  # type: ignore[method-assign]
                httpx2.AsyncHTTPTransport.handle_async_request = _dispatch_async  # type: ignore[method-assign]
            self.active.append(cassette)
            return self.current.set(cassette)

    def leave(self, cassette: AnyllmCassette, token: contextvars.Token[AnyllmCassette | None]) -> None:
        with self.lock:
            self.active = [c for c in self.active if c is not cassette]
            if not self.active:
                httpx2.HTTPTransport.handle_request = self.real_sync  # type: ignore[method-assign]
                httpx2.AsyncHTTPTransport.handle_async_request = self.real_async  # type: ignore[method-assign]
        with contextlib.suppress(ValueError):  # left from another context than entered
            self.current.reset(token)


_PATCH = _Patch()


def _dispatch_sync(self: Any, request: httpx2.Request) -> httpx2.Response:
    return _handle_sync(_PATCH.cassette(), self, request)


async def _dispatch_async(self: Any, request: httpx2.Request) -> httpx2.Response:
    return await _handle_async(_PATCH.cassette(), self, request)


# -- the cassette -----------------------------------------------------------------------------


@dataclass
class CassetteSettings:
    """What a cassette needs beyond its path: mode, provenance, secrets, bounds."""

    record_mode: str = "none"
    provenance: dict[str, Any] = field(default_factory=dict)
    extra_secrets: tuple[str, ...] = field(default=(), repr=False)  # key values: never printed
    bounds: RecordBounds = field(default_factory=RecordBounds)


class AnyllmCassette(Cassette):  # type: ignore[misc]
    """vcrpy's Cassette, stamped with provenance whenever it records something, and keeping
    the order in which this session used its interactions (played or recorded), so the
    harness can judge exactly the bytes a case exchanged."""

    bounds: RecordBounds = RecordBounds()
    provenance: dict[str, Any] = {}  # noqa: RUF012 - replaced per instance
    _metadata: dict[str, Any]
    _loaded_count: int
    data: list[tuple[VcrRequest, dict[str, Any]]]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._used: list[int] = []
        self._used_lock = threading.Lock()

    def play_response(self, request: VcrRequest) -> dict[str, Any]:
        with self._used_lock:
            before = dict(self.play_counts)
            response: dict[str, Any] = super().play_response(request)
            self._used.extend(i for i, n in self.play_counts.items() if n != before.get(i, 0))
        return response

    def record(self, request: VcrRequest, response: dict[str, Any]) -> None:
        """Append an interaction recorded now (``append`` is also how vcrpy loads a file)."""
        with self._used_lock:
            count = len(self.data)
            self.append(request, response)
            if len(self.data) > count:
                self._used.append(count)

    def used_interactions(self) -> list[tuple[VcrRequest, dict[str, Any]]]:
        """The (request, response) pairs this session played or recorded, in the order it
        used them: what the case really sent and received (stored form: scrubbed, decoded)."""
        with self._used_lock:
            return [self.data[i] for i in self._used]

    def append(self, request: VcrRequest, response: dict[str, Any]) -> None:
        super().append(request, response)
        stamp = {**self.provenance, "recorded_at": _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")}
        self._metadata = {**self._metadata, **stamp}

    def append_nothing(self) -> None:
        self._metadata = {
            **self._metadata,
            **self.provenance,
            "recorded_at": _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "interactions": 0,
        }
        self.dirty = True

    @property
    def recorded_now(self) -> int:
        """Interactions recorded in this session (0 on pure replay)."""
        return int(len(self.data) - self._loaded_count)


def _provenance_defaults() -> dict[str, Any]:
    from importlib.metadata import PackageNotFoundError, version

    try:
        library = version("anyllm")
    except PackageNotFoundError:
        library = "0+unknown"
    try:
        vcr_version = version("vcrpy")
    except PackageNotFoundError:
        vcr_version = "unknown"
    return {
        "library": "anyllm",
        "library_version": library,
        "spec_version": SPEC_VERSION,
        "vcrpy": vcr_version,
    }


@contextlib.contextmanager
def use_cassette(path: str | Path, settings: CassetteSettings | None = None) -> Iterator[AnyllmCassette]:
    """Activate a cassette around a block: httpx2 (sync and async) goes through it.

    Record modes are vcrpy's (``none``, ``once``, ``new_episodes``, ``all``) plus
    pytest-recording's ``rewrite`` (start from an empty cassette, replace the file).
    Scrubbing always runs and cannot be switched off per test.
    """
    conf = settings or CassetteSettings()
    if conf.record_mode not in RECORD_MODES:
        raise ValueError(f"record mode must be one of {', '.join(RECORD_MODES)}, got {conf.record_mode!r}")
    secrets = provider_secrets(conf.extra_secrets)
    values = secrets.longest_first()
    fresh = conf.record_mode == "rewrite"
    mode = "all" if fresh else conf.record_mode

    class _Bound(AnyllmCassette):
        bounds = conf.bounds
        provenance = {**_provenance_defaults(), **conf.provenance}  # noqa: RUF012

    context = CassetteContextDecorator.from_args(
        _Bound,
        path=str(path),
        serializer=YamlSerializer(),
        persister=AtomicPersister(secrets, fresh=fresh),
        record_mode=mode,
        match_on=MATCH_ON,
        before_record_request=lambda request: scrub_request(request, values),
        before_record_response=lambda response: scrub_response(response, values),
        # vcrpy patches nothing itself (see _Patch); the network guard covers other clients.
        skip_patchers=PATCHER_NAMES,
        record_on_exception=True,
    )
    with context as cassette:
        token = _PATCH.enter(cassette)
        try:
            yield cassette
        finally:
            _PATCH.leave(cassette, token)
        if mode != "none" and not cassette.data and not Path(path).exists():
            # Recorded, and nothing went out (the library refused locally): an empty cassette
            # says so, and replays as the same nothing.
            cassette.append_nothing()


# -- provenance and hashes --------------------------------------------------------------------


def load_provenance(path: str | Path) -> dict[str, Any]:
    """The metadata block of a cassette file ({} if absent or unreadable).

    Read twice per case (to resolve the model, then for the report): cached per file
    version (path, inode, mtime, size; a rewrite is a new inode), so a replayed matrix
    parses each cassette's YAML once for this."""
    try:
        stat = os.stat(path)
    except OSError:
        return {}
    return dict(_provenance(str(path), stat.st_ino, stat.st_mtime_ns, stat.st_size))


@functools.lru_cache(maxsize=1024)
def _provenance(path: str, inode: int, mtime_ns: int, size: int) -> dict[str, Any]:
    try:
        data = load_yaml(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return {}
    meta = data.get("metadata") if isinstance(data, dict) else None
    return dict(meta) if isinstance(meta, dict) else {}


def cassette_sha256(path: str | Path) -> str | None:
    try:
        return hashlib.sha256(Path(path).read_bytes()).hexdigest()
    except OSError:
        return None


# -- network guard ----------------------------------------------------------------------------


def _is_loopback(host: Any) -> bool:
    if host is None:
        return True
    if isinstance(host, bytes):
        host = host.decode("ascii", "replace")
    host = str(host).strip("[]")
    if host in ("localhost", "localhost.localdomain", ""):
        return True
    try:
        return ipaddress.ip_address(host.split("%", 1)[0]).is_loopback
    except ValueError:
        return False


@contextlib.contextmanager
def block_network() -> Iterator[None]:
    """Refuse every non-loopback socket connection and name lookup inside the block."""
    real_connect = socket.socket.connect
    real_connect_ex = socket.socket.connect_ex
    real_getaddrinfo = socket.getaddrinfo

    def check(sock: socket.socket, address: Any) -> None:
        if sock.family in (socket.AF_INET, socket.AF_INET6) and not _is_loopback(address[0]):
            raise NetworkBlockedError(
                f"anyllm replay blocks the network: connection to {address[0]}:{address[1]} refused "
                "(record with --record, or run against a loopback server)"
            )

    def connect(sock: socket.socket, address: Any) -> None:
        check(sock, address)
        real_connect(sock, address)

    def connect_ex(sock: socket.socket, address: Any) -> int:
        check(sock, address)
        return real_connect_ex(sock, address)

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        if not _is_loopback(host):
            raise NetworkBlockedError(f"anyllm replay blocks the network: name lookup of {host!r} refused")
        return real_getaddrinfo(host, *args, **kwargs)

    socket.socket.connect = connect  # type: ignore[method-assign,assignment]
    socket.socket.connect_ex = connect_ex  # type: ignore[method-assign,assignment]
    socket.getaddrinfo = getaddrinfo
    try:
        yield
    finally:
        socket.socket.connect = real_connect  # type: ignore[method-assign]
        socket.socket.connect_ex = real_connect_ex  # type: ignore[method-assign]
        socket.getaddrinfo = real_getaddrinfo
