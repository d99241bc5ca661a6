"""Cassette provenance: who recorded what, with which versions, and the file's hash.

Each cassette records, in vcrpy's per-cassette metadata, the library and spec versions,
provider, model and date, so a report can say what answered and when.
"""

from __future__ import annotations

import functools
import hashlib
import os
from pathlib import Path
from typing import Any

import yaml

from anyllm.spec import SPEC_VERSION
from anyllm.testing.cassettes.persistence import load_yaml

__all__ = ["cassette_sha256", "library_version", "load_provenance", "provenance_defaults"]


def library_version() -> str:
    """The installed anyllm's version, as recordings and reports state it."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("anyllm")
    except PackageNotFoundError:
        return "0+unknown"


def provenance_defaults() -> dict[str, Any]:
    """The versions every recording is stamped with (the case adds provider, model, ...)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        vcr_version = version("vcrpy")
    except PackageNotFoundError:
        vcr_version = "unknown"
    return {
        "library": "anyllm",
        "library_version": library_version(),
        "spec_version": SPEC_VERSION,
        "vcrpy": vcr_version,
    }


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
