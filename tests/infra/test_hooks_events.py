"""infra/hooks/subscribe_events.py run as azd runs it (postdeploy), against a stand-in for `az`: the exact deployment
of infra/events.bicep, and every error; and both hooks use the standard library only."""

from __future__ import annotations

import sys

import pytest

from tests.infra.hooks_rig import EVENTS, REPO, SUB_A, SUB_B, Rig, assert_failed

APP = f"/subscriptions/{SUB_A}/resourceGroups/rg-dev/providers/Microsoft.Web/sites/func-warden"
STORAGE = f"/subscriptions/{SUB_A}/resourceGroups/rg-dev/providers/Microsoft.Storage/storageAccounts/stwarden"
IDENTITY = f"/subscriptions/{SUB_A}/resourceGroups/rg-dev/providers/Microsoft.ManagedIdentity/userAssignedIdentities/e"
VAULT = f"/subscriptions/{SUB_B}/resourceGroups/rg-keys/providers/Microsoft.KeyVault/vaults/kv-cmk"
OUTPUTS = dict(AZURE_LOCATION="swedencentral", AZURE_FUNCTION_APP_ID=APP, WARDEN_SCOPE_SUBSCRIPTIONS=f"{SUB_A},{SUB_B}")
OUTPUTS.update(AZURE_STORAGE_ACCOUNT_ID=STORAGE, WARDEN_DEAD_LETTER_CONTAINER="eventgrid-deadletter")
OUTPUTS.update(WARDEN_EVENTS_IDENTITY_ID=IDENTITY)


def deployment(key_vault_ids: str) -> list[str]:
    return [
        *("az", "deployment", "sub", "create", "--name", "warden-events-dev", "--location", "swedencentral"),
        *("--subscription", SUB_A, "--template-file", str(REPO / "infra" / "events.bicep"), "--parameters"),
        *("location=swedencentral", "environmentName=dev"),
        *(f"functionAppId={APP}", f"subscriptionIds={SUB_A},{SUB_B}", f"keyVaultIds={key_vault_ids}"),
        *(f"deadLetterStorageId={STORAGE}", "deadLetterContainer=eventgrid-deadletter", f"eventsIdentityId={IDENTITY}"),
        *("--output", "none"),
    ]


@pytest.fixture
def events(rig: Rig) -> Rig:
    rig.env.update(OUTPUTS)
    return rig


@pytest.mark.parametrize(
    ("vaults", "passed"),
    [("", ""), (f" {VAULT} ,{VAULT},{VAULT[:-3]}two", f"{VAULT},{VAULT[:-3]}two")],
    ids=["no-vaults", "vaults"],
)
def test_events_are_deployed_with_exactly_these_parameters(events: Rig, vaults: str, passed: str) -> None:
    events.env["WARDEN_KEY_VAULT_IDS"] = vaults
    result = events.run(EVENTS)
    assert (result.code, result.err) == (0, "")
    assert result.calls == [deployment(passed)]
    assert result.out.splitlines() == [
        "warden events: deploying warden-events-dev (Event Grid for 2 subscription(s)); this takes a few minutes",
        "warden events: deployment warden-events-dev succeeded: events now reach func-warden",
    ]


def test_missing_outputs_are_named_and_nothing_is_deployed(events: Rig) -> None:
    del events.env["AZURE_FUNCTION_APP_ID"]
    events.env["WARDEN_EVENTS_IDENTITY_ID"] = " "
    result = events.run(EVENTS)
    message = "the azd environment has no AZURE_FUNCTION_APP_ID, WARDEN_EVENTS_IDENTITY_ID: run `azd provision` first"
    assert_failed(result, message, hook="warden events")
    assert result.calls == []


@pytest.mark.parametrize(
    "vault",
    ["kv-cmk", VAULT.replace("KeyVault/vaults", "Storage/accounts"), VAULT.replace(SUB_B, "x"), VAULT + "/keys/k"],
)
def test_a_malformed_vault_id_is_refused_before_az_runs(events: Rig, vault: str) -> None:
    events.env["WARDEN_KEY_VAULT_IDS"] = f"{VAULT},{vault}"
    result = events.run(EVENTS)
    assert_failed(result, f"WARDEN_KEY_VAULT_IDS: {vault!r} is not a Key Vault id", hook="warden events")
    assert result.calls == []


@pytest.mark.parametrize(
    ("stderr", "rc", "message"),
    [
        ('ERROR: {"message": "Only one system topic is allowed per source."}\n', 3, "(exit 3): a watched subscription"),
        ("ERROR: Please run 'az login' to setup account.\n", 1, "az is not signed in: run `az login`"),
        ("WARNING: x\nERROR: something else broke\n", 1, "failed (exit 1): ERROR: something else broke; fix it"),
    ],
    ids=["topic-exists", "not-signed-in", "other"],
)
def test_an_az_failure_passes_its_exit_code_with_a_hint(events: Rig, stderr: str, rc: int, message: str) -> None:
    events.env.update(FAKE_AZ_STDERR=stderr, FAKE_AZ_RC=str(rc))
    result = events.run(EVENTS)
    assert result.code == rc
    assert result.calls == [deployment("")]
    assert result.err.startswith(stderr)  # az's own error first, as az printed it
    last = result.err[len(stderr) :]
    assert last.startswith("warden events: error: ") and last.count("\n") == 1 and message in last, last


def test_the_hooks_do_not_import_anything_outside_the_standard_library() -> None:
    allowed = set(sys.stdlib_module_names) | {"_azd", "__future__"}
    for path in sorted((REPO / "infra" / "hooks").glob("*.py")):
        imports = [line.split() for line in path.read_text().splitlines() if line.startswith(("import ", "from "))]
        assert imports and all(words[1].split(".")[0] in allowed for words in imports), (path, imports)
