"""warden/doctor.py's judgement over fake reads: permissions matched as ARM matches them, event routes covered or
not, storage and identity levels; every not-ok check carries its fix."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from detectors import CONTROLS
from warden.doctor import Level, identity_check, permission_checks
from warden.doctor_access import PermissionSet, grants, missing_permissions
from warden.doctor_events import (
    SUBSCRIPTION_TOPIC,
    VAULT_TOPIC,
    EventSubscription,
    Topic,
    event_checks,
    topics_to_check,
    unchecked_vaults,
)
from warden.doctor_storage import Immutability, storage_checks
from warden.errors import PermissionDeniedError, TransientError
from warden.identity import Identity, identity_of, token_claims, unsigned_token
from warden.permissions import ACTIONS, DATA_ACTIONS
from warden.settings import load_settings

SUB = "6a1f3c2e-8d4b-4f7a-9c0e-2b5d7e9f1a3c"
GROUP = f"/subscriptions/{SUB}/resourceGroups/rg-ai"
APP = f"/subscriptions/{SUB}/resourceGroups/rg-warden/providers/Microsoft.Web/sites/func-warden"
ROLE = PermissionSet(actions=ACTIONS, data_actions=DATA_ACTIONS)


class FakeReads:
    def __init__(
        self,
        held: Sequence[PermissionSet] = (ROLE,),
        routes: Sequence[EventSubscription] | None = (),
        groups: Sequence[str] = (GROUP,),
    ) -> None:
        self.held, self.routes, self.groups = held, routes, groups

    def identity(self) -> Identity:
        return Identity("oid", "tid", "", "")

    def account_groups(self, subscription: str) -> Sequence[str]:
        return self.groups

    def permissions(self, scope: str) -> Sequence[PermissionSet]:
        return self.held

    def event_subscriptions(self, source: str, topic_type: str) -> Sequence[EventSubscription] | None:
        return self.routes


def test_wildcards_and_exclusions_match_as_arm_does() -> None:
    owner = PermissionSet(actions=("*",), not_actions=("Microsoft.Authorization/*/Delete",))
    assert grants([owner], "Microsoft.CognitiveServices/accounts/write")
    assert not grants([owner], "microsoft.authorization/roleAssignments/delete")  # excluded, case ignored
    assert not grants([owner], "Microsoft.KeyVault/vaults/keys/read")  # a data action: `*` in actions is not one
    reader = PermissionSet(actions=("Microsoft.Authorization/roleAssignments/delete",))
    assert grants([owner, reader], "Microsoft.Authorization/roleAssignments/delete")  # another role grants it
    assert missing_permissions([ROLE], [*ACTIONS, *DATA_ACTIONS]) == []


def test_a_missing_permission_fails_the_controls_that_need_it_only() -> None:
    lacking = "Microsoft.CognitiveServices/accounts/write"
    held = PermissionSet(actions=tuple(a for a in ACTIONS if a != lacking), data_actions=DATA_ACTIONS)
    checks = permission_checks(FakeReads(held=[held]), CONTROLS, [SUB], "warden's identity")
    failed = {c.subject for c in checks if c.level is Level.FAIL}
    assert failed == {c.id for c in CONTROLS if lacking in c.permissions}
    check = next(c for c in checks if c.level is Level.FAIL)
    assert f"{lacking} on /subscriptions/{SUB}" in check.detail and "warden remediator" in check.fix
    assert all(c.level is Level.OK for c in checks if c.subject not in failed)


def test_a_subscription_without_accounts_is_reported_not_checked() -> None:
    checks = permission_checks(FakeReads(groups=()), CONTROLS, [SUB], "warden's identity")
    assert [(c.level, c.subject) for c in checks] == [(Level.WARN, f"subscription {SUB}")]


def test_an_unreadable_subscription_fails_with_what_was_refused() -> None:
    class Denied(FakeReads):
        def account_groups(self, subscription: str) -> Sequence[str]:
            raise PermissionDeniedError("HTTP 403 AuthorizationFailed: no read", status=403)

    checks = permission_checks(Denied(), CONTROLS, [SUB], "warden's identity")
    assert len(checks) == 1 and checks[0].level is Level.FAIL and "AuthorizationFailed" in checks[0].detail


def route(
    name: str, operations: Sequence[str], destination: str = f"{APP}/functions/resource_event"
) -> EventSubscription:
    types = frozenset({"Microsoft.Resources.ResourceWriteSuccess"})
    return EventSubscription(name, destination, types, frozenset(operations))


EXPECTED = [
    Topic(
        f"subscription {SUB}",
        f"/subscriptions/{SUB}",
        SUBSCRIPTION_TOPIC,
        (
            ("Microsoft.Resources.ResourceWriteSuccess", "Microsoft.CognitiveServices/accounts/write"),
            ("Microsoft.Resources.ResourceWriteSuccess", "Microsoft.KeyVault/vaults/write"),
        ),
    )
]


def test_event_routes_cover_every_operation_or_name_what_is_missing() -> None:
    both = ["Microsoft.CognitiveServices/accounts/write", "Microsoft.KeyVault/vaults/write"]
    ok = event_checks(FakeReads(routes=[route("warden-arm-1", both)]), EXPECTED, APP)
    assert [c.level for c in ok] == [Level.OK]
    one = event_checks(FakeReads(routes=[route("warden-arm-1", both[:1])]), EXPECTED, APP)
    assert [c.level for c in one] == [Level.FAIL]
    assert "Microsoft.KeyVault/vaults/write (ResourceWriteSuccess)" in one[0].detail and "postdeploy" in one[0].fix
    elsewhere = route("other", both, destination="/subscriptions/x/resourceGroups/y/providers/Microsoft.Web/sites/z")
    assert event_checks(FakeReads(routes=[elsewhere]), EXPECTED, APP)[0].level is Level.FAIL
    none = event_checks(FakeReads(routes=None), EXPECTED, APP)
    assert none[0].level is Level.FAIL and "no Event Grid system topic" in none[0].detail


def test_without_the_app_named_any_resource_event_function_counts_with_a_warning() -> None:
    both = ["Microsoft.CognitiveServices/accounts/write", "Microsoft.KeyVault/vaults/write"]
    checks = event_checks(FakeReads(routes=[route("warden-arm-1", both)]), EXPECTED, "")
    assert [c.level for c in checks] == [Level.OK, Level.WARN] and "--function-app" in checks[1].fix


def test_identity_levels() -> None:
    me = Identity("abc", "t", "", "")
    assert identity_check(me, frozenset({"abc"}), frozenset()).level is Level.OK
    assert identity_check(me, frozenset({"def"}), frozenset()).level is Level.WARN
    assert "WARDEN_SELF_OBJECT_IDS" in identity_check(me, frozenset(), frozenset()).fix


def test_token_claims_round_trip_and_opaque_tokens() -> None:
    token = unsigned_token({"oid": "ABC", "tid": "T", "appid": "App", "upn": "admin@contoso.com"})
    assert identity_of(token_claims(token)) == Identity("abc", "t", "app", "admin@contoso.com")
    assert token_claims("emulator-token") == {} and token_claims("a.!!!.c") == {}


class FakeStorage:
    def __init__(self, policy: Immutability | Exception | None, reach: Exception | None = None) -> None:
        self.policy, self.reach_error = policy, reach

    def reach(self, store: str) -> str:
        if self.reach_error:
            raise self.reach_error
        return f"container {store} on account st"

    def immutability(self, store: str) -> Immutability | None:
        if isinstance(self.policy, Exception):
            raise self.policy
        return self.policy


@pytest.mark.parametrize(
    "policy, level",
    [
        (Immutability("Locked", 365, True), Level.OK),
        (Immutability("Unlocked", 365, True), Level.WARN),
        (Immutability("Locked", 365, False), Level.FAIL),
        (None, Level.FAIL),
        (PermissionDeniedError("HTTP 403", status=403), Level.WARN),
    ],
)
def test_audit_immutability_levels(policy: Immutability | Exception | None, level: Level) -> None:
    settings = load_settings({"WARDEN_AUDIT_ACCOUNT_URL": "https://st.blob.core.windows.net"})
    checks = storage_checks(FakeStorage(policy), settings)
    audit = next(c for c in checks if c.subject == "audit immutability")
    assert audit.level is level and (level is Level.OK or audit.fix)


def test_unreachable_storage_fails_and_a_local_folder_warns() -> None:
    settings = load_settings({"WARDEN_AUDIT_ACCOUNT_URL": "https://st.blob.core.windows.net"})
    down = storage_checks(FakeStorage(None, reach=TransientError("connection failed")), settings)
    assert down[0].level is Level.FAIL and "Storage Blob Data Owner" in down[0].fix
    local = storage_checks(FakeStorage(None), load_settings({}))
    assert [c.level for c in local] == [Level.WARN, Level.OK]


def test_vault_topics_expect_the_key_events_by_type_only() -> None:
    vault = f"{GROUP}/providers/Microsoft.KeyVault/vaults/kv-cmk"
    subscription, key_vault = topics_to_check(CONTROLS, [SUB], [vault])
    assert (subscription.topic_type, key_vault.topic_type, key_vault.subject) == (
        SUBSCRIPTION_TOPIC,
        VAULT_TOPIC,
        "key vault kv-cmk",
    )
    assert {t for t, _ in key_vault.expected} == {
        f"Microsoft.KeyVault.Key{n}" for n in ("NearExpiry", "Expired", "NewVersionCreated")
    }
    by_type = EventSubscription("warden-key-events", f"{APP}/functions/resource_event", frozenset(), None)
    assert [c.level for c in event_checks(FakeReads(routes=[by_type]), [key_vault], APP)] == [Level.OK]
    assert unchecked_vaults(CONTROLS, [vault]) == []
    (warning,) = unchecked_vaults(CONTROLS, [])
    assert warning.level is Level.WARN and "--key-vault" in warning.fix
    assert unchecked_vaults([c for c in CONTROLS if c.id == "network.public-access"], []) == []
