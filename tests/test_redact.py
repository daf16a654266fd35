"""Defence-in-depth redaction: realistic payloads that must never reach an audit record verbatim."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from azure.mgmt.cognitiveservices.models import ApiKeys

from warden.redact import REDACTED, clean, for_log, scrub

SECRET = "c2VjcmV0LXZhbHVlLXRoYXQtbXVzdC1ub3QtbGVhaw"


@pytest.mark.parametrize(
    "text",
    [
        f"DefaultEndpointsProtocol=https;AccountName=a;AccountKey={SECRET};EndpointSuffix=core.windows.net",
        f"Endpoint=https://c.azconfig.io;Id=x;Secret={SECRET}",
        f"endpoint=https://s.service.signalr.net;AccessKey={SECRET};Version=1.0;",
        f"GET https://a.blob.core.windows.net/c/b?sv=2024-01-01&sig={SECRET}&se=2030",
        f"https://a.blob.core.windows.net/c/b?sv%3D2024%26sig%3D{SECRET}",
        f"https://app.azurewebsites.net/api/audit?code={SECRET}",
        f"grant_type=refresh_token&client_secret={SECRET}&refresh_token={SECRET}",
        f"Authorization: Basic {SECRET}",
        f"Authorization: Bearer {SECRET}",
        f'the service said {{"key1": "{SECRET}", "key2": "{SECRET}"}}',
        f"-----BEGIN RSA PRIVATE KEY-----\n{SECRET}\n-----END RSA PRIVATE KEY-----",
        # Shapes that survived in rejected payloads before issue 7.
        f"Authorization: SharedKey myaccount:{SECRET}",
        f"Authorization: SharedKeyLite myaccount:{SECRET}",
        f"Cookie: ARRAffinity=1; session={SECRET}",
        f"Set-Cookie: session={SECRET}; Path=/; HttpOnly",
        f"password: {SECRET}",
        f"passphrase:{SECRET}",
        f"https://user:{SECRET}@example.com/repo.git",
        f"the key sk-{SECRET} was used",
        f"sk-proj-{SECRET}",
        f"token ghp_{SECRET}",
        f"github_pat_{SECRET}",
    ],
)
def test_inline_secrets_are_cut_out(text: str) -> None:
    cleaned = scrub(text)
    assert SECRET not in cleaned and REDACTED in cleaned


@pytest.mark.parametrize(
    "payload",
    [
        {"name": "db-password", "value": SECRET, "properties": {"enabled": True}},  # KeyVaultSecret
        {"properties": {"value": SECRET}},  # ARM secret PUT
        {"secretValue": SECRET},
        {"keyValue": SECRET},
        {"keys": [{"keyName": "key1", "value": SECRET}]},
        {"primaryKey": SECRET},
    ],
)
def test_secret_shaped_members_are_redacted(payload: dict[str, object]) -> None:
    assert SECRET not in str(clean(payload, "observed"))


def test_sdk_models_and_dataclasses_are_cleaned_by_field_never_by_their_text() -> None:
    assert SECRET not in str(clean({"keys": ApiKeys(key1=SECRET, key2=SECRET)}, "observed"))

    @dataclass
    class Holder:
        primary_key: str
        region: str

    assert clean(Holder(SECRET, "swedencentral"), "x") == {"primary_key": REDACTED, "region": "swedencentral"}

    class Opaque:
        def __str__(self) -> str:
            return SECRET

    assert clean(Opaque(), "x") == "[Opaque]"


def test_ordinary_values_are_kept() -> None:
    observed = {"publicNetworkAccess": "Enabled", "networkAcls.ipRules": [{"value": "203.0.113.7"}]}
    assert clean(observed, "observed") == observed


@pytest.mark.parametrize(
    "payload",
    [
        {"primary": SECRET, "secondary": SECRET},
        {"pat": SECRET},
        {"passphrase": SECRET},
        {"headers": {"Cookie": SECRET, "Authorization": SECRET, "Set-Cookie": SECRET}},
    ],
)
def test_more_secret_named_members_are_redacted(payload: dict[str, object]) -> None:
    assert SECRET not in str(clean(payload, "observed"))


def test_arm_authorization_objects_are_kept() -> None:
    # Event Grid's ARM events carry data.authorization = {scope, action, evidence}: not a secret.
    kept = {"authorization": {"scope": "/subscriptions/s", "action": "Microsoft.CognitiveServices/accounts/write"}}
    assert clean(kept, "observed") == kept


def test_log_text_is_scrubbed_escaped_and_bounded() -> None:
    line = for_log(f"bad \ud800 AccountKey={SECRET}; " + "x" * 5000, limit=100)
    assert SECRET not in line and "\\ud800" in line and line.endswith("characters]")
    line.encode("utf-8")  # a lone surrogate made a log handler's encode fail
    forged = for_log("e-1\nWARNING warden.service: all accounts compliant\x1b[2J")
    assert "\n" not in forged and "\x1b" not in forged  # a newline would forge a log line
    assert "e-1\\nWARNING" in forged and "\\x1b[2J" in forged
