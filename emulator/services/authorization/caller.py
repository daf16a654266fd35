"""Who calls: the object id in the request's bearer token, read without verifying it (the emulator checks no
signature). The token is never kept, logged or echoed."""

from __future__ import annotations

import base64
import binascii
import json

from emulator.kernel.http import Request


def caller_object_id(req: Request) -> str | None:
    """The `oid` claim (lower case) of a bearer token that is a JWT (`header.payload.signature`, base64url, the
    signature possibly empty); None for any other token, which the permissions API treats as a caller with no
    role assignments."""
    scheme, _, token = req.headers.get("authorization", "").partition(" ")
    parts = token.strip().split(".")
    if scheme.lower() != "bearer" or len(parts) != 3:
        return None
    try:
        claims = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
    except (binascii.Error, ValueError):  # UnicodeDecodeError and JSONDecodeError are ValueErrors
        return None
    oid = claims.get("oid") if isinstance(claims, dict) else None
    return oid.lower() if isinstance(oid, str) and oid else None
