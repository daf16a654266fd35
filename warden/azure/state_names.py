"""The names of the state store's blobs: every key hashed with SHA-256 (hex), so any id fits and nothing about a
resource shows in a name (docs/state.md "Blob layout").
"""

from __future__ import annotations

import hashlib

from warden.model import normalize_id
from warden.state import text_bytes


def _digest(text: str) -> str:
    return hashlib.sha256(text_bytes(text)).hexdigest()


def done_blob_name(event_id: str, digest: str = "") -> str:
    """events/<sha256 of the event id>.<content digest (warden.state.event_digest)>: found without knowing when
    the event was handled; one id's markers share the prefix events/<sha256 of the id>."""
    return f"events/{_digest(event_id)}" + (f".{_digest(digest)}" if digest else "")


def attempts_blob_name(resource_id: str) -> str:
    """attempts/<sha256 of the normalized id>.json: a JSON list of ISO times (a counter: the tenant-wide cap)."""
    return f"attempts/{_digest(normalize_id(resource_id))}.json"


def resource_blob_name(resource_id: str) -> str:
    """resources/<sha256 of the normalized id>.json: the resource's attempts, pending steps and done markers."""
    return f"resources/{_digest(normalize_id(resource_id))}.json"


def marker_key(event_id: str, digest: str) -> str:
    """A done marker's key in a resource's state blob: <sha256 of the id>.<sha256 of the content digest>."""
    return done_blob_name(event_id, digest).removeprefix("events/")


def pending_blob_name(resource_id: str) -> str:
    """pending/<sha256 of the normalized id>.json: the steps a partial remediation left (warden/pending.py)."""
    return f"pending/{_digest(normalize_id(resource_id))}.json"


def link_blob_name(group: str, member: str = "") -> str:
    """links/<sha256 of the group>/<sha256 of the member>.json (the group's prefix alone without a member)."""
    prefix = f"links/{_digest(group.lower())}/"
    return prefix + (f"{_digest(normalize_id(member))}.json" if member else "")
