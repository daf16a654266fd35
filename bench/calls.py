"""Section 1: Azure calls per event class, counted from the emulator's request log and compared to the ideal.

Each class is one delivery (or a pair, for the duplicate) through the real code path; the log is cleared
before it, so the count is exactly what that delivery cost. Counts are deterministic: any difference from
the expected sequence is a regression and makes bench/run.py exit 1.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from bench.world import (
    OPEN,
    OTHER_SUB,
    WARDEN_APPID,
    WARDEN_OID,
    World,
    baseline_text,
    make_runtime,
    world,
    write_event,
)
from emulator.builders import account, account_id
from warden.runtime import Runtime

GET, PATCH, POST = "GET", "PATCH", "POST"
#: A drifted account: the read, the PATCH (ARM answers 200 with provisioningState Succeeded, so warden does not
#: follow its operation: warden/azure/arm_writes.py SettledPolling) and the executor's verifying read.
DRIFTED = [GET, PATCH, GET]
#: The same when ARM accepts the PATCH as an operation (202): one poll finds it finished and the poller's final
#: GET of the account is the verifying read (no second GET).
DRIFTED_ASYNC = [GET, PATCH, GET, GET]
#: The three account controls on: outbound with nothing approved, local auth with its key regenerations.
ALL_ACCOUNT_CONTROLS = "  network.outbound:\n    approved_fqdns: []\n  identity.local-auth:\n"


@dataclass
class CallCase:
    """One event class: the request sequence it should cost and the one it did."""

    name: str
    expected: list[str]
    measured: list[str] = field(default_factory=list)
    paths_ok: bool = True
    audit: list[str] = field(default_factory=list)
    note: str = ""

    @property
    def ok(self) -> bool:
        return self.measured == self.expected and self.paths_ok


def _outcomes(rt: Runtime, skip: int) -> list[str]:
    """The audit records written since entry `skip`, as kind/outcome."""
    entries = list(rt.audit.entries())[skip:]
    return [f"{e.get('kind')}/{e.get('outcome') or '-'}" for e in entries]


def _measure(w: World, case: CallCase, rt: Runtime, deliver: Callable[[], None], target: str = "") -> CallCase:
    audit_before = len(list(rt.audit.entries()))
    w.emulator.clear_requests()
    deliver()
    requests = w.requests()
    case.measured = [r.method for r in requests]
    # Every call must be to the account the event names, its regenerateKey, or the monitor of an operation
    # warden started (no list, no listKeys, no other).
    allowed = {target.lower(), f"{target.lower()}/regeneratekey"}
    case.paths_ok = all(r.path.lower() in allowed or r.kind == "operation-status" for r in requests)
    case.audit = _outcomes(rt, audit_before)
    return case


def measure_calls(folder: Path) -> dict[str, Any]:
    """Deliver one event of each class against a small tenant; return the cases and the ratios."""
    names = [
        "drift-eg",
        "drift-ce",
        "drift-async",
        "ok",
        "dup",
        "self-oid",
        "self-app",
        "dry",
        "speech",
        "scoped",
        "all-three",
    ]
    resources = [
        account(n, kind="SpeechServices" if n == "speech" else "OpenAI", **(OPEN if n != "ok" else {})) for n in names
    ]
    resources[names.index("ok")]["properties"]["publicNetworkAccess"] = "Disabled"
    cases: list[CallCase] = []
    with world(resources, folder / "enforce") as w:
        rt = w.runtime
        dry_rt = make_runtime(w.emulator, folder / "dry-run", baseline_text(mode="dry-run"))
        three_rt = make_runtime(w.emulator, folder / "three", baseline_text() + ALL_ACCOUNT_CONTROLS)

        def one(
            name: str, expected: list[str], event: dict[str, Any], *, runtime: Runtime = rt, note: str = ""
        ) -> None:
            case = CallCase(name, expected, note=note)
            cases.append(_measure(w, case, runtime, lambda: w.deliver(event, runtime), event["subject"]))

        one(
            "drifted account (EventGrid schema)",
            DRIFTED,
            write_event(account_id("drift-eg"), event_id="c-1"),
            note="the PATCH's 200 shows Succeeded: no poll; warden's own GET verifies",
        )
        one(
            "drifted account (CloudEvents schema)",
            DRIFTED,
            write_event(account_id("drift-ce"), event_id="c-2", schema="cloud"),
        )
        w.emulator.set_lro_mode("async", 0.0)  # due at once: the first poll finds the operation finished
        one(
            "drifted account, PATCH answered 202 (async)",
            DRIFTED_ASYNC,
            write_event(account_id("drift-async"), event_id="c-14"),
            note="one poll; the poller's final GET is the verifying read",
        )
        w.emulator.set_lro_mode("sync")
        one("compliant account", [GET], write_event(account_id("ok"), event_id="c-3"))
        dup = write_event(account_id("dup"), event_id="c-4")
        w.emulator.clear_requests()
        w.deliver(dup)
        first_patches = sum(1 for r in w.requests() if r.method == PATCH)
        one("duplicate redelivery (2nd delivery)", [], dup, note="same event id delivered again")
        pair_patches = first_patches + cases[-1].measured.count(PATCH)
        one(
            "self-caused (own object id)",
            [],
            write_event(account_id("self-oid"), event_id="c-5", oid=WARDEN_OID),
            note="audited as ignored",
        )
        one(
            "self-caused (own app id)",
            [],
            write_event(account_id("self-app"), event_id="c-6", appid=WARDEN_APPID),
            note="audited as ignored",
        )
        one("out-of-scope subscription", [], write_event(account_id("scoped", sub=OTHER_SUB), event_id="c-7"))
        storage = account_id("scoped").replace(
            "Microsoft.CognitiveServices/accounts", "Microsoft.Storage/storageAccounts"
        )
        one(
            "out-of-scope provider (Microsoft.Storage)",
            [],
            write_event(storage, event_id="c-8", operation="Microsoft.Storage/storageAccounts/write"),
        )
        one(
            "irrelevant type (ResourceWriteFailure)",
            [],
            write_event(account_id("drift-eg"), event_id="c-9", event_type="Microsoft.Resources.ResourceWriteFailure"),
        )
        malformed = write_event(account_id("drift-eg"), event_id="c-10")
        del malformed["data"]["operationName"]
        one("malformed event (rejected)", [], malformed, note="audited as rejected")
        one("dry-run (drifted account)", [GET], write_event(account_id("dry"), event_id="c-11"), runtime=dry_rt)
        one(
            "all three account controls drifted",
            [GET, PATCH, POST, POST, GET],
            write_event(account_id("all-three"), event_id="c-13"),
            runtime=three_rt,
            note="one PATCH for public access, outbound and local auth; Key1, Key2 regenerated",
        )
        one(
            "not an OpenAI kind (SpeechServices)",
            [GET],
            write_event(account_id("speech"), event_id="c-12"),
            note="read once, not judged",
        )
    drifted = [c for c in cases if c.name.startswith("drifted") and "async" not in c.name]
    return {
        "cases": [asdict(c) | {"ok": c.ok} for c in cases],
        "mismatches": [c.name for c in cases if not c.ok],
        "ratios": {
            "requests_per_drifted_event": sum(len(c.measured) for c in drifted) / len(drifted),
            # Read, PATCH, verifying read (ARM answered the PATCH synchronously, the emulator's default).
            "requests_per_drifted_event_ideal": len(DRIFTED),
            "patches_per_duplicate_pair": pair_patches,
            "patches_per_duplicate_pair_ideal": 1,
        },
    }
