"""The data plane's state: each account's files and fine-tuning jobs in their REST form, in the order they were
added, and the page-size cap.
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from emulator.arm import ids

from .versions import DEFAULT_MAX_PAGE_SIZE

# Each object also has a sequence number, its place in insertion order, which breaks ties between equal
# `created_at` values so lists are stable. A deleted object leaves its sort position behind (`gone`), so an
# `after` cursor naming it still finds its place in the list.

Body = dict[str, Any]
#: (created_at, sequence): where an object sorts.
Position = tuple[int, int]


@dataclass
class Entry:
    seq: int
    body: Body

    @property
    def position(self) -> Position:
        created = self.body.get("created_at")
        return (created if isinstance(created, int) else 0, self.seq)


@dataclass
class Collection:
    """The files or the jobs of one account, by id."""

    items: dict[str, Entry] = field(default_factory=dict)
    gone: dict[str, Position] = field(default_factory=dict)
    next_seq: int = 0

    def add(self, body: Body) -> Body:
        self.items[str(body["id"])] = Entry(self.next_seq, body)
        self.gone.pop(str(body["id"]), None)
        self.next_seq += 1
        return body

    def get(self, object_id: str) -> Body | None:
        found = self.items.get(object_id)
        return found.body if found is not None else None

    def remove(self, object_id: str) -> Body | None:
        found = self.items.pop(object_id, None)
        if found is None:
            return None
        self.gone[object_id] = found.position
        return found.body

    def position(self, object_id: str) -> Position | None:
        """Where the object sorts, also after it was deleted; None for an id this account never had."""
        found = self.items.get(object_id)
        return found.position if found is not None else self.gone.get(object_id)

    def entries(self) -> list[Entry]:
        return list(self.items.values())

    def __iter__(self) -> Iterator[Body]:
        return (e.body for e in self.items.values())

    def dump(self) -> list[Body]:
        return [copy.deepcopy(e.body) for e in self.items.values()]


@dataclass
class AccountData:
    """One account's files and jobs; `account_id` keeps the spelling the scenario used."""

    account_id: str
    files: Collection = field(default_factory=Collection)
    jobs: Collection = field(default_factory=Collection)


class OpenAIData:
    """Every account's data, by case-insensitive ARM id; every access holds `lock`."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.accounts: dict[str, AccountData] = {}
        self.max_page_size = DEFAULT_MAX_PAGE_SIZE

    def account(self, account_id: str) -> AccountData:
        """The account's data, empty on first use."""
        return self.accounts.setdefault(ids.key(account_id), AccountData(account_id))

    def find(self, account_id: str) -> AccountData | None:
        return self.accounts.get(ids.key(account_id))
