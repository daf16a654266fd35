"""The request log keeps the request headers that matter (an allow-list) and never a credential."""

from __future__ import annotations

import json
from pathlib import Path

from azure.mgmt.cognitiveservices import CognitiveServicesManagementClient

from emulator import Emulator
from emulator.kernel.http import RECORDED_HEADERS, safe_headers
from tests.emulator.conftest import RG, account_id, raw
from tests.emulator.test_lro import DISABLE_PUBLIC

ONE = account_id("aoai-one")
SECRET_TOKEN = "Bearer secret-token-must-not-be-logged"
SECRET_KEY = "secret-key-must-not-be-logged"


def test_allow_list_is_the_documented_one() -> None:
    assert RECORDED_HEADERS == (
        "If-Match",
        "If-None-Match",
        "Content-Type",
        "x-ms-client-request-id",
        "x-ms-correlation-request-id",
        "User-Agent",
    )
    got = safe_headers({"authorization": "Bearer x", "if-match": '"e"', "X-MS-CLIENT-REQUEST-ID": "r", "api-key": "k"})
    assert got == {"If-Match": '"e"', "x-ms-client-request-id": "r"}


def test_credentials_never_reach_the_log_and_if_match_does(emu: Emulator, tmp_path: Path) -> None:
    etag = raw(emu, "GET", ONE).json()["etag"]
    sent = {
        "Authorization": SECRET_TOKEN,
        "If-Match": etag,
        "If-None-Match": '"nope"',
        "x-ms-client-request-id": "req-1",
        "User-Agent": "warden-test/1",
        "api-key": SECRET_KEY,
        "Ocp-Apim-Subscription-Key": SECRET_KEY,
        "x-ms-authorization-auxiliary": SECRET_TOKEN,
        "Cookie": SECRET_KEY,
    }
    reply = raw(emu, "PATCH", ONE, json={"properties": {"disableLocalAuth": True}}, headers=sent)
    assert reply.status_code == 200
    raw(emu, "POST", f"{ONE}/listKeys", headers={"Authorization": SECRET_TOKEN})
    patch, list_keys = emu.requests[-2:]

    assert patch.headers == {
        "If-Match": etag,
        "If-None-Match": '"nope"',
        "x-ms-client-request-id": "req-1",
        "User-Agent": "warden-test/1",
        "Content-Type": "application/json",
    }
    assert "If-Match" not in list_keys.headers
    for entry in emu.requests:
        assert not {name.lower() for name in entry.headers} & {"authorization", "api-key", "cookie"}

    out = tmp_path / "requests.jsonl"
    emu.write_requests(out)
    text = out.read_text(encoding="utf-8")
    assert json.loads(text.splitlines()[-2])["headers"]["If-Match"] == etag
    for secret in (SECRET_TOKEN, SECRET_KEY, "Authorization", "authorization", "scenario-key-one"):
        assert secret not in text


def test_sdk_requests_carry_their_client_request_id_and_if_match(
    emu: Emulator, client: CognitiveServicesManagementClient
) -> None:
    etag = raw(emu, "GET", ONE).json()["etag"]
    emu.clear_requests()
    client.accounts.begin_update(RG, "aoai-one", DISABLE_PUBLIC, headers={"If-Match": etag}).result()
    # The PATCH, then (the reply carries Azure-AsyncOperation) one status poll and the poller's final GET.
    patch, poll, final = emu.requests
    assert (patch.method, poll.kind, final.method) == ("PATCH", "operation-status", "GET")
    assert patch.headers["If-Match"] == etag
    assert patch.headers["User-Agent"].startswith("azsdk-python-mgmt-cognitiveservices/")
    assert patch.headers["x-ms-client-request-id"]
    assert patch.headers["Content-Type"].startswith("application/json")
    assert set(patch.headers) <= set(RECORDED_HEADERS)


def test_faulted_requests_are_recorded_with_their_headers(emu: Emulator) -> None:
    emu.add_fault("GET", r"/accounts/aoai-one$", "server-error")
    raw(emu, "GET", ONE, headers={"Authorization": SECRET_TOKEN, "x-ms-client-request-id": "r-9"})
    (entry,) = emu.requests
    assert (entry.status, entry.fault) == (503, "server-error")
    assert entry.headers["x-ms-client-request-id"] == "r-9"
    assert "Authorization" not in entry.headers
