"""Cassette files: readable YAML out, safe YAML in, atomic writes, named refusals.

A cassette is untrusted input: it is read with the safe loader only, and one that cannot
be read (or holds a live key) is refused with an error naming the file, and left as it is.
Writes go to a temporary file replaced into place, so parallel recorders and interrupted
runs never leave half a file.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml
from vcr.persisters.filesystem import CassetteNotFoundError

from anyllm.testing.cassettes.secrets import CassetteSecretError, Secrets, check_no_secrets, secret_found

__all__ = [
    "SAFE_LOADER",
    "AtomicPersister",
    "CassetteCorruptError",
    "YamlSerializer",
    "load_yaml",
    "read_cassette",
]


class CassetteCorruptError(RuntimeError):
    """A cassette file that is not a readable vcrpy cassette. It is left as it is: taking it
    for a missing one would go live and overwrite it."""


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
