"""Validate emulator responses against the upstream swagger slice with jsonschema.

Swagger 2.0 schemas are JSON Schema draft 4 plus annotations (`x-ms-*`, `readOnly`, `discriminator`),
which draft-4 validation ignores. The slice references ARM common-types it does not carry; those get
small stubs written from the common-types definitions, and definitions the slice elides accept anything.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import jsonschema

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

    def response_definition(self, path_suffix: str, method: str, status: int | str) -> str:
        """The definition an operation declares for a status (path matched by its suffix)."""
        matches = [p for p in self.paths if p.endswith(path_suffix)]
        assert len(matches) == 1, f"{path_suffix!r} matches {matches}"
        ref = self.paths[matches[0]][method.lower()]["responses"][str(status)]["schema"]["$ref"]
        return "__common__" + ref.split("/")[-1] if not ref.startswith("#/") else ref.split("/")[-1]

    def validate_response(self, path_suffix: str, method: str, status: int, body: Any) -> None:
        definition = self.response_definition(path_suffix, method, status)
        problems = self.errors(definition, body)
        assert not problems, f"{method} {path_suffix} {status} does not match {definition}: {problems}"
