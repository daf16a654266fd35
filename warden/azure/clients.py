"""The one client factory: every management SDK client is built here, lazily, once per (plane, subscription),
with the endpoint, CA bundle, token audience and retry options that all planes share.
"""

from __future__ import annotations

import threading
from typing import Any, TypeVar

from azure.core.credentials import TokenCredential

from warden.settings import RetryOptions

C = TypeVar("C")


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
        self._options: dict[str, Any] = {"connection_verify": connection_verify, **client_options}
        if retry is not None:
            self._options |= {
                "retry_total": retry.total,
                "retry_backoff_factor": retry.backoff_factor,
                "retry_backoff_max": retry.backoff_max,
            }
        if base_url:
            self._options["base_url"] = base_url
            # The token's audience is the endpoint's cloud (management.usgovcloudapi.net, ...), not always the
            # public cloud the SDK defaults to.
            self._options.setdefault("credential_scopes", [base_url.rstrip("/") + "/.default"])
        self._clients: dict[tuple[type[Any], str], Any] = {}
        self._lock = threading.Lock()

    def arm(self, client_type: type[C], subscription_id: str) -> C:
        """A management-plane client of `client_type` for one subscription, built on first use."""
        key = (client_type, subscription_id.lower())
        with self._lock:
            if key not in self._clients:
                build: Any = client_type  # every management client takes (credential, subscription_id, **options)
                self._clients[key] = build(self.credential, subscription_id, **self._options)
            client: C = self._clients[key]
        return client
