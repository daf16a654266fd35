"""The Key Vault data plane for the VaultPort: keys (read, rotate, rotation policy) and secrets (metadata,
set) over azure-keyvault-keys and azure-keyvault-secrets, one client per vault, built on first use.

A secret's value is only ever written: it leaves its SecretText inside the one set_secret call, and no read
here asks for a value (get_secret is never called). SDK models and exceptions stop here.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime
from urllib.parse import urlsplit

from azure.keyvault.keys import (
    KeyClient,
    KeyProperties,
    KeyRotationLifetimeAction,
    KeyRotationPolicy,
    KeyRotationPolicyAction,
)
from azure.keyvault.secrets import SecretClient, SecretProperties

from warden.azure.clients import ClientFactory
from warden.azure.errors import classified_errors
from warden.errors import AzureError, PermissionDeniedError, ResourceGoneError
from warden.vault_model import KeySnapshot, KeyVersion, RotationPolicy, SecretSnapshot, SecretText, vault_name_of

log = logging.getLogger(__name__)
# Key Vault's DNS suffixes in the public, China, US Government and Germany clouds.
VAULT_SUFFIXES = frozenset({"vault.azure.net", "vault.azure.cn", "vault.usgovcloudapi.net", "vault.microsoftazure.de"})


def key_version(props: KeyProperties) -> KeyVersion:
    return KeyVersion(
        version=props.version or "",
        enabled=props.enabled,
        created=props.created_on,
        expires=props.expires_on,
        not_before=props.not_before,
    )


def rotation_policy(policy: KeyRotationPolicy) -> RotationPolicy:
    """The SDK's policy as durations by role; Key Vault's default answer (no id) is `explicit=False`."""
    found: dict[str, str | None] = {}
    for action in policy.lifetime_actions or ():
        kind = str(getattr(action.action, "value", action.action)).lower()
        if kind == "rotate":
            found.setdefault("rotate_after_create", action.time_after_create)
            found.setdefault("rotate_before_expiry", action.time_before_expiry)
        elif kind == "notify":
            found.setdefault("notify_before_expiry", action.time_before_expiry)
    return RotationPolicy(expiry_time=policy.expires_in, explicit=policy.id is not None, **found)


def sdk_policy(policy: RotationPolicy) -> KeyRotationPolicy:
    actions = []
    if policy.rotate_after_create:
        actions.append(
            KeyRotationLifetimeAction(KeyRotationPolicyAction.rotate, time_after_create=policy.rotate_after_create)
        )
    if policy.rotate_before_expiry:
        actions.append(
            KeyRotationLifetimeAction(KeyRotationPolicyAction.rotate, time_before_expiry=policy.rotate_before_expiry)
        )
    if policy.notify_before_expiry:
        actions.append(
            KeyRotationLifetimeAction(KeyRotationPolicyAction.notify, time_before_expiry=policy.notify_before_expiry)
        )
    return KeyRotationPolicy(lifetime_actions=actions, expires_in=policy.expiry_time)


def secret_snapshot(vault_uri: str, name: str, props: SecretProperties) -> SecretSnapshot:
    return SecretSnapshot(
        vault_uri=vault_uri,
        name=name,
        version=props.version or "",
        enabled=props.enabled,
        created=props.created_on,
        expires=props.expires_on,
        content_type=props.content_type,
        tags=dict(props.tags or {}),
    )


class VaultObjects:
    """Keys and secrets of any vault, by its URI (`https://NAME.vault.azure.net/`). With `vault_endpoint`
    (the local emulator, loopback only) that vault is reached at `{vault_endpoint}/NAME` instead, and the
    challenge's resource (vault.azure.net) is not matched against the loopback host."""

    def __init__(self, clients: ClientFactory, *, vault_endpoint: str | None = None) -> None:
        self._factory = clients
        self._endpoint = vault_endpoint.rstrip("/") if vault_endpoint else None

    def _url(self, vault_uri: str) -> str:
        """Where the vault is reached. Only `https://NAME.vault.<cloud suffix>[/]` passes: a key or secret
        named by an account or an event must not send the credential's token anywhere else."""
        parts = urlsplit(vault_uri.strip())
        try:
            name = vault_name_of(vault_uri)
            well_formed = parts.scheme == "https" and parts.port is None and parts.path in ("", "/")
        except ValueError as exc:
            raise AzureError(f"{vault_uri!r} is not a Key Vault URI") from exc
        suffix = (parts.hostname or "").partition(".")[2]
        if not well_formed or suffix not in VAULT_SUFFIXES or parts.query or parts.fragment:
            raise AzureError(f"{vault_uri!r} is not a Key Vault URI (https://NAME.vault.azure.net/)")
        return f"{self._endpoint}/{name}" if self._endpoint else f"https://{parts.hostname}"

    def _options(self) -> dict[str, bool]:
        return {"verify_challenge_resource": False} if self._endpoint else {}

    def _keys(self, vault_uri: str) -> KeyClient:
        return self._factory.data_plane(KeyClient, self._url(vault_uri), **self._options())

    def _secrets(self, vault_uri: str) -> SecretClient:
        return self._factory.data_plane(SecretClient, self._url(vault_uri), **self._options())

    # --- keys -----------------------------------------------------------------------------------
    def read_key(self, vault_uri: str, name: str, version: str | None = None) -> KeySnapshot | None:
        client = self._keys(vault_uri)
        what = f"read key {name} in {vault_uri}"
        try:
            with classified_errors(what):
                latest = key_version(client.get_key(name).properties)
                in_use = latest
                if version and version.lower() != latest.version.lower():
                    in_use = key_version(client.get_key(name, version).properties)
        except ResourceGoneError:
            return None
        return KeySnapshot(vault_uri, name, latest, in_use, self._policy(client, vault_uri, name))

    def _policy(self, client: KeyClient, vault_uri: str, name: str) -> RotationPolicy | None:
        try:
            with classified_errors(f"read the rotation policy of key {name} in {vault_uri}"):
                return rotation_policy(client.get_key_rotation_policy(name))
        except PermissionDeniedError as exc:
            # The snapshot says "could not be read" (None) rather than failing the whole key read.
            log.warning("cannot read the rotation policy of key %s in %s: %s", name, vault_uri, exc)
            return None

    def rotate_key(self, vault_uri: str, name: str, *, if_latest: str | None = None) -> str | None:
        client = self._keys(vault_uri)
        if if_latest is not None:
            with classified_errors(f"read key {name} in {vault_uri}"):
                latest = client.get_key(name).properties.version or ""
            if latest.lower() != if_latest.lower():
                log.info(
                    "key %s in %s was rotated meanwhile (%s, not %s): not rotating", name, vault_uri, latest, if_latest
                )
                return None
        with classified_errors(f"rotate key {name} in {vault_uri}", write=True):
            rotated = client.rotate_key(name)
        version = rotated.properties.version or ""
        log.info("rotated key %s in %s: new version %s", name, vault_uri, version)
        return version

    def put_rotation_policy(self, vault_uri: str, name: str, policy: RotationPolicy) -> None:
        client = self._keys(vault_uri)
        with classified_errors(f"set the rotation policy of key {name} in {vault_uri}", write=True):
            client.update_key_rotation_policy(name, sdk_policy(policy))
        log.info("set the rotation policy of key %s in %s", name, vault_uri)

    # --- secrets --------------------------------------------------------------------------------
    def read_secret(self, vault_uri: str, name: str) -> SecretSnapshot | None:
        client = self._secrets(vault_uri)
        try:
            with classified_errors(f"list the versions of secret {name} in {vault_uri}"):
                versions = list(client.list_properties_of_secret_versions(name))
        except ResourceGoneError:
            return None
        if not versions:
            return None
        # Listed in no promised order: the newest is the one created last (created is in whole seconds; of two
        # made in the same second, the one listed later).
        ranked = enumerate(versions)
        _, newest = max(ranked, key=lambda p: (p[1].created_on is not None, p[1].created_on or datetime.min, p[0]))
        return secret_snapshot(vault_uri, name, newest)

    def set_secret(
        self,
        vault_uri: str,
        name: str,
        value: SecretText,
        *,
        content_type: str,
        expires: datetime | None,
        tags: Mapping[str, str],
    ) -> str:
        client = self._secrets(vault_uri)
        with classified_errors(f"set secret {name} in {vault_uri}", write=True):
            stored = client.set_secret(
                name, value.reveal(), content_type=content_type, expires_on=expires, tags=dict(tags)
            )
        version = stored.properties.version or ""
        log.info("stored version %s of secret %s in %s", version, name, vault_uri)
        return version
