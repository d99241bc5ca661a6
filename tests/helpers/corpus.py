"""The recorded provider traffic in ``../shared/corpus`` (pydantic-ai cassettes), for tests.

Read at test time, never copied into the project; a test that needs it skips with the
reason when it is absent.
"""

from __future__ import annotations

import gzip
import json
import os
from functools import lru_cache
from pathlib import Path
from typing import Any

import pytest

__all__ = ["corpus_path", "corpus_row", "corpus_rows"]


def corpus_path() -> Path:
    shared = Path(os.environ.get("ANYLLM_SHARED_DIR", Path(__file__).resolve().parents[3] / "shared"))
    return shared / "corpus" / "interactions.jsonl.gz"


@lru_cache(maxsize=1)
def _rows() -> tuple[dict[str, Any], ...]:
    path = corpus_path()
    if not path.is_file():
        return ()
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        return tuple(json.loads(line) for line in handle)


def corpus_rows(provider: str, path_suffix: str = "") -> list[dict[str, Any]]:
    """Every recorded interaction of ``provider`` whose URL path ends with ``path_suffix``."""
    rows = _rows()
    if not rows:
        pytest.skip(f"the recorded corpus is absent ({corpus_path()})")
    return [
        row
        for row in rows
        if row.get("provider") == provider and row["url"].split("?")[0].endswith(path_suffix)
    ]


def corpus_row(provider: str, file_suffix: str, index: int = 0) -> dict[str, Any]:
    """The one interaction recorded in the cassette whose path ends with ``file_suffix``."""
    for row in corpus_rows(provider):
        if row["file"].endswith(file_suffix) and row["index"] == index:
            return row
    raise LookupError(f"no recorded {provider} interaction {file_suffix}#{index} in the corpus")
