"""Control identity.local-auth: callers use Entra ID, not account keys (`disableLocalAuth` true).

The fix turns key auth off and then regenerates Key1 and Key2, since the keys may have leaked while they
worked. Keys are never listed or read: the regeneration's answer is discarded in the adapter.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from remediators.account_patch import AccountPatch
from remediators.regenerate_key import KEY_NAMES, RegenerateKey
from warden.control import ACCOUNT_WRITTEN, KEY_REGENERATED, KEYS_LISTED, Control, Fact, Facts, GraphQuery, param
from warden.model import Finding
from warden.params import boolean
from warden.steps import Step


@dataclass(frozen=True)
class Params:
    regenerate_keys: bool = field(
        default=True, metadata=param(boolean, "after turning key auth off, regenerate Key1 and Key2")
    )


def detect(facts: Facts, params: Params) -> list[Finding]:
    account = facts.account
    if account.disable_local_auth is True:  # missing or null means keys work (Azure's default)
        return []
    observed = {"disableLocalAuth": account.disable_local_auth}
    fix: list[Step] = [AccountPatch.of(account, {"disableLocalAuth": True}, observed)]
    if params.regenerate_keys:
        fix += [RegenerateKey(account.resource_id, name) for name in KEY_NAMES]
    summary = "local (key) authentication is enabled; the keys may have leaked while it was"
    return [Finding(CONTROL.id, account.resource_id, summary, observed, {"disableLocalAuth": True}, tuple(fix))]


CONTROL = Control(
    id="identity.local-auth",
    summary="disableLocalAuth true (Entra ID instead of keys); the keys are regenerated after it was off",
    params=Params,
    routes=(ACCOUNT_WRITTEN, KEYS_LISTED, KEY_REGENERATED),
    facts=frozenset({Fact.ACCOUNT}),
    steps=(AccountPatch, RegenerateKey),
    detect=detect,
    graph=GraphQuery(
        where="tostring(properties.disableLocalAuth) !~ 'true'",
        properties=("disableLocalAuth",),
    ),
)
