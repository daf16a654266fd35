"""Properties of redaction: a secret put anywhere a secret is known to travel (a secret-named key at any depth
and spelling, a header, a connection string, a URL's user info, a token with a known prefix) never reaches
what the audit stores from a rejected event."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from tests.property.conftest import counted
from warden.azure.event_raw import reduce_raw
from warden.redact import clean

SECRET = st.text("ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789", min_size=24, max_size=40)
# Key spellings under which a value is a secret, in the case and separator styles payloads use.
SECRET_KEYS = st.sampled_from(
    [
        "password",
        "Password",
        "client_secret",
        "primary",
        "primaryKey",
        "pat",
        "passphrase",
        "key1",
        "sasToken",
        "connectionString",
        "Cookie",
        "Authorization",
        "access-token",
        "AccountKey",
        "x-api-key",
        "secondary",
    ]
)
# Secrets written inside harmless-looking text.
INLINE = st.sampled_from(
    [
        "Authorization: SharedKey account:{s}",
        "Authorization: Bearer {s}",
        "DefaultEndpointsProtocol=https;AccountName=a;AccountKey={s};EndpointSuffix=core.windows.net",
        "https://user:{s}@example.com/path",
        "sk-{s}",
        "ghp_{s}",
        "https://a.blob.core.windows.net/c?sv=2024-01-01&sig={s}",
        "password: {s}",
        "Cookie: session={s}",
    ]
)
NAMES = st.text("abcdefghijklmnopqrstuvwxyz", min_size=1, max_size=8)


@st.composite
def payloads_holding(draw: st.DrawFn, secret: str) -> dict[str, Any]:
    """A rejected-looking event with the secret hidden under a secret key or inline, somewhere in `data`."""
    if draw(st.booleans()):
        leaf: Any = {draw(SECRET_KEYS): secret}
    else:
        leaf = {draw(NAMES): draw(INLINE).format(s=secret)}
    for _ in range(draw(st.integers(0, 4))):
        leaf = {draw(NAMES): leaf} if draw(st.booleans()) else [leaf, draw(NAMES)]
    return {"id": "e-1", "eventType": "Microsoft.Resources.ResourceWriteSuccess", "data": {"bad": leaf}}


@given(st.data(), SECRET)
@counted
def test_a_secret_in_a_rejected_event_never_reaches_the_record(data: st.DataObject, secret: str) -> None:
    event = data.draw(payloads_holding(secret))
    stored = json.dumps(clean(reduce_raw(event), "raw"))
    assert secret not in stored, stored


@given(st.sampled_from(["Claims", "CLAIMS", "claims"]), st.sampled_from(["upn", "ipaddr", "name", "unique_name"]))
@counted
def test_only_the_caller_ids_survive_claims_of_any_spelling(key: str, personal: str) -> None:
    claims = {personal: "someone@contoso.com", "oid": "3b1f9a52-7c1e-4d0b-9f7e-5a2c8e1d4b60"}
    event = {"id": "e-1", "data": {key: claims, "httpRequest": {"clientIpAddress": "203.0.113.9"}}}
    stored = json.dumps(clean(reduce_raw(event), "raw"))
    assert "someone@contoso.com" not in stored and "203.0.113.9" not in stored
