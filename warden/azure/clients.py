"""Every Azure SDK client is built here: the management planes through one factory (lazily, once per plane and
subscription, with the endpoint, CA bundle, token audience and retry options they share), and the Blob
containers of the audit log and the state store.
"""

from __future__ import annotations

import os
import threading
import urllib.request
from typing import TYPE_CHECKING, Any, TypeVar

from azure.core import PipelineClient
from azure.core.credentials import TokenCredential
from azure.core.pipeline import PipelineResponse
from azure.core.pipeline.policies import (
    BearerTokenCredentialPolicy,
    RequestIdPolicy,
    RetryPolicy,
    UserAgentPolicy,
)
from azure.core.pipeline.transport import RequestsTransport
from azure.core.rest import HttpRequest, HttpResponse

from warden.errors import ConfigurationError
from warden.settings import RetryOptions

if TYPE_CHECKING:
    from azure.storage.blob import ContainerClient

C = TypeVar("C")


class BoundedRetryPolicy(RetryPolicy[Any, Any]):
    """azure-core's retry policy (Retry-After honoured, exponential backoff otherwise), except that a
    Retry-After above `max_retry_after` seconds is not waited out inside one request: the error goes up to
    warden, whose sweep shares one throttle state (warden/throttle.py) and whose events Event Grid redelivers."""

    def __init__(self, *, max_retry_after: float, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.max_retry_after = max_retry_after

    def is_retry(self, settings: dict[str, Any], response: PipelineResponse[Any, Any]) -> bool:
        wait = self.get_retry_after(response)
        if wait is not None and wait > self.max_retry_after:
            return False
        return super().is_retry(settings, response)


#: The CA bundle requests would take from the environment for a connection verified against the system's CAs.
CA_BUNDLE_SETTINGS = ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE")


def uses_environment() -> bool:
    """Whether requests should read proxy settings from the environment on every request: only when a proxy is
    set. The scan costs each request a walk of the environment (a sixth of a sweep's CPU, measured with yappi:
    docs/scale.md); a CA bundle set there is read once instead (`environment_ca`)."""
    return bool(urllib.request.getproxies())


def environment_ca(verify: str | bool) -> str | bool:
    """`verify`, or for True the CA bundle the environment names (as requests would pick it per request)."""
    if verify is True:
        return next((os.environ[name] for name in CA_BUNDLE_SETTINGS if os.environ.get(name)), True)
    return verify


class ClientFactory:
    """Builds and caches SDK clients; tests inject fast retry options so that fault tests stay fast."""

    def __init__(
        self,
        credential: TokenCredential,
        *,
        base_url: str | None = None,
        connection_verify: str | bool = True,
        retry: RetryOptions | None = None,
        **client_options: Any,
    ) -> None:
        self.credential = credential
        self._options: dict[str, Any] = {"connection_verify": environment_ca(connection_verify), **client_options}
        self._options.setdefault("use_env_settings", uses_environment())
        self._retry = retry or RetryOptions()
        if base_url:
            self._options["base_url"] = base_url
            # The token's audience is the endpoint's cloud (management.usgovcloudapi.net, ...), not always the
            # public cloud the SDK defaults to.
            self._options.setdefault("credential_scopes", [base_url.rstrip("/") + "/.default"])
        self._clients: dict[tuple[type[Any], str], Any] = {}
        self._lock = threading.Lock()

    def retry_policy(self) -> BoundedRetryPolicy:
        """The retry policy every client gets (one per client: a policy holds no shared state worth sharing)."""
        return BoundedRetryPolicy(
            max_retry_after=self._retry.max_retry_after,
            retry_total=self._retry.total,
            retry_backoff_factor=self._retry.backoff_factor,
            retry_backoff_max=self._retry.backoff_max,
        )

    def arm(self, client_type: type[C], subscription_id: str) -> C:
        """A management-plane client of `client_type` for one subscription, built on first use."""
        key = (client_type, subscription_id.lower())
        with self._lock:
            if key not in self._clients:
                build: Any = client_type  # every management client takes (credential, subscription_id, **options)
                policy = self.retry_policy()
                self._clients[key] = build(self.credential, subscription_id, retry_policy=policy, **self._options)
            client: C = self._clients[key]
        return client

    def tenant(self, client_type: type[C], **options: Any) -> C:
        """A management-plane client that takes no subscription (Resource Graph: its scopes travel in the body),
        built on first use with the same endpoint, audience and retry policy."""
        key = (client_type, "")
        with self._lock:
            if key not in self._clients:
                build: Any = client_type  # (credential, **options), base_url among them
                policy = self.retry_policy()
                self._clients[key] = build(self.credential, retry_policy=policy, **self._options, **options)
            client: C = self._clients[key]
        return client

    def data_plane(self, client_type: type[C], url: str, **options: Any) -> C:
        """A data-plane client of `client_type` (Key Vault's KeyClient, SecretClient) for one service URL, built
        on first use with the management clients' credential, CA bundle and retry policy (not their ARM
        base_url and token audience: a data plane names its own, through its challenge)."""
        key = (client_type, url.lower())
        with self._lock:
            if key not in self._clients:
                build: Any = client_type  # every data-plane client takes (url, credential, **options)
                options.update(retry_policy=self.retry_policy(), connection_verify=self.connection_verify)
                options.setdefault("use_env_settings", self._options["use_env_settings"])
                self._clients[key] = build(url, self.credential, **options)
            client: C = self._clients[key]
        return client

    @property
    def connection_verify(self) -> str | bool:
        """The CA bundle to trust (the local emulator's), or True for the system's."""
        verify: str | bool = self._options["connection_verify"]
        return verify

    def pipeline(self, base_url: str, scope: str) -> PipelineClient[HttpRequest, HttpResponse]:
        """A bare azure-core pipeline for a REST data plane without an SDK of its own (Azure OpenAI files and
        jobs), built on first use: the same credential (a token for `scope`), retry policy and CA bundle."""
        key = (PipelineClient, f"{base_url.lower()} {scope}")
        with self._lock:
            if key not in self._clients:
                policies = [
                    RequestIdPolicy(),
                    UserAgentPolicy(base_user_agent="warden"),
                    self.retry_policy(),
                    BearerTokenCredentialPolicy(self.credential, scope),
                ]
                transport = RequestsTransport(
                    connection_verify=self.connection_verify, use_env_settings=self._options["use_env_settings"]
                )
                self._clients[key] = PipelineClient(base_url, policies=policies, transport=transport)
            client: PipelineClient[HttpRequest, HttpResponse] = self._clients[key]
        return client


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
    # Imported here: a deployment without blob storage (the local folder) never pays for the Storage SDK.
    from azure.storage.blob import ContainerClient, ExponentialRetry

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
