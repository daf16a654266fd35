"""DiagnosticsPort over azure-mgmt-monitor 6.0.2 (api-version 2021-05-01-preview): list a resource's diagnostic
settings and PUT one. Raw JSON in and out, not SDK models, so `DiagnosticSetting.properties` holds every field as
ARM returned it and a PUT sends exactly the given properties. SDK models and exceptions stop here."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Mapping
from typing import Any

from azure.core.pipeline import PipelineResponse
from azure.mgmt.monitor import MonitorManagementClient

from warden.access_model import DiagnosticSetting, LogSetting
from warden.azure.clients import ClientFactory
from warden.azure.errors import classified_errors
from warden.errors import AzureError
from warden.ids import URL_SAFE_ID, IdRuleError, check_arm_id, subscription_of
from warden.model import Json

log = logging.getLogger(__name__)

# A setting name is quoted by the SDK, but the emulator and ARM decode the path once: a `/` would still split it.
_NAME = re.compile(r"[A-Za-z0-9_.()\- ]+", re.ASCII)


def resource_uri(resource_id: str) -> str:
    """The SDK's `resource_uri` for an ARM id: checked (warden/ids.py's rules and the URL-safe characters) and
    without its leading slash, as the upstream examples write it (`subscriptions/...`). The SDK's `/{resourceUri}`
    template adds the one slash, so the URL never depends on azure-core collapsing a `//`."""
    value = check_arm_id(resource_id)
    if not URL_SAFE_ID.fullmatch(value):  # the SDK puts `resourceUri` into the URL path unquoted
        raise IdRuleError(f"is {resource_id!r}, which holds characters an ARM id cannot (only A-Z a-z 0-9 / _ . ( ) -)")
    return value.lstrip("/")


def _check_name(name: str) -> str:
    if not _NAME.fullmatch(name) or name.strip(" .") == "":
        raise IdRuleError(f"is {name!r}, not a diagnostic setting name (letters, digits, space, _ . ( ) -)")
    return name


def _text(entry: Mapping[str, Any], key: str) -> str | None:
    value = entry.get(key)
    return value if isinstance(value, str) and value else None


def to_diagnostic_setting(raw: Mapping[str, Any], fallback_id: str = "") -> DiagnosticSetting:
    """A setting as ARM returned it, as the engine's value. An empty `workspaceId` (the upstream examples send
    `""`) is no workspace: None."""
    props = raw.get("properties")
    properties: dict[str, Json] = dict(props) if isinstance(props, Mapping) else {}
    entries = properties.get("logs")
    logs = tuple(
        LogSetting(
            category=_text(entry, "category"),
            category_group=_text(entry, "categoryGroup"),
            enabled=entry.get("enabled") is True,
        )
        for entry in (entries if isinstance(entries, list) else [])
        if isinstance(entry, Mapping)
    )
    resource_id = str(raw.get("id") or fallback_id)
    return DiagnosticSetting(
        resource_id=resource_id,
        name=str(raw.get("name") or resource_id.rsplit("/", 1)[-1]),
        workspace_id=_text(properties, "workspaceId"),
        logs=logs,
        properties=properties,
    )


class DiagnosticSettings:
    """The DiagnosticsPort for real: one GET per list, one PUT per write (200 only: not long-running, no etag)."""

    def __init__(self, clients: ClientFactory) -> None:
        self._factory = clients

    def _client(self, uri: str) -> MonitorManagementClient:
        return self._factory.arm(MonitorManagementClient, subscription_of(uri))

    def list_diagnostic_settings(self, resource_id: str) -> list[DiagnosticSetting]:
        uri = resource_uri(resource_id)
        answers: list[str] = []

        def keep(response: PipelineResponse[Any, Any]) -> None:
            # The list's `cls` hook sees SDK models only, so the JSON is taken from the raw response. The hook runs
            # for every attempt (a 429 retried included): only the 200 answer is the list. Parsed below, outside
            # the pipeline, so a body that is no JSON is classified like any other bad answer.
            if response.http_response.status_code == 200:
                answers.append(response.http_response.text())

        what = f"list diagnostic settings of {resource_id}"
        with classified_errors(what):
            # DiagnosticSettings_List does not page (nextLinkName null): one request, one answer.
            list(self._client(uri).diagnostic_settings.list(uri, raw_response_hook=keep))
        found: list[DiagnosticSetting] = []
        for text in answers:
            try:
                answer = json.loads(text)
            except ValueError as exc:
                raise AzureError(f"{what}: the answer is not JSON") from exc
            value = answer.get("value") if isinstance(answer, Mapping) else None
            if not isinstance(value, list):
                raise AzureError(f"{what}: the answer has no 'value' list")
            found.extend(to_diagnostic_setting(s) for s in value if isinstance(s, Mapping))
        return found

    def put_diagnostic_setting(self, resource_id: str, name: str, properties: Mapping[str, Json]) -> None:
        uri = resource_uri(resource_id)
        _check_name(name)
        # Raw JSON: exactly these properties go out, including any the SDK's model does not declare. Bytes, not a
        # BytesIO: this SDK sends a body as it is only for `bytes` or a typing.IO subclass, which BytesIO is not.
        body = json.dumps({"properties": dict(properties)}).encode()
        with classified_errors(f"put diagnostic setting {name} of {resource_id}", write=True):
            # The answer (the stored setting) is not needed: the port returns nothing, and no etag exists.
            self._client(uri).diagnostic_settings.create_or_update(uri, name, body, content_type="application/json")
        log.info("put diagnostic setting %s of %s", name, resource_id)
