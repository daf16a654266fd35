"""A control's declaration (DESIGN §3a): id, typed parameters, triggering events, facts, step kinds, detect.

Each detectors/ module declares one `Control`; detectors/__init__.py lists them explicitly. Routing, the
baseline schema, the control ids and the permission set are derived from these (warden/registry.py).
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, Protocol, TypeVar

from warden.access_model import DiagnosticSetting, RoleAssignment
from warden.ai_model import Deployment, RaiPolicy, TrainingData
from warden.ids import ascii_lower
from warden.model import AccountSnapshot, Finding, Mode
from warden.steps import Step
from warden.vault_model import KeyAccess, KeySnapshot, SecretSnapshot, VaultSnapshot

P = TypeVar("P")


class Fact(enum.StrEnum):
    """What a detector may read about a resource; each is fetched lazily, once per evaluation."""

    ACCOUNT = "account"  # the Cognitive Services account (one ARM GET)
    VAULT = "vault"  # a Key Vault, found by name in the subscriptions in scope (ARM)
    KEY = "key"  # a Key Vault key: newest and in-use version, rotation policy (data plane)
    KEY_ACCESS = "key-access"  # whether an identity may use a key (access policies, role assignments)
    SECRET = "secret"  # noqa: S105 - a fact kind, not a password. A Key Vault secret's newest version, metadata only (data plane)
    EXEMPTIONS = "exemptions"  # which controls the baseline exempts the account from now (no Azure call)
    DEPLOYMENTS = "deployments"  # the account's model deployments (ARM, every page)
    RAI_POLICY = "rai-policy"  # a RAI policy (content filter) of the account, by name (ARM)
    TRAINING = "training"  # fine-tuning files and jobs (the account's Azure OpenAI data plane, every page)
    ROLE_ASSIGNMENTS = "role-assignments"  # role assignments at and above the account (ARM, every page)
    DIAGNOSTICS = "diagnostics"  # the account's diagnostic settings (ARM, one list)


#: The permission each fact's read needs (part of the permission set the deployment grants). Key Vault data
#: actions (keys/..., secrets/..., keyrotationpolicies/...) are granted by RBAC on the vaults (docs/keyvault.md).
FACT_PERMISSIONS: Mapping[Fact, tuple[str, ...]] = {
    Fact.ACCOUNT: ("Microsoft.CognitiveServices/accounts/read",),
    Fact.VAULT: ("Microsoft.KeyVault/vaults/read",),
    Fact.KEY: ("Microsoft.KeyVault/vaults/keys/read", "Microsoft.KeyVault/vaults/keyrotationpolicies/read"),
    Fact.KEY_ACCESS: ("Microsoft.Authorization/roleAssignments/read", "Microsoft.Authorization/roleDefinitions/read"),
    Fact.SECRET: ("Microsoft.KeyVault/vaults/secrets/readMetadata/action",),
    Fact.EXEMPTIONS: (),
    Fact.DEPLOYMENTS: ("Microsoft.CognitiveServices/accounts/deployments/read",),
    Fact.RAI_POLICY: ("Microsoft.CognitiveServices/accounts/raiPolicies/read",),
    # Data actions, granted on the accounts' data plane to warden's identity (docs/ai.md "Permissions").
    Fact.TRAINING: (
        "Microsoft.CognitiveServices/accounts/OpenAI/files/read",
        "Microsoft.CognitiveServices/accounts/OpenAI/fine-tunes/read",
    ),
    Fact.ROLE_ASSIGNMENTS: ("Microsoft.Authorization/roleAssignments/read",),
    Fact.DIAGNOSTICS: ("Microsoft.Insights/diagnosticSettings/read",),
}

#: Resource Graph's query action (the sweep of a control with a `graph` query, docs/scale.md).
GRAPH_PERMISSION = "Microsoft.ResourceGraph/resources/read"

#: Facts read from a data plane rather than ARM: they cost a call per account and emit no events, so the
#: controls that read them run on a sweep of their own (docs/ai.md "The data-plane sweep").
DATA_PLANE_FACTS = frozenset({Fact.TRAINING})


class Facts(Protocol):
    """The facts handed to `detect`; reading one the control did not declare raises KeyError. `now` is the
    evaluation's instant (the runtime's clock, read once), so age checks stay pure and replayable."""

    @property
    def now(self) -> datetime: ...

    @property
    def account(self) -> AccountSnapshot: ...

    def vault(self, name: str) -> VaultSnapshot | None: ...

    def key(self, vault_uri: str, name: str, version: str | None = None) -> KeySnapshot | None: ...

    def key_access(self, vault: VaultSnapshot, key_name: str, principal_id: str) -> KeyAccess: ...

    def secret(self, vault_uri: str, name: str) -> SecretSnapshot | None: ...

    def exempted(self, control_id: str) -> bool: ...

    @property
    def deployments(self) -> tuple[Deployment, ...]: ...

    def rai_policy(self, name: str) -> RaiPolicy | None: ...

    @property
    def training(self) -> TrainingData | None: ...

    @property
    def role_assignments(self) -> tuple[RoleAssignment, ...]: ...

    @property
    def own_principals(self) -> frozenset[str]:
        """warden's own object ids (lower-case, from its settings: no Azure call), read with ROLE_ASSIGNMENTS."""
        ...

    @property
    def diagnostic_settings(self) -> tuple[DiagnosticSetting, ...]: ...


#: A route's condition on the event's own resource (its ARM id), judged on the facts once the account is read.
RouteCondition = Callable[[Facts, str], bool]


@dataclass(frozen=True)
class EventRoute:
    """An event that re-checks the control: its type, and the ARM operation (for Key Vault events, the type).
    With `only_if`, only when the condition holds for the event's resource (a fine-tuned model's deployment)."""

    event_type: str  # e.g. Microsoft.Resources.ResourceWriteSuccess
    operation: str  # e.g. Microsoft.CognitiveServices/accounts/write
    only_if: RouteCondition | None = None
    condition: str = ""  # `only_if` in words, for docs and the routing table


@dataclass(frozen=True)
class GraphQuery:
    """A control's drift condition in Resource Graph's query language (docs/scale.md), for the sweep to push
    into one query across the tenant. `where` must hold for every account the detector could flag (a necessary
    condition: a compliant account it lets through is judged in memory, one it keeps out is never read), and
    `properties` names the ARM properties the detector reads: the query projects only those."""

    where: str
    properties: tuple[str, ...]


class ParamError(ValueError):
    """A parameter value is invalid; `item` is the index of the list item at fault (for its line number)."""

    def __init__(self, message: str, *, item: int | None = None) -> None:
        super().__init__(message)
        self.item = item


def param(parse: Callable[[Any], Any], doc: str) -> dict[str, Any]:
    """Field metadata of a parameter: `parse` turns the YAML value into the typed one or raises ParamError."""
    return {"parse": parse, "doc": doc}


@dataclass(frozen=True)
class Control(Generic[P]):
    """One control. `params` is a frozen dataclass whose fields (defaults, `param()` metadata) are its
    parameters; `steps` are the step kinds its fixes may use, from which its permissions follow.
    `mode_ceiling` is the most the baseline's top-level mode gives it: a control that removes access runs in
    dry-run until its own entry says `mode: enforce`. `graph`, for a control that reads only the account, lets
    the sweep find its candidates with one Resource Graph query instead of reading every account."""

    id: str
    summary: str
    params: type[P]
    routes: tuple[EventRoute, ...]
    facts: frozenset[Fact]
    steps: tuple[type[Step], ...]
    detect: Callable[[Facts, P], list[Finding]]
    mode_ceiling: Mode = Mode.ENFORCE
    graph: GraphQuery | None = None

    @property
    def permissions(self) -> frozenset[str]:
        """The ARM/data-plane actions it needs: its facts' reads and its step kinds' changes."""
        reads = {p for fact in self.facts for p in FACT_PERMISSIONS[fact]}
        if self.graph is not None:
            reads.add(GRAPH_PERMISSION)  # the sweep's query; the rows it returns need the facts' reads as well
        return frozenset(reads | {p for step in self.steps for p in step.permissions})

    @property
    def data_plane(self) -> bool:
        """Whether it reads a data plane (fine-tuning files): then it runs on the data-plane sweep."""
        return bool(self.facts & DATA_PLANE_FACTS)

    @property
    def queryable(self) -> bool:
        """Whether the sweep can judge it from a Resource Graph row: a query, and no fact but the account's."""
        return self.graph is not None and self.facts <= {Fact.ACCOUNT, Fact.EXEMPTIONS}

    def wanted_for(self, operation: str, subject: str, facts: Facts) -> bool:
        """Whether an event of `operation` on `subject` re-checks it: a route without a condition says yes; routes
        with one say yes when it holds. Any other trigger (no operation: the sweep, an admin) always does."""
        if not operation:
            return True
        routes = [r for r in self.routes if ascii_lower(r.operation) == ascii_lower(operation)]
        return not routes or any(r.only_if is None or r.only_if(facts, subject) for r in routes)

    def parameters(self) -> dict[str, dataclasses.Field[Any]]:
        """Parameter name -> its dataclass field (default, metadata `parse` and `doc`)."""
        return {f.name: f for f in dataclasses.fields(self.params)}  # type: ignore[arg-type]

    def default_params(self) -> P:
        return self.params()

    def make_params(self, given: Mapping[str, object]) -> P:
        return self.params(**given)


#: The events most controls share (DESIGN §2): an account written, its keys listed or regenerated.
ACCOUNT_WRITTEN = EventRoute("Microsoft.Resources.ResourceWriteSuccess", "Microsoft.CognitiveServices/accounts/write")
KEYS_LISTED = EventRoute(
    "Microsoft.Resources.ResourceActionSuccess", "Microsoft.CognitiveServices/accounts/listKeys/action"
)
KEY_REGENERATED = EventRoute(
    "Microsoft.Resources.ResourceActionSuccess", "Microsoft.CognitiveServices/accounts/regenerateKey/action"
)
#: A vault written (its purge protection may have been changed): re-checked on every account whose CMK it holds.
VAULT_WRITTEN = EventRoute("Microsoft.Resources.ResourceWriteSuccess", "Microsoft.KeyVault/vaults/write")
#: Key Vault's own events about a key: their type is the operation (docs/events.md "Key Vault events").
KEY_EVENTS = tuple(
    EventRoute(t, t) for t in (f"Microsoft.KeyVault.Key{n}" for n in ("NearExpiry", "Expired", "NewVersionCreated"))
)
#: A deployment written: its RAI policy may have changed.
DEPLOYMENT_WRITTEN = EventRoute(
    "Microsoft.Resources.ResourceWriteSuccess", "Microsoft.CognitiveServices/accounts/deployments/write"
)
