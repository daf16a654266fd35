"""`python -m warden` as a user runs it: replay on the shipped demo, check-baseline, log and verify."""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from emulator.builders import SUBSCRIPTION
from tests.conftest import reference_dir
from tests.test_routing import DESIGN_IDS
from warden import cli_replay

REPO = Path(__file__).resolve().parents[1]
DEMO = REPO / "scenarios" / "demo"
WARDEN_OID = "9d2c7e41-5b3a-4f8e-a1c6-7e0b2d9f3a15"


def warden(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "warden", *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env=env,
    )


def run_replay(
    out: Path,
    *options: str,
    state: Path = DEMO / "tenant.json",
    events: Path = DEMO / "events.json",
    env: dict[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """`warden replay` with the demo baseline; the demo tenant and event stream unless told otherwise."""
    return warden(
        "replay",
        "--state",
        str(state),
        "--events",
        str(events),
        "--baseline",
        str(DEMO / "baseline.yaml"),
        "--out",
        str(out),
        *options,
        env=env,
    )


def jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_replay_of_the_demo_tenant(tmp_path: Path) -> None:
    out = tmp_path / "out"
    done = run_replay(out, "--self-object-id", WARDEN_OID)
    assert done.returncode == 0, done.stderr
    audit = jsonl(out / "audit.jsonl")
    public, outbound, local = "network.public-access", "network.outbound", "identity.local-auth"
    by_resource: dict[str, list[str]] = {}
    key_vault: dict[str, list[str]] = {}  # the Key Vault part of the demo (its own resources), checked below
    ai: dict[str, list[str]] = {}  # the Azure OpenAI part (deployments, fine-tuning files), checked below
    access: dict[str, list[str]] = {}  # role assignments and diagnostic settings, checked below
    for entry in audit:
        name = entry["resourceId"].rsplit("/", 1)[-1] or "(none)"
        line = f"{entry['kind']}:{entry['controlId'] or '-'}:{entry['outcome']}"
        if name.startswith(("aoai-cmk", "kv-contoso")):
            key_vault.setdefault(name, []).append(line)
        elif entry["controlId"] in ("ai.jailbreak-filter", "data.training-files"):
            ai.setdefault(name, []).append(line)
        elif entry["controlId"] in ("identity.role-assignments", "logging.diagnostics"):
            access.setdefault(name, []).append(line)
        elif entry["controlId"] in (public, outbound, local, ""):
            by_resource.setdefault(name, []).append(line)
    assert by_resource == {
        "(none)": ["event:-:rejected"],
        "aoai-chat-prod": [
            f"evaluation:{outbound}:compliant",
            f"evaluation:{local}:compliant",
            f"intent:{public}:",
            f"result:{public}:remediated",
            "event:-:ignored",  # the first event delivered again: the duplicate's drop is audited
            "event:-:ignored",  # warden's own PATCH coming back
            f"evaluation:{local}:compliant",  # a human's regenerateKey: key events re-check local auth only
        ],
        "aoai-rag-prod": [
            f"evaluation:{local}:compliant",
            f"intent:{outbound}:",
            f"intent:{public}:",
            f"result:{outbound}:remediated",
            f"result:{public}:remediated",
        ],
        "aoai-batch-prod": [f"evaluation:{c}:compliant" for c in (public, outbound, local)],
        "aoai-partner-lab": [
            f"evaluation:{outbound}:compliant",
            f"decision:{public}:exempted",  # the exemption is for public access only
            f"intent:{local}:",
            f"result:{local}:remediated",
            f"evaluation:{local}:compliant",  # its keys listed afterwards: local auth is off now
        ],
        "aoai-legacy-lab": [
            *(f"intent:{c}:" for c in (local, outbound, public)),
            *(f"result:{c}:remediated" for c in (local, outbound, public)),
        ],
    }
    everything = jsonl(out / "requests.jsonl")
    # The Key Vault events come last in the stream: their requests follow the account events' ones.
    first_kv = next(i for i, r in enumerate(everything) if "aoai-cmk" in r["path"])
    # The Azure OpenAI events come after those: the deployment events of aoai-batch-prod and aoai-ft-lab.
    first_ai = next(i for i, r in enumerate(everything) if "/deployments" in r["path"])
    # Then the role-assignment and diagnostic-setting events, last in the stream.
    first_access = next(i for i, r in enumerate(everything) if "aoai-ops-prod" in r["path"])
    requests, kv_requests = everything[:first_kv], everything[first_kv:first_ai]
    ai_requests, access_requests = everything[first_ai:first_access], everything[first_access:]
    methods = [r["method"] for r in requests]
    # 6 account events (one a duplicate, one self-caused, both unread): a GET each, plus per drifted account
    # (4) one PATCH (answered settled: nothing to poll) and one verifying GET, plus Key1 and Key2 for the 2
    # accounts with local auth on.
    assert (methods.count("GET"), methods.count("PATCH"), methods.count("POST")) == (11, 4, 4)
    assert not [r for r in requests if "/operationStatuses/" in r["path"]]
    legacy = [(r["method"], r["body"]) for r in requests if "aoai-legacy-lab" in r["path"]]
    assert legacy[1] == (
        "PATCH",
        {
            "properties": {
                "networkAcls": {"defaultAction": "Deny", "ipRules": [], "virtualNetworkRules": []},
                "restrictOutboundNetworkAccess": True,
                "disableLocalAuth": True,
            }
        },
    )
    assert [m for m, _ in legacy] == ["GET", "PATCH", "POST", "POST", "GET"]  # read, PATCH, Key1, Key2, verify
    assert not [r for r in everything if r["path"].lower().endswith("/listkeys")]
    _check_the_key_vault_demo(key_vault, kv_requests, json.loads((out / "state.json").read_text()))
    _check_the_ai_demo(ai, ai_requests, json.loads((out / "state.json").read_text()))
    _check_the_access_demo(access, access_requests, json.loads((out / "state.json").read_text()))
    # The tenant afterwards shows that keys changed only as fingerprints, never a key value.
    kept_keys = json.loads((out / "state.json").read_text())["accountKeys"]
    assert kept_keys and all(v.startswith("sha256:") for pair in kept_keys.values() for v in pair.values())
    state = {r["name"]: r["properties"] for r in json.loads((out / "state.json").read_text())["resources"]}
    assert state["aoai-chat-prod"]["networkAcls"]["defaultAction"] == "Deny"
    assert state["aoai-rag-prod"]["networkAcls"]["ipRules"] == [{"value": "203.0.113.10"}]
    assert state["aoai-partner-lab"]["publicNetworkAccess"] == "Enabled"  # exempt
    assert state["aoai-eval-lab"]["publicNetworkAccess"] == "Enabled"  # no event, no sweep
    assert state["speech-prod"]["publicNetworkAccess"] == "Enabled"  # not an OpenAI account
    assert "remediated" in done.stdout and "aoai-chat-prod" in done.stdout

    verified = warden("verify", "--dir", str(out / "audit"))
    assert verified.returncode == 0 and f"OK: {len(audit)} entries" in verified.stdout
    shown = warden("log", "--dir", str(out / "audit"), "--outcome", "remediated", "--json")
    # 7 account-setting results, 3 Key Vault ones, 2 deployments re-pointed, 4 fine-tuning files deleted, 2 role
    # assignments deleted, 2 diagnostic settings written.
    assert len(shown.stdout.splitlines()) == 20


def _check_the_key_vault_demo(
    records: dict[str, list[str]], requests: list[dict[str, Any]], state: dict[str, Any]
) -> None:
    """A regenerateKey event indexes aoai-cmk-pinned; KeyNearExpiry then protects its vault, sets a rotation
    policy, rotates the key and re-points the account (one action); a person's vaults/write finds it all done;
    aoai-cmk-new's write event configures the CMK its identity may use."""
    fresh, protect, cmk = "encryption.cmk-freshness", "encryption.vault-protection", "encryption.cmk"
    pinned = records["aoai-cmk-pinned"]
    assert [r for r in pinned if not r.startswith("evaluation:")] == [
        f"intent:{fresh}:",
        f"intent:{protect}:",
        f"result:{fresh}:remediated",
        f"result:{protect}:remediated",
    ]
    assert f"evaluation:{protect}:compliant" in pinned[-3:]  # the vaults/write event, after the fix
    assert [r for r in records["aoai-cmk-new"] if not r.startswith("evaluation:")] == [
        f"intent:{cmk}:",
        f"result:{cmk}:remediated",
    ]
    writes = [(r["method"], r["path"].rsplit("/", 2)[-2:]) for r in requests if r["method"] != "GET"]
    assert writes == [
        ("PATCH", ["vaults", "kv-contoso-cmk"]),
        ("PUT", ["aoai-cmk", "rotationpolicy"]),
        ("POST", ["aoai-cmk", "rotate"]),
        ("PATCH", ["accounts", "aoai-cmk-pinned"]),
        ("PATCH", ["accounts", "aoai-cmk-new"]),
    ]
    resources = {r["name"]: r["properties"] for r in state["resources"] if "name" in r}
    versions = state["vaultKeys"]["kv-contoso-cmk"]["aoai-cmk"]["versions"]
    newest = versions[-1]["key"]["kid"].rsplit("/", 1)[-1]
    assert len(versions) == 2 and resources["kv-contoso-cmk"]["enablePurgeProtection"] is True
    assert resources["aoai-cmk-pinned"]["encryption"]["keyVaultProperties"]["keyVersion"] == newest
    assert resources["aoai-cmk-new"]["encryption"]["keySource"] == "Microsoft.KeyVault"
    assert "keySource" not in resources["aoai-cmk-noaccess"].get("encryption", {})  # no event, no sweep


def _check_the_ai_demo(records: dict[str, list[str]], requests: list[dict[str, Any]], state: dict[str, Any]) -> None:
    """A person's deployments/write on aoai-batch-prod: one compliant copy of chat-relaxed, two deployments
    re-pointed (embeddings keeps the compliant default). The write of aoai-ft-lab's fine-tuned deployment:
    the finished job's three files and an old orphan deleted, the exempt one kept and audited."""
    jailbreak, training = "ai.jailbreak-filter", "data.training-files"
    assert records["aoai-batch-prod"] == [
        f"intent:{jailbreak}:",
        f"intent:{jailbreak}:",
        f"result:{jailbreak}:remediated",
        f"result:{jailbreak}:remediated",
    ]
    assert records["aoai-ft-lab"] == [
        f"evaluation:{jailbreak}:compliant",
        f"decision:{training}:exempted",
        *[
            f"{kind}:{training}:{outcome}"
            for _ in range(4)
            for kind, outcome in (("intent", ""), ("result", "remediated"))
        ],
    ]
    writes = [(r["method"], r["path"].rsplit("/", 2)[-2:]) for r in requests if r["method"] != "GET"]
    copy = writes[0][1][1]
    assert copy.startswith("warden-") and writes[:3] == [
        ("PUT", ["raiPolicies", copy]),
        ("PUT", ["deployments", "gpt4o-chat"]),
        ("PUT", ["deployments", "gpt4o-mini"]),
    ]
    assert [w[0] for w in writes[3:]] == ["DELETE"] * 4  # one per file, nothing else
    data = state["openaiData"]
    names = {f["filename"] for files in data.values() for f in files["files"]}
    assert names == {"support-train-v2.jsonl", "claims-train.jsonl", "golden-eval.jsonl", "new-upload.jsonl"}
    deployments = {
        r["name"]: r["properties"].get("raiPolicyName") for r in state["resources"] if "/deployments/" in r["id"]
    }
    assert deployments == {"gpt4o-chat": copy, "gpt4o-mini": copy, "embeddings": None, "support-ft": None}


def _check_the_access_demo(
    records: dict[str, list[str]], requests: list[dict[str, Any]], state: dict[str, Any]
) -> None:
    """A developer's Owner on aoai-ops-prod is deleted, the allowed pipeline's Contributor kept; the contractor's
    group-level grant fans out to ai-apps' one OpenAI account (one list, one DELETE); the former employee's
    subscription Owner is needs-human on each account judged; two accounts get warden-audit, one setting kept."""
    roles, diagnostics = "identity.role-assignments", "logging.diagnostics"
    inherited = f"decision:{roles}:needs-human"
    assert records["aoai-ops-prod"] == [inherited, f"intent:{roles}:", f"result:{roles}:remediated"]
    assert records["aoai-apps-chat"] == [inherited, f"intent:{roles}:", f"result:{roles}:remediated"]
    for name in ("aoai-voice-prod", "aoai-docs-prod"):
        assert records[name] == [f"intent:{diagnostics}:", f"result:{diagnostics}:remediated"]
    writes = [(r["method"], r["path"].rsplit("/", 3)[-3:]) for r in requests if r["method"] != "GET"]
    assert writes == [
        ("DELETE", ["Microsoft.Authorization", "roleAssignments", "3a4f5e6d-7c8b-49aa-8998-877665544c32"]),
        ("DELETE", ["Microsoft.Authorization", "roleAssignments", "5c6b7a8f-9ead-4bcc-8bba-a99887766e54"]),
        ("PUT", ["Microsoft.Insights", "diagnosticSettings", "warden-audit"]),
        ("PUT", ["Microsoft.Insights", "diagnosticSettings", "warden-audit"]),
    ]
    group_lists = [
        r
        for r in requests
        if r["path"].lower().endswith("/resourcegroups/ai-apps/providers/microsoft.cognitiveservices/accounts")
    ]
    assert len(group_lists) == 1 and not [r for r in requests if "speech-apps" in r["path"]]
    left = {r["name"] for r in state["resources"] if r["type"] == "Microsoft.Authorization/roleAssignments"}
    assert "4b5a6f7e-8d9c-4abb-9aa9-988776655d43" in left  # the pipeline's Contributor (allowed)
    assert "6d7c8b9a-afbe-4cdd-9ccb-baa998877f65" in left  # warden's own
    assert "2f3e4d5c-6b7a-4899-8887-766554433b21" in left  # the inherited Owner: reported, not touched
    settings = {
        r["id"].split("/accounts/")[1].split("/")[0] + "/" + r["name"]: r["properties"]
        for r in state["resources"]
        if r["type"] == "Microsoft.Insights/diagnosticSettings"
    }
    assert settings["aoai-docs-prod/team"]["workspaceId"].endswith("/law-contoso-dev")  # kept as it was
    for name in ("aoai-docs-prod", "aoai-voice-prod"):
        assert settings[f"{name}/warden-audit"] == {
            "workspaceId": settings["aoai-chat-prod/warden-audit"]["workspaceId"],
            "logs": [{"categoryGroup": "audit", "enabled": True}],
        }


def test_replay_with_sweep_catches_drift_that_sent_no_event(tmp_path: Path) -> None:
    out = tmp_path / "out"
    done = run_replay(out, "--self-object-id", WARDEN_OID, "--sweep")
    assert done.returncode == 0, done.stderr
    state = {r["name"]: r["properties"] for r in json.loads((out / "state.json").read_text())["resources"]}
    assert state["aoai-eval-lab"]["networkAcls"]["defaultAction"] == "Deny"


def test_dry_run_replay_changes_nothing(tmp_path: Path) -> None:
    out = tmp_path / "out"
    done = run_replay(out, "--mode", "dry-run", "--sweep")
    assert done.returncode == 0, done.stderr
    assert all(r["method"] == "GET" for r in jsonl(out / "requests.jsonl"))
    outcomes = {e["outcome"] for e in jsonl(out / "audit.jsonl")}
    assert "would-remediate" in outcomes and "remediated" not in outcomes


def test_replay_reads_the_fixture_layout_with_its_events_wrapper(tmp_path: Path) -> None:
    # {"_note": ..., "events": [...]}: each item is delivered, the wrapper itself is not an event.
    fixture = reference_dir() / "eventgrid" / "derived" / "cognitiveservices_arm_events.json"
    count = len(json.loads(fixture.read_text())["events"])
    out = tmp_path / "out"
    done = run_replay(out, events=fixture)
    assert done.returncode == 0, done.stderr
    assert f"{count} event(s) delivered, 0 rejected," in done.stdout
    assert not [e for e in jsonl(out / "audit.jsonl") if e["outcome"] == "rejected"]


def test_replay_audits_a_malformed_item_where_it_is_in_the_stream(tmp_path: Path) -> None:
    demo = json.loads((DEMO / "events.json").read_text())
    first, last = demo[2], demo[6]  # aoai-batch-prod (compliant), aoai-legacy-lab (drifted)
    malformed = copy.deepcopy(demo[1])
    malformed["id"] = "bad-1"
    del malformed["data"]["operationName"]
    result = cli_replay.replay(
        json.loads((DEMO / "tenant.json").read_text()),
        [first, malformed, last],
        baseline_path=DEMO / "baseline.yaml",
        work_dir=tmp_path,
    )
    assert (result.delivered, result.rejected) == (2, 1)
    trail = [(e["resourceId"].rsplit("/", 1)[-1], e["outcome"], e["eventId"]) for e in result.audit]
    rejected_at = trail.index(("", "rejected", "bad-1"))
    assert 0 < rejected_at < len(trail) - 1
    assert {name for name, _, _ in trail[:rejected_at]} == {"aoai-batch-prod"}
    assert {name for name, _, _ in trail[rejected_at + 1 :]} == {"aoai-legacy-lab"}
    assert "data.operationName is missing" in result.audit[rejected_at]["error"]


def test_check_baseline(tmp_path: Path) -> None:
    good = warden("check-baseline", str(DEMO / "baseline.yaml"))
    assert good.returncode == 0 and "valid" in good.stdout
    bad = tmp_path / "bad.yaml"
    bad.write_text((DEMO / "baseline.yaml").read_text().replace("approved_ip_ranges:", "aproved_ip_ranges:"))
    refused = warden("check-baseline", str(bad))
    assert refused.returncode == 2
    assert "bad.yaml:" in refused.stderr and "aproved_ip_ranges" in refused.stderr


def emulator_env(emu: Any, tmp_path: Path) -> dict[str, str]:
    """The environment of `warden sweep` against the emulator with the demo baseline, state and audit in tmp_path."""
    return {
        **os.environ,
        "WARDEN_BASELINE": str(DEMO / "baseline.yaml"),
        "WARDEN_ARM_ENDPOINT": emu.endpoint,
        "WARDEN_ARM_CA_BUNDLE": emu.ca_path,
        "WARDEN_VAULT_ENDPOINT": emu.vault_endpoint,
        "WARDEN_OPENAI_ENDPOINT": emu.openai_endpoint,
        "WARDEN_CREDENTIAL": "static",
        "WARDEN_AUDIT_DIR": str(tmp_path / "audit"),
        "WARDEN_STATE_DIR": str(tmp_path / "state"),
    }


def test_sweep_command_uses_the_environment_settings(tmp_path: Path) -> None:

    from emulator import Emulator

    scenario = json.loads((DEMO / "tenant.json").read_text())
    with Emulator(scenario) as emu:
        env = emulator_env(emu, tmp_path)
        done = warden("sweep", "--mode", "dry-run", env=env)
        assert done.returncode == 0, done.stderr
        # The demo baseline has controls a query cannot express: the sweep lists the pages.
        assert "swept 15 account(s) in 1 list page(s)" in done.stdout and "would-remediate" in done.stdout
        assert all(r.method == "GET" for r in emu.requests)


def test_replay_goes_on_after_an_event_event_grid_would_redeliver(tmp_path: Path) -> None:
    scenario = json.loads((DEMO / "tenant.json").read_text())
    scenario["faults"] = [
        {"method": "PATCH", "path": "aoai-chat-prod$", "kind": "throttle", "count": 50, "retryAfter": 0.01}
    ]
    state = tmp_path / "tenant.json"
    state.write_text(json.dumps(scenario))
    out = tmp_path / "out"
    done = run_replay(out, "--self-object-id", WARDEN_OID, state=state)
    assert done.returncode == 0, done.stderr
    assert (
        "would be redelivered: 1f0c3a7e" in done.stdout and "2 left for Event Grid to redeliver" in done.stdout
    )  # the event and its duplicate
    rag = [e for e in jsonl(out / "audit.jsonl") if e["resourceId"].endswith("aoai-rag-prod")]
    outcomes = [
        e["outcome"] for e in rag if not e["controlId"].startswith("encryption.") and "vault" not in e["controlId"]
    ]
    assert outcomes == ["compliant", "", "", "remediated", "remediated"]  # events after the failed one still came


def test_controls_lists_the_derived_permissions_and_never_list_keys() -> None:
    from warden.registry import PERMISSIONS

    done = warden("controls", "--json")
    assert done.returncode == 0, done.stderr
    doc = json.loads(done.stdout)
    assert set(doc["permissions"]) == PERMISSIONS
    assert set(doc["controls"]) == set(DESIGN_IDS)  # every control of the design guide is implemented
    assert "Microsoft.CognitiveServices/accounts/regenerateKey/action" in doc["controls"]["identity.local-auth"]
    assert "Microsoft.KeyVault/vaults/keys/rotate/action" in doc["controls"]["encryption.cmk-freshness"]
    assert "Microsoft.Authorization/roleAssignments/delete" in doc["controls"]["identity.role-assignments"]
    assert "Microsoft.Insights/diagnosticSettings/write" in doc["controls"]["logging.diagnostics"]
    # warden never reads a key or a secret value: no listKeys, no getSecret.
    assert not [p for p in PERMISSIONS if "listKeys" in p or "getSecret" in p]


def test_replay_runs_warden_and_the_emulator_on_one_clock_from_now(tmp_path: Path) -> None:
    """`--now` (or $WARDEN_NOW) starts the clock warden and the emulator share: audit times begin there, and
    the emulator purges a soft-deleted account whose purge date that clock has passed, and keeps one it has not."""
    scenario = json.loads((DEMO / "tenant.json").read_text())
    gone = (
        f"/subscriptions/{SUBSCRIPTION}/providers/Microsoft.CognitiveServices/locations/swedencentral/resourceGroups/rg"
    )
    scenario["deletedAccounts"] = [
        {"id": f"{gone}/deletedAccounts/{name}", "name": name, "properties": {"scheduledPurgeDate": purge}}
        for name, purge in (("purged", "2031-02-28T00:00:00.0000000Z"), ("kept", "2031-03-02T00:00:00.0000000Z"))
    ]
    state = tmp_path / "tenant.json"
    state.write_text(json.dumps(scenario))
    for how in ("flag", "env"):
        out = tmp_path / how
        if how == "flag":
            done = run_replay(out, "--now", "2031-03-01T08:00:00Z", state=state)
        else:
            done = run_replay(out, state=state, env={**os.environ, "WARDEN_NOW": "2031-03-01T08:00:00Z"})
        assert done.returncode == 0, done.stderr
        times = [e["time"] for e in jsonl(out / "audit.jsonl")]
        assert times and all(t.startswith("2031-03-01T08:0") for t in times), times[:3]
        deleted = json.loads((out / "state.json").read_text())["deletedAccounts"]
        assert [d["name"] for d in deleted] == ["kept"]


def test_replay_refuses_an_instant_without_a_timezone(tmp_path: Path) -> None:
    done = run_replay(tmp_path / "out", "--now", "2031-03-01T08:00:00")
    assert done.returncode == 2
    assert "no timezone" in done.stderr


def test_only_the_replay_reads_warden_now() -> None:
    """WARDEN_NOW is a test hook for replays against the emulator: the Function App never reads it."""
    readers = [
        str(p.relative_to(REPO))
        for p in [REPO / "function_app.py", *(REPO / "warden").rglob("*.py")]
        if "WARDEN_NOW" in p.read_text()
    ]
    assert readers == ["warden/cli_replay.py"]


def test_sweep_and_replay_summaries_escape_control_characters(tmp_path: Path, monkeypatch: Any, capsys: Any) -> None:
    # An id from a hostile tenant or event must not forge summary lines or reach the terminal as an escape.
    import types

    from warden import cli, settings
    from warden import sweep as sweeping
    from warden.azure import wiring
    from warden.sweep import SweepReport

    hostile = "evt-1\nswept 999 account(s): 0 failed\x1b[2J\u202e"
    report = SweepReport(accounts=1, outcomes={"compliant": 1}, errors=[f"{hostile}: HTTP 500"])
    from warden.azure.credentials import StaticTokenCredential

    fake_settings = types.SimpleNamespace(baseline_path=DEMO / "baseline.yaml", arm_endpoint="https://127.0.0.1:1")
    monkeypatch.setattr(settings, "load_settings", lambda: fake_settings)
    monkeypatch.setattr(wiring, "build_credential", lambda s: StaticTokenCredential())
    monkeypatch.setattr(wiring, "build_runtime", lambda s, **_: None)
    monkeypatch.setattr(sweeping, "sweep", lambda rt, trigger, **_: report)
    assert cli.main(["sweep"]) == 1
    result = cli_replay.ReplayResult(redelivery=[f"{hostile}: throttled"])
    monkeypatch.setattr(cli_replay, "replay", lambda *a, **k: result)
    for name in ("state.json", "events.json"):
        (tmp_path / name).write_text("{}")
    out = tmp_path / "out"
    argv = ["replay", "--state", str(tmp_path / "state.json"), "--events", str(tmp_path / "events.json")]
    assert cli.main([*argv, "--out", str(out), "--now", "2024-05-01T00:00:00Z"]) == 0
    captured = capsys.readouterr()
    for text in (captured.out, captured.err):
        assert "\x1b" not in text and "\u202e" not in text
        assert not any(line.startswith("swept 999") for line in text.splitlines())  # no forged line
    assert "error: evt-1\\nswept 999 account(s): 0 failed\\x1b[2J\\u202e: HTTP 500" in captured.err
    assert "would be redelivered: evt-1\\nswept 999 account(s): 0 failed\\x1b[2J\\u202e: throttled" in captured.out
