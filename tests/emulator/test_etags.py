"""Etags: every applied account write mints a new one, in the upstream examples' format, and If-Match
guards PATCH and PUT (412 PreconditionFailed on a mismatch; `*` matches any existing account)."""

from __future__ import annotations

import re
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from azure.core.exceptions import HttpResponseError
from azure.mgmt.cognitiveservices import CognitiveServicesManagementClient

from emulator import Emulator
from tests.emulator.conftest import RG, account_id, example_body, raw
from tests.emulator.test_lro import DISABLE_PUBLIC

ONE = account_id("aoai-one")
# The upstream examples' shape: a weak etag around an ARM datetime with its colons percent-encoded.
UPSTREAM_ETAG = re.compile(r"""^W/"datetime'\d{4}-\d{2}-\d{2}T\d{2}%3A\d{2}%3A\d{2}\.\d{1,7}Z'"$""")
EMULATOR_ETAG = re.compile(r"""^W/"datetime'\d{4}-\d{2}-\d{2}T\d{2}%3A\d{2}%3A\d{2}\.\d{7}Z'"$""")


def _etag(emu: Emulator) -> str:
    return str(raw(emu, "GET", ONE).json()["etag"])


def _with(etag: str) -> dict[str, str]:
    return {"Authorization": "Bearer t", "If-Match": etag}


def test_the_format_is_the_upstream_examples_one() -> None:
    for name in ("GetAccount", "UpdateAccount", "CreateAccount"):
        assert UPSTREAM_ETAG.match(example_body("2025-09-01", name)["etag"]), name


def test_every_applied_write_mints_a_new_etag(emu: Emulator) -> None:
    seen = [_etag(emu)]

    def write(method: str, path: str, body: dict[str, Any], status: int) -> None:
        reply = raw(emu, method, path, json=body)
        assert reply.status_code == status, reply.text
        assert EMULATOR_ETAG.match(reply.json()["etag"])
        assert raw(emu, "GET", path).json()["etag"] == reply.json()["etag"]  # the reply shows what is stored
        seen.append(reply.json()["etag"])

    write("PATCH", ONE, {"properties": {"disableLocalAuth": True}}, 200)
    write("PATCH", ONE, {"properties": {}}, 200)  # a no-op PATCH is still an applied write
    write("PATCH", ONE, {"tags": {"a": "b"}}, 200)
    write("PUT", ONE, {"location": "eastus", "kind": "OpenAI", "sku": {"name": "S0"}, "properties": {}}, 200)
    write("PUT", account_id("aoai-new"), {"location": "eastus", "kind": "OpenAI", "properties": {}}, 201)
    write("PUT", account_id("aoai-new"), {"location": "eastus", "kind": "OpenAI", "properties": {}}, 200)
    assert len(set(seen)) == len(seen)


def test_async_writes_mint_the_etag_when_applied(emu: Emulator, client: CognitiveServicesManagementClient) -> None:
    emu.set_lro_mode("async", polls=1)
    before = _etag(emu)
    accepted = raw(emu, "PATCH", ONE, json={"properties": {"disableLocalAuth": True}})
    assert accepted.status_code == 202
    assert _etag(emu) == before  # nothing applied yet, so the etag is unchanged
    result = client.accounts.begin_update(RG, "aoai-one", DISABLE_PUBLIC).result()
    assert result.etag == _etag(emu) != before


@pytest.mark.parametrize("method", ["PATCH", "PUT"])
def test_if_match_guards_account_writes(emu: Emulator, method: str) -> None:
    body: dict[str, Any] = {"properties": {"disableLocalAuth": True}}
    if method == "PUT":
        body.update(location="eastus", kind="OpenAI")
    stale = _etag(emu)
    assert raw(emu, "PATCH", ONE, json={"properties": {}}).status_code == 200  # someone else writes
    current = emu.dump_state()

    refused = raw(emu, method, ONE, json=body, headers=_with(stale))
    assert refused.status_code == 412
    assert refused.json() == {
        "error": {
            "code": "PreconditionFailed",
            "message": "The specified precondition 'If-Match' does not match the resource etag.",
        }
    }
    assert emu.dump_state() == current  # refused: nothing changed, the etag included

    for accepted in (_etag(emu), "*"):
        before = _etag(emu)
        reply = raw(emu, method, ONE, json=body, headers=_with(accepted))
        assert reply.status_code == 200, accepted
        assert reply.json()["etag"] != before


def test_if_match_through_the_sdk(emu: Emulator, client: CognitiveServicesManagementClient) -> None:
    """What warden sees: a stale If-Match is an HttpResponseError 412 that the SDK does not retry."""
    stale = _etag(emu)
    raw(emu, "PATCH", ONE, json={"properties": {}})
    emu.clear_requests()
    with pytest.raises(HttpResponseError) as refused:
        client.accounts.begin_update(RG, "aoai-one", DISABLE_PUBLIC, headers={"If-Match": stale}).result()
    assert refused.value.status_code == 412
    assert refused.value.error is not None and refused.value.error.code == "PreconditionFailed"
    assert [(r.method, r.status) for r in emu.requests] == [("PATCH", 412)]
    updated = client.accounts.begin_update(RG, "aoai-one", DISABLE_PUBLIC, headers={"If-Match": _etag(emu)}).result()
    assert updated.properties.public_network_access == "Disabled"


@pytest.mark.parametrize("method", ["PATCH", "PUT"])
def test_if_match_is_checked_atomically_with_the_write(emu: Emulator, method: str) -> None:
    """Two writers with the same If-Match race: exactly one wins, the other gets 412.

    The write delay sleeps before each write takes the store lock, so both requests are past any
    request-time check before either writes: a check made outside the lock would let both through."""
    body: dict[str, Any] = {"properties": {"disableLocalAuth": True}}
    if method == "PUT":
        body.update(location="eastus", kind="OpenAI")
    etag = _etag(emu)
    emu.set_write_delay(0.2)
    barrier = threading.Barrier(2)

    def write(_: int) -> int:
        barrier.wait(timeout=10)
        return raw(emu, method, ONE, json=body, headers=_with(etag)).status_code

    with ThreadPoolExecutor(max_workers=2) as pool:
        statuses = sorted(pool.map(write, range(2)))
    assert statuses == [200, 412]


def test_async_if_match_is_rechecked_when_the_operation_applies(emu: Emulator) -> None:
    """Async mode: both 202s are accepted against the same etag, but the second operation to apply finds
    the etag changed and ends Failed with PreconditionFailed, changing nothing."""
    emu.set_lro_mode("async", polls=0)
    etag = _etag(emu)
    first = raw(emu, "PATCH", ONE, json={"properties": {"disableLocalAuth": True}}, headers=_with(etag))
    second = raw(emu, "PATCH", ONE, json={"properties": {"publicNetworkAccess": "Disabled"}}, headers=_with(etag))
    assert (first.status_code, second.status_code) == (202, 202)

    def poll(reply: Any) -> Any:
        return raw(emu, "GET", reply.headers["Azure-AsyncOperation"].removeprefix(emu.endpoint).split("?")[0])

    assert poll(first).json()["status"] == "Succeeded"
    after_first = emu.dump_state()
    failed = poll(second).json()
    assert failed["status"] == "Failed"
    assert failed["error"]["code"] == "PreconditionFailed"
    assert emu.dump_state() == after_first
    props = raw(emu, "GET", ONE).json()["properties"]
    assert (props["disableLocalAuth"], props["publicNetworkAccess"]) == (True, "Enabled")
    result = raw(emu, "GET", second.headers["Location"].removeprefix(emu.endpoint).split("?")[0])
    assert (result.status_code, result.json()["error"]["code"]) == (412, "PreconditionFailed")


def test_async_stale_if_match_fails_the_sdk_poller(emu: Emulator, client: CognitiveServicesManagementClient) -> None:
    """What warden sees when another write lands while its operation runs: `.result()` raises."""
    etag = _etag(emu)
    emu.set_lro_mode("async", polls=0)
    raced = raw(emu, "PATCH", ONE, json={"properties": {"disableLocalAuth": True}}, headers=_with(etag))
    assert raced.status_code == 202
    emu.set_lro_mode("async", polls=20)  # warden's operation stays InProgress while the other one applies
    poller = client.accounts.begin_update(RG, "aoai-one", DISABLE_PUBLIC, headers={"If-Match": etag})
    status = raw(emu, "GET", raced.headers["Azure-AsyncOperation"].removeprefix(emu.endpoint).split("?")[0])
    assert status.json()["status"] == "Succeeded"
    with pytest.raises(HttpResponseError):
        poller.result()
    assert raw(emu, "GET", ONE).json()["properties"]["publicNetworkAccess"] == "Enabled"
