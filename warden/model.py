"""The engine's frozen value types: events, snapshots, findings, plans, actions, outcomes, audit records.

SDK models and raw JSON become these at the boundary, once; everything inside the engine speaks only these.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, TypeAlias, Union

# The id helpers live in warden.ids; re-exported (the `x as x` form, which strict mypy needs) because the
# engine has always imported them from here.
from warden.ids import account_id_of as account_id_of  # noqa: PLC0414
from warden.ids import normalize_id as normalize_id  # noqa: PLC0414
from warden.ids import same_id as same_id  # noqa: PLC0414

if TYPE_CHECKING:
    from warden.steps import Step

#: A JSON value (what observed/expected values, changes and raw events hold). Read-only container types, so
#: that a list[str] or dict[str, str] is one too.
Json: TypeAlias = Union[bool, int, float, str, Sequence["Json"], Mapping[str, "Json"], None]  # noqa: UP007


class Mode(enum.StrEnum):
    """How far warden may go for a control: change things, only say what it would change, or nothing."""

    ENFORCE = "enforce"
    DRY_RUN = "dry-run"
    OFF = "off"

    @property
    def rank(self) -> int:
        """Lower is more conservative; the more conservative of two modes wins an override."""
        return {"off": 0, "dry-run": 1, "enforce": 2}[self.value]


class EventSchema(enum.StrEnum):
    EVENT_GRID = "EventGridEvent"
    CLOUD_EVENT = "CloudEvent"


@dataclass(frozen=True)
class Caller:
    """Who caused a change, from the event's `data.claims`: the Entra object id and application id."""

    object_id: str | None = None
    app_id: str | None = None


@dataclass(frozen=True)
class ResourceEvent:
    """A pointer to a changed resource, never its state: what happened, to what, by whom."""

    event_id: str
    event_type: str  # e.g. Microsoft.Resources.ResourceWriteSuccess
    schema: EventSchema
    resource_id: str  # data.resourceUri, falling back to subject
    operation_name: str  # data.operationName, e.g. Microsoft.CognitiveServices/accounts/write
    subscription_id: str
    tenant_id: str
    correlation_id: str
    caller: Caller
    event_time: datetime | None
    status: str = ""
    # Event-type specific pointers (Key Vault: Id, VaultName, ObjectType, ObjectName, Version, NBF, EXP;
    # Storage: url, api). Left out of the hash so events stay hashable; never holds claims.
    details: Mapping[str, Json] = field(default_factory=dict, hash=False)


@dataclass(frozen=True)
class NetworkAcls:
    """`properties.networkAcls` of an account (a NetworkRuleSet); raw rule dicts are kept to be re-sent as-is."""

    default_action: str | None
    bypass: str | None
    ip_rules: tuple[str, ...]
    virtual_network_rules: tuple[Mapping[str, Json], ...]


@dataclass(frozen=True)
class Encryption:
    """`properties.encryption` of an account: who holds the key, and which Key Vault key it is (a customer-
    managed key, CMK). An empty or missing `key_version` means versionless: the account follows the newest."""

    key_source: str | None
    key_vault_uri: str | None = None
    key_name: str | None = None
    key_version: str | None = None
    identity_client_id: str | None = None  # a user-assigned identity's client id; None: the system-assigned one

    @property
    def customer_managed(self) -> bool:
        return (self.key_source or "").lower() == "microsoft.keyvault"

    def to_arm(self) -> dict[str, Json]:
        """Its ARM JSON (ARM names), as a PATCH sends it: the whole object, so nothing is half-merged."""
        props = {
            "keyName": self.key_name,
            "keyVaultUri": self.key_vault_uri,
            "keyVersion": self.key_version,
            "identityClientId": self.identity_client_id,
        }
        out: dict[str, Json] = {"keySource": self.key_source}
        if self.customer_managed:
            out["keyVaultProperties"] = {k: v for k, v in props.items() if v is not None}
        return out

    @classmethod
    def from_arm(cls, data: Mapping[str, Json]) -> Encryption:
        """The inverse of `to_arm` (a stored step's encryption); an empty string reads as absent."""
        props = data.get("keyVaultProperties")
        props = props if isinstance(props, Mapping) else {}

        def text(value: Json) -> str | None:
            return str(value) if value not in (None, "") else None

        return cls(
            key_source=text(data.get("keySource")),
            key_vault_uri=text(props.get("keyVaultUri")),
            key_name=text(props.get("keyName")),
            key_version=text(props.get("keyVersion")),
            identity_client_id=text(props.get("identityClientId")),
        )


@dataclass(frozen=True)
class AccountIdentity:
    """The account's managed identities: the system-assigned principal, and user-assigned client id ->
    principal id."""

    type: str | None
    principal_id: str | None = None
    user_assigned: Mapping[str, str] = field(default_factory=dict)

    def principal_for(self, client_id: str | None) -> str | None:
        """The principal that uses a key: the user-assigned identity with `client_id`, else the system one."""
        if client_id:
            return next((p for c, p in self.user_assigned.items() if c.lower() == client_id.lower()), None)
        return self.principal_id if "systemassigned" in (self.type or "").lower() else None


@dataclass(frozen=True)
class AccountSnapshot:
    """A Cognitive Services account as read fresh from ARM, reduced to what the detectors need."""

    resource_id: str
    name: str
    kind: str
    location: str
    provisioning_state: str | None
    public_network_access: str | None
    network_acls: NetworkAcls | None
    disable_local_auth: bool | None = None
    restrict_outbound_network_access: bool | None = None
    allowed_fqdn_list: tuple[str, ...] = ()
    tags: Mapping[str, str] = field(default_factory=dict)
    etag: str | None = None  # sent back as If-Match so a fix never overwrites a newer change
    encryption: Encryption | None = None
    identity: AccountIdentity | None = None
    endpoint: str | None = None  # its data plane (https://NAME.openai.azure.com/), read-only in ARM

    def settings(self) -> dict[str, object]:
        """What a person or a fix can set, by ARM property name (and `tags`): compared before and after a
        change to see whether someone else changed the account around it."""
        return {
            "publicNetworkAccess": self.public_network_access,
            "networkAcls": self.network_acls,
            "disableLocalAuth": self.disable_local_auth,
            "restrictOutboundNetworkAccess": self.restrict_outbound_network_access,
            "allowedFqdnList": self.allowed_fqdn_list,
            "encryption": self.encryption,
            "tags": dict(self.tags),
        }


@dataclass(frozen=True)
class Finding:
    """A drift from the baseline: what was observed, what is expected, and the ordered steps that fix it.

    An empty `fix` means the drift has no automatic remediation (a human must act). `continues` marks the
    rest of an earlier remediation that stopped part-way (its steps come from the state store, not a detector).
    """

    control_id: str
    resource_id: str
    summary: str
    observed: Mapping[str, Json]
    expected: Mapping[str, Json]
    fix: tuple[Step, ...] = ()
    continues: bool = False
    # An exemption of a part of the resource that the control's own parameters grant (a training file by id or
    # name): the planner weighs it like the baseline's resource exemptions, in force or expired.
    exemption: Exemption | None = None


class Decision(enum.StrEnum):
    """What the planner decided for one finding."""

    ENFORCE = "enforce"
    DRY_RUN = "dry-run"
    OFF = "off"
    EXEMPT = "exempt"
    BLOCKED = "blocked"  # a limit (action cap, cool-down, attempt cap) stopped it
    NO_REMEDIATOR = "no-remediator"


@dataclass(frozen=True)
class Exemption:
    """A baseline exemption: resource id or glob pattern (case-insensitive), control id or "*", until `expires`."""

    resource_pattern: str
    control_id: str
    reason: str
    owner: str
    expires: datetime


@dataclass(frozen=True)
class Action:
    """One remediation of one resource: the merged, ordered steps of its findings, and which steps each control
    needs (`serves`: control id -> indexes into `steps`)."""

    resource_id: str
    steps: tuple[Step, ...]
    serves: Mapping[str, tuple[int, ...]]
    continues: bool = False  # finishes an earlier remediation: already counted against the limits

    @property
    def control_ids(self) -> tuple[str, ...]:
        return tuple(sorted(self.serves))


@dataclass(frozen=True)
class PlannedFinding:
    """The planner's decision for one finding, with why, and the action it belongs to (if any)."""

    finding: Finding
    mode: Mode
    decision: Decision
    reason: str
    exemption: Exemption | None = None
    action: Action | None = None


@dataclass(frozen=True)
class Plan:
    """Every decision for one resource evaluation, and the actions to apply (enforce) or describe (dry-run)."""

    decisions: tuple[PlannedFinding, ...]
    enforce: tuple[Action, ...]
    dry_run: tuple[Action, ...]
    # When a cool-down blocked an action: the earliest moment it may run, so an event can be redelivered then.
    cooldown_until: datetime | None = None


@dataclass(frozen=True)
class RemediationHistory:
    """What the state store knows of earlier attempts on one resource, handed to the pure planner."""

    attempts_in_window: int = 0
    last_attempt: datetime | None = None


@dataclass(frozen=True)
class Limits:
    """Blast-radius and loop limits from the baseline."""

    max_actions_per_run: int = 10
    max_actions_per_hour: int = 30  # tenant-wide, across every event and sweep: the global blast-radius cap
    cooldown: timedelta = timedelta(minutes=5)
    max_attempts: int = 3
    attempt_window: timedelta = timedelta(hours=24)


class Outcome(enum.StrEnum):
    """How an evaluation or action ended, as the audit log records it."""

    COMPLIANT = "compliant"
    REMEDIATED = "remediated"  # applied and verified by re-read
    NOT_VERIFIED = "not-verified"  # applied, but the re-read still shows drift
    WOULD_REMEDIATE = "would-remediate"  # dry-run
    EXEMPTED = "exempted"
    BLOCKED = "blocked"
    SKIPPED = "skipped"  # mode off, or an account warden does not judge
    NEEDS_HUMAN = "needs-human"  # drift with no automatic fix (or one warden may not make): a person must act
    RESOURCE_GONE = "resource-gone"
    PARTIAL = "partial"  # some steps applied, others not yet: the rest is retried (never called success)
    FAILED = "failed"
    REJECTED = "rejected"  # an event that could not be parsed
    IGNORED = "ignored"  # self-caused events (loop guard), recorded for the trail


class RecordKind(enum.StrEnum):
    """What an audit record is about."""

    EVENT = "event"  # an event recorded for the trail (rejected, ignored, a sweep failure)
    EVALUATION = "evaluation"  # a resource judged compliant, or not judged (gone, unreadable, not OpenAI)
    DECISION = "decision"  # a finding not enforced: dry-run, exempt, blocked, off, no remediation
    INTENT = "intent"  # a finding about to be enforced, written before any change
    RESULT = "result"  # the outcome of an intent
    ROLLOVER = "rollover"  # the blob sink closed a blob; the log continues in the next one


class Trigger(enum.StrEnum):
    """What started an evaluation."""

    EVENT = "event"  # an Event Grid delivery (replayed events too)
    SWEEP = "sweep"  # the timer
    CLI_SWEEP = "cli-sweep"  # `warden sweep`
    REPLAY_SWEEP = "replay-sweep"  # `warden replay --sweep`
    BENCH_SWEEP = "bench-sweep"  # bench/
    ADMIN = "admin"  # an admin asked for one account (POST /api/check)


@dataclass(frozen=True)
class AuditRecord:
    """One line of the audit log (DESIGN §5); `steps` lists the remediation steps with their status.

    The audit sink adds `seq`, `prev_hash` and `hash` when it appends; the record itself never holds a secret.
    """

    time: datetime
    kind: RecordKind
    event_id: str = ""
    correlation_id: str = ""
    caller: Caller | None = None
    resource_id: str = ""
    control_id: str = ""
    mode: Mode | None = None
    decision: Decision | None = None
    outcome: Outcome | None = None
    observed: Mapping[str, Json] = field(default_factory=dict)
    expected: Mapping[str, Json] = field(default_factory=dict)
    change: Mapping[str, Json] = field(default_factory=dict)
    steps: tuple[Mapping[str, Json], ...] = ()
    reason: str = ""
    error: str = ""
    duration_ms: float | None = None
    trigger: Trigger | None = None
    app_version: str = ""
    # When the triggering event says its change happened (None for a sweep): for telemetry's time to compliant
    # (docs/telemetry.md). Not stored: the event id leads to the event.
    event_time: datetime | None = field(default=None, compare=False)
