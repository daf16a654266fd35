"""The three account controls together: one account drifted on all three is one GET, one PATCH carrying exactly
the drifted network, outbound and local-auth properties, Key1 and Key2 regenerated, one verifying GET."""

from __future__ import annotations

import json
import logging
from typing import Any

from emulator.builders import account, account_id
from tests.integration.conftest import POLL, World, baseline_text, write_event

RID = account_id("aoai-a")
PATH = RID.lower()
CONTROLS = (
    "  network.outbound:\n    approved_fqdns: [api.contoso.example, '*.blob.core.windows.net']\n"
    "  identity.local-auth:\n"
)


def keys(world: World) -> dict[str, str]:
    return next(v for k, v in world.emulator.dump_state()["accountKeys"].items() if k.lower() == PATH)


def test_an_account_drifted_on_all_three_is_one_patch_then_two_regenerations(make_world, caplog, capsys) -> None:
    caplog.set_level(logging.DEBUG)
    drifted: dict[str, Any] = {
        "publicNetworkAccess": "Enabled",
        "restrictOutboundNetworkAccess": False,
        "allowedFqdnList": ["api.contoso.example", "exfil.example.net", "sa1.blob.core.windows.net"],
        "disableLocalAuth": False,
        "customSubDomainName": "aoai-a",
    }
    world = make_world([account("aoai-a", **drifted)], baseline_text(extra=CONTROLS))
    before = keys(world)
    world.deliver(write_event(RID))

    requests = [(r.method, POLL if r.kind == "operation-status" else r.path.lower(), r.body) for r in world.requests()]
    assert requests == [
        ("GET", PATH, None),
        (
            "PATCH",
            PATH,
            {
                "properties": {
                    "publicNetworkAccess": "Disabled",
                    "restrictOutboundNetworkAccess": True,
                    "allowedFqdnList": ["api.contoso.example", "sa1.blob.core.windows.net"],
                    "disableLocalAuth": True,
                }
            },
        ),
        # ARM's 200 shows the write settled: no poll of its operation (arm_writes.SettledPolling).
        ("POST", f"{PATH}/regeneratekey", {"keyName": "Key1"}),
        ("POST", f"{PATH}/regeneratekey", {"keyName": "Key2"}),
        ("GET", PATH, None),
    ]
    props = world.account_props("aoai-a")
    assert (props["publicNetworkAccess"], props["restrictOutboundNetworkAccess"], props["disableLocalAuth"]) == (
        "Disabled",
        True,
        True,
    )
    assert props["allowedFqdnList"] == ["api.contoso.example", "sa1.blob.core.windows.net"]
    after = keys(world)
    assert after["key1"] != before["key1"] and after["key2"] != before["key2"]

    audit = world.audit()
    pairs = sorted((e["controlId"], e["kind"], e["outcome"]) for e in audit)
    assert pairs == [
        ("identity.local-auth", "intent", ""),
        ("identity.local-auth", "result", "remediated"),
        ("network.outbound", "intent", ""),
        ("network.outbound", "result", "remediated"),
        ("network.public-access", "intent", ""),
        ("network.public-access", "result", "remediated"),
    ]
    # Each control's record shows its own property changes; the one PATCH they share is one step in each.
    outbound = next(e for e in audit if e["controlId"] == "network.outbound" and e["kind"] == "result")
    assert outbound["change"] == {
        "restrictOutboundNetworkAccess": {"before": False, "after": True},
        "allowedFqdnList": {
            "before": ["api.contoso.example", "exfil.example.net", "sa1.blob.core.windows.net"],
            "after": ["api.contoso.example", "sa1.blob.core.windows.net"],
        },
    }
    assert [s["step"] for s in outbound["steps"]] == ["account.patch"]

    out = capsys.readouterr()
    trail = json.dumps(audit) + caplog.text + out.out + out.err + json.dumps([r.to_json() for r in world.requests()])
    for value in (*before.values(), *after.values()):
        assert value not in trail
