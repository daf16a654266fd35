"""Azure OpenAI data-plane fidelity is measured: responses validate against the vendored 2024-10-21 swagger
slice (File, FileList, FileDelete, FineTuningJob, FineTuningJobList, ErrorResponse) and the v1 file schemas;
the upstream examples load and come back unchanged; the scenario sections load, fail naming the place, and
dump back; the builders make objects of the schemas' shape."""

from __future__ import annotations

import copy
import json
import re
from datetime import datetime, timedelta
from typing import Any

import jsonschema
import pytest

from emulator import Emulator
from emulator.training_builders import fine_tuning_job, openai_data, training_file
from tests.conftest import reference_dir
from tests.emulator.swagger import Swagger
from tests.emulator.test_openai_data import DATED, FILES, NOW, ONE, call, job, scenario, v1

DATED_DIR = "azureopenai/authoring/stable/2024-10-21"


@pytest.fixture(scope="module")
def dated() -> Swagger:
    return Swagger(reference_dir() / DATED_DIR / "azureopenai.slice.json")


class V1Schemas:
    """The v1 file schemas (OpenAPI 3.0) as draft-4 JSON Schema: `nullable` becomes a null alternative."""

    def __init__(self) -> None:
        path = reference_dir() / "azureopenai/v1/azure-v1-v1-generated.files.slice.json"
        self.components = _nullable(json.loads(path.read_text(encoding="utf-8"))["components"])

    def errors(self, name: str, instance: Any) -> list[str]:
        schema = {"$ref": f"#/components/schemas/{name}", "components": self.components}
        found = jsonschema.Draft4Validator(schema).iter_errors(instance)
        return sorted(f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in found)


def _nullable(node: Any) -> Any:
    if isinstance(node, dict):
        out = {k: _nullable(v) for k, v in node.items() if k != "nullable"}
        if node.get("nullable") is True and isinstance(node.get("type"), str):
            out["type"] = [node["type"], "null"]
        return out
    if isinstance(node, list):
        return [_nullable(v) for v in node]
    return node


@pytest.fixture(scope="module")
def newer() -> V1Schemas:
    return V1Schemas()


def example(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((reference_dir() / DATED_DIR / "examples" / f"{name}.json").read_text())
    return loaded


# --- the validators can fail -------------------------------------------------------------------------------
def test_validators_reject_wrong_bodies(dated: Swagger, newer: V1Schemas) -> None:
    assert dated.errors("File", {**FILES[0], "status": "sleeping"})
    assert dated.errors("File", {"id": "file-x"})  # filename and purpose are required
    assert dated.errors("FineTuningJob", {"model": "m"})  # training_file is required
    assert dated.errors("FineTuningJobList", {"data": {"not": "a list"}})
    assert dated.errors("FileDelete", {"deleted": "yes", "id": "file-x"})
    assert newer.errors("AzureOpenAIFile", {k: v for k, v in FILES[0].items() if k != "bytes"})
    assert newer.errors("AzureListFilesResponse", {"object": "list", "data": []})
    with pytest.raises(AssertionError, match="does not match File"):
        dated.validate_response("/files/{file-id}", "GET", 200, {"bytes": "many"})


# --- responses against the schemas -------------------------------------------------------------------------
def test_dated_responses_match_the_slice(dated: Swagger) -> None:
    running = job("running", training_file=FILES[0]["id"], validation_file=FILES[1]["id"])
    ended = job("succeeded", training_file=FILES[2]["id"], result_files=[FILES[3]["id"]])
    with Emulator(scenario(jobs=[running, ended])) as emu:
        listed = call(emu, "GET", "/files")
        dated.validate_response("/files", "GET", 200, listed.json())
        one = call(emu, "GET", f"/files/{FILES[0]['id']}")
        dated.validate_response("/files/{file-id}", "GET", 200, one.json())
        jobs = call(emu, "GET", "/fine_tuning/jobs")
        dated.validate_response("/fine_tuning/jobs", "GET", 200, jobs.json())
        got = call(emu, "GET", f"/fine_tuning/jobs/{running['id']}")
        dated.validate_response("/fine_tuning/jobs/{fine-tuning-job-id}", "GET", 200, got.json())
        made = call(emu, "POST", "/fine_tuning/jobs", json={"model": "m", "training_file": FILES[4]["id"]})
        dated.validate_response("/fine_tuning/jobs", "POST", 201, made.json())
        cancelled = call(emu, "POST", f"/fine_tuning/jobs/{made.json()['id']}/cancel")
        dated.validate_response("/fine_tuning/jobs/{fine-tuning-job-id}/cancel", "POST", 200, cancelled.json())
        deleted = call(emu, "DELETE", f"/files/{FILES[4]['id']}")
        dated.validate_response("/files/{file-id}", "DELETE", 200, deleted.json())
        errors = [
            call(emu, "DELETE", f"/files/{FILES[0]['id']}"),  # 409
            call(emu, "GET", "/files/file-nope"),  # 404
            call(emu, "GET", "/files", headers={}),  # 401
            call(emu, "GET", "/files", params={}),  # 400
        ]
        assert [e.status_code for e in errors] == [409, 404, 401, 400]
        for error in errors:
            assert dated.errors("ErrorResponse", error.json()) == []
            assert error.json()["error"]["code"] in dated.doc["definitions"]["ErrorCode"]["enum"]


def test_v1_responses_match_the_file_schemas(newer: V1Schemas) -> None:
    with Emulator(scenario(openaiOptions={"maxPageSize": 2})) as emu:
        for params in ({}, {"after": FILES[3]["id"]}, {"order": "asc", "limit": "1"}):
            assert newer.errors("AzureListFilesResponse", v1(emu, "GET", "/files", **params).json()) == []
        assert newer.errors("AzureOpenAIFile", v1(emu, "GET", f"/files/{FILES[0]['id']}").json()) == []
        for status, error in ((404, v1(emu, "GET", "/files/file-nope")), (400, v1(emu, "GET", "/files", limit="0"))):
            assert error.status_code == status
            assert newer.errors("AzureErrorResponse", error.json()) == []
        # An empty list names no first or last id: the emulator sends null, which the (non-nullable) schema
        # does not allow; docs/emulator.md says so.
        empty = v1(emu, "GET", "/files", purpose="batch").json()
        assert newer.errors("AzureListFilesResponse", empty) == [
            "first_id: None is not of type 'string'",
            "last_id: None is not of type 'string'",
        ]


# --- the upstream examples ---------------------------------------------------------------------------------
def test_get_file_and_delete_file_examples_come_back_unchanged() -> None:
    got, gone = example("get_file"), example("delete_file")
    body = got["responses"]["200"]["body"]
    with Emulator(scenario([body])) as emu:
        params = got["parameters"]
        read = call(emu, "GET", f"/files/{params['file-id']}", params={"api-version": params["api-version"]})
        assert read.json() == body
        params = gone["parameters"]
        deleted = call(emu, "DELETE", f"/files/{params['file-id']}", params={"api-version": params["api-version"]})
        assert (deleted.status_code, deleted.json()) == (200, gone["responses"]["200"]["body"])


def test_get_finetuning_jobs_example_comes_back_unchanged() -> None:
    listed = example("get_finetuning_jobs")
    body = listed["responses"]["200"]["body"]
    with Emulator(scenario([], jobs=body["data"])) as emu:
        got = call(emu, "GET", "/fine_tuning/jobs", params={"api-version": listed["parameters"]["api-version"]})
        assert got.json() == body
        assert call(emu, "GET", f"/fine_tuning/jobs/{body['data'][0]['id']}").json() == body["data"][0]


def test_get_files_example_reuses_an_id_which_the_loader_refuses() -> None:
    """The example lists puppy.jsonl and results.csv under one id. Every route addresses a file by id, so a
    scenario may not hold two files with one id: loading the example verbatim fails naming the second file.
    With the second file's id changed (one field), the list comes back as the example shows it."""
    listed = example("get_files")
    body = listed["responses"]["200"]["body"]
    with pytest.raises(ValueError, match=re.escape(f"openaiData.{ONE}.files[1]: id") + ".*appears twice"):
        Emulator(scenario(body["data"]))
    fixed = copy.deepcopy(body)
    fixed["data"][1]["id"] = "file-281a1cbdcdcf4677ada87f63a0928099"
    with Emulator(scenario(fixed["data"])) as emu:
        got = call(emu, "GET", "/files", params={"api-version": listed["parameters"]["api-version"]})
        assert got.json() == fixed
        assert got.json()["data"][0] == body["data"][0]
        assert {k: v for k, v in got.json()["data"][1].items() if k != "id"} == {
            k: v for k, v in body["data"][1].items() if k != "id"
        }


# --- scenario sections -------------------------------------------------------------------------------------
def test_a_scenario_dumps_back_to_itself() -> None:
    jobs = [job("running", training_file=FILES[0]["id"]), job("succeeded", training_file=FILES[1]["id"])]
    given = scenario(jobs=jobs, openaiOptions={"maxPageSize": 3})
    with Emulator(given) as emu:
        assert call(emu, "GET", "/files", sub="aoai-two").json()["data"] == []  # reading adds no account
        state = emu.dump_state()
        assert state["openaiData"] == given["openaiData"]
        assert state["openaiOptions"] == {"maxPageSize": 3}
        call(emu, "DELETE", f"/files/{FILES[4]['id']}")
        emu.set_job_status(ONE, jobs[0]["id"], "cancelled")
        changed = emu.dump_state()
    assert [f["id"] for f in changed["openaiData"][ONE]["files"]] == [f["id"] for f in FILES[:4]]
    assert changed["openaiData"][ONE]["jobs"][0]["status"] == "cancelled"
    again = Emulator(changed).dump_state()
    assert (again["openaiData"], again["openaiOptions"]) == (changed["openaiData"], changed["openaiOptions"])
    assert Emulator({}).dump_state()["openaiOptions"] == {"maxPageSize": 100}


BAD_ID = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/kv"


@pytest.mark.parametrize(
    ("sections", "where"),
    [
        ({"openaiData": ["not", "a", "map"]}, "openaiData"),
        ({"openaiData": {BAD_ID: {"files": []}}}, f"openaiData.{BAD_ID}"),
        ({"openaiData": {ONE: {"files": [], "deployments": []}}}, "unknown keys ['deployments']"),
        ({"openaiData": {ONE: {"files": {}}}}, f"openaiData.{ONE}.files"),
        ({"openaiData": {ONE: {"files": [{"filename": "a", "purpose": "fine-tune"}]}}}, "needs a string 'id'"),
        ({"openaiData": {ONE: {"files": [{**FILES[0], "created_at": "today"}]}}}, "files[0].created_at"),
        ({"openaiData": {ONE: {"files": [{**FILES[0], "status": "gone"}]}}}, "files[0].status"),
        ({"openaiData": {ONE: {"jobs": [{**job("running", training_file="f"), "status": "x"}]}}}, "jobs[0].status"),
        ({"openaiData": {ONE: {"jobs": [{**job("running", training_file="f"), "result_files": "f"}]}}}, "result_files"),
        ({"openaiData": {ONE: {"jobs": [job("running", training_file="f")] * 2}}}, "jobs[1]: id"),
        ({"openaiData": {ONE: {}, ONE.upper(): {}}}, "named twice"),
        ({"openaiOptions": {"pageSize": 2}}, "openaiOptions: unknown keys ['pageSize']"),
        ({"openaiOptions": {"maxPageSize": 0}}, "openaiOptions.maxPageSize"),
    ],
)
def test_bad_sections_fail_naming_the_place(sections: dict[str, Any], where: str) -> None:
    with pytest.raises(ValueError, match=re.escape(where)):
        Emulator(sections)


# --- builders ----------------------------------------------------------------------------------------------
def test_builders_make_schema_shaped_objects_with_stable_ids(dated: Swagger, newer: V1Schemas) -> None:
    made = training_file(filename="a.jsonl", created_at=NOW)
    assert re.fullmatch(r"file-[0-9a-f]{32}", made["id"])
    assert made == training_file(filename="a.jsonl", created_at=NOW)
    assert made["id"] != training_file(filename="b.jsonl", created_at=NOW)["id"]
    assert training_file("file-given", filename="a.jsonl", created_at=NOW)["id"] == "file-given"
    assert dated.errors("File", made) == [] and newer.errors("AzureOpenAIFile", made) == []
    ran = fine_tuning_job(
        status="succeeded",
        training_file=made["id"],
        validation_file="file-v",
        result_files=["file-r"],
        created_at=NOW,
        finished_at=NOW + timedelta(hours=2),
        fine_tuned_model="gpt-4o-mini.ft-1",
    )
    assert re.fullmatch(r"ftjob-[0-9a-f]{32}", ran["id"])
    assert (ran["created_at"], ran["finished_at"]) == (int(NOW.timestamp()), int(NOW.timestamp()) + 7200)
    assert dated.errors("FineTuningJob", ran) == []
    waiting = fine_tuning_job(status="pending", training_file="file-t", created_at=NOW)
    assert {"validation_file", "finished_at", "estimated_finish", "fine_tuned_model"}.isdisjoint(waiting)
    assert dated.errors("FineTuningJob", waiting) == []
    assert openai_data(ONE, [made], [ran]) == {"openaiData": {ONE: {"files": [made], "jobs": [ran]}}}
    with pytest.raises(ValueError, match="timezone"):
        training_file(filename="a", created_at=datetime(2026, 1, 1))  # naive: the point of the test
    assert DATED == "2024-10-21"
