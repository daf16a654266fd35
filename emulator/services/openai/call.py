"""One data-plane request as the file and job routes see it: the account's data, the shape it came in
(`/openai/...` with a dated api-version, or `/openai/v1/...`), the world's time and the page-size cap."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from emulator.kernel.http import Request

from .errors import bad_request
from .state import AccountData, Body, OpenAIData


@dataclass(frozen=True)
class Call:
    """`base` is the loopback URL of the account's `/openai` (or `/openai/v1`) root, for Location headers."""

    req: Request
    store: OpenAIData
    account_id: str
    v1: bool
    now: int  # unix seconds of the world's clock
    base: str

    @property
    def data(self) -> AccountData:
        """The account's files and jobs; empty (and not stored) for an account that has none, so reading an
        account never adds it to the dumped state."""
        return self.store.find(self.account_id) or AccountData(self.account_id)

    def writable(self) -> AccountData:
        """The account's stored data, made on the first write."""
        return self.store.account(self.account_id)

    @property
    def max_page_size(self) -> int:
        return self.store.max_page_size

    def body(self) -> Mapping[str, Any]:
        """The JSON object sent, or 400 invalidPayload."""
        if self.req.body_invalid or not isinstance(self.req.body, Mapping):
            raise bad_request("The request body must be a JSON object.")
        return self.req.body


def answer(body: Body) -> Body:
    """A deep copy for a reply: nothing a client is sent aliases the state."""
    return copy.deepcopy(body)
