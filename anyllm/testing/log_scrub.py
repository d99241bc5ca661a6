"""Keys out of log records: a :class:`logging.Filter` the pytest plugin installs for the session.

Why: cassettes are scrubbed before they are written, but the libraries underneath log the
request as it goes out. httpx2 logs ``HTTP Request: POST https://...?key=...`` at INFO, vcrpy
logs the request URI at DEBUG, and pytest shows captured logs of a failing test (and every
record with ``log_cli``). The filter rewrites a record whose text holds the value of a
provider key variable (raw, URL-quoted or base64, as :mod:`anyllm.testing.cassettes` looks
for them) or a ``key=``/``api_key=`` query value, so no handler ever formats the key.

It is attached to the loggers that talk about requests (a logger's filter sees that
logger's records before any handler, wherever they propagate) and to the handlers pytest
uses and the root logger has (those see records of every logger, children included).
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Iterable

from anyllm.testing.cassettes.secrets import MIN_SECRET_LENGTH, REDACTED, secret_forms
from anyllm.testing.redact import Redactor

__all__ = ["REQUEST_LOGGERS", "SecretLogFilter", "scrub_text"]

# Loggers that print request URLs or headers. Their children need the handler-level filter.
REQUEST_LOGGERS = (
    "httpx2",
    "httpcore2",
    "httpcore2.connection",
    "httpcore2.http11",
    "httpcore2.http2",
    "httpcore2.proxy",
    "httpcore2.socks",
    "vcr",
    "vcr.cassette",
    "vcr.request",
    "vcr.matchers",
    "vcr.stubs",
    "openai",
    "openai._base_client",
    "anyllm",
)
# ?key=... / &api_key=... / &api-key=...: the value up to the next separator.
_QUERY_KEY = re.compile(r"(?i)([?&;](?:api[-_]?)?key=)(?!%3CREDACTED%3E|<REDACTED>)[^&#;\s\"'<>)\]]+")


def scrub_text(text: str, forms: Iterable[str], redactor: Redactor | None = None) -> str:
    """``text`` with every form of a secret, and every key-like query value, redacted; and,
    given a ``redactor``, keys behind JSON escapes and runs of a key (see :mod:`.redact`)."""
    for form in forms:
        if form in text:
            text = text.replace(form, REDACTED)
    if redactor is not None:
        text = redactor.text(text)
    return _QUERY_KEY.sub(lambda m: m.group(1) + REDACTED, text)


def _key_variables() -> tuple[str, ...]:
    from anyllm.providers.registry import list_providers, provider_metadata

    names = {provider_metadata(p).api_key_env for p in list_providers()}
    return tuple(sorted(n for n in names if n))


class SecretLogFilter(logging.Filter):
    """Redacts configured key values and ``key=`` query values from records; drops none.

    The values are the provider key variables as set *now* (tests set them as they go),
    plus any added with :meth:`add`; their forms are recomputed only when those change.
    """

    def __init__(self) -> None:
        super().__init__("anyllm-secrets")
        self._variables = _key_variables()
        self._extra: set[str] = set()
        self._seen: tuple[str | None, ...] | None = None
        self._forms: tuple[str, ...] = ()
        self._redactor = Redactor(())

    def __repr__(self) -> str:
        return f"<SecretLogFilter over {len(self._variables)} key variables>"

    def add(self, value: str | None) -> None:
        """Also redact ``value`` (a key passed some other way than the environment)."""
        if value and len(value) >= MIN_SECRET_LENGTH:
            self._extra.add(value)

    def forms(self) -> tuple[str, ...]:
        current = (*(os.environ.get(n) for n in self._variables), *sorted(self._extra))
        if current != self._seen:
            values = {v for v in current if v and len(v) >= MIN_SECRET_LENGTH}
            found = {form for value in values for form in secret_forms(value)}
            self._forms = tuple(sorted(found, key=len, reverse=True))
            self._redactor = Redactor(values)
            self._seen = current
        return self._forms

    def filter(self, record: logging.LogRecord) -> bool:
        forms = self.forms()
        try:
            message = record.getMessage()
        except Exception:  # a broken format string: logging reports it itself, unchanged
            return True
        clean = scrub_text(message, forms, self._redactor)
        if clean != message:
            record.msg, record.args = clean, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = scrub_text(record.exc_text, forms, self._redactor)
        if record.stack_info:
            record.stack_info = scrub_text(record.stack_info, forms, self._redactor)
        return True


class Installed:
    """Where a filter went, so it can be taken off exactly there."""

    def __init__(self, log_filter: SecretLogFilter) -> None:
        self.filter = log_filter
        self.loggers: list[logging.Logger] = []
        self.handlers: list[logging.Handler] = []

    def on_logger(self, logger: logging.Logger) -> None:
        if self.filter not in logger.filters:
            logger.addFilter(self.filter)
            self.loggers.append(logger)

    def on_handler(self, handler: logging.Handler) -> None:
        if self.filter not in handler.filters:
            handler.addFilter(self.filter)
            self.handlers.append(handler)

    def remove(self) -> None:
        for logger in self.loggers:
            logger.removeFilter(self.filter)
        for handler in self.handlers:
            handler.removeFilter(self.filter)
        self.loggers.clear()
        self.handlers.clear()


def install(handlers: Iterable[logging.Handler] = ()) -> Installed:
    """A new filter on the request loggers, the root logger's handlers and ``handlers``."""
    done = Installed(SecretLogFilter())
    for name in REQUEST_LOGGERS:
        done.on_logger(logging.getLogger(name))
    for handler in [*logging.getLogger().handlers, *handlers]:
        done.on_handler(handler)
    return done
