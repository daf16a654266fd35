"""Control identity.key-vault-keys: an account that must keep key (local) auth, by an exemption from
identity.local-auth, holds its keys only in the Key Vault secret the baseline maps, rotated within a max age.

The fix is dual-key rotation: regenerate the key not in use, store it as the secret's new version marked
active; the next due run does the same for the other key. Callers always find a working key in the secret.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from remediators.key_to_secret import ACTIVE_TAG, KeyToSecret
from warden.control import ACCOUNT_WRITTEN, KEY_REGENERATED, Control, Fact, Facts, param
from warden.model import Finding, Json
from warden.params_vault import KeySecret, days, key_secrets, secret_for

_OTHER = {"Key1": "Key2", "Key2": "Key1"}


@dataclass(frozen=True)
class Params:
    secrets: tuple[KeySecret, ...] = field(
        default=(), metadata=param(key_secrets, "which secret holds which accounts' keys: {account, vault, secret}")
    )
    max_age_days: int = field(default=90, metadata=param(days, "oldest the key in use may be"))


def detect(facts: Facts, params: Params) -> list[Finding]:
    account = facts.account
    if account.disable_local_auth is True or not facts.exempted("identity.local-auth"):
        return []  # keys are off, or identity.local-auth turns them off: nothing to hold
    rid = account.resource_id
    mapped = secret_for(params.secrets, rid)
    found = facts.vault(mapped.vault) if mapped else None
    if mapped is None or found is None:
        why = "no secret is mapped to it in the baseline" if mapped is None else f"vault {mapped.vault} is not found"
        summary = f"local auth is exempt, so the account uses keys, but {why}: a human must map one"
        return [Finding(CONTROL.id, rid, summary, {"secretId": None}, {"secretId": "mapped, in a vault in scope"})]
    secret = facts.secret(found.vault_uri, mapped.secret)
    active = secret.tags.get(ACTIVE_TAG) if secret else None
    where = f"{found.vault_uri.rstrip('/')}/secrets/{mapped.secret}"
    if secret is not None and active not in _OTHER:
        summary = f"{where} does not say which key it holds (tag {ACTIVE_TAG}): a human must tag it Key1 or Key2"
        untagged: dict[str, Json] = {"secretId": where, "activeKeyTag": active}
        return [Finding(CONTROL.id, rid, summary, untagged, {"activeKeyTag": "Key1|Key2"})]
    max_age = timedelta(days=params.max_age_days)
    created = secret.created if secret else None
    if secret is not None and created is not None and facts.now - created < max_age and secret.enabled is not False:
        return []
    # No secret yet: Key2 is stored first, so a caller still on Key1 keeps working.
    regenerate = _OTHER.get(active or "", "Key2")
    step = KeyToSecret(rid, regenerate, found.vault_uri, mapped.secret, facts.now + 2 * max_age)
    observed: dict[str, Json] = {
        "secretId": where,
        "activeKeyName": active,
        "written": created.isoformat() if created else None,
    }
    reason = (
        "not held in Key Vault yet" if secret is None else f"the key in use is older than {params.max_age_days} days"
    )
    summary = f"the account's keys: {reason}; rotate {regenerate} into {where}"
    return [Finding(CONTROL.id, rid, summary, observed, {"maxAgeDays": params.max_age_days}, (step,))]


CONTROL = Control(
    id="identity.key-vault-keys",
    summary="accounts exempt from local-auth hold their keys only in a Key Vault secret, rotated in time",
    params=Params,
    routes=(ACCOUNT_WRITTEN, KEY_REGENERATED),
    facts=frozenset({Fact.ACCOUNT, Fact.EXEMPTIONS, Fact.VAULT, Fact.SECRET}),
    steps=(KeyToSecret,),
    detect=detect,
)
