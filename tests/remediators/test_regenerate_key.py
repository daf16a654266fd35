"""Step kind account.regenerate-key: applied through the port, no key in its audit change, stored form."""

from __future__ import annotations

import pytest

from remediators.regenerate_key import RegenerateKey
from tests.remediators.test_account_patch import RID, RecordingAccounts
from warden.ports import Ports


def test_regenerate_key_applies_through_the_port_and_records_no_key() -> None:
    accounts = RecordingAccounts()
    step = RegenerateKey(RID, "Key2")
    assert step.apply(Ports(accounts=accounts), None) is None
    assert accounts.calls == [("regenerate", RID, "Key2")]
    assert step.change() == {"keyName": "Key2", "regenerated": True}
    assert RegenerateKey.from_json(step.to_json()) == step
    with pytest.raises(ValueError, match="Key1"):
        RegenerateKey(RID, "Key3")
