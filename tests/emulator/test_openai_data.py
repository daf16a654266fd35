"""The Azure OpenAI data plane on its own port, over raw HTTPS: accounts by subdomain, credentials, both path
shapes, api-versions, reads and deletes, the 409 guard, creating and cancelling jobs, and the request log. The
helpers here are shared by the other test_openai_* modules."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests

from emulator import Emulator
from emulator.training_builders import fine_tuning_job, openai_data, training_file
from tests.emulator.conftest import account_id, openai_account

NOW = datetime(2026, 12, 1, tzinfo=UTC)
DATED = "2024-10-21"
ONE = account_id("aoai-one")
KEYS = {"key1": "openai-key-one-never-logged", "key2": "openai-key-two-never-logged"}
BEARER = {"Authorization": "Bearer entra-token-never-logged"}
FILES = [training_file(filename=f"train-{i}.jsonl", created_at=NOW - timedelta(days=10 - i)) for i in range(5)]
NEWEST_FIRST = [f["id"] for f in reversed(FILES)]


def scenario(
    files: list[dict[str, Any]] | None = None, jobs: list[dict[str, Any]] | None = None, **sections: Any
) -> dict[str, Any]:
    """aoai-one (with fixed keys and the given files and jobs) and aoai-two (local auth disabled), at NOW."""
    return {
        "resources": [openai_account("aoai-one"), openai_account("aoai-two", disableLocalAuth=True)],
        "accountKeys": {ONE: dict(KEYS), account_id("aoai-two"): dict(KEYS)},
        "clock": {"now": NOW.isoformat()},
        **openai_data(ONE, FILES if files is None else files, jobs or []),
        **sections,
    }


def call(
    emu: Emulator,
    method: str,
    path: str,
    *,
    sub: str = "aoai-one",
    params: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
    **kwargs: Any,
) -> requests.Response:
    """A plain HTTPS call on the dated shape (`/openai{path}?api-version=2024-10-21`) with a bearer token,
    unless told otherwise; a path starting with `/openai` is taken as it is."""
    full = path if path.startswith("/openai") else f"/openai{path}"
    return requests.request(
        method,
        f"{emu.openai_url(sub)}{full}",
        params={"api-version": DATED} if params is None else params,
        headers=BEARER if headers is None else headers,
        verify=emu.ca_path,
        timeout=10,
        **kwargs,
    )


def v1(emu: Emulator, method: str, path: str, **params: str) -> requests.Response:
    return call(emu, method, f"/openai/v1{path}", params=params)


def job(status: str, **fields: Any) -> dict[str, Any]:
    """A job made a day before NOW unless `fields` say otherwise."""
    return fine_tuning_job(status=status, **{"created_at": NOW - timedelta(days=1), **fields})


@pytest.fixture
def emu() -> Iterator[Emulator]:
    with Emulator(scenario()) as running:
        yield running


# --- the port, accounts and credentials --------------------------------------------------------------------
def test_the_openai_port_and_urls(emu: Emulator) -> None:
    assert emu.openai_endpoint.startswith("https://127.0.0.1:")
    assert emu.openai_endpoint not in (emu.endpoint, emu.vault_endpoint)
    assert emu.openai_url("aoai-one") == f"{emu.openai_endpoint}/aoai-one"
    assert [r.kind for r in emu.requests] == []
    call(emu, "GET", "/files")
    assert [r.kind for r in emu.requests] == ["openai"]


def test_the_endpoint_needs_a_started_emulator() -> None:
    with pytest.raises(RuntimeError, match="not started"):
        _ = Emulator(scenario()).openai_endpoint


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        (BEARER, 200),
        ({"api-key": KEYS["key1"]}, 200),
        ({"api-key": KEYS["key2"]}, 200),
        ({"api-key": "not-a-key"}, 401),
        ({"Authorization": "Bearer "}, 401),
        ({"Authorization": "Basic abc"}, 401),
        ({}, 401),
    ],
)
def test_credentials(emu: Emulator, headers: dict[str, str], status: int) -> None:
    got = call(emu, "GET", "/files", headers=headers)
    assert got.status_code == status, got.text
    if status == 401:
        assert set(got.json()) == {"error"}
        assert got.json()["error"]["code"] == "unauthorized"


def test_keys_are_refused_when_local_auth_is_disabled(emu: Emulator) -> None:
    refused = call(emu, "GET", "/files", sub="aoai-two", headers={"api-key": KEYS["key1"]})
    assert refused.status_code == 401
    assert "disabled" in refused.json()["error"]["message"]
    assert call(emu, "GET", "/files", sub="aoai-two").status_code == 200  # Entra still works


def test_a_key_regenerated_on_arm_is_the_one_the_data_plane_takes(emu: Emulator) -> None:
    arm = requests.post(
        f"{emu.endpoint}{ONE}/regenerateKey",
        params={"api-version": "2025-09-01"},
        headers=BEARER,
        json={"keyName": "Key1"},
        verify=emu.ca_path,
        timeout=10,
    ).json()
    assert call(emu, "GET", "/files", headers={"api-key": KEYS["key1"]}).status_code == 401
    assert call(emu, "GET", "/files", headers={"api-key": arm["key1"]}).status_code == 200


def test_credentials_never_reach_the_request_log(emu: Emulator, tmp_path: Path) -> None:
    call(emu, "GET", "/files", headers={"api-key": KEYS["key1"], "User-Agent": "t/1"})
    call(emu, "DELETE", f"/files/{FILES[0]['id']}")
    call(emu, "GET", "/files", headers={"api-key": "wrong-key-never-logged"})
    emu.write_requests(tmp_path / "log.jsonl")
    text = (tmp_path / "log.jsonl").read_text()
    for secret in (*KEYS.values(), "wrong-key-never-logged", "entra-token-never-logged"):
        assert secret not in text
    assert emu.requests[0].headers == {"User-Agent": "t/1"}


def test_accounts_are_found_by_subdomain_and_kind() -> None:
    renamed = openai_account("aoai-three", customSubDomainName="Custom-Sub")
    plain = openai_account("aoai-plain")
    del plain["properties"]["customSubDomainName"]
    services = {**openai_account("aoai-ai"), "kind": "AIServices"}
    speech = {**openai_account("speech"), "kind": "SpeechServices"}
    with Emulator({"resources": [renamed, plain, services, speech]}) as emu:
        assert call(emu, "GET", "/files", sub="custom-sub").status_code == 200  # case-insensitive
        assert call(emu, "GET", "/files", sub="aoai-three").status_code == 404  # not by name when it has one
        assert call(emu, "GET", "/files", sub="aoai-plain").status_code == 200  # by name when it has none
        assert call(emu, "GET", "/files", sub="aoai-ai").status_code == 200
        wrong_kind = call(emu, "GET", "/files", sub="speech")
        assert (wrong_kind.status_code, wrong_kind.json()["error"]["code"]) == (404, "notFound")
        missing = call(emu, "GET", "/files", sub="nope")
        assert (missing.status_code, set(missing.json()["error"])) == (404, {"code", "message"})


# --- shapes and api-versions -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("path", "params", "status"),
    [
        ("/openai/files", {}, 400),
        ("/openai/files", {"api-version": "1999-01-01"}, 400),
        ("/openai/files", {"api-version": "v1"}, 400),
        ("/openai/files", {"api-version": DATED}, 200),
        ("/openai/v1/files", {}, 200),
        ("/openai/v1/files", {"api-version": "v1"}, 200),
        ("/openai/v1/files", {"api-version": DATED}, 400),
        ("/openai/v1/fine_tuning/jobs", {}, 200),
    ],
)
def test_api_versions(emu: Emulator, path: str, params: dict[str, str], status: int) -> None:
    got = call(emu, "GET", path, params=params)
    assert got.status_code == status, got.text
    if status == 400:
        assert got.json()["error"]["code"] == "invalidPayload"


def test_both_shapes_list_the_same_files(emu: Emulator) -> None:
    dated = call(emu, "GET", "/files").json()
    assert set(dated) == {"data", "object"}
    assert dated["object"] == "list"
    newer = v1(emu, "GET", "/files").json()
    assert newer == {
        "object": "list",
        "data": dated["data"],
        "first_id": NEWEST_FIRST[0],
        "last_id": NEWEST_FIRST[-1],
        "has_more": False,
    }
    assert [f["id"] for f in dated["data"]] == NEWEST_FIRST
    assert v1(emu, "GET", f"/files/{FILES[2]['id']}").json() == FILES[2]


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/openai/models", 404),
        ("GET", "/other/files", 404),
        ("PUT", "/openai/files", 405),
        ("PATCH", "/openai/fine_tuning/jobs", 405),
        ("GET", "/openai/files/x/y/z", 404),
    ],
)
def test_unknown_routes_and_methods(emu: Emulator, method: str, path: str, status: int) -> None:
    got = call(emu, method, path)
    assert got.status_code == status
    assert set(got.json()["error"]) == {"code", "message"}


def test_file_content_is_never_served(emu: Emulator) -> None:
    got = call(emu, "GET", f"/files/{FILES[0]['id']}/content")
    assert (got.status_code, got.json()["error"]["code"]) == (404, "notFound")


# --- reads and deletes -------------------------------------------------------------------------------------
def test_get_and_delete_a_file(emu: Emulator) -> None:
    file_id = FILES[1]["id"]
    assert call(emu, "GET", f"/files/{file_id}").json() == FILES[1]
    deleted = call(emu, "DELETE", f"/files/{file_id}")
    assert (deleted.status_code, deleted.json()) == (200, {"object": "file", "deleted": True, "id": file_id})
    for method in ("GET", "DELETE"):
        gone = call(emu, method, f"/files/{file_id}")
        assert (gone.status_code, gone.json()["error"]["code"]) == (404, "notFound")
    assert file_id not in [f["id"] for f in call(emu, "GET", "/files").json()["data"]]
    assert file_id not in [f["id"] for f in emu.dump_state()["openaiData"][ONE]["files"]]
    assert call(emu, "GET", "/fine_tuning/jobs/ftjob-nope").status_code == 404


@pytest.mark.parametrize("status", ["running", "queued", "pending", "validating_files", "created"])
@pytest.mark.parametrize("field", ["training_file", "validation_file", "result_files"])
def test_a_file_a_running_job_names_cannot_be_deleted(status: str, field: str) -> None:
    file_id = FILES[0]["id"]
    named = {"training_file": "file-other", field: [file_id] if field == "result_files" else file_id}
    with Emulator(scenario(jobs=[job(status, **named)])) as emu:
        refused = call(emu, "DELETE", f"/files/{file_id}")
        assert (refused.status_code, refused.json()["error"]["code"]) == (409, "conflict")
        assert status in refused.json()["error"]["message"]
        assert call(emu, "GET", f"/files/{file_id}").status_code == 200
        assert call(emu, "DELETE", f"/files/{FILES[1]['id']}").status_code == 200  # others are free


@pytest.mark.parametrize("status", ["succeeded", "failed", "cancelled"])
def test_a_file_an_ended_job_names_can_be_deleted(status: str) -> None:
    file_id = FILES[0]["id"]
    with Emulator(scenario(jobs=[job(status, training_file=file_id, result_files=[file_id])])) as emu:
        assert call(emu, "DELETE", f"/files/{file_id}").status_code == 200


def test_create_and_cancel_a_job(emu: Emulator) -> None:
    train = FILES[0]["id"]
    refused = call(emu, "POST", "/fine_tuning/jobs", json={"model": "gpt-4o-mini", "training_file": "file-nope"})
    assert refused.status_code == 400
    made = call(emu, "POST", "/fine_tuning/jobs", json={"model": "gpt-4o-mini", "training_file": train})
    assert made.status_code == 201
    created = made.json()
    assert (created["status"], created["training_file"]) == ("pending", train)
    assert created["created_at"] == int(NOW.timestamp())
    assert made.headers["Location"].endswith(f"/aoai-one/openai/fine_tuning/jobs/{created['id']}?api-version={DATED}")
    assert call(emu, "DELETE", f"/files/{train}").status_code == 409
    cancelled = call(emu, "POST", f"/fine_tuning/jobs/{created['id']}/cancel")
    assert (cancelled.status_code, cancelled.json()["status"]) == (200, "cancelled")
    assert call(emu, "POST", f"/fine_tuning/jobs/{created['id']}/cancel").status_code == 409
    assert call(emu, "DELETE", f"/files/{train}").status_code == 200
