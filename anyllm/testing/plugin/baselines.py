"""Known-deviation baselines: a reviewed file per provider of case id -> expected rule
violations, with a reason, so the matrix fails only on new deviations."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import pytest

from anyllm.testing.cassettes import load_yaml

__all__ = ["load_baseline"]


def load_baseline(directory: Path, provider: str) -> dict[str, dict[str, Any]]:
    """``<dir>/<provider>.yaml``: ``cases: {case id: {rules: [...], reason: ...}}``.
    Every entry must give its reason: a baseline is a reviewed decision, not a mute button.

    Read once per file version (path, inode, mtime, size; it is consulted for every case),
    handed out as a copy."""
    path = directory / f"{provider}.yaml"
    try:
        stat = path.stat()
    except OSError:
        return {}
    if not path.is_file():
        return {}
    cached = _read_baseline(str(path), stat.st_ino, stat.st_mtime_ns, stat.st_size)
    return {case: {"rules": list(e["rules"]), "reason": e["reason"]} for case, e in cached.items()}


@functools.cache
def _read_baseline(name: str, inode: int, mtime_ns: int, size: int) -> dict[str, dict[str, Any]]:
    import yaml

    path = Path(name)
    try:
        data = load_yaml(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise pytest.UsageError(f"{path}: not valid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise pytest.UsageError(f"{path}: a baseline is a mapping with a 'cases' key")
    cases = data.get("cases") or {}
    if not isinstance(cases, dict):
        raise pytest.UsageError(f"{path}: 'cases' must map case ids to {{rules, reason}}")
    out: dict[str, dict[str, Any]] = {}
    for case_id, entry in cases.items():
        if (
            not isinstance(entry, dict)
            or not entry.get("rules")
            or not str(entry.get("reason") or "").strip()
        ):
            raise pytest.UsageError(f"{path}: case {case_id!r} needs a non-empty 'rules' list and a 'reason'")
        out[str(case_id)] = {
            "rules": sorted({str(r) for r in entry["rules"]}),
            "reason": str(entry["reason"]).strip(),
        }
    return out
