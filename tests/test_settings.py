"""Runtime settings from the environment: defaults, validation, and the loop guard's identity."""

from __future__ import annotations

from pathlib import Path

import pytest

from warden.errors import ConfigurationError
from warden.model import Mode
from warden.settings import DEFAULT_ARM_ENDPOINT, load_settings, queue_service_url

UAMI_CLIENT = "C3E1A7B9-2D4F-4A6E-8B0C-1F5D9E3A7C21"
UAMI_PRINCIPAL = "9d2c7e41-5b3a-4f8e-a1c6-7e0b2d9f3a15"


def test_defaults(tmp_path: Path) -> None:
    settings = load_settings({}, base_dir=tmp_path)
    assert settings.baseline_path == tmp_path / "baseline.yaml"
    assert settings.arm_endpoint == DEFAULT_ARM_ENDPOINT and settings.credential == "default"
    assert settings.mode_override is None and settings.self_object_ids == frozenset()
    assert (settings.polling_interval, settings.lro_timeout) == (5.0, 300.0)


def test_the_managed_identity_client_id_joins_the_loop_guard(tmp_path: Path) -> None:
    settings = load_settings(
        {"AZURE_CLIENT_ID": UAMI_CLIENT, "WARDEN_SELF_OBJECT_IDS": f" {UAMI_PRINCIPAL} ,"}, base_dir=tmp_path
    )
    assert settings.self_app_ids == {UAMI_CLIENT.lower()}
    assert settings.self_object_ids == {UAMI_PRINCIPAL}


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"WARDEN_MODE": "enforcing"}, "WARDEN_MODE='enforcing'"),
        ({"WARDEN_ARM_ENDPOINT": "http://127.0.0.1:1"}, "must be an https URL"),
        ({"WARDEN_CREDENTIAL": "static"}, "only allowed with a loopback"),
        ({"WARDEN_CREDENTIAL": "magic"}, "WARDEN_CREDENTIAL='magic'"),
        ({"WARDEN_SELF_OBJECT_IDS": "warden-app"}, "WARDEN_SELF_OBJECT_IDS: warden-app is not a GUID"),
        ({"AZURE_CLIENT_ID": "not-a-guid"}, "AZURE_CLIENT_ID: not-a-guid is not a GUID"),
        ({"WARDEN_POLLING_INTERVAL": "-1"}, "must be a finite number"),
        ({"WARDEN_SWEEP_WORKERS": "0"}, "WARDEN_SWEEP_WORKERS='0' must be a whole number from 1 to 10"),
        ({"WARDEN_SWEEP_WORKERS": "11"}, "from 1 to 10"),
        ({"WARDEN_SWEEP_WORKERS": "four"}, "from 1 to 10"),
        ({"WARDEN_POLLING_INTERVAL": "nan"}, "must be a finite number"),
        ({"WARDEN_LRO_TIMEOUT": "soon"}, "WARDEN_LRO_TIMEOUT='soon' is not a number"),
        ({"WARDEN_ARM_CA_BUNDLE": "/nonexistent/ca.pem"}, "is not a file"),
    ],
)
def test_invalid_settings_name_the_setting(tmp_path: Path, env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigurationError, match=message.replace("(", r"\(")):
        load_settings(env, base_dir=tmp_path)


def test_static_credential_on_loopback_and_mode_override(tmp_path: Path) -> None:
    settings = load_settings(
        {"WARDEN_CREDENTIAL": "static", "WARDEN_ARM_ENDPOINT": "https://localhost:8443/", "WARDEN_MODE": "dry-run"},
        base_dir=tmp_path,
    )
    assert settings.arm_endpoint == "https://localhost:8443" and settings.mode_override is Mode.DRY_RUN


@pytest.mark.parametrize("kind", ["AUDIT", "STATE"])
def test_one_storage_setting_per_store(tmp_path: Path, kind: str) -> None:
    env = {
        f"WARDEN_{kind}_ACCOUNT_URL": "https://a.blob.core.windows.net",
        f"WARDEN_{kind}_CONNECTION_STRING": "UseDevelopmentStorage=true",
    }
    with pytest.raises(ConfigurationError, match=f"set one of WARDEN_{kind}_ACCOUNT_URL"):
        load_settings(env, base_dir=tmp_path)


HOSTED = {
    "WEBSITE_INSTANCE_ID": "abc",
    "WARDEN_AUDIT_ACCOUNT_URL": "https://a.blob.core.windows.net",
    "WARDEN_DATA_SWEEP_SCHEDULE": "0 30 2 * * *",
    "WARDEN_SWEEP_QUEUE": "warden-sweep",
    "WARDEN_SWEEP_QUEUE_STORAGE__queueServiceUri": "https://a.queue.core.windows.net",
}


def test_hosted_in_azure_needs_blob_storage(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="running in Azure"):
        load_settings({"WEBSITE_INSTANCE_ID": "abc"}, base_dir=tmp_path)
    settings = load_settings(HOSTED, base_dir=tmp_path)
    assert settings.state_account_url == "https://a.blob.core.windows.net"  # the state follows the audit account
    assert settings.sweep_queue == "warden-sweep"


def test_hosted_in_azure_refuses_shared_keys(tmp_path: Path) -> None:
    env = {
        "WEBSITE_INSTANCE_ID": "abc",
        "WARDEN_AUDIT_ACCOUNT_URL": "https://a.blob.core.windows.net",
        "WARDEN_STATE_CONNECTION_STRING": "UseDevelopmentStorage=true",
        "WARDEN_DATA_SWEEP_SCHEDULE": "0 30 2 * * *",
    }
    with pytest.raises(ConfigurationError, match="connection strings"):
        load_settings(env, base_dir=tmp_path)


def test_hosted_in_azure_needs_the_data_sweep_schedule(tmp_path: Path) -> None:
    env = {"WEBSITE_INSTANCE_ID": "abc", "WARDEN_AUDIT_ACCOUNT_URL": "https://a.blob.core.windows.net"}
    with pytest.raises(ConfigurationError, match="WARDEN_DATA_SWEEP_SCHEDULE"):
        load_settings(env, base_dir=tmp_path)


@pytest.mark.parametrize("schedule", ["0 30 2 * *", "daily", "0 30 2 * * * *"])
def test_a_data_sweep_schedule_that_is_not_ncrontab_is_refused(tmp_path: Path, schedule: str) -> None:
    with pytest.raises(ConfigurationError, match="6 fields"):
        load_settings({"WARDEN_DATA_SWEEP_SCHEDULE": schedule}, base_dir=tmp_path)


@pytest.mark.parametrize("url", ["https://aoai.openai.azure.com", "http://127.0.0.1:8443"])
def test_the_openai_endpoint_redirect_is_https_loopback_only(tmp_path: Path, url: str) -> None:
    with pytest.raises(ConfigurationError, match="WARDEN_OPENAI_ENDPOINT"):
        load_settings({"WARDEN_OPENAI_ENDPOINT": url}, base_dir=tmp_path)
    loopback = load_settings({"WARDEN_OPENAI_ENDPOINT": "https://127.0.0.1:8443/"}, base_dir=tmp_path)
    assert loopback.openai_endpoint == "https://127.0.0.1:8443"


def test_the_sweep_queue_is_off_by_default_and_on_the_state_account(tmp_path: Path) -> None:
    assert load_settings({}, base_dir=tmp_path).sweep_queue is None  # the timers sweep in-process
    azurite = {"WARDEN_STATE_CONNECTION_STRING": "UseDevelopmentStorage=true", "WARDEN_SWEEP_QUEUE": "sweep-1"}
    assert load_settings(azurite, base_dir=tmp_path).sweep_queue == "sweep-1"
    assert queue_service_url("https://a.blob.core.windows.net") == "https://a.queue.core.windows.net"
    assert queue_service_url("https://a.blob.core.chinacloudapi.cn") == "https://a.queue.core.chinacloudapi.cn"


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"WARDEN_SWEEP_QUEUE": "warden-sweep"}, "needs the state storage account"),
        ({"WARDEN_STATE_CONNECTION_STRING": "x", "WARDEN_SWEEP_QUEUE": "Warden"}, "is not a queue name"),
        ({"WARDEN_STATE_CONNECTION_STRING": "x", "WARDEN_SWEEP_QUEUE": "a--b"}, "is not a queue name"),
        ({"WARDEN_STATE_CONNECTION_STRING": "x", "WARDEN_SWEEP_QUEUE": "-ab"}, "is not a queue name"),
        ({"WARDEN_STATE_CONNECTION_STRING": "x", "WARDEN_SWEEP_QUEUE": "q" * 57}, "is not a queue name"),
        (
            {"WARDEN_STATE_ACCOUNT_URL": "https://a.dfs.core.windows.net", "WARDEN_SWEEP_QUEUE": "q1q"},
            "cannot tell the queue endpoint",
        ),
        (
            HOSTED | {"WARDEN_SWEEP_QUEUE_STORAGE__queueServiceUri": "https://b.queue.core.windows.net"},
            "is not the state storage account's queue endpoint",
        ),
    ],
)
def test_an_invalid_sweep_queue_is_refused(tmp_path: Path, env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        load_settings(env, base_dir=tmp_path)


@pytest.mark.parametrize("missing", ["WARDEN_SWEEP_QUEUE", "WARDEN_SWEEP_QUEUE_STORAGE__queueServiceUri"])
def test_hosted_in_azure_needs_the_sweep_queue(tmp_path: Path, missing: str) -> None:
    # The queue trigger names both: without them the Functions host cannot start its listener.
    env = {k: v for k, v in HOSTED.items() if k != missing}
    with pytest.raises(ConfigurationError, match="set WARDEN_SWEEP_QUEUE and WARDEN_SWEEP_QUEUE_STORAGE"):
        load_settings(env, base_dir=tmp_path)
