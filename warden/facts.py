"""The facts of one evaluation, fetched lazily through the ports, once each, and shown to each detector only
as far as its control declares them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from warden.control import Fact
from warden.model import AccountSnapshot
from warden.ports import Ports


class LazyFacts:
    """Every fact of one resource for one evaluation: read on first use, then kept. Thread-unsafe on purpose:
    one evaluation runs on one thread, under the resource's lock."""

    def __init__(self, resource_id: str, ports: Ports) -> None:
        self._loaders: dict[Fact, Callable[[], Any]] = {
            Fact.ACCOUNT: lambda: ports.accounts.read_account(resource_id),
        }
        self._cache: dict[Fact, Any] = {}

    def get(self, fact: Fact) -> Any:
        if fact not in self._cache:
            self._cache[fact] = self._loaders[fact]()
        return self._cache[fact]

    def forget(self, fact: Fact) -> None:
        """Drop a fact, so that the next use reads it fresh (after a change, to verify it)."""
        self._cache.pop(fact, None)

    def view(self, declared: Iterable[Fact]) -> FactView:
        return FactView(self, frozenset(declared))

    @property
    def account(self) -> AccountSnapshot:
        account: AccountSnapshot = self.get(Fact.ACCOUNT)
        return account


class FactView:
    """The facts one control declared; reading another raises KeyError, so a declaration cannot lie about
    what its detector reads (and so what an evaluation fetches)."""

    def __init__(self, facts: LazyFacts, declared: frozenset[Fact]) -> None:
        self._facts = facts
        self._declared = declared

    def _get(self, fact: Fact) -> Any:
        if fact not in self._declared:
            raise KeyError(f"fact {fact.value!r} is read but not declared by the control")
        return self._facts.get(fact)

    @property
    def account(self) -> AccountSnapshot:
        account: AccountSnapshot = self._get(Fact.ACCOUNT)
        return account
