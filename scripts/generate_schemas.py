"""Generate ``schemas/`` from the official OpenResponses OpenAPI document.

Why this script: the schemas the validator uses must be the spec's, not a hand-edited copy,
so they are cut mechanically out of the OpenAPI document shipped in the PyPI package
``openresponses-py`` 0.1.2 (``openresponses/openapi/2026-04-24.json``, byte-identical to the
published spec release). A test regenerates them into a temporary directory and fails on
drift.

Output: one JSON Schema (draft 2020-12) per component schema, ``<Name>.json``, whose
``$ref``s point at sibling files (``Message.json``); ``StreamingEvent.json``, the union of the
24 streaming events of ``POST /responses``; and ``index.json``, which records the source
(package, version, path, sha256) and the event ``type`` -> schema table.

Usage: ``python scripts/generate_schemas.py [--openapi FILE] [--out DIR]``.
"""

from __future__ import annotations

import argparse
import copy
import hashlib
import json
import sys
from importlib import metadata, resources
from pathlib import Path
from typing import Any

SPEC_VERSION = "2026-04-24"
SOURCE_PACKAGE = "openresponses-py"
SOURCE_PATH = f"openresponses/openapi/{SPEC_VERSION}.json"
# A reserved (.invalid) host: the ids name the files, nothing is ever fetched from them.
BASE_URI = f"https://schemas.anyllm.invalid/openresponses/{SPEC_VERSION}/"
DRAFT = "https://json-schema.org/draft/2020-12/schema"
COMPONENT_PREFIX = "#/components/schemas/"
STREAM_UNION = "StreamingEvent"

REPO_ROOT = Path(__file__).resolve().parents[1]


def packaged_openapi() -> tuple[bytes, str]:
    """Return the OpenAPI bytes shipped in openresponses-py and the package version."""
    ref = resources.files("openresponses").joinpath("openapi", f"{SPEC_VERSION}.json")
    return ref.read_bytes(), metadata.version(SOURCE_PACKAGE)


def _rewrite_refs(node: Any) -> Any:
    """Point ``#/components/schemas/X`` at the sibling file ``X.json``."""
    if isinstance(node, dict):
        out: dict[str, Any] = {}
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                if not value.startswith(COMPONENT_PREFIX):
                    raise ValueError(f"unexpected $ref outside components: {value}")
                out[key] = value[len(COMPONENT_PREFIX) :] + ".json"
            else:
                out[key] = _rewrite_refs(value)
        return out
    if isinstance(node, list):
        return [_rewrite_refs(v) for v in node]
    return node


def _as_file(name: str, schema: dict[str, Any]) -> dict[str, Any]:
    body = _rewrite_refs(copy.deepcopy(schema))
    return {"$schema": DRAFT, "$id": BASE_URI + name + ".json", **body}


def _dump(obj: Any) -> bytes:
    return (json.dumps(obj, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


def _event_table(doc: dict[str, Any]) -> dict[str, str]:
    """Map each streaming event ``type`` to its component schema name."""
    stream = doc["paths"]["/responses"]["post"]["responses"]["200"]["content"]["text/event-stream"]
    table: dict[str, str] = {}
    for member in stream["schema"]["oneOf"]:
        name = member["$ref"][len(COMPONENT_PREFIX) :]
        (event_type,) = doc["components"]["schemas"][name]["properties"]["type"]["enum"]
        table[event_type] = name
    return table


def render(openapi_bytes: bytes, package_version: str) -> dict[str, bytes]:
    """Return ``{file name: bytes}`` for the whole ``schemas/`` directory."""
    doc = json.loads(openapi_bytes)
    components: dict[str, dict[str, Any]] = doc["components"]["schemas"]
    files: dict[str, bytes] = {}
    for name in sorted(components):
        files[name + ".json"] = _dump(_as_file(name, components[name]))
    stream = doc["paths"]["/responses"]["post"]["responses"]["200"]["content"]["text/event-stream"]
    union = {"title": "Streaming event", **stream["schema"]}
    files[STREAM_UNION + ".json"] = _dump(_as_file(STREAM_UNION, union))
    index = {
        "spec_version": doc["info"]["version"],
        "source": {
            "package": SOURCE_PACKAGE,
            "version": package_version,
            "path": SOURCE_PATH,
            "sha256": hashlib.sha256(openapi_bytes).hexdigest(),
        },
        "base_uri": BASE_URI,
        "generated_by": "scripts/generate_schemas.py",
        "events": _event_table(doc),
        "schemas": sorted(name[: -len(".json")] for name in files),
    }
    files["index.json"] = _dump(index)
    return files


def write(files: dict[str, bytes], out: Path) -> None:
    """Write the files and remove stale ``*.json`` left from an older spec."""
    out.mkdir(parents=True, exist_ok=True)
    for stale in out.glob("*.json"):
        if stale.name not in files:
            stale.unlink()
    for name, data in files.items():
        (out / name).write_bytes(data)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--openapi", type=Path, help="OpenAPI file (default: the one in openresponses-py)")
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "schemas", help="output directory")
    args = parser.parse_args(argv)
    if args.openapi is not None:
        data, version = args.openapi.read_bytes(), "file:" + args.openapi.name
    else:
        data, version = packaged_openapi()
    files = render(data, version)
    write(files, args.out)
    print(f"wrote {len(files)} files to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
