"""The shared state store wired in: settings, build_runtime's choice, and two app instances handling the same
resource at once against the emulator and Azurite, which must give exactly one PATCH."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from azure.storage.blob import ContainerClient

from emulator import Emulator
from emulator.builders import account, account_id
from tests.azurite import new_container
from tests.conftest import REPO
from tests.integration.conftest import WARDEN_APPID, WARDEN_OID, baseline_text, write_event
from warden.azure import functions_host
from warden.azure.state_blob import BlobStateStore
from warden.azure.wiring import build_runtime
from warden.azure.worker_events import to_functions_event
from warden.runtime import Runtime
from warden.settings import Settings, load_settings
from warden.state import LocalStateStore

DEMO_BASELINE = REPO / "scenarios" / "demo" / "baseline.yaml"
OPEN = {"publicNetworkAccess": "Enabled", "networkAcls": {"defaultAction": "Allow", "ipRules": []}}
URL = "https://acct.blob.core.windows.net"


def test_state_settings_default_to_the_audit_account() -> None:
    settings = load_settings({"WARDEN_AUDIT_ACCOUNT_URL": URL}, base_dir=Path("/app"))
    assert (settings.state_account_url, settings.state_connection_string) == (URL, None)
    assert settings.state_container == "warden-state"
    settings = load_settings({"WARDEN_AUDIT_CONNECTION_STRING": "UseDevelopmentStorage=true"})
    assert (settings.state_account_url, settings.state_connection_string) == (None, "UseDevelopmentStorage=true")
    settings = load_settings({})
    assert (settings.state_account_url, settings.state_connection_string) == (None, None)


def test_state_settings_of_their_own_replace_the_audit_pair() -> None:
    env = {
        "WARDEN_AUDIT_ACCOUNT_URL": URL,
        "WARDEN_STATE_CONNECTION_STRING": "UseDevelopmentStorage=true",
        "WARDEN_STATE_CONTAINER": "state-x",
    }
    settings = load_settings(env)
    assert (settings.state_account_url, settings.state_connection_string) == (None, "UseDevelopmentStorage=true")
    assert settings.state_container == "state-x"
    assert settings.audit_account_url == URL
    other = "https://other.blob.core.windows.net"
    settings = load_settings({"WARDEN_AUDIT_ACCOUNT_URL": URL, "WARDEN_STATE_ACCOUNT_URL": other})
    assert (settings.state_account_url, settings.state_connection_string) == (other, None)


def _offline(tmp_path: Path, **fields: Any) -> Settings:
    """Settings whose ARM endpoint is never called: build_runtime only wires."""
    return Settings(
        baseline_path=DEMO_BASELINE,
        arm_endpoint="https://127.0.0.1:9",
        credential="static",
        audit_dir=tmp_path / "audit",
        state_dir=tmp_path / "state",
        **fields,
    )


def test_build_runtime_uses_the_blob_store_when_a_state_account_is_set(azurite: str, tmp_path: Path) -> None:
    name = f"state-{uuid.uuid4().hex[:16]}"
    rt = build_runtime(_offline(tmp_path, state_connection_string=azurite, state_container=name))
    assert isinstance(rt.state, BlobStateStore)
    assert rt.state.container_name == name
    with ContainerClient.from_connection_string(azurite, name) as container:
        assert container.exists()  # created at start-up


def test_build_runtime_uses_the_local_folder_otherwise(tmp_path: Path) -> None:
    rt = build_runtime(_offline(tmp_path))
    assert isinstance(rt.state, LocalStateStore)
    assert (tmp_path / "state" / "locks").is_dir()


@pytest.fixture
def emulator() -> Iterator[Emulator]:
    emu = Emulator({"resources": [account("aoai-a", **OPEN)]}).start()
    emu.set_lro_mode("sync")
    yield emu
    emu.stop()


def _instances(emu: Emulator, azurite: str, tmp_path: Path, count: int = 2) -> list[Runtime]:
    """`count` app instances: their own clients and folders, one storage account (shared audit and state)."""
    baseline = tmp_path / "baseline.yaml"
    baseline.write_text(baseline_text())
    audit, state = new_container(azurite, "audit"), f"state-{uuid.uuid4().hex[:16]}"  # state: made at start-up
    return [
        build_runtime(
            Settings(
                baseline_path=baseline,
                arm_endpoint=emu.endpoint,
                arm_ca_bundle=emu.ca_path,
                credential="static",
                self_object_ids=frozenset({WARDEN_OID}),
                self_app_ids=frozenset({WARDEN_APPID}),
                audit_connection_string=azurite,
                audit_container=audit,
                audit_dir=tmp_path / f"audit-{n}",
                state_connection_string=azurite,
                state_container=state,
                state_dir=tmp_path / f"state-{n}",
                polling_interval=0.0,
            )
        )
        for n in range(count)
    ]


def _deliver_at_once(deliveries: list[tuple[Runtime, dict[str, Any]]]) -> None:
    start = threading.Barrier(len(deliveries))
    failures: list[BaseException] = []

    def deliver(rt: Runtime, event: dict[str, Any]) -> None:
        start.wait()
        try:
            functions_host.on_event(to_functions_event(event), rt)
        except BaseException as exc:
            failures.append(exc)

    threads = [threading.Thread(target=deliver, args=d) for d in deliveries]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []


def test_the_same_event_delivered_to_two_instances_at_once_gives_one_patch(
    emulator: Emulator, azurite: str, tmp_path: Path
) -> None:
    a, b = _instances(emulator, azurite, tmp_path)
    event = write_event(account_id("aoai-a"), event_id="e-dup")
    _deliver_at_once([(a, event), (b, event), (a, event), (b, event)])  # two deliveries per instance

    patches = [r for r in emulator.requests if r.method == "PATCH"]
    assert len(patches) == 1
    assert patches[0].body == {"properties": {"publicNetworkAccess": "Disabled"}}
    results = [e for e in a.audit.entries() if e["kind"] == "result"]
    assert [r["outcome"] for r in results] == ["remediated"]
    assert a.state.is_done("e-dup") and b.state.is_done("e-dup")
    assert a.state.history(account_id("aoai-a"), a.clock(), a.baseline.limits.attempt_window).attempts_in_window == 1


def test_two_events_for_one_resource_at_two_instances_give_one_remediation(
    emulator: Emulator, azurite: str, tmp_path: Path
) -> None:
    a, b = _instances(emulator, azurite, tmp_path)
    resource = account_id("aoai-a")
    _deliver_at_once([(a, write_event(resource, event_id="e-1")), (b, write_event(resource.upper(), event_id="e-2"))])

    assert len([r for r in emulator.requests if r.method == "PATCH"]) == 1
    outcomes = sorted(e.get("outcome", "") for e in b.audit.entries() if e["kind"] in ("result", "evaluation"))
    assert outcomes == ["compliant", "remediated"]  # the second evaluation ran after the first, under the lock
    assert a.state.is_done("e-1") and a.state.is_done("e-2")


def test_a_drifted_event_delivered_nine_times_at_three_instances_gives_one_intent_and_one_patch(
    emulator: Emulator, azurite: str, tmp_path: Path
) -> None:
    """Each delivery reads the state without a lock; those that find drift claim the lock on what they read, and
    only one claim wins. The others judge again under the lock (a duplicate then) or find the account compliant."""
    instances = _instances(emulator, azurite, tmp_path, count=3)
    event = write_event(account_id("aoai-a"), event_id="e-many")
    _deliver_at_once([(rt, event) for rt in instances for _ in range(3)])

    assert len([r for r in emulator.requests if r.method == "PATCH"]) == 1
    entries = list(instances[0].audit.entries())
    assert len([e for e in entries if e["kind"] == "intent"]) == 1  # no audit trail of a second action either
    assert [e["outcome"] for e in entries if e["kind"] == "result"] == ["remediated"]
    rt = instances[2]
    assert rt.state.history(account_id("aoai-a"), rt.clock(), rt.baseline.limits.attempt_window).attempts_in_window == 1
    assert rt.state.is_done("e-many")
