"""Graph's own schema of the backup API (graph-openapi-subset.json, rebuilt from
msgraph-metadata), as JSON Schema: the emulator refuses a request body Graph's schema
refuses, so whatever a client sends in any test is held to it.

OpenAPI 3.0 -> JSON Schema: `nullable` becomes a null type; a flags enum
(`x-ms-enum-flags`) takes several members, comma-separated. The schema lists
`@odata.type` as required on every type, as openapi.yaml does; Graph itself neither
requires it in requests nor sends it in most answers (msgraph-metadata issue #1166, and
every documented request): that one requirement is dropped."""

from __future__ import annotations

import json
import re
from functools import cache
from importlib import resources
from typing import Any

from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

SCHEMA_URI = "urn:graph:backup-restore-openapi"
API_PATH = "/solutions/backupRestore"
# An OData delta item that removes an artifact (not in the schema: an OData annotation).
REMOVED_ITEM = {
    "type": "object",
    "required": ["@removed", "id"],
    "properties": {
        "@removed": {
            "type": "object",
            "properties": {"reason": {"enum": ["changed", "deleted"]}},
        },
        "id": {"type": "string"},
    },
}


def _json_schema(node: Any) -> Any:
    """One OpenAPI 3.0 schema node (and everything below it) as JSON Schema."""
    if isinstance(node, list):
        return [_json_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    converted = {key: _json_schema(value) for key, value in node.items()}
    flags = converted.get("x-ms-enum-flags")
    if isinstance(flags, dict) and flags.get("isFlags") and "enum" in converted:
        member = "|".join(re.escape(str(m)) for m in converted.pop("enum"))
        converted["pattern"] = f"^({member})(,({member}))*$"
    if isinstance(converted.get("required"), list):
        converted["required"] = [r for r in converted["required"] if r != "@odata.type"]
    if converted.pop("nullable", False):
        if isinstance(converted.get("type"), str):
            converted["type"] = [converted["type"], "null"]
        elif "enum" in converted:
            converted["enum"] = [*converted["enum"], None]
    return converted


@cache
def _document() -> dict[str, Any]:
    text = resources.files("graph_emulator").joinpath("graph-openapi-subset.json").read_text()
    document: dict[str, Any] = _json_schema(json.loads(text))
    return document


@cache
def _registry() -> Registry[Any]:
    resource: Resource[Any] = Resource.from_contents(_document(), default_specification=DRAFT202012)
    registry: Registry[Any] = Registry().with_resource(SCHEMA_URI, resource)
    return registry


@cache
def validator(type_name: str) -> Draft202012Validator:
    """A validator for `microsoft.graph.<type_name>` (e.g. "driveRestoreArtifact")."""
    reference = {"$ref": f"{SCHEMA_URI}#/components/schemas/microsoft.graph.{type_name}"}
    return Draft202012Validator(reference, registry=_registry())


@cache
def request_validator(path: str, method: str) -> Draft202012Validator:
    """A validator for the documented request body of `method` on `path` (as the schema
    writes it, under /solutions/backupRestore)."""
    escaped = f"{API_PATH}{path}".replace("~", "~0").replace("/", "~1")
    pointer = f"/paths/{escaped}/{method.lower()}/requestBody/content/application~1json/schema"
    return Draft202012Validator({"$ref": f"{SCHEMA_URI}#{pointer}"}, registry=_registry())


def properties(type_name: str) -> set[str]:
    """The properties `microsoft.graph.<type_name>` declares, its base types' included."""
    names: set[str] = set()
    pending: list[Any] = [_document()["components"]["schemas"][f"microsoft.graph.{type_name}"]]
    while pending:
        node = pending.pop()
        names.update(node.get("properties", {}))
        pending += node.get("allOf", [])
        reference = node.get("$ref", "")
        if reference:
            pending.append(_document()["components"]["schemas"][reference.rsplit("/", 1)[-1]])
    return names


def removed_item_validator() -> Draft202012Validator:
    return Draft202012Validator(REMOVED_ITEM)


def problems(validator_: Draft202012Validator, body: Any) -> list[str]:
    """What is wrong with `body`, as `where: why` lines ([] when it conforms)."""
    return [
        f"{'/'.join(str(p) for p in error.absolute_path) or 'body'}: {error.message}"
        for error in validator_.iter_errors(body)
    ]
