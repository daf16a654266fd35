"""The upstream swagger slice, loaded at run time: validates write bodies and responses with jsonschema.

Swagger 2.0 schemas are JSON Schema draft 4 plus annotations (`x-ms-*`, `readOnly`, `discriminator`),
which draft-4 validation ignores. The slice references ARM common-types it does not carry; those get
small stubs written from the common-types definitions, and definitions the slice elides accept anything.

The emulator is a dev-only tool, so jsonschema (requirements-dev.txt) is available to it; the function app
never imports this module. Each provider names its slice (vendored under tests/fixtures/reference) and
loads it once with `load(path)`. From it the plane takes what a request body may hold, which properties
are read-only, and the canonical spelling of enum values.
"""

from __future__ import annotations

import copy
import functools
import json
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import jsonschema
import jsonschema.validators

REFERENCE = Path(__file__).resolve().parents[2] / "tests/fixtures/reference"
_STRING = {"type": "string"}
COMMON_TYPES: dict[str, Any] = {
    # common-types/resource-management/v3/types.json (id, name, type are readOnly strings)
    "Resource": {"type": "object", "properties": {"id": _STRING, "name": _STRING, "type": _STRING}},
    "AzureEntityResource": {
        "allOf": [{"$ref": "#/definitions/__common__Resource"}],
        "properties": {"etag": _STRING},
    },
    "ProxyResource": {"allOf": [{"$ref": "#/definitions/__common__Resource"}]},
    "systemData": {
        "type": "object",
        "properties": {
            "createdBy": _STRING,
            "createdByType": _STRING,
            "createdAt": _STRING,
            "lastModifiedBy": _STRING,
            "lastModifiedByType": _STRING,
            "lastModifiedAt": _STRING,
        },
    },
    # common-types/resource-management/v3/privatelinks.json
    "PrivateEndpoint": {"type": "object", "properties": {"id": _STRING}},
    "PrivateEndpointConnectionProvisioningState": _STRING,
    "PrivateLinkServiceConnectionState": {
        "type": "object",
        "properties": {"status": _STRING, "description": _STRING, "actionsRequired": _STRING},
    },
    # common-types/resource-management/v6/types.json ErrorResponse / ErrorDetail
    "ErrorDetail": {
        "type": "object",
        "properties": {
            "code": _STRING,
            "message": _STRING,
            "target": _STRING,
            "details": {"type": "array", "items": {"$ref": "#/definitions/__common__ErrorDetail"}},
            "additionalInfo": {"type": "array", "items": {"type": "object"}},
        },
    },
    "ErrorResponse": {
        "type": "object",
        "properties": {"error": {"$ref": "#/definitions/__common__ErrorDetail"}},
    },
}


def _rewrite(node: Any, missing: set[str], defined: set[str]) -> Any:
    """Point external refs at the common-type stubs and note local refs the slice elides."""
    if isinstance(node, dict):
        out = {}
        for k, v in node.items():
            if k == "$ref" and isinstance(v, str):
                if v.startswith("#/definitions/"):
                    name = v.split("/")[-1]
                    if name not in defined:
                        missing.add(name)
                    out[k] = v
                elif "#/definitions/" in v:
                    out[k] = "#/definitions/__common__" + v.split("/")[-1]
                else:
                    out[k] = v
            else:
                out[k] = _rewrite(v, missing, defined)
        return out
    if isinstance(node, list):
        return [_rewrite(v, missing, defined) for v in node]
    return node


class Swagger:
    """One swagger document, able to validate an instance against a definition or an operation's response."""

    def __init__(self, path: Path) -> None:
        self.doc = json.loads(path.read_text(encoding="utf-8"))
        missing: set[str] = set()
        defs = _rewrite(copy.deepcopy(self.doc["definitions"]), missing, set(self.doc["definitions"]))
        self.elided = sorted(missing)
        for name in missing:
            defs[name] = {}  # elided from the slice: accept anything rather than guess its shape
        for name, schema in COMMON_TYPES.items():
            defs["__common__" + name] = schema
        self.definitions = defs
        self.paths = self.doc["paths"]

    def errors(self, definition: str, instance: Any) -> list[str]:
        schema = {"$ref": f"#/definitions/{definition}", "definitions": self.definitions}
        validator = jsonschema.Draft4Validator(schema)
        return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(instance)]

    def request_errors(self, definition: str, instance: Any) -> list[tuple[str, str]]:
        """What the resource provider would refuse in a request body: (JSON path, message), first the
        shallowest. JSON nulls count as absent, and enum values compare case-insensitively."""
        schema = {"$ref": f"#/definitions/{definition}", "definitions": self.definitions}
        found = sorted(_RequestValidator(schema).iter_errors(_without_nulls(instance)), key=lambda e: len(e.path))
        return [(json_path(e.absolute_path), e.message) for e in found]

    def prune(self, definition: str, instance: Any) -> Any:
        """What the resource provider keeps of a request body: without the properties `definition` does
        not declare (at every depth where the schema lists `properties` and no `additionalProperties`) or
        marks `readOnly`, both of which ARM ignores, and with enum values in their declared spelling (the
        RP parses `"enabled"` into its enum, so it comes back `Enabled`)."""
        return self._prune({"$ref": f"#/definitions/{definition}"}, instance)

    def read_only(self, definition: str, field: str = "properties") -> frozenset[str]:
        """The `readOnly` property names of `definition`'s `field` object (`properties` by default)."""
        schema = self._declared({"$ref": f"#/definitions/{definition}"}).get(field)
        if schema is None:
            return frozenset()
        return frozenset(k for k, v in self._declared(schema).items() if self._read_only(v))

    def _read_only(self, schema: Mapping[str, Any]) -> bool:
        """`readOnly` on the schema itself (beside a `$ref`) or on what it refers to."""
        return bool(schema.get("readOnly")) or any(p.get("readOnly") for p in self._resolve(schema))

    def enum(self, definition: str, *path: str) -> tuple[str, ...]:
        """The enum values declared at `path` under `definition` (empty if none)."""
        schema: Mapping[str, Any] = {"$ref": f"#/definitions/{definition}"}
        for name in path:
            found = self._declared(schema).get(name)
            if found is None:
                return ()
            schema = found
        return tuple(v for p in self._resolve(schema) for v in p.get("enum", ()))

    def _declared(self, schema: Mapping[str, Any]) -> dict[str, Any]:
        declared: dict[str, Any] = {}
        for part in self._resolve(schema):
            declared.update(part.get("properties", {}))
        return declared

    def _resolve(self, schema: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
        """`schema` and every schema it reaches by `$ref` and `allOf`."""
        ref = schema.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/definitions/"):
            yield from self._resolve(self.definitions.get(ref.split("/")[-1], {}))
            return
        yield schema
        for part in schema.get("allOf", []):
            yield from self._resolve(part)

    def _prune(self, schema: Mapping[str, Any], instance: Any) -> Any:
        parts = list(self._resolve(schema))
        enums = [v for p in parts for v in p.get("enum", ()) if isinstance(v, str)]
        if isinstance(instance, str) and enums:
            return next((v for v in enums if v.lower() == instance.lower()), instance)
        if isinstance(instance, list):
            items = next((p["items"] for p in parts if isinstance(p.get("items"), Mapping)), None)
            return [self._prune(items, v) if items else copy.deepcopy(v) for v in instance]
        if not isinstance(instance, Mapping):
            return copy.deepcopy(instance)
        declared: dict[str, Any] = {}
        for part in parts:
            declared.update(part.get("properties", {}))
        extra = next((p["additionalProperties"] for p in parts if "additionalProperties" in p), None)
        if not declared and extra is None:
            return copy.deepcopy(dict(instance))  # a free-form object (or one the slice elides)
        out: dict[str, Any] = {}
        for key, value in instance.items():
            if key in declared:
                if not self._read_only(declared[key]):
                    out[key] = self._prune(declared[key], value)
            elif isinstance(extra, Mapping):
                out[key] = self._prune(extra, value)
            elif extra is True:
                out[key] = copy.deepcopy(value)
        return out

    def response_definition(self, path_suffix: str, method: str, status: int | str) -> str:
        """The definition an operation declares for a status (path matched by its suffix)."""
        matches = [p for p in self.paths if p.endswith(path_suffix)]
        assert len(matches) == 1, f"{path_suffix!r} matches {matches}"
        ref: str = self.paths[matches[0]][method.lower()]["responses"][str(status)]["schema"]["$ref"]
        name = ref.rsplit("/", 1)[-1]
        return name if ref.startswith("#/") else "__common__" + name

    def validate_response(self, path_suffix: str, method: str, status: int, body: Any) -> None:
        definition = self.response_definition(path_suffix, method, status)
        problems = self.errors(definition, body)
        assert not problems, f"{method} {path_suffix} {status} does not match {definition}: {problems}"


def _enum_ignoring_case(validator: Any, enums: Any, instance: Any, schema: Any) -> Iterator[Any]:
    """Draft-4 `enum`, but a string matches case-insensitively (the RP parses enums that way)."""
    if isinstance(instance, str) and any(isinstance(e, str) and e.lower() == instance.lower() for e in enums):
        return
    if instance not in enums:
        yield jsonschema.ValidationError(f"{instance!r} is not one of {enums!r}")


_RequestValidator = jsonschema.validators.extend(jsonschema.Draft4Validator, {"enum": _enum_ignoring_case})


def _without_nulls(instance: Any) -> Any:
    if isinstance(instance, Mapping):
        return {k: _without_nulls(v) for k, v in instance.items() if v is not None}
    if isinstance(instance, list):
        return [_without_nulls(v) for v in instance]
    return instance


def json_path(path: Any) -> str:
    """`properties.networkAcls.ipRules[0].value`: the path style ARM's deserialization errors use."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


@functools.cache
def load(relative: str) -> Swagger:
    """A slice under tests/fixtures/reference (e.g. `<service>/<api-version>/x.slice.json`), loaded
    once per process."""
    return Swagger(REFERENCE / relative)
