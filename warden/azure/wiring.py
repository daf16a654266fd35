"""Composition root: builds the Runtime from Settings, with real SDK clients, once per worker process."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, cast

from azure.core.credentials import TokenCredential

from detectors import CONTROLS
from warden.audit import AuditLog, LocalAuditLog
from warden.audit_held import HoldsBack
from warden.azure.credentials import StaticTokenCredential
from warden.baseline import load_baseline
from warden.ports import (
    AccessPort,
    DeploymentPort,
    DiagnosticsPort,
    Ports,
    ResourceGraphPort,
    RoleAssignmentPort,
    TrainingDataPort,
    VaultPort,
)
from warden.runtime import Runtime
from warden.settings import Settings
from warden.state import LocalStateStore, StateStore

if TYPE_CHECKING:
    from warden.azure.clients import ClientFactory
    from warden.notify import Notifier

log = logging.getLogger(__name__)


def utc_now() -> datetime:
    return datetime.now(UTC)


def build_credential(settings: Settings) -> TokenCredential:
    if settings.credential == "static":
        # The emulator's stand-in for the app's managed identity: it signs in as the loop guard's first ids, so
        # that the emulator's permissions API answers for warden's identity (warden doctor).
        claims: dict[str, object] = {}
        if settings.self_object_ids:
            claims["oid"] = min(settings.self_object_ids)
        if settings.self_app_ids:
            claims["appid"] = min(settings.self_app_ids)
        return StaticTokenCredential(claims=claims or None)
    # Imported here: azure-identity is heavy, and the emulator path never needs it (cold start).
    from azure.identity import DefaultAzureCredential

    return DefaultAzureCredential()


def build_audit(settings: Settings, credential: TokenCredential | None = None) -> AuditLog:
    if settings.audit_account_url or settings.audit_connection_string:
        from warden.azure.audit_blob import from_settings

        blob_log = from_settings(
            settings.audit_account_url,
            settings.audit_connection_string,
            settings.audit_container,
            credential,
            # Azurite (a connection string) starts empty; in Azure the container is made by the deployment,
            # with its immutability policy, and the app's identity need not be allowed to create one.
            create_container=bool(settings.audit_connection_string),
        )
        if settings.audit_account_url and blob_log.is_immutable() is False:
            log.warning(
                "audit: container %s has no immutability policy: records could be deleted unnoticed "
                "(docs/audit.md: production needs an immutability policy)",
                settings.audit_container,
            )
        return blob_log
    return LocalAuditLog(settings.audit_dir)


def observe_audit(audit: AuditLog, settings: Settings, credential: TokenCredential) -> Notifier | None:
    """Tell notifications (docs/notifications.md) and telemetry (docs/telemetry.md) of every record the audit sink
    writes, each only when its setting is set; the notifier is returned so the host can flush it and report it."""
    from warden.azure.notify_eventgrid import build_notifier
    from warden.azure.telemetry import build_telemetry  # its names module only here: not on the cold-start path

    notifier = build_notifier(settings, credential)
    telemetry = build_telemetry(settings)
    observers = [o.observe for o in (notifier, telemetry) if o is not None]
    if observers and isinstance(audit, HoldsBack):  # both of warden's sinks are
        audit.observers = (*audit.observers, *observers)
    return notifier


def build_state(settings: Settings, credential: TokenCredential | None = None) -> StateStore:
    """Blobs and etags when a storage account is set (scaled-out instances; a lock is a field of the resource's
    blob), else the local folder."""
    if settings.state_account_url or settings.state_connection_string:
        from warden.azure.state_blob import from_settings

        return from_settings(
            settings.state_account_url,
            settings.state_connection_string,
            settings.state_container,
            credential,
        )
    return LocalStateStore(settings.state_dir)


class LazyPort:
    """A port built on its first use. The Key Vault and authorization SDKs take ~270 ms to import (measured:
    docs/keyvault.md "Cold start"), which only a worker whose controls read Key Vault should pay."""

    def __init__(self, build: Callable[[], object]) -> None:
        self._build = build
        self._port: object | None = None
        self._lock = threading.Lock()

    def __getattr__(self, name: str) -> Any:
        with self._lock:
            if self._port is None:
                self._port = self._build()
        return getattr(self._port, name)


def _key_vaults(clients: ClientFactory, vault_endpoint: str | None) -> VaultPort:
    from warden.azure.keyvault import KeyVaults

    return KeyVaults(clients, vault_endpoint=vault_endpoint)


def _key_access(clients: ClientFactory) -> AccessPort:
    from warden.azure.key_access import KeyAccessChecker

    return KeyAccessChecker(clients)


def _deployments(clients: ClientFactory, settings: Settings) -> DeploymentPort:
    from warden.azure.deployments import CognitiveDeployments

    return CognitiveDeployments(clients, polling_interval=settings.polling_interval, lro_timeout=settings.lro_timeout)


def _training(clients: ClientFactory, settings: Settings) -> TrainingDataPort:
    from warden.azure.openai_data import OpenAIDataPlane

    return OpenAIDataPlane(clients, openai_endpoint=settings.openai_endpoint)


def _role_assignments(clients: ClientFactory) -> RoleAssignmentPort:
    from warden.azure.role_assignments import RoleAssignments

    return RoleAssignments(clients)


def _diagnostics(clients: ClientFactory) -> DiagnosticsPort:
    from warden.azure.diagnostics import DiagnosticSettings

    return DiagnosticSettings(clients)


def _resource_graph(clients: ClientFactory) -> ResourceGraphPort:
    from warden.azure.resource_graph import ResourceGraph

    return ResourceGraph(clients)


def build_runtime(
    settings: Settings, *, clock: Callable[[], datetime] = utc_now, credential: TokenCredential | None = None
) -> Runtime:
    """Validate the baseline and wire the ports; raises BaselineError/ConfigurationError at start-up.

    `clock` is real UTC time in Azure; `warden replay` passes the emulator's clock so both agree on now.
    `credential`: one already signed in (`warden sweep` checks it first), else the settings' own."""
    # Imported here, not at module level: `import function_app` is cold-start time, and the management SDK
    # alone costs ~90 ms to import (bench/README.md); the first invocation pays it instead.
    from warden.azure.clients import ClientFactory
    from warden.azure.cognitive import CognitiveAccounts

    baseline = load_baseline(settings.baseline_path, now=clock())  # replay --now bounds exemptions too
    if settings.credential == "default" and not (settings.self_object_ids or settings.self_app_ids):
        log.warning(
            "loop guard: warden's own identity is unknown (set AZURE_CLIENT_ID or WARDEN_SELF_OBJECT_IDS); "
            "its own changes will come back as events and be re-checked"
        )
    credential = credential or build_credential(settings)
    clients = ClientFactory(
        credential,
        base_url=settings.arm_endpoint,
        connection_verify=settings.arm_ca_bundle or True,
        retry=settings.retry,
    )
    accounts = CognitiveAccounts(clients, polling_interval=settings.polling_interval, lro_timeout=settings.lro_timeout)
    audit = build_audit(settings, credential)
    notifier = observe_audit(audit, settings, credential)
    return Runtime(
        baseline=baseline,
        ports=Ports(
            accounts=accounts,
            vaults=cast(VaultPort, LazyPort(lambda: _key_vaults(clients, settings.vault_endpoint))),
            access=cast(AccessPort, LazyPort(lambda: _key_access(clients))),
            deployments=cast(DeploymentPort, LazyPort(lambda: _deployments(clients, settings))),
            training=cast(TrainingDataPort, LazyPort(lambda: _training(clients, settings))),
            roles=cast(RoleAssignmentPort, LazyPort(lambda: _role_assignments(clients))),
            diagnostics=cast(DiagnosticsPort, LazyPort(lambda: _diagnostics(clients))),
            graph=cast(ResourceGraphPort, LazyPort(lambda: _resource_graph(clients))),
        ),
        audit=audit,
        state=build_state(settings, credential),
        controls=CONTROLS,
        clock=clock,
        mode_override=settings.mode_override,
        self_object_ids=settings.self_object_ids,
        self_app_ids=settings.self_app_ids,
        sweep_workers=settings.sweep_workers,
        notifier=notifier,
    )
