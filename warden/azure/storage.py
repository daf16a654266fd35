"""Blob container clients from app settings, shared by the audit log and the state store."""

from __future__ import annotations

from typing import Any

from azure.core.credentials import TokenCredential
from azure.storage.blob import ContainerClient, ExponentialRetry

from warden.errors import ConfigurationError


def container_client(
    account_url: str | None,
    connection_string: str | None,
    container: str,
    credential: TokenCredential | None,
    *,
    purpose: str,
) -> ContainerClient:
    """`account_url` with an Entra credential in Azure (no shared keys; DefaultAzureCredential when none is
    given), or `connection_string` for Azurite; exactly one of the two."""
    if bool(account_url) == bool(connection_string):
        raise ConfigurationError(f"the {purpose} needs one of an account URL or a connection string")
    # The SDK's own retry policy handles throttling and transient failures, with a short backoff: an event
    # waits on these writes.
    retry = ExponentialRetry(initial_backoff=1, increment_base=2, retry_total=4, random_jitter_range=1)
    options: dict[str, Any] = {"retry_policy": retry, "connection_timeout": 10, "read_timeout": 30}
    if connection_string:
        return ContainerClient.from_connection_string(connection_string, container, **options)
    if credential is None:
        from azure.identity import DefaultAzureCredential

        credential = DefaultAzureCredential()
    return ContainerClient(str(account_url), container, credential=credential, **options)
