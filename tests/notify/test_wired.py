"""Notifications as deployed: the app settings alone (WARDEN_NOTIFY_TOPIC_ENDPOINT) wire the notifier into the
audit sink, the Event Grid function's invocation ends with them published, and /api/health counts them."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import azure.functions as func
import pytest

from emulator import Emulator
from emulator.builders import account, account_id
from tests.integration.conftest import write_event
from tests.test_function_app import app_settings, index_like_the_worker
from warden.azure import functions_host
from warden.azure.worker_events import to_functions_event
from warden.notify import REMEDIATED, record_id


@pytest.fixture
def deployed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Emulator]:
    """The app configured through its app settings, a notification topic among them, pointed at the emulator."""
    open_acls = {"publicNetworkAccess": "Enabled", "networkAcls": {"defaultAction": "Allow", "ipRules": []}}
    with Emulator({"resources": [account("aoai-a", **open_acls)]}) as emu:
        settings = app_settings(emu, tmp_path) | {"WARDEN_NOTIFY_TOPIC_ENDPOINT": emu.topic_endpoint}
        for key, value in settings.items():
            monkeypatch.setenv(key, value)
        functions_host.reset_runtime()
        yield emu
        notifier = functions_host.get_runtime().notifier
        if notifier is not None:
            notifier.close(timeout=5)
        functions_host.reset_runtime()


def test_a_remediation_is_published_by_the_end_of_its_invocation(deployed: Emulator) -> None:
    functions = index_like_the_worker()
    functions["resource_event"].get_user_function()(to_functions_event(write_event(account_id("aoai-a"))))
    # No wait here: the invocation itself gave its notifications time to go out (functions_host.NOTIFY_FLUSH_SECONDS).
    published = deployed.published_events()
    entries = list(functions_host.get_runtime().audit.entries())
    results = [e for e in entries if e["kind"] == "result"]
    assert [e["outcome"] for e in results] == ["remediated"]
    assert [(p["type"], p["id"], p["subject"]) for p in published] == [
        (REMEDIATED, record_id(results[0]), results[0]["resourceId"])
    ]
    assert published[0]["data"]["eventId"] == results[0]["eventId"] == "e-1"
    health = functions["health"].get_user_function()(func.HttpRequest("GET", "http://localhost/api/health", body=b""))
    counts = json.loads(health.get_body())["notifications"]
    assert counts == {"published": 1, "failed_attempts": 0, "given_up": 0, "dropped": 0, "pending": 0}


def test_without_the_setting_nothing_is_published_and_health_has_no_counters(
    deployed: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("WARDEN_NOTIFY_TOPIC_ENDPOINT")
    functions_host.reset_runtime()
    functions = index_like_the_worker()
    functions["resource_event"].get_user_function()(to_functions_event(write_event(account_id("aoai-a"))))
    assert deployed.published_events() == []
    assert functions_host.get_runtime().notifier is None
    health = functions["health"].get_user_function()(func.HttpRequest("GET", "http://localhost/api/health", body=b""))
    assert "notifications" not in json.loads(health.get_body())
