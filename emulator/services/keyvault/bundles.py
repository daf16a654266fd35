"""Key and secret versions in their REST form (KeyBundle, SecretBundle), the list items made from them, and
the attribute updates a PATCH makes. Times are unix seconds of the world's clock.

Key material is made up: the public parts (`n`, `e`, `x`, `y`) are random bytes of the right size, enough
for clients that read a key's shape and never use it to encrypt.
"""

from __future__ import annotations

import base64
import copy
import os
import uuid
from collections.abc import Mapping
from typing import Any

from .errors import bad_parameter

KEY_TYPES = ("EC", "EC-HSM", "RSA", "RSA-HSM", "oct", "oct-HSM")
_DEFAULT_OPS = {
    "RSA": ["encrypt", "decrypt", "sign", "verify", "wrapKey", "unwrapKey"],
    "EC": ["sign", "verify"],
    "oct": ["encrypt", "decrypt", "wrapKey", "unwrapKey"],
}
_CURVE_BYTES = {"P-256": 32, "P-256K": 32, "P-384": 48, "P-521": 66}
_SETTABLE = ("enabled", "exp", "nbf")


def new_version() -> str:
    return uuid.uuid4().hex


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _attributes(given: Any, now: int, recovery: Mapping[str, Any]) -> dict[str, Any]:
    if given is not None and not isinstance(given, Mapping):
        raise bad_parameter("attributes must be an object.")
    out: dict[str, Any] = {"enabled": True}
    for name in _SETTABLE:
        value = (given or {}).get(name)
        if value is not None:
            out[name] = _attribute(name, value)
    out.update(created=now, updated=now, **recovery)
    return out


def _attribute(name: str, value: Any) -> Any:
    wanted = bool if name == "enabled" else int
    if not isinstance(value, wanted) or (wanted is int and isinstance(value, bool)):
        raise bad_parameter(f"attributes.{name} must be {'a boolean' if wanted is bool else 'unix seconds'}.")
    return value


def _tags(given: Any) -> dict[str, str] | None:
    if given is None:
        return None
    if not isinstance(given, Mapping) or not all(isinstance(v, str) for v in given.values()):
        raise bad_parameter("tags must be an object of strings.")
    return dict(given)


def _material(kty: str, body: Mapping[str, Any]) -> dict[str, Any]:
    base = kty.removesuffix("-HSM")
    if base == "RSA":
        size = body.get("key_size") or 2048
        if size not in (2048, 3072, 4096):
            raise bad_parameter(f"key_size {size!r} is not supported for RSA keys (2048, 3072 or 4096).")
        modulus = bytearray(os.urandom(size // 8))
        modulus[0] |= 0x80
        modulus[-1] |= 0x01
        exponent = body.get("public_exponent") or 65537
        return {"n": b64url(bytes(modulus)), "e": b64url(int(exponent).to_bytes(3, "big").lstrip(b"\0"))}
    if base == "EC":
        curve = body.get("crv") or "P-256"
        if curve not in _CURVE_BYTES:
            raise bad_parameter(f"crv {curve!r} is not a supported curve ({', '.join(_CURVE_BYTES)}).")
        size = _CURVE_BYTES[curve]
        return {"crv": curve, "x": b64url(os.urandom(size)), "y": b64url(os.urandom(size))}
    return {}  # a symmetric key's bytes are never returned


def key_bundle(
    body: Mapping[str, Any], kid: str, now: int, recovery: Mapping[str, Any], *, expires: int | None = None
) -> dict[str, Any]:
    """A new key version from a create body (`kty`, `key_size`, `crv`, `key_ops`, `attributes`, `tags`)."""
    kty = body.get("kty")
    if kty not in KEY_TYPES:
        raise bad_parameter(f"kty must be one of {', '.join(KEY_TYPES)}.")
    ops = body.get("key_ops") or _DEFAULT_OPS[str(kty).removesuffix("-HSM")]
    if not isinstance(ops, list) or not all(isinstance(op, str) for op in ops):
        raise bad_parameter("key_ops must be a list of operations.")
    bundle: dict[str, Any] = {
        "key": {"kid": kid, "kty": kty, "key_ops": list(ops), **_material(str(kty), body)},
        "attributes": _attributes(body.get("attributes"), now, recovery),
    }
    if expires is not None:
        bundle["attributes"]["exp"] = expires
    tags = _tags(body.get("tags"))
    if tags is not None:
        bundle["tags"] = tags
    return bundle


def rotated(latest: Mapping[str, Any], kid: str, now: int, recovery: Mapping[str, Any], expires: int | None) -> Any:
    """The next version of a key: same type, size or curve, operations and tags, fresh material."""
    key = latest["key"]
    body: dict[str, Any] = {"kty": key.get("kty"), "key_ops": key.get("key_ops"), "crv": key.get("crv")}
    if key.get("n"):
        body["key_size"] = len(base64.urlsafe_b64decode(str(key["n"]) + "==")) * 8
    if "tags" in latest:
        body["tags"] = latest["tags"]
    return key_bundle(body, kid, now, recovery, expires=expires)


def secret_bundle(body: Mapping[str, Any], sid: str, now: int, recovery: Mapping[str, Any]) -> dict[str, Any]:
    """A new secret version from a set body (`value`, `contentType`, `attributes`, `tags`)."""
    value = body.get("value")
    if not isinstance(value, str):
        raise bad_parameter("The secret value must be a string.")
    bundle: dict[str, Any] = {"value": value, "id": sid}
    content_type = body.get("contentType")
    if content_type is not None:
        if not isinstance(content_type, str):
            raise bad_parameter("contentType must be a string.")
        bundle["contentType"] = content_type
    bundle["attributes"] = _attributes(body.get("attributes"), now, recovery)
    tags = _tags(body.get("tags"))
    if tags is not None:
        bundle["tags"] = tags
    return bundle


def update(bundle: dict[str, Any], body: Mapping[str, Any], now: int) -> None:
    """A PATCH of a version: the given attributes (enabled, exp, nbf; null removes), tags (replaced whole),
    key operations or content type."""
    attributes = body.get("attributes")
    if attributes is not None and not isinstance(attributes, Mapping):
        raise bad_parameter("attributes must be an object.")
    stored = bundle.setdefault("attributes", {})
    for name in _SETTABLE:
        if attributes is not None and name in attributes:
            if attributes[name] is None:
                stored.pop(name, None)
            else:
                stored[name] = _attribute(name, attributes[name])
    tags = _tags(body.get("tags"))
    if tags is not None:
        bundle["tags"] = tags
    if "key" in bundle and body.get("key_ops") is not None:
        bundle["key"]["key_ops"] = list(body["key_ops"])
    if "key" not in bundle and isinstance(body.get("contentType"), str):
        bundle["contentType"] = body["contentType"]
    stored["updated"] = now


def item(bundle: Mapping[str, Any], url: str) -> dict[str, Any]:
    """A list item (KeyItem, SecretItem): the id, attributes, tags and content type, never a key or a value."""
    out: dict[str, Any] = {"kid" if "key" in bundle else "id": url}
    out["attributes"] = copy.deepcopy(bundle.get("attributes", {}))
    for name in ("tags", "contentType", "managed"):
        if name in bundle:
            out[name] = copy.deepcopy(bundle[name])
    return out
