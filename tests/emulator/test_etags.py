"""Etags: every applied account write mints a new one, in the upstream examples' format, and If-Match
guards PATCH and PUT (412 PreconditionFailed on a mismatch; `*` matches any existing account)."""

from __future__ import annotations

import re
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from azure.core.exceptions import HttpResponseError, ResourceExistsError
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
    emu.set_lro_mode("async", 60)
    before = _etag(emu)
    accepted = raw(emu, "PATCH", ONE, json={"properties": {"disableLocalAuth": True}})
    assert accepted.status_code == 202
    assert _etag(emu) == before  # running: shown as Accepted, but nothing applied, so the etag is unchanged
    emu.clock.advance(60)
    applied = _etag(emu)
    assert applied != before
    emu.set_lro_mode("async", 0)
    result = client.accounts.begin_update(RG, "aoai-one", DISABLE_PUBLIC).result()
    assert result.etag == _etag(emu) != applied


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


def test_async_a_writer_with_the_same_etag_gets_409_then_412(emu: Emulator) -> None:
    """Two writers hold the same etag. While the first one's operation runs the second is refused with 409
    (ARM allows one operation per resource); once it has applied, the second one's etag is stale: 412."""
    emu.set_lro_mode("async", 60)
    etag = _etag(emu)
    first = raw(emu, "PATCH", ONE, json={"properties": {"disableLocalAuth": True}}, headers=_with(etag))
    second = raw(emu, "PATCH", ONE, json={"properties": {"publicNetworkAccess": "Disabled"}}, headers=_with(etag))
    assert (first.status_code, second.status_code) == (202, 409)
    emu.clock.advance(60)
    again = raw(emu, "PATCH", ONE, json={"properties": {"publicNetworkAccess": "Disabled"}}, headers=_with(etag))
    assert (again.status_code, again.json()["error"]["code"]) == (412, "PreconditionFailed")
    props = raw(emu, "GET", ONE).json()["properties"]
    assert (props["disableLocalAuth"], props["publicNetworkAccess"]) == (True, "Enabled")


def test_a_write_while_another_runs_fails_fast_through_the_sdk(
    emu: Emulator, client: CognitiveServicesManagementClient
) -> None:
    """What warden sees when another write is in flight: 409 at once, before any operation is followed."""
    etag = _etag(emu)
    emu.set_lro_mode("async", 60)
    raced = raw(emu, "PATCH", ONE, json={"properties": {"disableLocalAuth": True}}, headers=_with(etag))
    assert raced.status_code == 202
    with pytest.raises(ResourceExistsError) as busy:
        client.accounts.begin_update(RG, "aoai-one", DISABLE_PUBLIC, headers={"If-Match": etag})
    assert busy.value.status_code == 409
    assert raw(emu, "GET", ONE).json()["properties"]["publicNetworkAccess"] == "Enabled"


# --- ifMatch: ignored ------------------------------------------------------------------------------
@pytest.mark.parametrize("method", ["PATCH", "PUT"])
def test_if_match_ignored_applies_a_stale_write(emu: Emulator, method: str) -> None:
    """Issue 6 item 2: the swagger does not declare If-Match on Accounts_Update, so the scenario option
    `ifMatch: ignored` models a service that does not look at it: a stale etag is obeyed, not refused."""
    emu.set_options(if_match="ignored")
    stale = _etag(emu)
    assert raw(emu, "PATCH", ONE, json={"properties": {"restrictOutboundNetworkAccess": True}}).status_code == 200
    body: dict[str, Any] = {"properties": {"disableLocalAuth": True}}
    if method == "PUT":
        body.update(location="eastus", kind="OpenAI")
    reply = raw(emu, method, ONE, json=body, headers=_with(stale))
    assert reply.status_code == 200
    assert reply.json()["properties"]["disableLocalAuth"] is True


def test_if_match_mode_is_a_scenario_option(scenario: dict[str, Any]) -> None:
    scenario["options"] = {"ifMatch": "ignored"}
    with Emulator(scenario) as emu:
        assert raw(emu, "PATCH", ONE, json={"properties": {}}, headers=_with('"stale"')).status_code == 200
    scenario["options"] = {"ifMatch": "honoured"}
    with Emulator(scenario) as emu:
        assert raw(emu, "PATCH", ONE, json={"properties": {}}, headers=_with('"stale"')).status_code == 412
