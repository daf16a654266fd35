"""Control encryption.cmk-freshness: the customer-managed key an account uses is enabled, not expired or near
expiry, younger than the baseline's maximum age, and Key Vault rotates it on schedule (a rotation policy).

The fix sets the rotation policy, rotates the key when its newest version is stale too, and re-points an
account that pins an old version (to the newest version, or versionless if the baseline says so).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from remediators.key_version import PointAtKeyVersion
from remediators.rotate_key import RotateKey
from remediators.rotation_policy import PutRotationPolicy
from warden.cmk import describe_policy, rotates_in_time, staleness, version_facts
from warden.control import ACCOUNT_WRITTEN, KEY_EVENTS, Control, Fact, Facts, param
from warden.model import Finding, Json
from warden.params import boolean
from warden.params_vault import days
from warden.steps import Step


@dataclass(frozen=True)
class Params:
    max_age_days: int = field(default=180, metadata=param(days, "oldest a key version in use may be"))
    expiry_warning_days: int = field(default=30, metadata=param(days, "act this long before a version expires"))
    versionless: bool = field(default=False, metadata=param(boolean, "re-point pinned accounts versionless"))


def detect(facts: Facts, params: Params) -> list[Finding]:
    account, enc = facts.account, facts.account.encryption
    if enc is None or not enc.customer_managed or not enc.key_vault_uri or not enc.key_name:
        return []  # no CMK at all is encryption.cmk's finding
    key = facts.key(enc.key_vault_uri, enc.key_name, enc.key_version or None)
    rid, where = account.resource_id, f"{enc.key_vault_uri.rstrip('/')}/keys/{enc.key_name}"
    if key is None:
        summary = f"the CMK {where} (version {enc.key_version or 'newest'}) is not found: a human must restore it"
        return [Finding(CONTROL.id, rid, summary, {"keyId": where, "version": enc.key_version}, {"keyId": "exists"})]
    now, age, warn = facts.now, params.max_age_days, params.expiry_warning_days
    problems, policy_ok = staleness(key.in_use, now, age, warn), rotates_in_time(key.rotation_policy, age)
    if not problems and policy_ok:
        return []
    fix: list[Step] = []
    if not policy_ok:  # versions expire 2 warnings after the rotation date: a failed rotation still notifies
        expiry = age + 2 * warn
        before = describe_policy(key.rotation_policy)
        fix.append(PutRotationPolicy(key.key_id, key.vault_uri, key.name, age, warn, expiry, before))
    if problems and staleness(key.latest, now, age, warn):
        fix.append(RotateKey(key.key_id, key.vault_uri, key.name, key.latest.version))
    if problems and enc.key_version:
        fix.append(PointAtKeyVersion(rid, enc, params.versionless, account.etag))
    observed: dict[str, Json] = {"keyId": key.key_id, "inUse": version_facts(key.in_use)}
    observed["rotationPolicy"] = describe_policy(key.rotation_policy)
    expected: dict[str, Json] = {"maxAgeDays": age, "expiryWarningDays": warn, "rotationPolicy": f"rotate by P{age}D"}
    why = "; ".join(problems + ([] if policy_ok else [f"no rotation policy rotating it by P{age}D"]))
    summary = f"the CMK {key.key_id} version {key.in_use.version} is not fresh: {why}"
    return [Finding(CONTROL.id, rid, summary, observed, expected, tuple(fix))]


CONTROL = Control(
    id="encryption.cmk-freshness",
    summary="the CMK in use is enabled, not near expiry, younger than the max age, with a rotation policy",
    params=Params,
    routes=(ACCOUNT_WRITTEN, *KEY_EVENTS),
    facts=frozenset({Fact.ACCOUNT, Fact.KEY}),
    steps=(PutRotationPolicy, RotateKey, PointAtKeyVersion),
    detect=detect,
)
