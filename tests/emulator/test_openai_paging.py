"""Paging on the Azure OpenAI data plane, over raw HTTPS: files and jobs to the end with `after`, `limit`,
`order` and `purpose`, the page-size cap, cursors that survive deletes, and bad list parameters."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest

from emulator import Emulator
from emulator.training_builders import training_file
from tests.emulator.test_openai_data import DATED, FILES, NEWEST_FIRST, NOW, call, job, scenario, v1


@pytest.fixture
def emu() -> Iterator[Emulator]:
    with Emulator(scenario()) as running:
        yield running


# --- paging ------------------------------------------------------------------------------------------------
def pages(emu: Emulator, path: str, *, shape: str = "v1", **params: str) -> list[dict[str, Any]]:
    """Every page, following `after` = the last id until has_more is false (v1) or a page is empty (dated)."""
    seen: list[dict[str, Any]] = []
    after = ""
    for _ in range(50):  # bounded: a plane that ignored `after` would page forever
        query = {**params, **({"after": after} if after else {})}
        if shape == "v1":
            body = v1(emu, "GET", path, **query).json()
        else:
            body = call(emu, "GET", path, params={"api-version": DATED, **query}).json()
        seen.append(body)
        if not body["data"] or body.get("has_more") is False:
            return seen
        after = body["data"][-1]["id"]
    raise AssertionError(f"paging {path} did not end: {[len(p['data']) for p in seen]}")


def test_v1_file_pages_run_to_the_end() -> None:
    with Emulator(scenario(openaiOptions={"maxPageSize": 2})) as emu:
        got = pages(emu, "/files")
        assert [len(p["data"]) for p in got] == [2, 2, 1]
        assert [p["has_more"] for p in got] == [True, True, False]
        assert [f["id"] for p in got for f in p["data"]] == NEWEST_FIRST
        assert (got[0]["first_id"], got[0]["last_id"]) == (NEWEST_FIRST[0], NEWEST_FIRST[1])
        ascending = pages(emu, "/files", order="asc")
        assert [f["id"] for p in ascending for f in p["data"]] == NEWEST_FIRST[::-1]
        assert [len(p["data"]) for p in pages(emu, "/files", limit="1")] == [1] * 5
        assert len(v1(emu, "GET", "/files", limit="50").json()["data"]) == 2  # capped by maxPageSize


def test_dated_file_pages_say_has_more_only_when_cut_short() -> None:
    with Emulator(scenario(openaiOptions={"maxPageSize": 2})) as emu:
        got = pages(emu, "/files", shape="dated")
        assert [len(p["data"]) for p in got] == [2, 2, 1, 0]
        assert [p.get("has_more") for p in got] == [True, True, None, None]
        assert [f["id"] for p in got for f in p["data"]] == NEWEST_FIRST


def test_purpose_filters_across_pages() -> None:
    results = [training_file(filename=f"r{i}.csv", purpose="fine-tune-results", created_at=NOW) for i in range(3)]
    with Emulator(scenario([*FILES, *results], openaiOptions={"maxPageSize": 2})) as emu:
        got = pages(emu, "/files", purpose="fine-tune-results")
        assert [f["id"] for p in got for f in p["data"]] == [r["id"] for r in results]  # same instant: added order
        assert {f["purpose"] for p in pages(emu, "/files", purpose="fine-tune") for f in p["data"]} == {"fine-tune"}
        assert v1(emu, "GET", "/files", purpose="assistants").json()["data"] == []
        empty = v1(emu, "GET", "/files", purpose="assistants").json()
        assert (empty["first_id"], empty["last_id"], empty["has_more"]) == (None, None, False)


def test_a_cursor_survives_the_deletion_of_its_file() -> None:
    with Emulator(scenario(openaiOptions={"maxPageSize": 2})) as emu:
        first = v1(emu, "GET", "/files").json()
        assert call(emu, "DELETE", f"/files/{first['last_id']}").status_code == 200
        rest = pages(emu, "/files", after=first["last_id"])
        assert [f["id"] for p in rest for f in p["data"]] == NEWEST_FIRST[2:]


@pytest.mark.parametrize(
    "params", [{"after": "file-unknown"}, {"limit": "0"}, {"limit": "ten"}, {"order": "up"}, {"purpose": "x"}]
)
def test_bad_list_parameters(emu: Emulator, params: dict[str, str]) -> None:
    got = v1(emu, "GET", "/files", **params)
    assert (got.status_code, got.json()["error"]["code"]) == (400, "invalidPayload")


def test_jobs_are_listed_newest_first_twenty_a_page() -> None:
    made = [job("succeeded", training_file=f"file-{i}", created_at=NOW + timedelta(i)) for i in range(25)]
    with Emulator(scenario(jobs=made)) as emu:
        first = call(emu, "GET", "/fine_tuning/jobs").json()
        assert (len(first["data"]), first["has_more"], first["object"]) == (20, True, "list")
        got = pages(emu, "/fine_tuning/jobs", shape="dated")
        assert [j["id"] for p in got for j in p["data"]] == [j["id"] for j in reversed(made)]
        assert [p["has_more"] for p in got] == [True, False]
        assert [len(p["data"]) for p in pages(emu, "/fine_tuning/jobs", limit="10")] == [10, 10, 5]
    with Emulator(scenario(jobs=made, openaiOptions={"maxPageSize": 7})) as emu:
        assert [len(p["data"]) for p in pages(emu, "/fine_tuning/jobs")] == [7, 7, 7, 4]
