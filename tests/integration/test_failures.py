"""Failures at awkward moments: the audit log, the verifying read, conflicts, permissions, credentials.

Faults come from the emulator (real HTTP status codes through the real SDK) or from thin wrappers around
the real ports that arm a fault at a precise step; nothing is patched.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

import pytest
from azure.identity import CredentialUnavailableError
from azure.mgmt.cognitiveservices import CognitiveServicesManagementClient
from azure.mgmt.cognitiveservices.models import Account, AccountProperties, NetworkRuleSet, VirtualNetworkRule

from emulator.builders import SUBSCRIPTION as SUB
from emulator.builders import account, account_id
from tests.integration.conftest import World, baseline_text, write_event
from warden.audit import AuditLog
from warden.azure.clients import ClientFactory
from warden.azure.cognitive import CognitiveAccounts
from warden.azure.credentials import StaticTokenCredential
from warden.errors import AuditWriteError, ConflictError, TransientError
from warden.model import AccountSnapshot, AuditRecord, Json
from warden.ports import Ports

OPEN = {"publicNetworkAccess": "Enabled", "networkAcls": {"defaultAction": "Allow", "ipRules": []}}
RID = account_id("aoai-a")


class FlakyAudit:
    """The real audit log, except that appends holding a record of `kind` fail `times` times."""

    def __init__(self, inner: AuditLog, kind: str, times: int) -> None:
        self.inner, self.kind, self.left = inner, kind, times

    def append(self, records: Sequence[AuditRecord]) -> None:
        if self.left and any(r.kind == self.kind for r in records):
            self.left -= 1
            raise AuditWriteError("storage unavailable (test)")
        self.inner.append(records)

    def entries(self, since: datetime | None = None) -> Iterator[dict[str, Json]]:
        return self.inner.entries(since)


class ArmAfterPatch:
    """The real account port; once the PATCH went through, the emulator starts failing reads of the account."""

    def __init__(self, inner: CognitiveAccounts, world: World, kind: str, status: int) -> None:
        self.inner, self.world, self.kind, self.status = inner, world, kind, status

    def read_account(self, resource_id: str) -> AccountSnapshot:
        return self.inner.read_account(resource_id)

    def patch_account(self, resource_id: str, properties: Mapping[str, Json], *, etag: str | None = None) -> str | None:
        new_etag = self.inner.patch_account(resource_id, properties, etag=etag)
        self.world.emulator.add_fault("GET", "/accounts/aoai-a$", self.kind, count=100, status=self.status)
        return new_etag

    def regenerate_key(self, resource_id: str, key_name: str) -> None:
        self.inner.regenerate_key(resource_id, key_name)

    def list_accounts(self, subscription_id: str) -> list[tuple[str, str]]:
        return self.inner.list_accounts(subscription_id)


def kinds(world: World) -> list[tuple[str, str]]:
    return [(e["kind"], e["outcome"]) for e in world.audit()]


def test_no_audit_no_action(make_world) -> None:
    world = make_world([account("aoai-a", **OPEN)])
    world.runtime.audit = FlakyAudit(world.runtime.audit, "intent", times=1)
    with pytest.raises(AuditWriteError):
        world.deliver(write_event(RID))
    assert [r.method for r in world.requests()] == ["GET"]  # read, but nothing changed
    assert world.account_props("aoai-a")["publicNetworkAccess"] == "Enabled"
    assert not world.runtime.state.is_done("e-1")  # so Event Grid's redelivery is handled in full
    world.deliver(write_event(RID))
    assert kinds(world) == [("intent", ""), ("result", "remediated")]


def test_a_briefly_failing_result_write_is_retried(make_world) -> None:
    world = make_world([account("aoai-a", **OPEN)])
    world.runtime.audit = FlakyAudit(world.runtime.audit, "result", times=2)
    world.deliver(write_event(RID))
    assert kinds(world) == [("intent", ""), ("result", "remediated")]
    assert world.runtime.state.is_done("e-1")


def test_failing_verifying_read_records_applied_but_not_verified(make_world) -> None:
    world = make_world([account("aoai-a", **OPEN)])
    world.runtime.ports = Ports(accounts=ArmAfterPatch(world.runtime.ports.accounts, world, "server-error", 503))
    with pytest.raises(TransientError):
        world.deliver(write_event(RID))
    [_, result] = world.audit()
    assert result["outcome"] == "not-verified" and result["error"].startswith("applied; the verifying read failed")
    assert world.account_props("aoai-a")["publicNetworkAccess"] == "Disabled"
    world.emulator.clear_faults()
    world.deliver(write_event(RID))  # the redelivery re-reads: the account is compliant, nothing more is done
    assert kinds(world)[-1] == ("evaluation", "compliant")
    assert [r.method for r in world.requests()].count("PATCH") == 1


def test_verifying_read_forbidden_is_not_verified_and_final(make_world) -> None:
    world = make_world([account("aoai-a", **OPEN)])
    world.runtime.ports = Ports(accounts=ArmAfterPatch(world.runtime.ports.accounts, world, "server-error", 403))
    world.deliver(write_event(RID))
    assert kinds(world)[-1] == ("result", "not-verified")
    assert world.runtime.state.is_done("e-1")


def _race(world: World, human_acls: NetworkRuleSet) -> None:
    """Deliver an event while a human PATCHes the account between warden's GET and its PATCH."""
    world.emulator.add_fault("PATCH", "/accounts/aoai-a$", "latency", count=1, delay=0.5)
    client = CognitiveServicesManagementClient(
        StaticTokenCredential(), SUB, base_url=world.emulator.endpoint, connection_verify=world.emulator.ca_path
    )

    def human() -> None:  # lands while warden's PATCH is held in the emulator
        threading.Event().wait(0.2)
        client.accounts.begin_update(
            "ai-prod", "aoai-a", Account(properties=AccountProperties(network_acls=human_acls))
        ).result()

    thread = threading.Thread(target=human)
    thread.start()
    try:
        world.deliver(write_event(RID))
    finally:
        thread.join()


VNET = "/subscriptions/s/resourceGroups/net/providers/Microsoft.Network/virtualNetworks/v/subnets/apps"


def test_a_change_made_after_our_read_is_not_overwritten(make_world, emulator_if_match) -> None:
    """A human tightens the ACLs between warden's GET and its PATCH. Honoured If-Match: ARM refuses the stale
    fix. Ignored: the fix lands beside the human's change, and warden sees networkAcls changed around it."""
    world = make_world([account("aoai-a", **OPEN)])
    _race(world, NetworkRuleSet(default_action="Deny", virtual_network_rules=[VirtualNetworkRule(id=VNET)]))
    props = world.account_props("aoai-a")
    assert props["networkAcls"]["virtualNetworkRules"] == [{"id": VNET}]  # the human's change survived
    [_, result] = world.audit()
    assert result["outcome"] == "not-verified"  # never "remediated": the fix was decided on the old state
    assert world.runtime.state.is_done("e-1")
    if emulator_if_match == "honoured":
        warden_patch = next(r for r in world.requests() if r.method == "PATCH" and r.status == 412)
        assert warden_patch.body == {"properties": {"publicNetworkAccess": "Disabled"}}
        assert props["publicNetworkAccess"] == "Enabled"
        # Deny with only a VNet rule is compliant: recorded honestly as not verified, and done.
        assert "compliant now" in result["error"]
    else:
        assert [r.status for r in world.requests() if r.method == "PATCH"] == [200, 200]  # the human's, warden's
        assert props["publicNetworkAccess"] == "Disabled"
        assert "networkAcls changed by someone else" in result["error"]


def test_a_conflicting_change_that_leaves_drift_is_replanned_on_redelivery(make_world, emulator_if_match) -> None:
    world = make_world([account("aoai-a", **OPEN)])
    if emulator_if_match == "honoured":
        with pytest.raises(ConflictError):
            _race(world, NetworkRuleSet(default_action="Allow", virtual_network_rules=[VirtualNetworkRule(id=VNET)]))
        assert kinds(world) == [("intent", ""), ("result", "failed")]
        world.deliver(write_event(RID))  # Event Grid redelivers: re-read, re-planned on the human's version
        assert kinds(world)[-1] == ("result", "remediated")
    else:
        # Nothing refuses the stale PATCH: it lands (it sends only publicNetworkAccess, so the human's rule
        # stays), and the changed ACLs make it not-verified rather than remediated.
        _race(world, NetworkRuleSet(default_action="Allow", virtual_network_rules=[VirtualNetworkRule(id=VNET)]))
        [_, result] = world.audit()
        assert (result["outcome"], "networkAcls" in result["error"]) == ("not-verified", True)
    assert world.account_props("aoai-a")["publicNetworkAccess"] == "Disabled"
    assert world.account_props("aoai-a")["networkAcls"]["virtualNetworkRules"] == [{"id": VNET}]


def test_conflict_on_the_patch_is_retried_by_redelivery(make_world) -> None:
    world = make_world([account("aoai-a", **OPEN)])
    world.emulator.add_fault("PATCH", "/accounts/aoai-a$", "conflict", count=1)
    with pytest.raises(ConflictError):
        world.deliver(write_event(RID))
    assert not world.runtime.state.is_done("e-1")
    world.deliver(write_event(RID))
    assert world.account_props("aoai-a")["publicNetworkAccess"] == "Disabled"
    assert kinds(world) == [("intent", ""), ("result", "failed"), ("intent", ""), ("result", "remediated")]


def test_forbidden_patch_is_recorded_as_failed_and_not_retried(make_world) -> None:
    world = make_world([account("aoai-a", **OPEN)])
    world.emulator.add_fault("PATCH", "/accounts/aoai-a$", "server-error", count=1, status=403)
    world.deliver(write_event(RID))
    [_, result] = world.audit()
    assert result["outcome"] == "failed" and "HTTP 403" in result["error"]
    assert world.runtime.state.is_done("e-1")  # a redelivery cannot grant a permission


class NoToken:
    """A credential that cannot get a token, as when the managed identity endpoint does not answer."""

    def get_token(self, *scopes: str, **kwargs: Any) -> Any:
        raise CredentialUnavailableError("managed identity endpoint not reachable (test)")

    def get_token_info(self, *scopes: str, options: Any = None) -> Any:
        raise CredentialUnavailableError("managed identity endpoint not reachable (test)")


def test_token_failure_is_transient(make_world) -> None:
    world = make_world([account("aoai-a", **OPEN)])
    clients = ClientFactory(NoToken(), base_url=world.emulator.endpoint, connection_verify=world.emulator.ca_path)  # type: ignore[arg-type]
    world.runtime.ports = Ports(accounts=CognitiveAccounts(clients))
    with pytest.raises(TransientError, match="could not get a token"):
        world.deliver(write_event(RID))
    assert world.requests() == []
    assert not world.runtime.state.is_done("e-1")
    assert kinds(world) == [("evaluation", "failed")]


def test_self_caused_redelivery_is_recorded_once(make_world) -> None:
    from tests.integration.conftest import WARDEN_OID

    world = make_world([account("aoai-a", **OPEN)], baseline_text())
    event = write_event(RID, oid=WARDEN_OID)
    world.deliver(event, event)
    # One trace record for both deliveries, counting them (docs/audit.md "Self-caused echoes").
    assert kinds(world) == [("event", "ignored")]
    assert world.audit()[0]["observed"]["echoes"]["count"] == 2


def test_operation_that_cannot_be_followed_is_not_verified_and_counted(make_world) -> None:
    from warden.errors import OutcomeUnknownError

    world = make_world([account("aoai-a", **OPEN)], baseline_text(cooldown=300), lro="async")
    world.emulator.add_fault("GET", "/operationStatuses/", "server-error", count=100, status=500)
    with pytest.raises(OutcomeUnknownError):
        world.deliver(write_event(RID))
    [_, result] = world.audit()
    assert result["outcome"] == "not-verified" and result["error"].startswith("accepted, but")
    assert world.runtime.state.history(RID, world.runtime.clock(), timedelta(days=1)).attempts_in_window == 1


def test_412_with_an_unchanged_etag_is_retried_without_if_match(make_world) -> None:
    world = make_world([account("aoai-a", **OPEN)])
    world.emulator.add_fault("PATCH", "/accounts/aoai-a$", "precondition-failed", count=1)
    world.deliver(write_event(RID))
    assert [(r.method, r.status) for r in world.requests()] == [
        ("GET", 200),
        ("PATCH", 412),
        ("GET", 200),
        ("PATCH", 200),  # settled: no poll (arm_writes.SettledPolling)
        ("GET", 200),
    ]
    patches = [r for r in world.requests() if r.method == "PATCH"]
    assert "If-Match" in patches[0].headers and "If-Match" not in patches[1].headers
    assert kinds(world)[-1] == ("result", "remediated")


def test_an_unreadable_account_body_is_a_recorded_failure(make_world) -> None:
    world = make_world([account("aoai-a", publicNetworkAccess="Enabled", networkAcls="Allow")])
    world.deliver(write_event(RID))
    [record] = world.audit()
    assert record["outcome"] == "failed" and "DeserializationError" in record["error"]
    assert world.runtime.state.is_done("e-1")  # retrying cannot make the body readable


def test_an_applied_patch_whose_reply_is_lost_is_not_called_failed(make_world, emulator_if_match) -> None:
    """ARM applies the PATCH but answers 503, and the SDK retries it with the old If-Match."""
    world = make_world([account("aoai-a", **OPEN)])
    world.emulator.add_fault("PATCH", "/accounts/aoai-a$", "applied-then-error", count=1)
    world.deliver(write_event(RID))
    assert world.account_props("aoai-a")["publicNetworkAccess"] == "Disabled"
    [_, result] = world.audit()
    if emulator_if_match == "honoured":
        assert [(r.method, r.status) for r in world.requests()] == [
            ("GET", 200),
            ("PATCH", 503),
            ("PATCH", 412),
            ("GET", 200),  # the adapter's etag check after the 412
            ("GET", 200),  # the pipeline's re-read: compliant now
        ]
        assert result["outcome"] == "not-verified" and "by this change or someone else's" in result["error"]
    else:
        # The retry writes the same value again (PATCH is idempotent here) and nothing else changed: the
        # re-read shows exactly the fix, so it is remediated.
        assert [(r.method, r.status) for r in world.requests()] == [
            ("GET", 200),
            ("PATCH", 503),
            ("PATCH", 200),  # settled: no poll (arm_writes.SettledPolling)
            ("GET", 200),  # the pipeline's re-read
        ]
        assert result["outcome"] == "remediated"
    assert world.runtime.state.history(RID, world.runtime.clock(), timedelta(days=1)).attempts_in_window == 1


class LandsThenFails(FlakyAudit):
    """The write lands, but the caller is told it failed (a lost reply): the retry must not write it again."""

    def append(self, records: Sequence[AuditRecord]) -> None:
        self.inner.append(records)
        if self.left and any(r.kind == self.kind for r in records):
            self.left -= 1
            raise AuditWriteError("reply lost (test)")


def test_a_result_write_that_landed_is_not_written_twice(make_world) -> None:
    world = make_world([account("aoai-a", **OPEN)])
    world.runtime.audit = LandsThenFails(world.runtime.audit, "result", times=1)
    world.deliver(write_event(RID))
    assert kinds(world) == [("intent", ""), ("result", "remediated")]
