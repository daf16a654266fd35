"""azd hook (postdeploy): deploys infra/events.bicep at subscription scope, the Event Grid topics and subscriptions
that deliver each watched subscription's events (and the CMK vaults' key events) to the function, once its code exists.
Standard library only; the deployment is incremental, so running it again is safe."""

from __future__ import annotations

import re
import sys
from pathlib import Path

from _azd import Hook, env, is_guid, last_line, split_list, unique

HOOK = Hook("warden events")
TEMPLATE = Path(__file__).resolve().parents[1] / "events.bicep"
#: The main deployment's outputs (and azd's own values) this hook needs, by azd environment name.
REQUIRED = (
    "AZURE_ENV_NAME",
    "AZURE_LOCATION",
    "AZURE_SUBSCRIPTION_ID",
    "AZURE_FUNCTION_APP_ID",
    "WARDEN_SCOPE_SUBSCRIPTIONS",
    "AZURE_STORAGE_ACCOUNT_ID",
    "WARDEN_DEAD_LETTER_CONTAINER",
    "WARDEN_EVENTS_IDENTITY_ID",
)
_VAULT = re.compile(
    r"/subscriptions/(?P<sub>[^/]+)/resourceGroups/[^/]+/providers/Microsoft\.KeyVault/vaults/[^/]+", re.IGNORECASE
)
#: Known az failures (a text in its error output) and what to do about each.
HINTS = (
    (
        "Only one system topic is allowed per source",
        "a watched subscription already has a Microsoft.Resources.Subscriptions system topic (Azure allows one per "
        "subscription): see docs/deploy.md for reusing or removing it",
    ),
    ("az login", "az is not signed in: run `az login` (azd's own sign-in does not cover az), then `azd deploy`"),
    (
        "AuthorizationFailed",
        "the signed-in account may not deploy at subscription scope or assign roles there: it needs Owner (or "
        "Contributor and User Access Administrator) on every watched subscription",
    ),
)


def vault_ids() -> list[str]:
    """WARDEN_KEY_VAULT_IDS as vault ARM ids, each once; a malformed item is a failure with the expected shape."""
    items = unique(split_list(env("WARDEN_KEY_VAULT_IDS")))
    for item in items:
        found = _VAULT.fullmatch(item)
        if not found or not is_guid(found.group("sub")):
            HOOK.fail(
                f"WARDEN_KEY_VAULT_IDS: {item!r} is not a Key Vault id: expected /subscriptions/<guid>/resourceGroups"
                "/<group>/providers/Microsoft.KeyVault/vaults/<name>; fix it with `azd env set WARDEN_KEY_VAULT_IDS "
                "<id>,<id>` (or '' for none)"
            )
    return items


def command() -> list[str]:
    """The az command line; every value checked first, so that a bad value never reaches Azure."""
    missing = [name for name in REQUIRED if not env(name)]
    if missing:
        HOOK.fail(f"the azd environment has no {', '.join(missing)}: run `azd provision` first")
    subscriptions = split_list(env("WARDEN_SCOPE_SUBSCRIPTIONS"))
    bad = [item for item in subscriptions if not is_guid(item)]
    if bad or not subscriptions:
        HOOK.fail("WARDEN_SCOPE_SUBSCRIPTIONS is not a list of subscription ids: run `azd provision` again")
    if not TEMPLATE.is_file():
        HOOK.fail(f"{TEMPLATE} is missing: run this from a complete checkout of warden")
    name, location = env("AZURE_ENV_NAME"), env("AZURE_LOCATION")
    parameters = {
        "location": location,
        "environmentName": name,
        "functionAppId": env("AZURE_FUNCTION_APP_ID"),
        "subscriptionIds": ",".join(unique(s.lower() for s in subscriptions)),
        "keyVaultIds": ",".join(vault_ids()),
        "deadLetterStorageId": env("AZURE_STORAGE_ACCOUNT_ID"),
        "deadLetterContainer": env("WARDEN_DEAD_LETTER_CONTAINER"),
        "eventsIdentityId": env("WARDEN_EVENTS_IDENTITY_ID"),
    }
    return [
        *("az", "deployment", "sub", "create"),
        *("--name", f"warden-events-{name}"[:64], "--location", location),
        *("--subscription", env("AZURE_SUBSCRIPTION_ID"), "--template-file", str(TEMPLATE)),
        *("--parameters", *(f"{key}={value}" for key, value in parameters.items())),
        *("--output", "none"),
    ]


def main() -> int:
    argv = command()
    count = len(split_list(env("WARDEN_SCOPE_SUBSCRIPTIONS")))
    HOOK.say(f"deploying {argv[5]} (Event Grid for {count} subscription(s)); this takes a few minutes")
    proc = HOOK.run(argv)
    if proc.returncode == 0:
        HOOK.say(f"deployment {argv[5]} succeeded: events now reach {env('AZURE_FUNCTION_APP_ID').rsplit('/', 1)[-1]}")
        return 0
    sys.stderr.write(proc.stderr if proc.stderr.endswith("\n") or not proc.stderr else proc.stderr + "\n")
    output = proc.stdout + proc.stderr
    hint = next((fix for text, fix in HINTS if text.lower() in output.lower()), None)
    failed = f"`az deployment sub create` failed (exit {proc.returncode})"
    HOOK.fail(
        f"{failed}: {hint}" if hint else f"{failed}: {last_line(proc.stderr)}; fix it, then run `azd deploy` again",
        code=proc.returncode,
    )


if __name__ == "__main__":
    raise SystemExit(main())
