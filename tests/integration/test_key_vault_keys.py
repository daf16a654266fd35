"""identity.key-vault-keys end to end: dual-key rotation over two due runs, and no key value in any output."""

from __future__ import annotations

import logging
from datetime import timedelta
from pathlib import Path
from typing import Any

from emulator.builders import account_id, secret_version
from tests.integration.conftest import World, baseline_text
from tests.integration.kv_world import T0, VAULT, VAULT_URI, plain_account, protected_vault, records, writes
from warden.model import Trigger
from warden.sweep import sweep

NAME = "aoai-legacy"
RID = account_id(NAME)
SECRET = "aoai-legacy-keys"
K1, K2 = "1" * 32, "2" * 32  # the account's keys before warden (32 hex characters, as Azure's)
EXEMPT = f"""exemptions:
  - resource: {RID}
    control: identity.local-auth
    reason: legacy batch client signs with a key until its rewrite (CHG-1234)
    owner: ops@contoso.example
    expires: 2027-12-31
"""
CONTROLS = (
    "  identity.local-auth:\n"
    "  identity.key-vault-keys:\n"
    "    max_age_days: 90\n"
    "    secrets:\n"
    f"      - account: {RID[: -len(NAME)]}aoai-leg*\n"
    f"        vault: {VAULT}\n"
    f"        secret: {SECRET}\n"
)


def tenant(make_world: Any, mode: str = "enforce") -> World:
    held = secret_version(
        VAULT, SECRET, "0" * 32, K1, created=T0 - timedelta(days=100), tags={"warden-active-key": "Key1"}
    )
    sections = {
        "clock": {"now": T0.isoformat()},
        "accountKeys": {RID: {"key1": K1, "key2": K2}},
        "vaultSecrets": {VAULT: {SECRET: [held]}},
    }
    accounts = [plain_account(NAME, disableLocalAuth=False), protected_vault()]
    world: World = make_world(accounts, baseline_text(mode=mode, extra=CONTROLS) + EXEMPT, sections=sections)
    return world


def secret_versions(world: World) -> list[dict[str, Any]]:
    return list(world.emulator.dump_state()["vaultSecrets"][VAULT][SECRET])


def account_keys(world: World) -> dict[str, str]:
    return next(v for k, v in world.emulator.dump_state()["accountKeys"].items() if k.lower() == RID.lower())


def test_dual_key_rotation_over_two_due_runs_and_no_key_value_in_any_output(make_world, caplog, capsys) -> None:
    caplog.set_level(logging.DEBUG)
    world = tenant(make_world)
    seen = {K1, K2}

    sweep(world.runtime, Trigger.SWEEP)  # due: the secret's version is 100 days old
    keys = account_keys(world)
    seen |= set(keys.values())
    assert keys["key1"] == K1 and keys["key2"] != K2  # the key not in use (Key2) was regenerated
    versions = secret_versions(world)
    assert len(versions) == 2 and versions[-1]["tags"]["warden-active-key"] == "Key2"
    assert versions[-1]["value"] == keys["key2"]  # the new key went into the secret, and only there
    assert versions[-1]["contentType"] == "application/vnd.azure-openai.account-key"
    assert versions[-1]["attributes"]["exp"] == int((T0 + timedelta(days=180)).timestamp())

    sweep(world.runtime, Trigger.SWEEP)  # not due: the secret was written just now
    assert len(secret_versions(world)) == 2

    world.emulator.clock.advance(timedelta(days=91).total_seconds())
    sweep(world.runtime, Trigger.SWEEP)  # due again: now Key1, the key not in use any more
    after = account_keys(world)
    seen |= set(after.values())
    assert after["key2"] == keys["key2"] and after["key1"] != K1
    versions = secret_versions(world)
    assert len(versions) == 3 and versions[-1]["tags"]["warden-active-key"] == "Key1"
    assert versions[-1]["value"] == after["key1"]

    results = records(world, "identity.key-vault-keys", "result")
    assert [r["outcome"] for r in results] == ["remediated", "remediated"]
    assert [r["steps"][0]["change"]["regeneratedKeyName"] for r in results] == ["Key2", "Key1"]
    assert [r["outcome"] for r in records(world, "identity.local-auth")].count("exempted") == 3
    # Two regenerations and two secret versions: never a listKeys, never a read of the secret's value.
    assert [w for w in writes(world) if "regeneratekey" in w[1]] == [("POST", f"{RID.lower()}/regeneratekey")] * 2
    assert not [r for r in world.requests() if "listkeys" in r.path.lower()]
    assert not [
        r
        for r in world.requests(kind="keyvault")
        if r.method == "GET" and f"/secrets/{SECRET}/" in r.path and not r.path.endswith("/versions")
    ]

    # Zero key values in any output: the audit log, the state store, the request log, logs, stdout, stderr.
    world.emulator.write_requests(world.tmp / "requests.jsonl")
    outputs = [
        p.read_text(errors="replace") for p in Path(world.tmp).rglob("*") if p.is_file() and p.name != "baseline.yaml"
    ]
    captured = capsys.readouterr()
    outputs += [caplog.text, captured.out, captured.err, repr(world.audit())]
    leaks = sorted({value[:6] for value in seen for text in outputs if value in text})
    assert leaks == [], f"key values found in output: {leaks}"
    assert any("regenerated Key2" in m for m in caplog.messages)  # the logs do say what happened


def test_dry_run_changes_nothing_and_names_the_step(make_world) -> None:
    world = tenant(make_world, mode="dry-run")
    sweep(world.runtime, Trigger.SWEEP)
    assert writes(world) == []
    assert account_keys(world) == {"key1": K1, "key2": K2} and len(secret_versions(world)) == 1
    [decision] = records(world, "identity.key-vault-keys", "decision")
    assert decision["outcome"] == "would-remediate"
    [step] = decision["steps"]
    assert (step["step"], step["status"]) == ("account.key-to-secret", "would-apply")
    assert step["change"]["secretId"] == f"{VAULT_URI}secrets/{SECRET}"
