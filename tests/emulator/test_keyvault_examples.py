"""Key Vault fidelity: the upstream data-plane examples (7.5, 7.6, 2025-07-01) load into the emulator and come
back unchanged, and what it makes has their shape; the `vaultKeys`/`vaultSecrets` scenario sections load,
fail naming the section, and dump back; the key-event builder gives the derived events' exact shape."""

from __future__ import annotations

import copy
import json
import re
from typing import Any

import pytest
import requests

from emulator import Emulator
from emulator.builders import key_vault_event, vault
from tests.conftest import reference_dir
from tests.keyvault_support import scenario

BEARER = {"Authorization": "Bearer emulator-token"}
MYVAULT = vault("myvault")  # the examples' vault: https://myvault.vault.azure.net/


def example(version: str, name: str) -> dict[str, Any]:
    path = reference_dir() / "keyvault/data-plane" / version / "examples" / f"{name}-example.json"
    loaded: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return loaded


def call(emu: Emulator, method: str, path: str, version: str, body: Any = None) -> Any:
    got = requests.request(
        method,
        f"{emu.vault_url('myvault')}{path}",
        params={"api-version": version},
        headers=BEARER,
        json=body,
        verify=emu.ca_path,
        timeout=10,
    )
    assert got.status_code == 200, got.text
    return got.json()


def shape(value: Any) -> Any:
    """The keys at every level (lists by their first item), values replaced by their type."""
    if isinstance(value, dict):
        return {k: shape(v) for k, v in value.items()}
    if isinstance(value, list):
        return [shape(value[0])] if value else []
    return type(value).__name__


def test_get_key_and_get_policy_examples_come_back_unchanged() -> None:
    key = example("7.5", "GetKey")
    policy = example("7.6", "GetKeyRotationPolicy")
    keys = {
        "myvault": {
            "CreateSoftKeyTest": {"versions": [key["responses"]["200"]["body"]]},
            "key01": {"versions": [_bundle("key01")], "rotationPolicy": policy["responses"]["200"]["body"]},
        }
    }
    with Emulator(scenario(MYVAULT, vaultKeys=keys)) as emu:
        params = key["parameters"]
        got = call(emu, "GET", f"/keys/{params['key-name']}/{params['key-version']}", params["api-version"])
        assert got == key["responses"]["200"]["body"]
        assert call(emu, "GET", "/keys/CreateSoftKeyTest/", "7.5") == got  # the newest version
        assert call(emu, "GET", "/keys/key01/rotationpolicy", "7.6") == policy["responses"]["200"]["body"]
        assert emu.dump_state()["vaultKeys"] == keys


def _bundle(name: str) -> dict[str, Any]:
    body = copy.deepcopy(example("7.5", "GetKey")["responses"]["200"]["body"])
    body["key"]["kid"] = f"https://myvault.vault.azure.net/keys/{name}/{'1' * 32}"
    return body


def test_create_and_rotate_answer_in_the_examples_shape() -> None:
    create = example("7.5", "CreateKey")
    rotate = example("7.5", "RotateKey")
    with Emulator(scenario(MYVAULT)) as emu:
        params = create["parameters"]
        made = call(emu, "POST", f"/keys/{params['key-name']}/create", params["api-version"], params["parameters"])
        want = create["responses"]["200"]["body"]
        _same_shape(made, want)
        assert re.fullmatch(
            r"https://myvault\.vault\.azure\.net/keys/CreateSoftKeyTest/[0-9a-f]{32}", made["key"]["kid"]
        )
        assert (made["key"]["kty"], made["key"]["key_ops"], made["key"]["e"]) == ("RSA", want["key"]["key_ops"], "AQAB")
        assert len(made["key"]["n"]) == len(want["key"]["n"])
        assert made["tags"] == want["tags"]
        assert made["attributes"]["recoveryLevel"] == want["attributes"]["recoveryLevel"]
        call(emu, "POST", f"/keys/{rotate['parameters']['key-name']}/create", "7.5", params["parameters"])
        rotated = call(emu, "POST", f"/keys/{rotate['parameters']['key-name']}/rotate", "7.5")
        _same_shape(rotated, rotate["responses"]["200"]["body"])


def _same_shape(got: dict[str, Any], want: dict[str, Any]) -> None:
    """Same fields at every level; the one extra Key Vault adds on a soft-delete vault is recoverableDays."""
    extra = shape(got)
    assert extra["attributes"].pop("recoverableDays") == "int"
    assert extra == shape(want)


def test_update_policy_example_request_gives_its_response() -> None:
    update = example("2025-07-01", "UpdateKeyRotationPolicy")
    params = update["parameters"]
    keys = {"myvault": {params["key-name"]: {"versions": [_bundle(params["key-name"])]}}}
    with Emulator(scenario(MYVAULT, vaultKeys=keys)) as emu:
        got = call(
            emu, "PUT", f"/keys/{params['key-name']}/rotationpolicy", params["api-version"], params["keyRotationPolicy"]
        )
    want = update["responses"]["200"]["body"]
    assert {**got, "attributes": {}} == {**want, "attributes": {}}
    assert got["attributes"]["expiryTime"] == want["attributes"]["expiryTime"]
    assert shape(got) == shape(want)


SECRET = {"value": "v", "id": "https://kv-cmk.vault.azure.net/secrets/s1/" + "a" * 32, "attributes": {"created": 1}}


@pytest.mark.parametrize(
    ("sections", "where"),
    [
        ({"vaultKeys": {"kv-cmk": {"k": {"versions": []}}}}, "vaultKeys.kv-cmk.k"),
        (
            {"vaultKeys": {"kv-cmk": {"k": {"versions": [{"key": {"kid": "https://x/keys/other/1"}}]}}}},
            "vaultKeys.kv-cmk.k[0]",
        ),
        ({"vaultKeys": {"kv-cmk": {"k": {"versions": [_bundle("k")], "policy": {}}}}}, "vaultKeys.kv-cmk.k"),
        ({"vaultKeys": ["not", "a", "map"]}, "vaultKeys"),
        ({"vaultSecrets": {"kv-cmk": {"s1": [{**SECRET, "value": 3}]}}}, "vaultSecrets.kv-cmk.s1[0]"),
        ({"vaultSecrets": {"kv-cmk": {"s1": [{**SECRET, "attributes": {"created": "yesterday"}}]}}}, "created"),
        ({"vaultSecrets": {"kv-cmk": {"s1": [SECRET, SECRET]}}}, "twice"),
    ],
)
def test_bad_sections_fail_naming_the_place(sections: dict[str, Any], where: str) -> None:
    with pytest.raises(ValueError, match=re.escape(where)):
        Emulator(scenario(**sections))


def test_a_dump_loads_back_into_the_same_state() -> None:
    with Emulator(scenario(vaultSecrets={"kv-cmk": {"s1": [SECRET]}})) as emu:
        requests.put(
            f"{emu.vault_url('kv-cmk')}/secrets/s1",
            params={"api-version": "7.5"},
            headers=BEARER,
            json={"value": "second"},
            verify=emu.ca_path,
            timeout=10,
        ).raise_for_status()
        state = emu.dump_state()
    assert [v["value"] for v in state["vaultSecrets"]["kv-cmk"]["s1"]] == ["v", "second"]
    assert Emulator(state).dump_state()["vaultSecrets"] == state["vaultSecrets"]


def derived_events() -> list[dict[str, Any]]:
    path = reference_dir() / "eventgrid/derived/keyvault_key_events.json"
    events: list[dict[str, Any]] = json.loads(path.read_text(encoding="utf-8"))["events"]
    return events


@pytest.mark.parametrize("event", derived_events(), ids=lambda e: f"{e.get('type', e.get('eventType'))}-{e['id'][-3:]}")
def test_key_events_are_built_in_the_derived_shape(event: dict[str, Any]) -> None:
    cloud = "specversion" in event
    built = key_vault_event(
        (event["type"] if cloud else event["eventType"]).removeprefix("Microsoft.KeyVault."),
        event["source"] if cloud else event["topic"],
        event["data"]["ObjectName"],
        event["data"]["Version"],
        schema="CloudEvent" if cloud else "EventGridEvent",
        event_id=event["id"],
        time=event["time"] if cloud else event["eventTime"],
        nbf=int(event["data"]["NBF"]),
        exp=event["data"]["EXP"],
    )
    assert json.dumps(built) == json.dumps(event)  # same fields, same order, same types
