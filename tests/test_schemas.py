"""schemas/ is exactly what scripts/generate_schemas.py makes from the official OpenAPI document."""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
from pathlib import Path
from types import ModuleType

import pytest

from anyllm.spec import SPEC_VERSION

REPO = Path(__file__).resolve().parents[1]
SCHEMAS = REPO / "schemas"
SHARED = Path(os.environ.get("ANYLLM_SHARED_DIR", REPO.parent / "shared"))


def _generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "generate_schemas", REPO / "scripts" / "generate_schemas.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_schemas_match_the_installed_package(tmp_path: Path) -> None:
    pytest.importorskip("openresponses", reason="openresponses-py (test extra) is not installed")
    gen = _generator()
    assert gen.main(["--out", str(tmp_path)]) == 0
    fresh = {p.name: p.read_bytes() for p in tmp_path.glob("*.json")}
    committed = {p.name: p.read_bytes() for p in SCHEMAS.glob("*.json")}
    assert sorted(fresh) == sorted(committed), "schema files added or removed: regenerate schemas/"
    drifted = [name for name in fresh if fresh[name] != committed[name]]
    assert not drifted, f"schemas/ drifted from openresponses-py: {drifted[:5]}"


def test_schemas_match_the_shared_spec_release() -> None:
    openapi = SHARED / "openresponses" / "openapi.json"
    if not openapi.is_file():
        pytest.skip(f"{openapi} is absent")
    data = openapi.read_bytes()
    index = json.loads((SCHEMAS / "index.json").read_text())
    assert index["source"]["sha256"] == hashlib.sha256(data).hexdigest()
    rendered = _generator().render(data, index["source"]["version"])
    for name, content in rendered.items():
        assert (SCHEMAS / name).read_bytes() == content, name


def test_one_file_per_schema_and_the_24_events() -> None:
    index = json.loads((SCHEMAS / "index.json").read_text())
    assert len(index["events"]) == 24
    for name in (
        "CreateResponseBody",
        "ResponseResource",
        "Message",
        "FunctionCall",
        "FunctionCallOutput",
        "ReasoningBody",
        "OutputTextContent",
        "Error",
        "ErrorPayload",
        "StreamingEvent",
        *index["events"].values(),
    ):
        assert (SCHEMAS / f"{name}.json").is_file(), name
    assert index["spec_version"] == SPEC_VERSION


def test_every_schema_is_valid_draft_2020_12_in_both_engines() -> None:
    """Each schema compiles in both engines, and both give the same verdict on ``{}``."""
    jsonschema = pytest.importorskip("jsonschema")
    referencing = pytest.importorskip("referencing")
    from referencing.jsonschema import DRAFT202012

    from anyllm.testing.validate import SchemaStore

    store = SchemaStore(SCHEMAS)
    registry = referencing.Registry().with_resources(
        (schema["$id"], DRAFT202012.create_resource(schema)) for schema in store.schemas.values()
    )
    verdicts = set()
    for name, schema in store.schemas.items():
        jsonschema.Draft202012Validator.check_schema(schema)
        expected = jsonschema.Draft202012Validator(schema, registry=registry).is_valid({})
        assert store.validator(name).is_valid({}) is expected, name
        verdicts.add(expected)
    assert verdicts == {True, False}  # both verdicts occur: the comparison is not vacuous


def test_schema_refs_point_at_sibling_files() -> None:
    names = {p.stem for p in SCHEMAS.glob("*.json")}

    def refs(node: object) -> list[str]:
        if isinstance(node, dict):
            out = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
            return out + [r for v in node.values() for r in refs(v)]
        if isinstance(node, list):
            return [r for v in node for r in refs(v)]
        return []

    for path in SCHEMAS.glob("*.json"):
        for ref in refs(json.loads(path.read_text())):
            assert ref.endswith(".json") and ref[: -len(".json")] in names, (path.name, ref)
