"""Checks of how to reach the provider: ``api_key``, ``api_base`` and ``client_args``.

Each used to fail late, untyped, or not at all: ``client_args={"timeout": "abc"}`` raised
``ValueError`` from ``float()``, ``{"headers": "x"}`` one from ``dict()``,
``max_retries="many"`` was accepted until a retry, ``api_base="http://"`` reached httpx2, a
non-ASCII key raised ``UnicodeEncodeError`` while the headers were encoded, and a key
ending in a newline went out as a broken header. Here each is an InvalidRequestError
naming the argument (``client_args.timeout``, ``api_key``, ...), before any network call.
No message ever quotes the key.
This module imports only ``anyllm.errors`` (httpx2, openai and the store only when a
value of theirs is given).
"""

from __future__ import annotations

import math
import os
import re
import urllib.parse
from collections.abc import Mapping
from typing import Any, Final

from anyllm.errors import InvalidRequestError

__all__ = ["CLIENT_ARGS", "OPENAI_SDK_ARGS", "check_api_base", "check_api_key", "check_client_args"]

CLIENT_ARGS: Final = frozenset(
    {"timeout", "max_retries", "headers", "default_headers", "response_store", "transport", "async_transport"}
)
"""``client_args`` every protocol understands."""

OPENAI_SDK_ARGS: Final = frozenset(
    {
        "organization",
        "project",
        "webhook_secret",
        "websocket_base_url",
        "default_query",
        "http_client",
        "_strict_response_validation",
    }
)
"""openai SDK client options passed through for the openai protocol (its key, base URL,
timeout, retries and headers are the library's own; ``admin_api_key`` and ``provider``
would replace them, so they are not passed)."""

_TOKEN = re.compile(r"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$")  # an HTTP field name (RFC 9110 section 5.1)
_FIELD_VALUE = re.compile(r"^[\t\x20-\x7e]*$")  # printable ASCII and tab: what httpx2 can encode


def _fail(param: str, message: str) -> InvalidRequestError:
    return InvalidRequestError(message, param=param)


def check_api_key(key: Any, *, source: str = "api_key") -> None:
    """A key is a non-empty string of printable ASCII: it travels in an HTTP header.
    ``source`` names where it came from (the argument or an environment variable)."""
    if not isinstance(key, str):
        raise _fail("api_key", f"{source} must be a string, got {type(key).__name__}")
    for position, char in enumerate(key):
        if not " " < char < "\x7f":
            what = "a space" if char == " " else "a line break" if char in "\r\n" else "a character"
            raise _fail(
                "api_key",
                f"{source} holds {what} that cannot be sent in an HTTP header (position {position}, "
                f"code point U+{ord(char):04X}); keys are printable ASCII",
            )


def check_api_base(url: Any, *, source: str = "api_base") -> None:
    """An absolute http(s) URL with a host, a valid port and no whitespace or control characters."""
    if not isinstance(url, str):
        raise _fail("api_base", f"{source} must be a string URL, got {type(url).__name__}")
    if not url.startswith(("http://", "https://")):
        raise _fail("api_base", f"{source} must be an http(s) URL, got {url!r}")
    if any(not " " < char < "\x7f" for char in url):
        raise _fail("api_base", f"{source} holds whitespace or a character a URL cannot carry: {url!r}")
    try:
        parts = urllib.parse.urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a port out of range or not a number
    except ValueError as exc:
        raise _fail("api_base", f"{source} is not a valid URL ({exc}): {url!r}") from None
    if not parts.hostname:
        raise _fail("api_base", f"{source} has no host: {url!r}")


def _check_timeout(value: Any) -> None:
    if value is None:
        return
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not math.isfinite(value)
        or value <= 0
    ):
        raise _fail(
            "client_args.timeout",
            f"client_args['timeout'] must be a positive number of seconds, got {value!r}",
        )


def _check_max_retries(value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise _fail(
            "client_args.max_retries",
            f"client_args['max_retries'] must be a non-negative integer, got {value!r}",
        )


def _check_headers(name: str, value: Any) -> None:
    param = f"client_args.{name}"
    if not isinstance(value, Mapping):
        raise _fail(
            param,
            f"client_args['{name}'] must be a dict of header names to values, got {type(value).__name__}",
        )
    for field, content in value.items():
        if not isinstance(field, str) or not _TOKEN.match(field):
            raise _fail(param, f"client_args['{name}'] has a header name that HTTP does not allow: {field!r}")
        if not isinstance(content, str) or not _FIELD_VALUE.match(content):
            raise _fail(
                param,
                f"client_args['{name}'][{field!r}] must be a string of printable ASCII (no line break), "
                f"got a {type(content).__name__}",
            )


def _check_store(value: Any) -> None:
    if value is None or isinstance(value, str | os.PathLike):
        return
    from anyllm.store import ResponseStore

    if not isinstance(value, ResponseStore):
        raise _fail(
            "client_args.response_store",
            "client_args['response_store'] must be a path or an anyllm.store.ResponseStore, "
            f"got {type(value).__name__}",
        )


def _check_transport(name: str, value: Any) -> None:
    import httpx2

    expected = httpx2.AsyncBaseTransport if name == "async_transport" else httpx2.BaseTransport
    if value is not None and not isinstance(value, expected):
        raise _fail(
            f"client_args.{name}",
            f"client_args['{name}'] must be an httpx2.{expected.__name__}, got {type(value).__name__}",
        )


def _check_sdk_arg(name: str, value: Any) -> None:
    param = f"client_args.{name}"
    if name == "default_query":
        if not isinstance(value, Mapping):
            raise _fail(param, f"client_args['default_query'] must be a dict, got {type(value).__name__}")
    elif name == "http_client":
        import httpx2

        if not isinstance(value, httpx2.Client | httpx2.AsyncClient):
            raise _fail(
                param, f"client_args['http_client'] must be an httpx2 client, got {type(value).__name__}"
            )
    elif name == "_strict_response_validation":
        if not isinstance(value, bool):
            raise _fail(param, f"client_args['{name}'] must be True or False, got {value!r}")
    elif value is not None and not isinstance(value, str):
        raise _fail(param, f"client_args['{name}'] must be a string, got {type(value).__name__}")


def check_client_args(client_args: Any, *, protocol: str) -> None:
    """Every key known for ``protocol`` and every value of its type."""
    if client_args is None:
        return
    if not isinstance(client_args, Mapping):
        raise _fail("client_args", f"client_args must be a dict, got {type(client_args).__name__}")
    if "headers" in client_args and "default_headers" in client_args:
        raise _fail("client_args", "client_args takes headers or default_headers (the same thing), not both")
    known = CLIENT_ARGS | OPENAI_SDK_ARGS if protocol == "openai" else CLIENT_ARGS
    for name, value in client_args.items():
        if name not in known:
            extra = (
                f"; {name!r} is an openai SDK option, for openai-protocol providers only"
                if name in OPENAI_SDK_ARGS
                else ""
            )
            raise _fail(
                f"client_args.{name}" if isinstance(name, str) else "client_args",
                f"client_args has an unknown option {name!r} (known: {', '.join(sorted(known))}){extra}",
            )
        if name == "timeout":
            _check_timeout(value)
        elif name == "max_retries":
            _check_max_retries(value)
        elif name in ("headers", "default_headers"):
            if value is not None:
                _check_headers(name, value)
        elif name == "response_store":
            _check_store(value)
        elif name in ("transport", "async_transport"):
            _check_transport(name, value)
        else:
            _check_sdk_arg(name, value)
