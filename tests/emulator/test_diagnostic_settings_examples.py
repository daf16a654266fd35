"""The vendored 2021-05-01-preview diagnostic settings examples over raw HTTPS: their request bodies are accepted,
the answers have their response shapes, and their bodies load into a scenario and come back unchanged."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from typing import Any

import pytest

from emulator import Emulator
from tests.conftest import reference_dir
from tests.emulator.conftest import BEARER, account_id, openai_account, raw
from tests.emulator.swagger import Swagger

API = "2021-05-01-preview"
FOLDER = reference_dir() / "monitor" / API


def example(name: str) -> Any:
    return json.loads((FOLDER / "examples" / f"{name}.json").read_text(encoding="utf-8"))


CREATE = example("createOrUpdateDiagnosticSetting")
TARGET = "/" + CREATE["parameters"]["resourceUri"]
SETTING = f"{TARGET}/providers/Microsoft.Insights/diagnosticSettings/mysetting"


def workflow() -> dict[str, Any]:
    """The examples' target, a Logic App workflow: a type the category table has no row for."""
    return {"id": TARGET, "name": "viruela6", "type": "microsoft.logic/workflows", "location": "eastus"}


def call(emu: Emulator, method: str, path: str, body: Any = None) -> tuple[int, Any]:
    reply = raw(emu, method, path, params={"api-version": API}, headers=BEARER, json=body)
    return reply.status_code, (reply.json() if reply.content else None)


@pytest.fixture(scope="module")
def slice_() -> Swagger:
    return Swagger(FOLDER / "diagnosticsSettings_API.json")


@pytest.fixture
def emu() -> Iterator[Emulator]:
    with Emulator({"resources": [workflow()]}) as running:
        yield running


def test_the_examples_name_this_folder_s_version_and_target() -> None:
    for name in ("createOrUpdateDiagnosticSetting", "getDiagnosticSetting", "deleteDiagnosticSetting"):
        parameters = example(name)["parameters"]
        assert (parameters["api-version"], "/" + parameters["resourceUri"], parameters["name"]) == (
            API,
            TARGET,
            "mysetting",
        )


def test_create_example_request_in_its_response_out(emu: Emulator, slice_: Swagger) -> None:
    status, body = call(emu, "PUT", SETTING, CREATE["parameters"]["parameters"])
    assert (status, body) == (200, CREATE["responses"]["200"]["body"])
    slice_.validate_response("/diagnosticSettings/{name}", "put", 200, body)
    assert emu.requests[-1].body == CREATE["parameters"]["parameters"]
    assert call(emu, "GET", SETTING) == (200, CREATE["responses"]["200"]["body"])


def test_create_for_category_example_is_accepted(emu: Emulator, slice_: Swagger) -> None:
    """Its 200 body has an example bug (`"type": ""` and an id without `/providers/microsoft.insights`); the
    answer matches it but for those two, which are as the other examples show them."""
    case = example("createOrUpdateDiagnosticSettingCategory")
    status, body = call(emu, "PUT", SETTING, case["parameters"]["parameters"])
    expected = copy.deepcopy(case["responses"]["200"]["body"])
    assert (expected["type"], "/providers/" in expected["id"].split("viruela6", 1)[1]) == ("", False)
    expected.update(id=CREATE["responses"]["200"]["body"]["id"], type="Microsoft.Insights/diagnosticSettings")
    assert (status, body) == (200, expected)
    slice_.validate_response("/diagnosticSettings/{name}", "put", 200, body)


def test_delete_example_answers_200_then_204(emu: Emulator) -> None:
    assert set(example("deleteDiagnosticSetting")["responses"]) == {"200", "204"}
    call(emu, "PUT", SETTING, CREATE["parameters"]["parameters"])
    assert call(emu, "DELETE", SETTING) == (200, None)
    assert call(emu, "DELETE", SETTING) == (204, None)
    assert call(emu, "GET", SETTING)[0] == 404


@pytest.mark.parametrize("name", ["getDiagnosticSetting", "listDiagnosticSettings"])
def test_example_bodies_load_and_come_back_unchanged(name: str, slice_: Swagger) -> None:
    answer = example(name)["responses"]["200"]["body"]
    stored = answer.get("value", [answer])
    listing = "value" in answer
    with Emulator({"resources": [workflow(), *copy.deepcopy(stored)]}) as emu:
        status, body = call(emu, "GET", SETTING.rsplit("/", 1)[0] if listing else SETTING)
        assert (status, body) == (200, answer)
        slice_.validate_response("/diagnosticSettings" if listing else "/diagnosticSettings/{name}", "get", 200, body)
        assert emu.dump_state()["resources"][1:] == stored


def test_categories_have_the_example_s_shape() -> None:
    """The example lists a Logic App's categories, which the assumed table does not hold (its target lists none);
    an account's categories take the example's shape: the same keys, id pattern and type, and no categoryGroups on
    a metric category."""
    categories = Swagger(FOLDER / "diagnosticsSettingsCategories_API.json")
    shown = example("listDiagnosticSettingsCategories")["responses"]["200"]["body"]["value"]
    acc = account_id("aoai-one")
    with Emulator({"resources": [workflow(), openai_account("aoai-one")]}) as emu:
        assert call(emu, "GET", f"{TARGET}/providers/Microsoft.Insights/diagnosticSettingsCategories") == (
            200,
            {"value": []},
        )
        status, body = call(emu, "GET", f"{acc}/providers/Microsoft.Insights/diagnosticSettingsCategories")
    assert status == 200
    categories.validate_response("/diagnosticSettingsCategories", "get", 200, body)
    by_kind = {e["properties"]["categoryType"]: e for e in shown}
    for entry in body["value"]:
        model = by_kind[entry["properties"]["categoryType"]]
        assert set(entry) == set(model) and set(entry["properties"]) == set(model["properties"])
        assert entry["type"] == model["type"]
        suffix = model["id"].split("/viruela6", 1)[1].replace(model["name"], entry["name"])
        assert entry["id"] == acc + suffix
