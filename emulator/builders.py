"""Scenario builders shared by the tests and the benchmarks: accounts and key vaults as the ARM REST API
returns them, ARM events re-aimed at them, and Key Vault key events."""

from __future__ import annotations

import copy
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, Literal

from emulator.services.cognitiveservices.accounts import endpoint_of

#: The demo tenant's subscription (scenarios/demo), used by tests and benchmarks alike.
SUBSCRIPTION = "6a1f3c2e-8d4b-4f7a-9c0e-2b5d7e9f1a3c"


def account_id(name: str, sub: str = SUBSCRIPTION, rg: str = "ai-prod") -> str:
    return f"/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.CognitiveServices/accounts/{name}"


def account(name: str, kind: str = "OpenAI", **properties: Any) -> dict[str, Any]:
    """An account in the emulator's scenario format; ARM always returns an etag, so this one has one too."""
    return {
        "id": account_id(name),
        "name": name,
        "type": "Microsoft.CognitiveServices/accounts",
        "location": "swedencentral",
        "kind": kind,
        "sku": {"name": "S0"},
        "etag": '"0a00c1d2-0000-0c00-0000-000000000001"',
        "properties": {
            "provisioningState": "Succeeded",
            "customSubDomainName": name,
            "endpoint": endpoint_of(name, kind),
            **properties,
        },
    }


OID_CLAIM = "http://schemas.microsoft.com/identity/claims/objectidentifier"


def retarget_event(
    template: Mapping[str, Any],
    resource_id: str,
    *,
    event_id: str,
    oid: str,
    appid: str,
    event_type: str,
    operation: str,
) -> dict[str, Any]:
    """A copy of a real-shaped ARM event (either schema) pointed at `resource_id`, caused by `oid`/`appid`."""
    event = copy.deepcopy(dict(template))
    grid = "specversion" not in event
    sub = resource_id.split("/")[2]
    event["id"], event["subject"] = event_id, resource_id
    event["topic" if grid else "source"] = f"/subscriptions/{sub}"
    event["eventType" if grid else "type"] = event_type
    data = event["data"]
    data.update(resourceUri=resource_id, operationName=operation, subscriptionId=sub, correlationId=f"corr-{event_id}")
    data["authorization"].update(scope=resource_id, action=operation)
    data["claims"].update({OID_CLAIM: oid, "appid": appid})
    return event


#: The tenant the emulator's vaults belong to (emulator/arm/merge.py EMULATOR_TENANT).
TENANT = "00000000-0000-0000-0000-000000000000"


def vault_id(name: str, sub: str = SUBSCRIPTION, rg: str = "ai-prod") -> str:
    return f"/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.KeyVault/vaults/{name}"


def vault(name: str, *, sub: str = SUBSCRIPTION, rg: str = "ai-prod", **properties: Any) -> dict[str, Any]:
    """A key vault in the emulator's scenario format (the shape of the upstream getVault example): soft delete
    on (Azure's default), purge protection not set, RBAC authorization; `properties` (ARM names) override."""
    props: dict[str, Any] = {
        "tenantId": TENANT,
        "sku": {"family": "A", "name": "standard"},
        "accessPolicies": [],
        "vaultUri": f"https://{name}.vault.azure.net/",
        "enableSoftDelete": True,
        "softDeleteRetentionInDays": 90,
        "enableRbacAuthorization": True,
        "publicNetworkAccess": "Enabled",
        "provisioningState": "Succeeded",
    }
    props.update(properties)
    return {
        "id": vault_id(name, sub, rg),
        "name": name,
        "type": "Microsoft.KeyVault/vaults",
        "location": "swedencentral",
        "tags": {},
        "properties": props,
    }


def key_vault_event(
    event_type: str,
    vault_id: str,
    key_name: str,
    version: str,
    *,
    schema: Literal["EventGridEvent", "CloudEvent"] = "EventGridEvent",
    event_id: str | None = None,
    time: str | None = None,
    nbf: int | str | None = None,
    exp: int | str | None = None,
) -> dict[str, Any]:
    """A Key Vault key event (`KeyNewVersionCreated`, `KeyNearExpiry`, `KeyExpired`, with or without the
    `Microsoft.KeyVault.` prefix) in either schema, in the shape of
    tests/fixtures/reference/eventgrid/derived/keyvault_key_events.json: PascalCase data, NBF and EXP as strings
    (left out when None), the vault's ARM id as topic/source and the key name as subject."""
    full_type = event_type if event_type.startswith("Microsoft.KeyVault.") else f"Microsoft.KeyVault.{event_type}"
    vault_name = vault_id.rstrip("/").rsplit("/", 1)[-1]
    data: dict[str, Any] = {
        "Id": f"https://{vault_name}.vault.azure.net/keys/{key_name}/{version}",
        "VaultName": vault_name,
        "ObjectType": "Key",
        "ObjectName": key_name,
        "Version": version,
    }
    if nbf is not None:
        data["NBF"] = str(nbf)
    if exp is not None:
        data["EXP"] = str(exp)
    when = time or datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f") + "0Z"
    ident = event_id or str(uuid.uuid4())
    if schema == "CloudEvent":
        return {
            "id": ident,
            "source": vault_id,
            "subject": key_name,
            "type": full_type,
            "time": when,
            "data": data,
            "specversion": "1.0",
        }
    return {
        "id": ident,
        "topic": vault_id,
        "subject": key_name,
        "eventType": full_type,
        "eventTime": when,
        "data": data,
        "dataVersion": "1",
        "metadataVersion": "1",
    }


def key_version(vault_name: str, key: str, version: str, created: datetime, **attributes: Any) -> dict[str, Any]:
    """One version of an RSA key in the emulator's `vaultKeys` form (a KeyBundle, as GetKey-example.json):
    `created` sets attributes.created/updated; `attributes` (`enabled`, `exp` as a datetime) override."""
    stamp = int(created.timestamp())
    attrs: dict[str, Any] = {"enabled": True, "created": stamp, "updated": stamp, "recoveryLevel": "Recoverable"}
    attrs.update({k: int(v.timestamp()) if isinstance(v, datetime) else v for k, v in attributes.items()})
    return {
        "key": {
            "kid": f"https://{vault_name}.vault.azure.net/keys/{key}/{version}",
            "kty": "RSA",
            "key_ops": ["wrapKey", "unwrapKey"],
            "n": "u" * 342,  # the size of a 2048-bit modulus in base64url; a placeholder, not key material
            "e": "AQAB",
        },
        "attributes": attrs,
    }


def secret_version(
    vault_name: str, secret: str, version: str, value: str, *, created: datetime, tags: Mapping[str, str]
) -> dict[str, Any]:
    """One version of a secret in the emulator's `vaultSecrets` form (a SecretBundle)."""
    stamp = int(created.timestamp())
    return {
        "id": f"https://{vault_name}.vault.azure.net/secrets/{secret}/{version}",
        "value": value,
        "attributes": {"enabled": True, "created": stamp, "updated": stamp, "recoveryLevel": "Recoverable"},
        "tags": dict(tags),
    }
