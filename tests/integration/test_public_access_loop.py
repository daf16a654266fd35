"""The first drift loop end to end: event -> GET -> PATCH -> verifying GET -> audit, counted at the emulator."""

from __future__ import annotations

import pytest

from emulator.builders import account, account_id
from tests.integration.conftest import (
    OTHER_SUB,
    WARDEN_APPID,
    WARDEN_OID,
    baseline_text,
    calls,
    patched,
    write_event,
)
from warden.errors import TransientError
from warden.model import Mode

OPEN = {"publicNetworkAccess": "Enabled", "networkAcls": {"defaultAction": "Allow", "ipRules": []}}
ACCOUNT_PATH = account_id("aoai-a").lower()
STORAGE_ID = account_id("aoai-a").replace("Microsoft.CognitiveServices/accounts", "Microsoft.Storage/storageAccounts")


def outcomes(world, kind: str | None = None) -> list[tuple[str, str]]:  # type: ignore[no-untyped-def]
    return [(e["kind"], e.get("outcome", "")) for e in world.audit() if kind is None or e["kind"] == kind]


@pytest.mark.parametrize("schema", ["eventgrid", "cloud"])
def test_drifted_account_is_reverted_with_one_get_one_patch_one_verifying_get(make_world, schema) -> None:
    world = make_world([account("aoai-a", **OPEN, disableLocalAuth=True)])
    world.deliver(write_event(account_id("aoai-a").replace("resourceGroups", "resourcegroups"), schema=schema))

    assert calls(world) == [("GET", ACCOUNT_PATH), *patched(ACCOUNT_PATH), ("GET", ACCOUNT_PATH)]
    patch = world.requests()[1]
    assert patch.body == {"properties": {"publicNetworkAccess": "Disabled"}}
    props = world.account_props("aoai-a")
    assert props["publicNetworkAccess"] == "Disabled"
    assert props["disableLocalAuth"] is True  # untouched
    intent, result = world.audit()
    assert (intent["kind"], result["kind"], result["outcome"]) == ("intent", "result", "remediated")
    for record in (intent, result):
        assert record["controlId"] == "network.public-access"
        assert record["eventId"] == "e-1"
        assert record["change"] == {"publicNetworkAccess": {"before": "Enabled", "after": "Disabled"}}


def test_compliant_account_costs_one_get_and_no_write(make_world) -> None:
    world = make_world([account("aoai-a", publicNetworkAccess="Disabled")])
    world.deliver(write_event(account_id("aoai-a")))
    assert calls(world) == [("GET", ACCOUNT_PATH)]
    assert outcomes(world) == [("evaluation", "compliant")]


def test_approved_ranges_restrict_instead_of_disabling(make_world) -> None:
    acls = {
        "defaultAction": "Deny",
        "bypass": "AzureServices",
        "ipRules": [{"value": "203.0.113.10"}, {"value": "198.51.100.7"}],
        "virtualNetworkRules": [],
    }
    world = make_world(
        [account("aoai-a", publicNetworkAccess="Enabled", networkAcls=acls)],
        baseline_text(approved=("203.0.113.0/24",)),
    )
    world.deliver(write_event(account_id("aoai-a")))
    assert world.requests()[1].body == {
        "properties": {
            "networkAcls": {
                "defaultAction": "Deny",
                "bypass": "AzureServices",
                "ipRules": [{"value": "203.0.113.10"}],
                "virtualNetworkRules": [],
            }
        }
    }
    assert world.account_props("aoai-a")["networkAcls"]["ipRules"] == [{"value": "203.0.113.10"}]
    assert outcomes(world, "result") == [("result", "remediated")]


@pytest.mark.parametrize(
    "event",
    [
        write_event(account_id("aoai-a"), oid=WARDEN_OID),
        write_event(account_id("aoai-a"), appid=WARDEN_APPID),
    ],
    ids=["own-object-id", "own-app-id"],
)
def test_self_caused_event_makes_no_request_and_is_recorded_as_ignored(make_world, event) -> None:
    world = make_world([account("aoai-a", **OPEN)])
    world.deliver(event)
    assert calls(world) == []
    assert outcomes(world) == [("event", "ignored")]
    assert world.account_props("aoai-a")["publicNetworkAccess"] == "Enabled"


@pytest.mark.parametrize(
    "event",
    [
        write_event(account_id("aoai-a"), event_type="Microsoft.Resources.ResourceWriteFailure"),
        write_event(account_id("aoai-a", sub=OTHER_SUB)),
        write_event(STORAGE_ID, operation="Microsoft.Storage/storageAccounts/write"),
    ],
    ids=["irrelevant-type", "out-of-scope-subscription", "other-provider"],
)
def test_dropped_events_make_no_request(make_world, event) -> None:
    world = make_world([account("aoai-a", **OPEN)])
    world.deliver(event)
    assert calls(world) == []
    assert world.audit() == []


def test_the_same_event_twice_gives_one_patch(make_world) -> None:
    world = make_world([account("aoai-a", **OPEN)])
    event = write_event(account_id("aoai-a"))
    world.deliver(event, event)
    assert [m for m, _ in calls(world)].count("PATCH") == 1
    assert len(calls(world)) == 3  # GET, PATCH, verifying GET: the redelivery costs nothing


def test_dry_run_writes_nothing_and_records_what_it_would_change(make_world) -> None:
    world = make_world([account("aoai-a", **OPEN)], baseline_text(mode="dry-run"))
    world.deliver(write_event(account_id("aoai-a")))
    assert calls(world) == [("GET", ACCOUNT_PATH)]
    [record] = world.audit()
    assert (record["decision"], record["outcome"], record["mode"]) == ("dry-run", "would-remediate", "dry-run")
    assert record["change"] == {"publicNetworkAccess": {"before": "Enabled", "after": "Disabled"}}


def test_mode_override_forces_dry_run_over_an_enforcing_baseline(make_world) -> None:
    world = make_world([account("aoai-a", **OPEN)], mode_override=Mode.DRY_RUN)
    world.deliver(write_event(account_id("aoai-a")))
    assert [m for m, _ in calls(world)] == ["GET"]


def test_exempt_account_is_audited_and_left_alone(make_world) -> None:
    extra = (
        f"exemptions:\n  - resource: {account_id('aoai-*')}\n    control: network.public-access\n"
        "    reason: partner pilot\n    owner: dana@contoso.example\n    expires: 2099-01-01\n"
    )
    world = make_world([account("aoai-a", **OPEN)], baseline_text(extra=extra))
    world.deliver(write_event(account_id("aoai-a")))
    assert [m for m, _ in calls(world)] == ["GET"]
    [record] = world.audit()
    assert (record["decision"], record["outcome"]) == ("exempt", "exempted")


def test_missing_properties_count_as_insecure(make_world) -> None:
    world = make_world([account("aoai-a")])
    world.deliver(write_event(account_id("aoai-a")))
    assert world.account_props("aoai-a")["publicNetworkAccess"] == "Disabled"


def test_other_kinds_are_not_judged(make_world) -> None:
    world = make_world([account("aoai-a", kind="SpeechServices", **OPEN)])
    world.deliver(write_event(account_id("aoai-a")))
    assert [m for m, _ in calls(world)] == ["GET"]
    [record] = world.audit()
    assert record["outcome"] == "skipped" and "SpeechServices" in record["reason"]


def test_sweep_skips_other_kinds_without_reading_them(make_world) -> None:
    from warden.sweep import sweep

    world = make_world([account("aoai-a", kind="SpeechServices", **OPEN), account("aoai-b", **OPEN)])
    report = sweep(world.runtime)
    assert report.accounts == 1
    reads = [r.path.rsplit("/", 1)[-1] for r in world.requests() if r.method == "GET"]
    # The query keeps the other kind out; then the read and, after the PATCH, the verifying read.
    assert [r.method for r in world.requests()] == ["POST", "GET", "PATCH", "GET"]
    assert reads == ["aoai-b", "aoai-b"]


@pytest.mark.parametrize("kind,status", [("throttle", 429), ("server-error", 503)])
def test_transient_fault_on_patch_is_retried_to_a_compliant_account(make_world, kind, status) -> None:
    world = make_world([account("aoai-a", **OPEN)])
    world.emulator.add_fault("PATCH", "/accounts/aoai-a$", kind, count=2, status=status, retry_after=0.05)
    world.deliver(write_event(account_id("aoai-a")))
    statuses = [(r.method, r.status) for r in world.requests()]
    assert statuses == [("GET", 200), ("PATCH", status), ("PATCH", status), ("PATCH", 200), ("GET", 200)]
    assert world.account_props("aoai-a")["publicNetworkAccess"] == "Disabled"
    assert outcomes(world) == [("intent", ""), ("result", "remediated")]


def test_persistent_throttling_is_audited_and_raised_for_event_grid_to_redeliver(make_world) -> None:
    world = make_world([account("aoai-a", **OPEN)])
    world.emulator.add_fault("PATCH", "/accounts/aoai-a$", "throttle", count=100, retry_after=0.01)
    with pytest.raises(TransientError):
        world.deliver(write_event(account_id("aoai-a")))
    assert outcomes(world) == [("intent", ""), ("result", "failed")]
    # The event is not marked done, so the redelivery is evaluated again and now succeeds.
    world.emulator.clear_faults()
    world.deliver(write_event(account_id("aoai-a")))
    assert world.account_props("aoai-a")["publicNetworkAccess"] == "Disabled"
    assert outcomes(world)[-1] == ("result", "remediated")


def test_account_deleted_before_the_read_is_recorded_without_crash(make_world) -> None:
    world = make_world([account("aoai-a", **OPEN)])
    world.runtime.sleep = lambda seconds: None
    world.emulator.add_fault("GET", "/accounts/aoai-a$", "not-found", count=100)
    world.deliver(write_event(account_id("aoai-a")))  # an event older than ARM's read lag
    assert [m for m, _ in calls(world)] == ["GET", "GET"]  # the 404, and the read that confirms it
    [record] = world.audit()
    assert record["outcome"] == "resource-gone"


def test_account_deleted_during_the_patch_ends_with_a_clear_result(make_world) -> None:
    world = make_world([account("aoai-a", **OPEN)])
    world.emulator.add_fault("PATCH", "/accounts/aoai-a$", "not-found", count=1)
    world.deliver(write_event(account_id("aoai-a")))
    _intent, result = world.audit()
    assert result["outcome"] == "resource-gone" and "not found" in result["error"]


def test_async_patch_is_polled_to_completion_then_verified(make_world) -> None:
    world = make_world([account("aoai-a", **OPEN)], lro="async")
    world.deliver(write_event(account_id("aoai-a")))
    arm = [(r.method, r.path.lower()) for r in world.requests("arm")]
    assert arm[0] == ("GET", ACCOUNT_PATH) and arm[1] == ("PATCH", ACCOUNT_PATH)
    assert arm[-1] == ("GET", ACCOUNT_PATH)
    assert world.requests("operation-status"), "the poller never asked for the operation status"
    assert world.account_props("aoai-a")["publicNetworkAccess"] == "Disabled"
    assert outcomes(world, "result") == [("result", "remediated")]


def test_failed_operation_is_recorded_as_failed(make_world) -> None:
    world = make_world([account("aoai-a", **OPEN)], lro="async")
    world.emulator.add_fault("PATCH", "/accounts/aoai-a$", "lro-failed", count=1)
    world.deliver(write_event(account_id("aoai-a")))
    assert outcomes(world, "result") == [("result", "failed")]
    assert world.account_props("aoai-a")["publicNetworkAccess"] == "Enabled"


def test_malformed_event_is_rejected_and_recorded(make_world) -> None:
    world = make_world([account("aoai-a", **OPEN)])
    event = write_event(account_id("aoai-a"))
    del event["data"]["operationName"]
    world.deliver(event)
    assert calls(world) == []
    [record] = world.audit()
    assert record["outcome"] == "rejected" and "operationName" in record["error"]


def test_per_run_cap_blocks_past_the_limit_in_a_sweep(make_world) -> None:
    from warden.sweep import sweep

    world = make_world([account("aoai-a", **OPEN), account("aoai-b", **OPEN)], baseline_text(max_actions=1))
    report = sweep(world.runtime)
    assert report.accounts == 2
    assert [m for m, _ in calls(world)].count("PATCH") == 1
    assert sorted(o for _, o in outcomes(world) if o) == ["blocked", "remediated"]


def test_listkeys_is_never_called(make_world) -> None:
    world = make_world([account("aoai-a", **OPEN)])
    world.deliver(write_event(account_id("aoai-a")))
    from warden.sweep import sweep

    sweep(world.runtime)
    assert not [r for r in world.requests() if r.path.lower().endswith("/listkeys")]
