"""The customer-managed key controls end to end, over the emulator with the real SDK clients: the request
log counts every change, and a re-read of the key and the account proves each one."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

from emulator.builders import account_id, key_vault_event
from tests.integration.conftest import HUMAN_OID, WARDEN_OID, baseline_text, write_event
from tests.integration.kv_world import (
    KEY,
    T0,
    V1,
    VAULT,
    VAULT_ID,
    VAULT_URI,
    cmk_account,
    dry_sweep,
    key_sections,
    plain_account,
    protected_vault,
    records,
    role_assignment,
    rotation_policy,
    writes,
)
from warden.cli_replay import replay

FRESHNESS = "  encryption.cmk-freshness:\n    max_age_days: 180\n    expiry_warning_days: 30\n"
PROTECTION = "  encryption.vault-protection:\n"
RID = account_id("aoai-cmk")
KEY_PATH = f"/{VAULT}/keys/{KEY}"


def newest_version(world: Any) -> str:
    versions = world.emulator.dump_state()["vaultKeys"][VAULT][KEY]["versions"]
    return str(versions[-1]["key"]["kid"]).rsplit("/", 1)[-1]


def test_a_stale_pinned_cmk_found_by_key_near_expiry_is_one_policy_one_rotation_one_patch(make_world) -> None:
    world = make_world(
        [cmk_account("aoai-cmk"), protected_vault()], baseline_text(extra=FRESHNESS), sections=key_sections(200)
    )
    dry_sweep(world)  # an earlier sweep indexed the account under the vault (nothing changed)
    assert writes(world) == []
    world.emulator.clear_requests()

    world.deliver(key_vault_event("KeyNearExpiry", VAULT_ID, KEY, V1, event_id="kne-1"))

    new = newest_version(world)
    assert new != V1.lower()
    assert writes(world) == [
        ("PUT", f"{KEY_PATH}/rotationpolicy".lower()),
        ("POST", f"{KEY_PATH}/rotate".lower()),
        ("PATCH", RID.lower()),
    ]
    patch = next(r for r in world.requests() if r.method == "PATCH")
    assert patch.body == {
        "properties": {
            "encryption": {
                "keySource": "Microsoft.KeyVault",
                "keyVaultProperties": {"keyName": KEY, "keyVaultUri": VAULT_URI, "keyVersion": new},
            }
        }
    }
    assert patch.headers.get("If-Match")
    # Verified by re-reading: after the PATCH, the account and the key are read again.
    after = [(r.method, r.path.lower()) for r in world.requests()][-6:]
    assert ("GET", RID.lower()) in after and any(p.startswith(KEY_PATH.lower()) for m, p in after if m == "GET")
    props = world.account_props("aoai-cmk")
    assert props["encryption"]["keyVaultProperties"]["keyVersion"] == new
    policy = world.emulator.dump_state()["vaultKeys"][VAULT][KEY]["rotationPolicy"]
    assert {"trigger": {"timeAfterCreate": "P180D"}, "action": {"type": "Rotate"}} in policy["lifetimeActions"]
    [result] = records(world, "encryption.cmk-freshness", "result")
    assert result["outcome"] == "remediated", result
    assert [s["step"] for s in result["steps"]] == ["key.rotation-policy", "key.rotate", "account.key-version"]
    assert {s["status"] for s in result["steps"]} == {"applied"}


def test_the_key_event_reaches_only_the_accounts_that_use_that_key(make_world) -> None:
    others = [cmk_account("aoai-other-key"), plain_account("aoai-no-cmk")]
    others[0]["properties"]["encryption"]["keyVaultProperties"]["keyName"] = "another-key"
    world = make_world(
        [cmk_account("aoai-cmk"), *others, protected_vault()],
        baseline_text(extra=FRESHNESS),
        sections=key_sections(10, policy=rotation_policy(180)),
    )
    dry_sweep(world)
    world.emulator.clear_requests()
    world.deliver(key_vault_event("KeyNewVersionCreated", VAULT_ID, KEY, V1, event_id="knv-1"))
    arm_reads = {r.path.lower() for r in world.requests() if r.method == "GET" and "/accounts/" in r.path.lower()}
    assert arm_reads == {RID.lower()}  # not the other key's account, not the account without a CMK
    assert writes(world) == []
    assert [r["outcome"] for r in records(world, "encryption.cmk-freshness") if r["eventId"] == "knv-1"] == [
        "compliant"
    ]


def test_a_key_event_for_a_vault_no_indexed_account_uses_is_recorded_and_costs_nothing(make_world) -> None:
    world = make_world([protected_vault()], baseline_text(extra=FRESHNESS), sections=key_sections(10))
    world.deliver(key_vault_event("KeyExpired", VAULT_ID, KEY, V1, event_id="kx-1"))
    assert world.requests() == []
    [record] = [r for r in world.audit() if r["eventId"] == "kx-1"]
    assert record["outcome"] == "ignored" and "no account known to use vault kv-cmk" in record["reason"]


def test_a_vault_without_purge_protection_gets_exactly_one_patch_marked_irreversible(make_world) -> None:
    world = make_world(
        [cmk_account("aoai-cmk"), protected_vault(enablePurgeProtection=None)],
        baseline_text(extra=PROTECTION),
        sections=key_sections(10, policy=rotation_policy(180)),
    )
    world.deliver(write_event(RID, event_id="w-1"))
    assert writes(world) == [("PATCH", VAULT_ID.lower())]
    patch = next(r for r in world.requests() if r.method == "PATCH")
    assert patch.body == {"properties": {"enablePurgeProtection": True}}
    vault = next(r for r in world.emulator.dump_state()["resources"] if r["name"] == VAULT)
    assert vault["properties"]["enablePurgeProtection"] is True
    [result] = records(world, "encryption.vault-protection", "result")
    assert result["outcome"] == "remediated"
    assert result["steps"][0]["change"]["enablePurgeProtection"]["irreversible"] is True

    # warden's own vault write comes back from its own identity: ignored. A person's write is re-checked,
    # through the index, and finds the vault protected: no second PATCH.
    world.emulator.clear_requests()
    own = write_event(VAULT_ID, event_id="v-own", oid=WARDEN_OID, operation="Microsoft.KeyVault/vaults/write")
    human = write_event(VAULT_ID, event_id="v-human", oid=HUMAN_OID, operation="Microsoft.KeyVault/vaults/write")
    world.deliver(own, human)
    assert writes(world) == []
    outcomes = {r["eventId"]: r["outcome"] for r in world.audit() if r["eventId"] in ("v-own", "v-human")}
    assert outcomes == {"v-own": "ignored", "v-human": "compliant"}


def test_cmk_is_configured_only_when_the_accounts_identity_may_use_the_key(make_world) -> None:
    cmk = f"  encryption.cmk:\n    required: true\n    vault: {VAULT}\n    key: {KEY}\n"
    sections = key_sections(10, policy=rotation_policy(180))
    world = make_world([plain_account("aoai-mmk"), protected_vault()], baseline_text(extra=cmk), sections=sections)
    world.deliver(write_event(account_id("aoai-mmk"), event_id="w-1"))
    assert writes(world) == []
    [decision] = records(world, "encryption.cmk", "decision")
    assert decision["outcome"] == "needs-human"
    wanted = "Key Vault Crypto Service Encryption User (e147488a-f6f5-4113-8e2d-b22465e65bf6) for principal"
    assert wanted in decision["reason"] and f"{VAULT_ID}/keys/{KEY}" in decision["reason"]

    granted = [plain_account("aoai-mmk"), protected_vault(), role_assignment(VAULT_ID)]
    world = make_world(granted, baseline_text(extra=cmk), sections=sections)
    world.deliver(write_event(account_id("aoai-mmk"), event_id="w-2"))
    assert writes(world) == [("PATCH", account_id("aoai-mmk").lower())]
    patch = next(r for r in world.requests() if r.method == "PATCH")
    expected = {"keySource": "Microsoft.KeyVault", "keyVaultProperties": {"keyName": KEY, "keyVaultUri": VAULT_URI}}
    assert patch.body == {"properties": {"encryption": expected}}
    assert records(world, "encryption.cmk", "result")[0]["outcome"] == "remediated"


def test_a_disabled_key_version_in_use_is_rotated(make_world) -> None:
    world = make_world(
        [cmk_account("aoai-cmk", version=None), protected_vault()],
        baseline_text(extra=FRESHNESS),
        sections=key_sections(10, policy=rotation_policy(180), enabled=False),
    )
    world.deliver(write_event(RID, event_id="w-1"))
    assert writes(world) == [("POST", f"{KEY_PATH}/rotate".lower())]  # versionless: no re-point needed
    assert records(world, "encryption.cmk-freshness", "result")[0]["outcome"] == "remediated"
    assert T0 + timedelta(days=1) > T0  # the clock is pinned: ages are exact


def test_dry_run_changes_nothing_and_its_records_name_every_step(make_world) -> None:
    cmk = f"  encryption.cmk:\n    required: true\n    vault: {VAULT}\n    key: {KEY}\n"
    tenant = [
        plain_account("aoai-mmk"),
        cmk_account("aoai-cmk"),
        protected_vault(enablePurgeProtection=None),
        role_assignment(VAULT_ID),
    ]
    world = make_world(
        tenant, baseline_text(mode="dry-run", extra=cmk + FRESHNESS + PROTECTION), sections=key_sections(200)
    )
    dry_sweep(world)
    assert writes(world) == []
    steps = {
        r["controlId"]: [(s["step"], s["status"]) for s in r["steps"]]
        for r in world.audit()
        if r["kind"] == "decision" and r["outcome"] == "would-remediate"
    }
    assert steps == {
        "encryption.cmk": [("account.patch", "would-apply")],
        "encryption.cmk-freshness": [
            ("key.rotation-policy", "would-apply"),
            ("key.rotate", "would-apply"),
            ("account.key-version", "would-apply"),
        ],
        "encryption.vault-protection": [("vault.patch", "would-apply")],
    }
    [protection] = records(world, "encryption.vault-protection", "decision")
    assert protection["steps"][0]["change"]["enablePurgeProtection"]["irreversible"] is True


def test_replay_now_past_the_max_age_makes_the_sweep_find_a_fresh_key(tmp_path: Path) -> None:
    scenario: dict[str, Any] = {
        "resources": [cmk_account("aoai-cmk", version=None), protected_vault()],
        **key_sections(0, policy=rotation_policy(180)),
    }
    baseline = tmp_path / "baseline.yaml"
    baseline.write_text(baseline_text(mode="dry-run", extra=FRESHNESS))
    outcomes = {}
    for days in (179, 181):
        run = replay(
            scenario,
            [],
            baseline_path=baseline,
            work_dir=tmp_path / str(days),
            run_sweep=True,
            now=T0 + timedelta(days=days),
        )
        outcomes[days] = [r["outcome"] for r in run.audit if r.get("controlId") == "encryption.cmk-freshness"]
        assert not [r for r in run.requests if r["method"] in ("PUT", "PATCH", "POST", "DELETE")]
    assert outcomes == {179: ["compliant"], 181: ["would-remediate"]}
