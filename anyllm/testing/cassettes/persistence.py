"""Cassette files: readable YAML out, safe YAML in, atomic writes, named refusals.

A cassette is untrusted input: it is read with the safe loader only, YAML aliases are
refused (a 2 KB "billion laughs" file expands to gigabytes in whatever walks it: a report,
a deep copy), and one that cannot be read, holds a live key, or stores a body still
content-encoded (which no key check can see into) is refused with an error naming the
file, and left as it is. Writes go to a temporary file replaced into place, so parallel
recorders and interrupted runs never leave half a file; the temporary files of writers
that were killed are swept (:func:`sweep_stale_temps`).
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, cast

import yaml
from vcr.persisters.filesystem import CassetteNotFoundError

from anyllm.testing.cassettes.encoding import content_codings
from anyllm.testing.cassettes.secrets import CassetteSecretError, Secrets, check_no_secrets, secret_found

try:  # a writer holds a lock on its temporary file, so a sweeper can tell it from a dead one
    import fcntl
except ImportError:  # pragma: no cover - Windows: age alone decides
    fcntl = None  # type: ignore[assignment]

__all__ = [
    "SAFE_LOADER",
    "AtomicPersister",
    "CassetteCorruptError",
    "YamlAliasError",
    "YamlSerializer",
    "load_yaml",
    "read_cassette",
    "read_cassette_and_websocket",
    "sweep_stale_temps",
    "sweep_tree",
]


class CassetteCorruptError(RuntimeError):
    """A cassette file that is not a readable vcrpy cassette. It is left as it is: taking it
    for a missing one would go live and overwrite it."""


class YamlAliasError(yaml.MarkedYAMLError):  # type: ignore[misc,unused-ignore]
    """A YAML document using an alias (``*name``): refused, see the module docstring."""


class _Dumper(yaml.SafeDumper):  # type: ignore[misc,unused-ignore]
    """Multi-line strings as literal blocks, so streamed bodies read like the wire in review.
    The emitter falls back to a quoted style whenever a block could not round-trip. Never
    an anchor or alias (an object met twice is written twice): they are refused on load."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def _represent_str(dumper: yaml.SafeDumper, data: str) -> yaml.ScalarNode:
    style = "|" if "\n" in data else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", data, style=style)


_Dumper.add_representer(str, _represent_str)


# libYAML's safe loader when PyYAML was built with it (several times faster), else the
# pure-Python one: cassettes are untrusted input either way, never the full loader.
SAFE_LOADER: type[Any] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load_yaml(text: str) -> Any:
    """Safe-load one YAML document, refusing aliases (YamlAliasError, a YAMLError)."""
    if "&" in text:  # no anchor, no alias (an alias to nothing is a YAMLError): skip the scan
        for event in yaml.parse(text, Loader=SAFE_LOADER):
            if isinstance(event, yaml.AliasEvent):
                raise YamlAliasError(
                    problem=f"alias *{event.anchor} (anyllm refuses YAML aliases: they can expand "
                    "a small file to gigabytes)",
                    problem_mark=cast(yaml.Mark, event.start_mark),
                )
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


class _KeepingSerializer(YamlSerializer):
    """The YAML serializer, keeping the document it parsed (its ``websocket`` section, which
    vcrpy's deserializer drops)."""

    def __init__(self) -> None:
        self.document: Any = None

    def deserialize(self, cassette_string: str) -> Any:  # type: ignore[override]
        self.document = load_yaml(cassette_string)
        return self.document


def read_cassette(path: Path, secrets: Mapping[str, str]) -> Any:
    """The vcrpy tuple (requests, responses[, metadata]) of a cassette file, refusing one that
    holds a live key (CassetteSecretError) or that cannot be read (CassetteCorruptError).
    A missing file is vcrpy's CassetteNotFoundError."""
    return read_cassette_and_websocket(path, secrets)[0]


def read_cassette_and_websocket(path: Path, secrets: Mapping[str, str]) -> tuple[Any, list[Any]]:
    """:func:`read_cassette`, and the cassette's ``websocket`` section (its entries, checked:
    a malformed one is CassetteCorruptError; see :mod:`.websocket`)."""
    from vcr.serialize import deserialize

    from anyllm.testing.cassettes.websocket import parse_section
    from anyllm.testing.validate.ws_records import RecordError

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
    serializer = _KeepingSerializer()
    try:
        data = deserialize(text, serializer)
    except yaml.YAMLError as exc:
        raise CassetteCorruptError(f"cassette {path} is not valid YAML: {_yaml_problem(exc)}; {fix}") from exc
    except (ValueError, KeyError, TypeError, AttributeError, IndexError, RecursionError) as exc:
        raise CassetteCorruptError(
            f"cassette {path} is not a vcrpy cassette ({type(exc).__name__}: {exc}); {fix}"
        ) from exc
    for number, response in enumerate(data[1], start=1):
        codings = _stored_codings(response)
        if codings:
            raise CassetteCorruptError(
                f"cassette {path} interaction {number} stores a body with content-encoding "
                f"{', '.join(codings)!r}: anyllm stores bodies decoded, so they can be checked "
                f"for keys; refusing to replay it; {fix}"
            )
    section = serializer.document.get("websocket") if isinstance(serializer.document, dict) else None
    try:
        parse_section(section)
    except RecordError as exc:
        raise CassetteCorruptError(f"cassette {path}: {exc}; {fix}") from None
    return data, list(section or [])


def _stored_codings(response: Any) -> list[str]:
    headers = response.get("headers") if isinstance(response, dict) else None
    if not isinstance(headers, dict):
        return []
    values: list[str] = []
    for name, value in headers.items():
        if str(name).lower() == "content-encoding":
            values.extend(str(v) for v in (value if isinstance(value, list) else [value]))
    return content_codings(values)


class AtomicPersister:
    """Filesystem persister: secret check on the final text, then temp file + os.replace.

    ``fresh=True`` ignores an existing file on load (record mode ``rewrite``); the old file
    stays in place until the new one replaces it.
    """

    def __init__(self, secrets: Mapping[str, str], *, fresh: bool = False) -> None:
        self.secrets = Secrets(secrets)
        self.fresh = fresh
        # The ``websocket`` section: as loaded, and what the next save writes (the cassette
        # sets it; vcrpy's cassette dict has no place for it).
        self.websocket: list[Any] = []

    def load_cassette(self, cassette_path: str | Path, serializer: Any) -> Any:
        """See :func:`read_cassette` (``serializer`` is always this module's YAML)."""
        if self.fresh:
            raise CassetteNotFoundError()
        data, self.websocket = read_cassette_and_websocket(Path(cassette_path), self.secrets)
        return data

    def save_cassette(
        self, cassette_path: str | Path, cassette_dict: dict[str, Any], serializer: Any
    ) -> None:
        from vcr.serialize import serialize

        path = Path(cassette_path)
        data = serialize(cassette_dict, serializer)
        if self.websocket:  # after interactions and metadata: one more top-level key
            data += YamlSerializer.serialize({"websocket": self.websocket})
        check_no_secrets(data, self.secrets, str(path))
        path.parent.mkdir(parents=True, exist_ok=True)
        sweep_stale_temps(path.parent, path.name)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=TEMP_SUFFIX, dir=path.parent)
        try:
            if fcntl is not None:
                fcntl.flock(fd, fcntl.LOCK_EX)  # held until closed: this writer is alive
            with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
                handle.write(data)
                handle.flush()
                if fcntl is not None:
                    os.replace(tmp, path)  # still locked: a sweeper never takes it for a dead writer's
            if fcntl is None:  # pragma: no cover - Windows cannot rename an open file
                os.replace(tmp, path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise


# -- temporary files of killed writers --------------------------------------------------------

TEMP_SUFFIX = ".tmp"
# ".<cassette name>.<mkstemp's 8 random characters>.tmp"
_TEMP_NAME = re.compile(r"^\.(?P<name>.+)\.[A-Za-z0-9_]{8}\.tmp$")
# A temporary file younger than this is never swept: its writer may not hold the lock yet
# (between creating it and locking it) or may have just released it (before the rename).
TEMP_GRACE_SECONDS = 5.0
# Without file locks (Windows), a temporary file this old has no live writer.
TEMP_MAX_AGE_SECONDS = 3600.0


def _temps(directory: Path, name: str | None) -> Iterator[Path]:
    try:
        entries = list(directory.iterdir())
    except OSError:
        return
    for entry in entries:
        match = _TEMP_NAME.match(entry.name)
        if match and (name is None or match["name"] == name):
            yield entry


def _abandoned(path: Path, now: float) -> bool:
    """No live writer holds the file: its lock can be taken (or, without locks, it is old)."""
    try:
        age = now - path.stat().st_mtime
    except OSError:
        return False
    if age < TEMP_GRACE_SECONDS:
        return False
    if fcntl is None:  # pragma: no cover - Windows
        return age > TEMP_MAX_AGE_SECONDS
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return False  # a live writer holds it
    finally:
        os.close(fd)
    return True


def sweep_stale_temps(directory: str | Path, name: str | None = None) -> list[Path]:
    """Remove the temporary files killed writers left in ``directory`` (of cassette ``name``,
    or of every cassette), never one a live writer holds. Returns what was removed."""
    now = time.time()
    removed: list[Path] = []
    for temp in _temps(Path(directory), name):
        if _abandoned(temp, now):
            with contextlib.suppress(OSError):
                temp.unlink()
                removed.append(temp)
    return removed


def sweep_tree(root: str | Path) -> list[Path]:
    """:func:`sweep_stale_temps` in ``root`` and every directory below it (a cassette
    directory holds one directory per provider)."""
    removed: list[Path] = []
    for directory, _dirs, _files in os.walk(root):
        removed.extend(sweep_stale_temps(directory))
    return removed
