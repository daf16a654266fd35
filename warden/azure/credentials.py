"""Credentials: DefaultAzureCredential in Azure, a static bearer token for the local emulator, and the one check
that a credential can sign in at all (`who_am_i`), which the admin CLI runs before anything else."""

from __future__ import annotations

import time
from typing import Any

from azure.core.credentials import AccessToken, AccessTokenInfo, TokenCredential, TokenRequestOptions
from azure.core.exceptions import ClientAuthenticationError

from warden.errors import NoCredentialError
from warden.exit_codes import SIGN_IN_HINT
from warden.identity import Identity, identity_of, token_claims, unsigned_token


class StaticTokenCredential:
    """A TokenCredential that hands out one fixed token: only for the local emulator, which checks no signature.

    It implements both get_token and get_token_info, so every azure-core auth policy accepts it. Given `claims`,
    the token is an unsigned JWT carrying them, so that the emulator knows which principal calls (its permissions
    API answers for that principal).
    """

    def __init__(
        self,
        token: str = "emulator-token",  # noqa: S107 - not a secret
        lifetime_s: int = 3600,
        *,
        claims: dict[str, object] | None = None,
    ) -> None:
        self._token = unsigned_token(claims) if claims else token
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


def who_am_i(credential: TokenCredential, scope: str) -> Identity:
    """Who the credential signs in as, from a token for `scope` (the management endpoint's `.default`). Raises
    NoCredentialError, with the credential chain's account of each attempt as its `detail`."""
    try:
        token = credential.get_token(scope)
    except ClientAuthenticationError as exc:
        raise NoCredentialError(SIGN_IN_HINT, detail=str(exc)) from exc
    return identity_of(token_claims(token.token))
