"""Credentials: DefaultAzureCredential in Azure, a static bearer token for the local emulator."""

from __future__ import annotations

import time
from typing import Any

from azure.core.credentials import AccessToken, AccessTokenInfo, TokenRequestOptions


class StaticTokenCredential:
    """A TokenCredential that hands out one fixed token: only for the local emulator, which checks no signature.

    It implements both get_token and get_token_info, so every azure-core auth policy accepts it.
    """

    def __init__(self, token: str = "emulator-token", lifetime_s: int = 3600) -> None:  # noqa: S107 - not a secret
        self._token = token
        self._lifetime_s = lifetime_s

    def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        return AccessToken(self._token, int(time.time()) + self._lifetime_s)

    def get_token_info(self, *scopes: str, options: TokenRequestOptions | None = None) -> AccessTokenInfo:
        return AccessTokenInfo(self._token, int(time.time()) + self._lifetime_s)

    def close(self) -> None:
        """Nothing to release; present for the credential protocol."""

    def __enter__(self) -> StaticTokenCredential:
        return self

    def __exit__(self, *args: object) -> None:
        self.close()
