"""The function app's settings as infra/ deploys them: names and literal values read from the Bicep, and sample
values for the ones ARM resolves at deployment (identity ids, storage endpoints)."""

from __future__ import annotations

from tests.infra.bicep import bicep_files, fields, find_properties, items, parse, string_value

BLOB = "https://stwarden.blob.core.windows.net/"
QUEUE = "https://stwarden.queue.core.windows.net/"
#: Values for the settings whose Bicep value is an expression (the deployment's outputs, resolved by ARM).
SAMPLES = {
    "WARDEN_MODE": "dry-run",
    "WARDEN_SELF_OBJECT_IDS": "9d2c7e41-5b3a-4f8e-a1c6-7e0b2d9f3a15",
    "WARDEN_SELF_APP_IDS": "c3e1a7b9-2d4f-4a6e-8b0c-1f5d9e3a7c21",
    "AZURE_CLIENT_ID": "c3e1a7b9-2d4f-4a6e-8b0c-1f5d9e3a7c21",
    "WARDEN_AUDIT_ACCOUNT_URL": BLOB,
    "WARDEN_STATE_ACCOUNT_URL": BLOB,
    "WARDEN_SWEEP_QUEUE_STORAGE__queueServiceUri": QUEUE,
    "WARDEN_SWEEP_WORKERS": "8",
    "WARDEN_ARM_ENDPOINT": "https://management.azure.com/",
    "WARDEN_DATA_SWEEP_SCHEDULE": "0 30 2 * * *",
    "WARDEN_AUDIT_CONTAINER": "warden-audit",
    "WARDEN_STATE_CONTAINER": "warden-state",
    "WARDEN_SWEEP_QUEUE": "warden-sweep",
    "WARDEN_NOTIFY_TOPIC_ENDPOINT": "https://evgt-warden.westeurope-1.eventgrid.azure.net/api/events",
    "APPLICATIONINSIGHTS_CONNECTION_STRING": "InstrumentationKey=00000000-0000-0000-0000-000000000000;"
    "IngestionEndpoint=https://westeurope-5.in.applicationinsights.azure.com/",
    "APPLICATIONINSIGHTS_AUTHENTICATION_STRING": "ClientId=c3e1a7b9-2d4f-4a6e-8b0c-1f5d9e3a7c21;Authorization=AAD",
}


def bicep_app_settings() -> dict[str, str | None]:
    """Name -> literal value (None for an expression) of the function app's `appSettings`, from the Bicep."""
    blocks = [(path, b) for path in bicep_files() for b in find_properties(parse(path), "appSettings")]
    assert len(blocks) == 1, f"one appSettings array, found {[str(p) for p, _ in blocks]}"
    names: dict[str, str | None] = {}
    for entry in items(blocks[0][1]):
        values = fields(entry)
        name = string_value(values.get("name"))
        assert name is not None, f"an app setting's name is not a plain string: {entry.text.decode()[:80]}"
        assert name not in names, f"{name} set twice"
        names[name] = string_value(values.get("value"))
    return names


def deployed_environment() -> dict[str, str]:
    """The app settings as the deployment sets them: the Bicep's literals, SAMPLES for its expressions."""
    return {name: value if value is not None else SAMPLES.get(name, "") for name, value in bicep_app_settings().items()}
