"""The Key Vault data plane on its own port, driven by the real KeyClient and SecretClient: the 401
challenge, keys (create, rotate, versions, update), rotation policies (default, PUT, validation), secrets,
time by the shared clock, the request log's redaction, and faults in Key Vault's error shape."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests
from azure.core.exceptions import HttpResponseError, ResourceNotFoundError
from azure.keyvault.keys import KeyRotationLifetimeAction, KeyRotationPolicy, KeyRotationPolicyAction

from emulator import Emulator
from emulator.builders import vault
from tests.keyvault_support import (
    NOW_UNIX,
    VAULT,
    forget_challenges,
    key_client,
    scenario,
    secret_client,
    vault_calls,
)

SECRET_VALUE = "s3cr3t-value-never-logged"
BEARER = {"Authorization": "Bearer emulator-token"}


def kv(emu: Emulator, method: str, path: str, *, token: bool = True, version: str = "2025-07-01", **kw: Any) -> Any:
    """A plain HTTPS call to the vault port, for what the SDK hides (headers, raw JSON, no token)."""
    return requests.request(
        method,
        f"{emu.vault_url(VAULT)}{path}",
        params={"api-version": version, **kw.pop("params", {})},
        headers=BEARER if token else {},
        verify=emu.ca_path,
        timeout=10,
        **kw,
    )


@pytest.fixture
def emu() -> Any:
    with Emulator(scenario()) as running:
        yield running


def test_the_vault_port_and_urls(emu: Emulator) -> None:
    assert emu.vault_endpoint.startswith("https://127.0.0.1:")
    assert emu.vault_endpoint != emu.endpoint
    assert emu.vault_url("kv-cmk") == f"{emu.vault_endpoint}/kv-cmk"


def test_a_request_without_a_token_gets_the_challenge(emu: Emulator) -> None:
    got = kv(emu, "GET", "/keys", token=False)
    assert got.status_code == 401
    assert got.headers["WWW-Authenticate"] == (
        'Bearer authorization="https://login.microsoftonline.com/00000000-0000-0000-0000-000000000000", '
        'resource="https://vault.azure.net"'
    )
    assert got.json()["error"]["code"] == "Unauthorized"


def test_the_sdk_answers_the_challenge_and_retries_with_a_token(emu: Emulator) -> None:
    forget_challenges()
    with key_client(emu) as client:
        client.create_rsa_key("cmk")
    assert vault_calls(emu) == [("POST", "/kv-cmk/keys/cmk/create", 401), ("POST", "/kv-cmk/keys/cmk/create", 200)]
    assert emu.requests[0].body is None  # the challenge request goes out without its body
    assert {r.kind for r in emu.requests} == {"keyvault"}


def test_create_rotate_versions_and_get(emu: Emulator) -> None:
    with key_client(emu) as client:
        first = client.create_rsa_key("cmk", size=3072, tags={"owner": "sec"})
        emu.clock.advance(86400)
        second = client.rotate_key("cmk")
        assert first.id == f"https://kv-cmk.vault.azure.net/keys/cmk/{first.properties.version}"
        assert second.properties.version != first.properties.version
        assert (second.key_type, second.key_operations, second.properties.tags) == (
            first.key_type,
            first.key_operations,
            {"owner": "sec"},
        )
        assert len(second.key.n) == 3072 // 8
        assert first.properties.created_on == datetime.fromtimestamp(NOW_UNIX, UTC)
        assert second.properties.created_on == datetime.fromtimestamp(NOW_UNIX + 86400, UTC)
        assert client.get_key("cmk").properties.version == second.properties.version
        assert client.get_key("cmk", first.properties.version).id == first.id
        listed = [p.version for p in client.list_properties_of_key_versions("cmk", max_page_size=1)]
        assert listed == [first.properties.version, second.properties.version]
        assert [p.name for p in client.list_properties_of_keys()] == ["cmk"]
        with pytest.raises(ResourceNotFoundError) as missing:
            client.get_key("cmk", "0" * 32)
        assert missing.value.error.code == "KeyNotFound"
    # Two pages of versions: the second asked for by the nextLink the first carried.
    pages = [r for r in emu.requests if r.path.endswith("/versions")]
    assert len(pages) == 2 and pages[1].query["maxresults"] == "1" and pages[1].query["$skiptoken"]


def test_next_link_is_on_the_vault_port(emu: Emulator) -> None:
    with key_client(emu) as client:
        client.create_ec_key("a")
        client.create_ec_key("b")
    page = kv(emu, "GET", "/keys", params={"maxresults": "1"}).json()
    assert page["value"] == [
        {"kid": "https://kv-cmk.vault.azure.net/keys/a", "attributes": page["value"][0]["attributes"]}
    ]
    assert page["nextLink"].startswith(f"{emu.vault_url(VAULT)}/keys?api-version=2025-07-01&$skiptoken=")
    second = requests.get(page["nextLink"], headers=BEARER, verify=emu.ca_path, timeout=10).json()
    assert [i["kid"] for i in second["value"]] == ["https://kv-cmk.vault.azure.net/keys/b"]
    assert second["nextLink"] is None
    bad = kv(emu, "GET", "/keys", params={"$skiptoken": "not-ours"})
    assert (bad.status_code, bad.json()["error"]["code"]) == (400, "BadParameter")


def test_update_disables_and_expires_a_version(emu: Emulator) -> None:
    expires = datetime.fromtimestamp(NOW_UNIX, UTC) + timedelta(days=3)
    with key_client(emu) as client:
        key = client.create_rsa_key("cmk")
        emu.clock.advance(60)
        updated = client.update_key_properties("cmk", key.properties.version, enabled=False, expires_on=expires)
        assert (updated.properties.enabled, updated.properties.expires_on) == (False, expires)
        assert updated.properties.updated_on == datetime.fromtimestamp(NOW_UNIX + 60, UTC)
        assert client.get_key("cmk").properties.enabled is False


def test_a_key_without_a_policy_has_the_default_one(emu: Emulator) -> None:
    with key_client(emu) as client:
        client.create_rsa_key("cmk")
        policy = client.get_key_rotation_policy("cmk")
        assert policy.id is None and policy.expires_in is None
        assert [(a.action, a.time_after_create, a.time_before_expiry) for a in policy.lifetime_actions] == [
            (KeyRotationPolicyAction.notify, None, "P30D")
        ]
        with pytest.raises(ResourceNotFoundError):
            client.get_key_rotation_policy("nope")


def test_a_policy_is_stored_and_drives_the_expiry_of_rotations(emu: Emulator) -> None:
    actions = [
        KeyRotationLifetimeAction(KeyRotationPolicyAction.rotate, time_after_create="P90D"),
        KeyRotationLifetimeAction(KeyRotationPolicyAction.notify, time_before_expiry="P30D"),
    ]
    with key_client(emu) as client:
        client.create_rsa_key("cmk")
        put = client.update_key_rotation_policy("cmk", KeyRotationPolicy(lifetime_actions=actions, expires_in="P1Y"))
        assert put.id == "https://kv-cmk.vault.azure.net/keys/cmk/rotationpolicy"
        got = client.get_key_rotation_policy("cmk")
        assert (got.id, got.expires_in, got.created_on) == (put.id, "P1Y", datetime.fromtimestamp(NOW_UNIX, UTC))
        assert [(a.action, a.time_after_create, a.time_before_expiry) for a in got.lifetime_actions] == [
            (KeyRotationPolicyAction.rotate, "P90D", None),
            (KeyRotationPolicyAction.notify, None, "P30D"),
        ]
        rotated = client.rotate_key("cmk")
    # 2026-12-01 plus one calendar year.
    assert rotated.properties.expires_on == datetime(2027, 12, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    ("policy", "why"),
    [
        ({"lifetimeActions": [{"trigger": {"timeAfterCreate": "P6D"}, "action": {"type": "Rotate"}}]}, "P7D"),
        ({"lifetimeActions": [], "attributes": {"expiryTime": "P27D"}}, "P28D"),
        ({"lifetimeActions": [{"trigger": {"timeBeforeExpiry": "P30D"}, "action": {"type": "Notify"}}]}, "expiryTime"),
        ({"lifetimeActions": [{"trigger": {"timeAfterCreate": "P30D"}, "action": {"type": "Explode"}}]}, "Rotate"),
        ({"lifetimeActions": [{"trigger": {"timeAfterCreate": "ninety days"}, "action": {"type": "Rotate"}}]}, "ISO"),
        (
            {
                "lifetimeActions": [
                    {"trigger": {"timeAfterCreate": "P9D", "timeBeforeExpiry": "P9D"}, "action": {"type": "Rotate"}}
                ]
            },
            "exactly one",
        ),
        ({"lifetimeActions": [{"trigger": {"timeAfterCreate": "P9D"}, "action": {"type": "Notify"}}]}, "Notify"),
    ],
)
def test_invalid_policies_are_refused(emu: Emulator, policy: dict[str, Any], why: str) -> None:
    with key_client(emu) as client:
        client.create_rsa_key("cmk")
    got = kv(emu, "PUT", "/keys/cmk/rotationpolicy", json=policy)
    assert (got.status_code, got.json()["error"]["code"]) == (400, "BadParameter")
    assert why in got.json()["error"]["message"]
    assert kv(emu, "GET", "/keys/cmk/rotationpolicy").json()["id"] is None  # nothing stored


def test_the_shortest_allowed_durations_are_accepted(emu: Emulator) -> None:
    with key_client(emu) as client:
        client.create_rsa_key("cmk")
    policy = {
        "lifetimeActions": [{"trigger": {"timeBeforeExpiry": "P7D"}, "action": {"type": "rotate"}}],
        "attributes": {"expiryTime": "P4W"},
    }
    got = kv(emu, "PUT", "/keys/cmk/rotationpolicy", json=policy)
    assert got.status_code == 200
    assert got.json()["lifetimeActions"][0]["action"] == {"type": "Rotate"}  # stored in the enum's spelling


def test_secrets_versions_and_metadata(emu: Emulator) -> None:
    with secret_client(emu) as client:
        first = client.set_secret("aoai-key", "one", content_type="text/plain", tags={"rotated": "no"})
        emu.clock.advance(10)
        second = client.set_secret("aoai-key", "two")
        assert second.id == f"https://kv-cmk.vault.azure.net/secrets/aoai-key/{second.properties.version}"
        assert second.properties.created_on == datetime.fromtimestamp(NOW_UNIX + 10, UTC)
        listed = list(client.list_properties_of_secret_versions("aoai-key"))
        assert [p.version for p in listed] == [first.properties.version, second.properties.version]
        assert listed[0].content_type == "text/plain" and listed[0].tags == {"rotated": "no"}
        assert client.get_secret("aoai-key").value == "two"
        assert client.get_secret("aoai-key", first.properties.version).value == "one"
        with pytest.raises(ResourceNotFoundError) as missing:
            client.get_secret("nope")
        assert missing.value.error.code == "SecretNotFound"
        client.update_secret_properties("aoai-key", second.properties.version, enabled=False)
        with pytest.raises(HttpResponseError) as disabled:
            client.get_secret("aoai-key")
        assert disabled.value.status_code == 403
    for path in ("/secrets/aoai-key/versions", "/secrets"):
        assert all("value" not in item for item in kv(emu, "GET", path).json()["value"])


def test_recovery_level_follows_the_vault() -> None:
    vaults = [vault("kv-cmk", enablePurgeProtection=True), vault("kv-plain", enableSoftDelete=False)]
    with Emulator(scenario(*vaults)) as emu:
        with key_client(emu) as client:
            attributes = client.create_rsa_key("cmk").properties
            assert (attributes.recovery_level, attributes.recoverable_days) == ("Recoverable", 90)
        with key_client(emu, "kv-plain") as client:
            assert client.create_rsa_key("cmk").properties.recovery_level == "Purgeable"


def test_secret_values_never_reach_the_request_log(emu: Emulator, tmp_path: Path, caplog: Any) -> None:
    caplog.set_level(logging.DEBUG)
    with secret_client(emu) as client:
        client.set_secret("warm-up", "the challenge is answered by now")
        emu.add_fault("PUT", "/secrets/aoai-key$", "throttle", retry_after=0.01)
        client.set_secret("aoai-key", SECRET_VALUE)
    puts = [r for r in emu.requests if r.path.endswith("/aoai-key")]
    assert [r.body["value"] for r in puts] == ["<redacted>", "<redacted>"]  # the throttled one too
    emu.write_requests(tmp_path / "requests.jsonl")
    assert SECRET_VALUE not in (tmp_path / "requests.jsonl").read_text()
    assert SECRET_VALUE not in caplog.text


def test_faults_are_in_key_vault_shape_and_the_sdk_retries(emu: Emulator) -> None:
    emu.add_fault("GET", "/keys/cmk/$", "throttle", retry_after=0.01)
    emu.add_fault("GET", "/keys/cmk/$", "server-error")
    with key_client(emu) as client:
        client.create_rsa_key("cmk")
        assert client.get_key("cmk").name == "cmk"
        emu.add_fault("GET", "/keys/cmk/$", "server-error", count=10)
        with pytest.raises(HttpResponseError) as failed:
            client.get_key("cmk")
        assert (failed.value.status_code, failed.value.error.code) == (503, "ServiceUnavailable")
    emu.clear_faults()
    emu.add_fault("GET", "/keys$", "throttle", retry_after=2)
    got = kv(emu, "GET", "/keys")
    assert (got.status_code, got.headers["Retry-After"]) == (429, "2")
    assert got.json() == {"error": {"code": "TooManyRequests", "message": got.json()["error"]["message"]}}
    faults = [r.fault for r in emu.requests if r.fault]
    assert faults[:2] == ["throttle", "server-error"]


def test_a_vault_that_arm_does_not_hold_is_404(emu: Emulator) -> None:
    got = requests.get(
        f"{emu.vault_url('kv-nope')}/keys",
        params={"api-version": "7.5"},
        headers=BEARER,
        verify=emu.ca_path,
        timeout=10,
    )
    assert (got.status_code, got.json()["error"]["code"]) == (404, "VaultNotFound")


def test_an_unknown_api_version_is_refused(emu: Emulator) -> None:
    got = kv(emu, "GET", "/keys", version="1999-01-01")
    assert (got.status_code, got.json()["error"]["code"]) == (400, "BadParameter")
    for version in ("7.4", "7.5", "7.6", "2025-07-01", "2026-04-01"):
        assert kv(emu, "GET", "/keys", version=version).status_code == 200
