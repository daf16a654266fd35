"""The telemetry settings (warden/settings.py, warden/telemetry_names.py), and the cold start with telemetry unset:
`import function_app` in a fresh interpreter loads nothing of OpenTelemetry or Azure Monitor."""

from __future__ import annotations

import pytest

from tests.test_function_app import import_app
from warden.errors import ConfigurationError
from warden.settings import load_settings
from warden.telemetry_names import EntraAuth, entra_auth

CLIENT = "c3e1a7b9-2d4f-4a6e-8b0c-1f5d9e3a7c21"
CONNECTION = "InstrumentationKey=00000000-0000-0000-0000-000000000000;IngestionEndpoint=https://127.0.0.1:1/"


@pytest.mark.parametrize(
    ("text", "auth"),
    [
        ("", None),
        ("Authorization=AAD", EntraAuth(None)),
        (f"ClientId={CLIENT};Authorization=AAD", EntraAuth(CLIENT)),
        (f"authorization=aad; clientid={CLIENT};", EntraAuth(CLIENT)),
    ],
)
def test_the_authentication_string(text: str, auth: EntraAuth | None) -> None:
    assert entra_auth(text) == auth


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (f"ClientId={CLIENT}", "only Authorization=AAD"),
        ("Authorization=Key", "only Authorization=AAD"),
        ("Authorization=AAD;ClientId", "a part is not KEY=VALUE"),
        ("Authorization=AAD;Secret=x", "unknown key"),
    ],
)
def test_a_malformed_authentication_string_fails_at_start_up(text: str, message: str) -> None:
    env = {"APPLICATIONINSIGHTS_CONNECTION_STRING": CONNECTION, "APPLICATIONINSIGHTS_AUTHENTICATION_STRING": text}
    with pytest.raises(ConfigurationError, match=f"APPLICATIONINSIGHTS_AUTHENTICATION_STRING: {message}"):
        load_settings(env)


def test_a_connection_string_without_a_key_fails_without_quoting_it() -> None:
    with pytest.raises(ConfigurationError, match="no InstrumentationKey") as raised:
        load_settings({"APPLICATIONINSIGHTS_CONNECTION_STRING": "IngestionEndpoint=https://x.example/"})
    assert "x.example" not in str(raised.value)


def test_the_settings_are_read() -> None:
    settings = load_settings(
        {"APPLICATIONINSIGHTS_CONNECTION_STRING": CONNECTION, "APPLICATIONINSIGHTS_AUTHENTICATION_STRING": " "}
    )
    assert settings.telemetry_connection_string == CONNECTION and settings.telemetry_authentication_string is None


TELEMETRY_MODULES = (
    "import sys\n"
    "from warden.azure.telemetry import build_telemetry\n"
    "from warden.settings import load_settings\n"
    "assert build_telemetry(load_settings()) is None\n"
    "loaded = sorted(m for m in sys.modules if m.startswith(('opentelemetry', 'azure.monitor')))\n"
    "print('loaded:', loaded)\n"
)


def test_with_telemetry_unset_importing_the_app_loads_no_opentelemetry(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("APPLICATIONINSIGHTS_CONNECTION_STRING", raising=False)
    done = import_app(TELEMETRY_MODULES)
    assert done.returncode == 0, done.stderr
    assert "loaded: []" in done.stdout


def test_the_probe_would_see_opentelemetry_if_it_were_loaded(monkeypatch: pytest.MonkeyPatch) -> None:
    """The same probe, after an import of the adapter's SDK: it reports it (so the test above can fail)."""
    monkeypatch.delenv("APPLICATIONINSIGHTS_CONNECTION_STRING", raising=False)
    done = import_app("import opentelemetry.metrics\n" + TELEMETRY_MODULES)
    assert done.returncode == 0, done.stderr
    assert "'opentelemetry.metrics'" in done.stdout
