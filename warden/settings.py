"""Runtime settings from the environment (app settings in Azure), validated once at start-up."""

from __future__ import annotations

import ipaddress
import math
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from warden.errors import ConfigurationError
from warden.ids import is_guid
from warden.model import Mode

DEFAULT_ARM_ENDPOINT = "https://management.azure.com"
#: The queue trigger's `connection` (function_app.py): in Azure `WARDEN_SWEEP_QUEUE_STORAGE__queueServiceUri`
#: names the queue endpoint of the state storage account, reached with the managed identity (docs/scale.md).
SWEEP_QUEUE_CONNECTION = "WARDEN_SWEEP_QUEUE_STORAGE"
# A queue name (3-63 lower-case letters, digits, single inner hyphens), at most 56 long so that the host's
# poison queue `<name>-poison` is a valid name too.
_QUEUE_NAME = re.compile(r"[a-z0-9](?!.*--)[a-z0-9-]{1,54}[a-z0-9]")


#: Every app setting warden reads (load_settings), by where it belongs. "azure": the deployment sets it
#: (infra/app/, checked both ways by tests/infra/test_derived.py); "local": development and the emulator only, never
#: set in Azure; "platform": set by Azure itself.
APP_SETTINGS: Mapping[str, str] = {
    "WARDEN_BASELINE": "azure",
    "WARDEN_MODE": "azure",
    "WARDEN_SELF_OBJECT_IDS": "azure",
    "WARDEN_SELF_APP_IDS": "azure",
    "AZURE_CLIENT_ID": "azure",
    "WARDEN_AUDIT_ACCOUNT_URL": "azure",
    "WARDEN_AUDIT_CONTAINER": "azure",
    "WARDEN_STATE_ACCOUNT_URL": "azure",
    "WARDEN_STATE_CONTAINER": "azure",
    "WARDEN_SWEEP_QUEUE": "azure",
    f"{SWEEP_QUEUE_CONNECTION}__queueServiceUri": "azure",
    "WARDEN_SWEEP_WORKERS": "azure",
    "WARDEN_ARM_ENDPOINT": "azure",
    "WARDEN_DATA_SWEEP_SCHEDULE": "azure",
    "WARDEN_CREDENTIAL": "azure",
    "WARDEN_POLLING_INTERVAL": "azure",
    "WARDEN_LRO_TIMEOUT": "azure",
    "WARDEN_NOTIFY_TOPIC_ENDPOINT": "azure",
    "WARDEN_ARM_CA_BUNDLE": "local",
    "WARDEN_VAULT_ENDPOINT": "local",
    "WARDEN_OPENAI_ENDPOINT": "local",
    "WARDEN_AUDIT_CONNECTION_STRING": "local",
    "WARDEN_STATE_CONNECTION_STRING": "local",
    "WARDEN_AUDIT_DIR": "local",
    "WARDEN_STATE_DIR": "local",
    "APPLICATIONINSIGHTS_CONNECTION_STRING": "azure",
    "APPLICATIONINSIGHTS_AUTHENTICATION_STRING": "azure",
    "WEBSITE_INSTANCE_ID": "platform",
    "WEBSITE_SITE_NAME": "platform",
}

#: Settings the deployment sets for the Functions host, which warden never reads: the host's own storage and the
#: queue trigger's connection by managed identity.
HOST_SETTINGS: frozenset[str] = frozenset(
    {
        "AzureWebJobsStorage__accountName",
        "AzureWebJobsStorage__credential",
        "AzureWebJobsStorage__clientId",
        f"{SWEEP_QUEUE_CONNECTION}__credential",
        f"{SWEEP_QUEUE_CONNECTION}__clientId",
    }
)


@dataclass(frozen=True)
class RetryOptions:
    """azure-core's retry policy for every SDK client (its defaults); tests pass fast ones."""

    total: int = 10
    backoff_factor: float = 0.8
    backoff_max: float = 120.0
    # A longer Retry-After is not slept inside the request (ARM's can be up to an hour, past any function's
    # timeout): the 429 goes up, the sweep stops (warden/throttle.py) or Event Grid redelivers the event.
    max_retry_after: float = 60.0


@dataclass(frozen=True)
class Settings:
    """Where warden reads, writes and who it is. Documented in README.md "Configuration"."""

    baseline_path: Path
    arm_endpoint: str = DEFAULT_ARM_ENDPOINT
    arm_ca_bundle: str | None = None  # a PEM file to trust (the local emulator's CA)
    # The local emulator's Key Vault data plane (loopback only): https://NAME.vault.azure.net/ is reached at
    # {vault_endpoint}/NAME. None in Azure, where each vault's own URI is used.
    vault_endpoint: str | None = None
    # The same for the Azure OpenAI data plane: https://SUB.openai.azure.com/ is reached at {openai_endpoint}/SUB.
    openai_endpoint: str | None = None
    # NCRONTAB of the data-plane sweep (training files): the timer reads the app setting itself
    # (%WARDEN_DATA_SWEEP_SCHEDULE%); it is checked here so that a typo fails at start-up with its name.
    data_sweep_schedule: str | None = None
    credential: str = "default"  # "default" (DefaultAzureCredential) | "static" (emulator only)
    mode_override: Mode | None = None
    self_object_ids: frozenset[str] = frozenset()
    self_app_ids: frozenset[str] = frozenset()
    audit_dir: Path = Path(".warden/audit")
    audit_account_url: str | None = None
    audit_connection_string: str | None = None
    audit_container: str = "warden-audit"
    state_dir: Path = Path(".warden/state")
    state_account_url: str | None = None  # shared state for scaled-out instances (blobs, etags)
    state_connection_string: str | None = None
    state_container: str = "warden-state"
    # The fan-out queue on the state storage account (docs/scale.md "Fan-out"): the timers enqueue one work
    # item per subscription there. None: the timers sweep in-process (the local default).
    sweep_queue: str | None = None
    # Accounts one sweep judges at once (docs/scale.md "Workers"): ARM's per-subscription read and write limits
    # are per hour, so more workers finish sooner without asking for more requests.
    sweep_workers: int = 8
    polling_interval: float = 5.0
    lro_timeout: float = 300.0  # a long-running operation still running after this is retried later
    retry: RetryOptions | None = None  # None: azure-core's defaults
    # Application Insights (docs/telemetry.md): telemetry is sent only when the connection string is set; the
    # authentication string says which managed identity's Entra token to send it with. Never printed.
    telemetry_connection_string: str | None = field(default=None, repr=False)
    telemetry_authentication_string: str | None = field(default=None, repr=False)
    # An Event Grid custom topic that hears of remediations, needs-human cases and failures (docs/notifications.md);
    # None: no notifications. site_name (the function app's, set by Azure) names the events' source.
    notify_topic_endpoint: str | None = None
    site_name: str | None = None


def _ids(name: str, value: str) -> frozenset[str]:
    """Comma-separated Entra ids; a typo here would silently disable the loop guard, so each must be a GUID."""
    ids = frozenset(v.strip().lower() for v in value.split(",") if v.strip())
    bad = sorted(i for i in ids if not is_guid(i))
    if bad:
        raise ConfigurationError(f"{name}: {', '.join(bad)} is not a GUID (object or application id)")
    return ids


def _is_loopback(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _loopback(env: Mapping[str, str], name: str) -> str | None:
    """An https loopback URL (the local emulator's data plane), or None when the setting is empty."""
    url = env.get(name, "").strip().rstrip("/") or None
    if url and (urlsplit(url).scheme != "https" or not _is_loopback(url)):
        raise ConfigurationError(f"{name}={url!r} must be an https loopback URL")
    return url


def _seconds(env: Mapping[str, str], name: str, default: float) -> float:
    text = env.get(name, "").strip()
    if not text:
        return default
    try:
        value = float(text)
    except ValueError as exc:
        raise ConfigurationError(f"{name}={text!r} is not a number of seconds") from exc
    if not math.isfinite(value) or value < 0:
        raise ConfigurationError(f"{name}={text!r} must be a finite number of seconds, 0 or more")
    return value


def _topic_endpoint(text: str) -> str | None:
    """WARDEN_NOTIFY_TOPIC_ENDPOINT: an https URL with a host, or None when empty."""
    url = text.strip() or None
    try:
        parts = urlsplit(url or "")
        good = parts.scheme == "https" and bool(parts.hostname)
    except ValueError:  # e.g. an unclosed [IPv6 address]
        good = False
    if url and not good:
        raise ConfigurationError(
            f"WARDEN_NOTIFY_TOPIC_ENDPOINT={url!r} must be an https URL: the Event Grid topic's endpoint, "
            "https://TOPIC.REGION-1.eventgrid.azure.net/api/events (docs/notifications.md)"
        )
    return url


#: The most workers WARDEN_SWEEP_WORKERS may ask for: the SDK's HTTP transport (requests) keeps 10 connections
#: per host, and a worker past them would open (and drop) a TLS connection per request.
MAX_SWEEP_WORKERS = 10


def _workers(env: Mapping[str, str]) -> int:
    text = env.get("WARDEN_SWEEP_WORKERS", "").strip()
    if not text:
        return Settings.sweep_workers
    if not text.isdigit() or not 1 <= int(text) <= MAX_SWEEP_WORKERS:
        raise ConfigurationError(f"WARDEN_SWEEP_WORKERS={text!r} must be a whole number from 1 to {MAX_SWEEP_WORKERS}")
    return int(text)


def queue_service_url(blob_url: str) -> str:
    """The queue endpoint of the storage account whose blob endpoint is `blob_url` (the fan-out queue lives on
    the state storage account: one account, one identity grant)."""
    parts = urlsplit(blob_url)
    account, _, rest = parts.netloc.partition(".")
    if not rest.startswith("blob."):
        raise ConfigurationError(
            f"WARDEN_SWEEP_QUEUE: cannot tell the queue endpoint of {blob_url!r} (want https://ACCOUNT.blob.SUFFIX)"
        )
    return f"{parts.scheme}://{account}.queue.{rest.removeprefix('blob.')}"


def _sweep_queue(env: Mapping[str, str], state_url: str | None, state_connection: str | None) -> str | None:
    """WARDEN_SWEEP_QUEUE, checked: a valid name, on a state storage account, and (when the queue trigger's
    identity-based connection is set) the same account's queue endpoint as the trigger's."""
    name = env.get("WARDEN_SWEEP_QUEUE", "").strip() or None
    if name is None:
        return None
    if not _QUEUE_NAME.fullmatch(name):
        raise ConfigurationError(
            f"WARDEN_SWEEP_QUEUE={name!r} is not a queue name: 3-56 lower-case letters, digits and single "
            "hyphens, starting and ending with a letter or digit"
        )
    if not (state_url or state_connection):
        raise ConfigurationError(
            "WARDEN_SWEEP_QUEUE needs the state storage account: set WARDEN_STATE_ACCOUNT_URL (or "
            "WARDEN_AUDIT_ACCOUNT_URL), or a connection string for Azurite"
        )
    queue_url = queue_service_url(state_url) if state_url else None
    trigger = env.get(f"{SWEEP_QUEUE_CONNECTION}__queueServiceUri", "").strip().rstrip("/")
    if queue_url and trigger and trigger != queue_url:
        # The timer would enqueue where the queue trigger does not listen: items would never be handled.
        raise ConfigurationError(
            f"{SWEEP_QUEUE_CONNECTION}__queueServiceUri={trigger!r} is not the state storage account's queue "
            f"endpoint {queue_url!r}"
        )
    return name


def _telemetry(env: Mapping[str, str]) -> tuple[str | None, str | None]:
    """APPLICATIONINSIGHTS_CONNECTION_STRING and _AUTHENTICATION_STRING, checked (their values are never quoted)."""
    connection = env.get("APPLICATIONINSIGHTS_CONNECTION_STRING", "").strip() or None
    auth = env.get("APPLICATIONINSIGHTS_AUTHENTICATION_STRING", "").strip() or None
    if connection and "instrumentationkey=" not in connection.lower():
        raise ConfigurationError("APPLICATIONINSIGHTS_CONNECTION_STRING has no InstrumentationKey=")
    if auth:
        from warden.telemetry_names import entra_auth  # only when set: nothing of telemetry at a cold start without

        try:
            entra_auth(auth)
        except ValueError as exc:
            raise ConfigurationError(f"APPLICATIONINSIGHTS_AUTHENTICATION_STRING: {exc}") from None
    return connection, auth


def load_settings(env: Mapping[str, str] | None = None, *, base_dir: Path | None = None) -> Settings:
    """Read WARDEN_* settings; raise ConfigurationError naming the setting that is wrong."""
    env = os.environ if env is None else env
    base = base_dir or Path.cwd()
    mode_text = env.get("WARDEN_MODE", "").strip()
    try:
        mode = Mode(mode_text) if mode_text else None
    except ValueError as exc:
        raise ConfigurationError(f"WARDEN_MODE={mode_text!r} is not one of enforce, dry-run, off") from exc
    endpoint = env.get("WARDEN_ARM_ENDPOINT", DEFAULT_ARM_ENDPOINT).rstrip("/")
    if urlsplit(endpoint).scheme != "https":
        raise ConfigurationError(f"WARDEN_ARM_ENDPOINT={endpoint!r} must be an https URL")
    credential = env.get("WARDEN_CREDENTIAL", "default")
    if credential not in ("default", "static"):
        raise ConfigurationError(f"WARDEN_CREDENTIAL={credential!r} is not one of default, static")
    if credential == "static" and not _is_loopback(endpoint):
        # A fake token only makes sense against the loopback emulator; never send it anywhere real.
        raise ConfigurationError("WARDEN_CREDENTIAL=static is only allowed with a loopback WARDEN_ARM_ENDPOINT")
    # Only the emulator's vaults and data planes are redirected: a real one is always reached at its own URI.
    vault_endpoint = _loopback(env, "WARDEN_VAULT_ENDPOINT")
    openai_endpoint = _loopback(env, "WARDEN_OPENAI_ENDPOINT")
    notify_topic = _topic_endpoint(env.get("WARDEN_NOTIFY_TOPIC_ENDPOINT", ""))
    schedule = env.get("WARDEN_DATA_SWEEP_SCHEDULE", "").strip() or None
    if schedule and len(schedule.split()) != 6:
        raise ConfigurationError(
            f"WARDEN_DATA_SWEEP_SCHEDULE={schedule!r} is not an NCRONTAB expression of 6 fields "
            "(second minute hour day month day-of-week, e.g. '0 30 2 * * *')"
        )
    ca = env.get("WARDEN_ARM_CA_BUNDLE") or None
    if ca and not Path(ca).is_file():
        raise ConfigurationError(f"WARDEN_ARM_CA_BUNDLE={ca!r} is not a file")
    polling = _seconds(env, "WARDEN_POLLING_INTERVAL", 5.0)
    lro_timeout = _seconds(env, "WARDEN_LRO_TIMEOUT", 300.0)
    audit_url = env.get("WARDEN_AUDIT_ACCOUNT_URL") or None
    audit_connection = env.get("WARDEN_AUDIT_CONNECTION_STRING") or None
    state_url = env.get("WARDEN_STATE_ACCOUNT_URL") or None
    state_connection = env.get("WARDEN_STATE_CONNECTION_STRING") or None
    for prefix, url, connection in (("AUDIT", audit_url, audit_connection), ("STATE", state_url, state_connection)):
        if url and connection:
            raise ConfigurationError(
                f"set one of WARDEN_{prefix}_ACCOUNT_URL and WARDEN_{prefix}_CONNECTION_STRING, not both"
            )
    if not (state_url or state_connection):  # the state defaults to the audit log's storage account, as a pair
        state_url, state_connection = audit_url, audit_connection
    sweep_queue = _sweep_queue(env, state_url, state_connection)
    telemetry_connection, telemetry_auth = _telemetry(env)
    if env.get("WEBSITE_INSTANCE_ID"):
        # Hosted in Azure: the app folder is the deployed package (read-only, per instance), so a local audit
        # log or state would fail or be lost, and would not be shared by scaled-out instances; and storage is
        # reached with the managed identity, never with shared keys.
        if not audit_url:
            raise ConfigurationError("running in Azure: set WARDEN_AUDIT_ACCOUNT_URL (audit log and state storage)")
        if not schedule:
            # The data-plane sweep's timer names this setting; the Functions host cannot start without it.
            raise ConfigurationError("running in Azure: set WARDEN_DATA_SWEEP_SCHEDULE (e.g. '0 30 2 * * *')")
        if audit_connection or state_connection:
            raise ConfigurationError("running in Azure: storage connection strings (shared keys) are refused")
        if not (sweep_queue and env.get(f"{SWEEP_QUEUE_CONNECTION}__queueServiceUri")):
            # The queue trigger names both (function_app.py): the host cannot start its listener without them.
            raise ConfigurationError(
                f"running in Azure: set WARDEN_SWEEP_QUEUE and {SWEEP_QUEUE_CONNECTION}__queueServiceUri "
                "(the sweep's fan-out queue on the state storage account, docs/scale.md)"
            )
    return Settings(
        baseline_path=base / env.get("WARDEN_BASELINE", "baseline.yaml"),
        arm_endpoint=endpoint,
        arm_ca_bundle=ca,
        vault_endpoint=vault_endpoint,
        openai_endpoint=openai_endpoint,
        data_sweep_schedule=schedule,
        credential=credential,
        mode_override=mode,
        self_object_ids=_ids("WARDEN_SELF_OBJECT_IDS", env.get("WARDEN_SELF_OBJECT_IDS", "")),
        # A user-assigned identity's client id (AZURE_CLIENT_ID, which DefaultAzureCredential uses) is the
        # `appid` claim of every change warden makes: the loop guard knows it without extra configuration.
        self_app_ids=_ids("WARDEN_SELF_APP_IDS", env.get("WARDEN_SELF_APP_IDS", ""))
        | _ids("AZURE_CLIENT_ID", env.get("AZURE_CLIENT_ID", "")),
        audit_dir=base / env.get("WARDEN_AUDIT_DIR", ".warden/audit"),
        audit_account_url=audit_url,
        audit_connection_string=audit_connection,
        audit_container=env.get("WARDEN_AUDIT_CONTAINER", "warden-audit"),
        state_dir=base / env.get("WARDEN_STATE_DIR", ".warden/state"),
        state_account_url=state_url,
        state_connection_string=state_connection,
        state_container=env.get("WARDEN_STATE_CONTAINER", "warden-state"),
        sweep_queue=sweep_queue,
        sweep_workers=_workers(env),
        polling_interval=polling,
        lro_timeout=lro_timeout,
        telemetry_connection_string=telemetry_connection,
        telemetry_authentication_string=telemetry_auth,
        notify_topic_endpoint=notify_topic,
        site_name=env.get("WEBSITE_SITE_NAME", "").strip() or None,
    )
