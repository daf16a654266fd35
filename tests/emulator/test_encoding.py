"""Percent-encoding: the emulator decodes a request path exactly once, as ARM does, so a client that encodes
twice gets a 404 instead of the resource it meant (docs/emulator.md, "Paths are decoded once")."""

from __future__ import annotations

import http.client
import json
import ssl
from typing import Any
from urllib.parse import urlsplit

import pytest
from azure.core.exceptions import ResourceNotFoundError
from azure.mgmt.cognitiveservices import CognitiveServicesManagementClient

from emulator import Emulator
from tests.emulator.conftest import API, BEARER, RG, account_id

CHAT = account_id("aoai-one") + "/deployments/chat"


def send(emu: Emulator, method: str, path: str) -> tuple[int, Any]:
    """The path exactly as given, on the wire: requests and the SDK would re-encode or normalise it
    (requests turns `%2D` into `-` before sending)."""
    url = urlsplit(emu.endpoint)
    conn = http.client.HTTPSConnection(
        url.hostname or "", url.port, context=ssl.create_default_context(cafile=str(emu.ca_path)), timeout=10
    )
    try:
        conn.request(method, f"{path}?api-version={API}", headers=BEARER)
        reply = conn.getresponse()
        body = reply.read()
        return reply.status, json.loads(body) if body else None
    finally:
        conn.close()


@pytest.mark.parametrize(
    ("path", "status"),
    [
        (account_id("aoai-one"), 200),
        (account_id("aoai%2Done"), 200),  # %2D is `-`: one decode gives the real name
        (account_id("aoai%252Done"), 404),  # one decode gives `aoai%2Done`, which names no account
        (account_id("aoai%25252Done"), 404),
        (CHAT, 200),
        (CHAT.replace("/chat", "/ch%2561t"), 404),  # `ch%61t` after one decode, `chat` only after two
    ],
)
def test_paths_are_decoded_once(emu: Emulator, path: str, status: int) -> None:
    got, body = send(emu, "GET", path)
    assert got == status
    if status == 404:
        assert body["error"]["code"] in ("ResourceNotFound", "ParentResourceNotFound")
    else:
        assert body["name"] in ("aoai-one", "chat")


def test_the_request_log_shows_the_path_decoded_once(emu: Emulator) -> None:
    send(emu, "GET", account_id("aoai%252Done"))
    assert [r.path for r in emu.requests] == [account_id("aoai%2Done")]


def test_a_name_the_sdk_encodes_reaches_the_emulator_as_given(client: CognitiveServicesManagementClient) -> None:
    """The SDK quotes `%` as `%25`; the emulator must see the name the caller passed, not a decoded one."""
    with pytest.raises(ResourceNotFoundError):
        client.accounts.get(RG, "aoai%2Done")
    assert client.accounts.get(RG, "aoai-one").name == "aoai-one"
