"""The emulator driven by two majors of the official client: the pinned azure-mgmt-cognitiveservices and 13.7.0.

Both run the same script, tests/emulator/sdk_driver.py, as a subprocess: 13.7.0 from `.sdk/` (`make old-sdk`,
which `make unit` depends on) put first on PYTHONPATH, the pinned one from the venv. Each runs once with the
emulator's LROs synchronous and once asynchronous. What each SDK received is checked against the vendored
2025-09-01 swagger slice, whichever api-version it sent: the emulator serves one shape for every
api-version, so that slice is its contract.

Per run: the version and api-version asked for are what ran; the emulator's request log matches what the SDK
received; every body validates against the slice (operation-status polls against common-types'
OperationStatusResult); each returned model, serialized back, agrees with its body; the account lists take
3 pages each (pageSize 3); the PATCH lands in `dump_state()` with nothing else changed, with one poll in sync
mode (the 200 names its finished operation) and PATCH 202, InProgress until due, Succeeded, final GET in async
mode; keys list and rotate; a missing account is an ARM-shaped 404 ResourceNotFound.
"""

from __future__ import annotations

import copy
import importlib.metadata
import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from emulator import Emulator, RecordedRequest
from tests.emulator.conftest import (
    OTHER_SUB,
    RG,
    SUB,
    account_id,
    deployment,
    example_body,
    openai_account,
)
from tests.emulator.swagger import Swagger

REPO = Path(__file__).resolve().parents[2]
DRIVER = Path(__file__).with_name("sdk_driver.py")
OLD_VERSION = "13.7.0"
OLD_SDK = REPO / ".sdk" / f"cognitiveservices-{OLD_VERSION}"  # the Makefile's OLD_SDK
PINNED_VERSION = importlib.metadata.version("azure-mgmt-cognitiveservices")
# Each version's default api-version (its _configuration.py), which it must send on every call.
DEFAULT_API_VERSION = {"13.7.0": "2025-06-01", "14.1.0": "2025-09-01"}

PAGE_SIZE = 3
IN_GROUP = [f"aoai-{i:02d}" for i in range(1, 8)]  # 7 accounts in RG: 3 pages
ELSEWHERE = "aoai-elsewhere"  # same subscription, another group: the 8th of the subscription list
FOREIGN = "aoai-foreign"  # another subscription: in no list
TARGET = IN_GROUP[0]
MISSING = "aoai-missing"
DEPLOYMENTS = ["chat", "embed", "mini", "vision"]  # 2 pages
POLICIES = ["raiPolicyName", "strict"]
KEYS = {"key1": "scenario-key-one", "key2": "scenario-key-two"}
UPDATE: dict[str, Any] = {
    "tags": {"env": "test", "owner": "warden"},
    "properties": {
        "publicNetworkAccess": "Disabled",
        "disableLocalAuth": True,
        "networkAcls": {"defaultAction": "Deny", "ipRules": [], "virtualNetworkRules": []},
    },
}
PROVIDER = "/providers/Microsoft.CognitiveServices"
SUB_LIST = f"/subscriptions/{SUB}{PROVIDER}/accounts"
RG_LIST = f"/subscriptions/{SUB}/resourceGroups/{RG}{PROVIDER}/accounts"
# The Azure-AsyncOperation monitor's body, which the slice does not declare: common-types v5
# OperationStatusResult (status required; error is the v6 ErrorDetail the slice's stubs carry).
OPERATION_STATUS = {
    "type": "object",
    "required": ["status"],
    "properties": {
        "id": {"type": "string"},
        "name": {"type": "string"},
        "status": {"type": "string"},
        "percentComplete": {"type": "number", "minimum": 0, "maximum": 100},
        "startTime": {"type": "string"},
        "endTime": {"type": "string"},
        "operations": {"type": "array", "items": {"type": "object"}},
        "error": {"$ref": "#/definitions/__common__ErrorDetail"},
    },
}
# Route (matched case-insensitively on the decoded path) -> the slice operation (path suffix) or definition.
ROUTES: list[tuple[str, str]] = [
    (rf"^/subscriptions/[^/]+{PROVIDER}/accounts$", "AccountListResult"),
    (rf"^/subscriptions/[^/]+/resourceGroups/[^/]+{PROVIDER}/accounts$", "AccountListResult"),
    (rf"^/subscriptions/[^/]+{PROVIDER}/locations/[^/]+/operationStatuses/[^/]+$", "OperationStatus"),
    (r"/accounts/[^/]+$", "/accounts/{accountName}"),
    (r"/accounts/[^/]+/listKeys$", "/listKeys"),
    (r"/accounts/[^/]+/regenerateKey$", "/regenerateKey"),
    (r"/accounts/[^/]+/deployments$", "/deployments"),
    (r"/accounts/[^/]+/deployments/[^/]+$", "/deployments/{deploymentName}"),
    (r"/accounts/[^/]+/raiPolicies$", "/raiPolicies"),
    (r"/accounts/[^/]+/raiPolicies/[^/]+$", "/raiPolicies/{raiPolicyName}"),
]


def scenario(lro: str) -> dict[str, Any]:
    policy = {**example_body("2025-09-01", "GetRaiPolicy"), "id": f"{account_id(TARGET)}/raiPolicies/raiPolicyName"}
    strict = copy.deepcopy(policy)
    strict.update(name="strict", id=f"{account_id(TARGET)}/raiPolicies/strict")
    return {
        "resources": [
            *(openai_account(name) for name in IN_GROUP),
            openai_account(ELSEWHERE, rg="rg-other"),
            openai_account(FOREIGN, sub=OTHER_SUB),
            *(deployment(TARGET, name, policy="raiPolicyName") for name in DEPLOYMENTS),
            policy,
            strict,
        ],
        "accountKeys": {account_id(TARGET): dict(KEYS)},
        "options": {"lro": lro, "operationSeconds": 0.05 if lro == "async" else 0, "pageSize": PAGE_SIZE},
    }


@dataclass(frozen=True, repr=False)
class Run:
    """One driver run: what the SDK got (`calls`), what the emulator saw, and the state it ended in.

    Its repr is only its name: the state and the calls hold account keys, which a failing test would print.
    """

    version: str
    lro: str
    sdk: dict[str, str]
    calls: dict[str, Any]
    requests: list[RecordedRequest]
    state: dict[str, Any]
    scenario: dict[str, Any]

    def __repr__(self) -> str:
        return f"Run({self.version}, lro={self.lro})"

    def result(self, call: str) -> Any:
        outcome = self.calls[call]
        assert "raised" not in outcome, f"{self.version} {call} raised {outcome['raised']}"
        return outcome["result"]

    def exchanges(self, call: str) -> list[dict[str, Any]]:
        return list(self.calls[call]["exchanges"])

    def resource(self, rid: str) -> dict[str, Any]:
        return next(r for r in self.state["resources"] if r["id"].lower() == rid.lower())


def _drive(version: str, emu: Emulator) -> dict[str, Any]:
    """Run sdk_driver.py against `emu` with `version` first on the path, in an environment of our own."""
    if version == OLD_VERSION:
        if not (OLD_SDK / ".installed").exists():
            pytest.fail(
                f"azure-mgmt-cognitiveservices {OLD_VERSION} is not in {OLD_SDK}: run `make old-sdk`", pytrace=False
            )
        path, expect_dir = [str(OLD_SDK), str(REPO)], str(OLD_SDK)
    else:
        path, expect_dir = [str(REPO)], None
    spec = {
        "endpoint": emu.endpoint,
        "ca_path": emu.ca_path,
        "subscription": SUB,
        "resource_group": RG,
        "account": TARGET,
        "deployment": DEPLOYMENTS[0],
        "rai_policy": POLICIES[0],
        "missing_account": MISSING,
        "update": UPDATE,
        "expect_version": version,
        "expect_dir": expect_dir,
    }
    # Nothing from this process's environment: no credentials, proxies or AZURE_* settings reach the SDK.
    env = {"PYTHONPATH": os.pathsep.join(path), "PATH": os.defpath}
    done = subprocess.run(
        [sys.executable, str(DRIVER)],
        input=json.dumps(spec),
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, f"sdk_driver.py ({version}) exited {done.returncode}:\n{done.stderr[-4000:]}"
    report: dict[str, Any] = json.loads(done.stdout)
    return report


@pytest.fixture(
    scope="module",
    params=[(v, lro) for v in (PINNED_VERSION, OLD_VERSION) for lro in ("sync", "async")],
    ids=lambda p: f"{p[0]}-{p[1]}",
)
def run(request: pytest.FixtureRequest) -> Run:
    """The driver run once per (SDK version, LRO mode), shared by every test of the module."""
    version, lro = request.param
    seeded = scenario(lro)
    with Emulator(copy.deepcopy(seeded)) as emu:
        report = _drive(version, emu)
        requests, state = list(emu.requests), emu.dump_state()
    return Run(version, lro, report["sdk"], report["calls"], requests, state, seeded)


def _route(path: str) -> str:
    found = [target for pattern, target in ROUTES if re.search(pattern, path, re.IGNORECASE)]
    assert len(found) == 1, f"{path} matches {found}"
    return found[0]


def _body_problems(swagger: Swagger, exchange: dict[str, Any]) -> list[str]:
    """What is wrong with one response the SDK got, measured against the slice (empty: nothing)."""
    method, path, status, body = exchange["method"], exchange["path"], exchange["status"], exchange["body"]
    target = _route(path)
    if status >= 400:
        return swagger.errors("__common__ErrorResponse", body)
    if target == "OperationStatus":
        definitions = {**swagger.definitions, "__operationStatus": OPERATION_STATUS}
        schema = {"$ref": "#/definitions/__operationStatus", "definitions": definitions}
        return [e.message for e in jsonschema.Draft4Validator(schema).iter_errors(body)]
    if not target.startswith("/"):  # a list route the slice leaves out: only its definition is known
        return [f"status {status} (200 expected)"] if status != 200 else swagger.errors(target, body)
    try:
        definition = swagger.response_definition(target, method, status)
    except KeyError:
        return [f"the slice declares no {status} for {method} {target}"]
    return swagger.errors(definition, body)


def _subset_problems(mine: Any, theirs: Any, where: str = "") -> list[str]:
    """Where `mine` (the SDK's model, serialized back) says something `theirs` (the raw body) does not."""
    if isinstance(mine, dict) and isinstance(theirs, dict):
        out: list[str] = []
        for key, value in mine.items():
            if key not in theirs:
                out.append(f"{where}.{key}: not in the response")
            else:
                out += _subset_problems(value, theirs[key], f"{where}.{key}")
        return out
    if isinstance(mine, list) and isinstance(theirs, list) and len(mine) == len(theirs):
        return [
            p
            for i, (m, t) in enumerate(zip(mine, theirs, strict=True))
            for p in _subset_problems(m, t, f"{where}[{i}]")
        ]
    return [] if mine == theirs else [f"{where}: {mine!r} != {theirs!r}"]


def test_the_asked_version_ran_with_its_default_api_version(run: Run, record_property: Any) -> None:
    assert run.sdk["version"] == run.version
    in_old_dir = Path(run.sdk["file"]).is_relative_to(OLD_SDK.resolve())
    assert in_old_dir == (run.version == OLD_VERSION), run.sdk["file"]
    assert run.version in DEFAULT_API_VERSION, f"add {run.version}'s default api-version (its _configuration.py)"
    default = DEFAULT_API_VERSION[run.version]
    assert run.sdk["apiVersion"] == default
    sent = sorted({r.query.get("api-version", "") for r in run.requests})
    record_property("api_versions", sent)
    # Every request, LRO polls included (the emulator's monitor URLs carry the PATCH's api-version).
    assert sent == [default]


def test_the_emulator_saw_what_the_sdk_got(run: Run) -> None:
    got = [(e["method"], e["path"].lower(), e["status"]) for c in run.calls.values() for e in c["exchanges"]]
    seen = [(r.method, r.path.lower(), r.status) for r in run.requests]
    assert got == seen


def test_every_response_body_matches_the_swagger(run: Run, swagger: Swagger) -> None:
    problems = [
        f"{call}: {e['method']} {e['path']} {e['status']}: {problem}"
        for call, outcome in run.calls.items()
        for e in outcome["exchanges"]
        for problem in _body_problems(swagger, e)
    ]
    assert problems == []
    assert sum(len(c["exchanges"]) for c in run.calls.values()) >= 15


def test_the_sdk_understood_every_body_it_returned(run: Run) -> None:
    """Each model the SDK returned, serialized back, says only what the last response body said."""
    problems: list[str] = []
    for call in (
        "accounts.get",
        "accounts.begin_update",
        "accounts.list_keys",
        "accounts.regenerate_key",
        "deployments.get",
        "rai_policies.get",
    ):
        problems += [f"{call}{p}" for p in _subset_problems(run.result(call), run.exchanges(call)[-1]["body"])]
    assert problems == []
    assert run.result("accounts.get")["properties"]["publicNetworkAccess"] == "Enabled"


def test_lists_page_through_every_account(run: Run) -> None:
    assert run.result("accounts.list") == [IN_GROUP[0:3], IN_GROUP[3:6], [IN_GROUP[6], ELSEWHERE]]
    assert run.result("accounts.list_by_resource_group") == [IN_GROUP[0:3], IN_GROUP[3:6], IN_GROUP[6:7]]
    for route in (SUB_LIST, RG_LIST):
        pages = [r for r in run.requests if r.method == "GET" and r.path.lower() == route.lower()]
        tokens = [r.query.get("$skipToken") for r in pages]  # opaque: they name the last id served
        assert [r.status for r in pages] == [200, 200, 200]
        assert tokens[0] is None and all(tokens[1:]) and len(set(tokens)) == 3
    last = run.exchanges("accounts.list")[-1]["body"]
    assert "nextLink" not in last or last["nextLink"] is None


def test_child_lists_and_reads(run: Run) -> None:
    assert run.result("deployments.list") == [DEPLOYMENTS[0:3], DEPLOYMENTS[3:4]]
    assert run.result("rai_policies.list") == [POLICIES]
    got = run.result("deployments.get")
    assert (got["name"], got["properties"]["raiPolicyName"]) == (DEPLOYMENTS[0], "raiPolicyName")
    policy = run.result("rai_policies.get")
    expected = next(r for r in run.scenario["resources"] if r["id"].endswith("/raiPolicies/raiPolicyName"))
    assert policy["properties"]["contentFilters"] == expected["properties"]["contentFilters"]


def test_the_patch_lands_in_state(run: Run) -> None:
    before = next(r for r in run.scenario["resources"] if r["id"] == account_id(TARGET))
    after = run.resource(account_id(TARGET))
    assert after["tags"] == UPDATE["tags"]
    for key, value in UPDATE["properties"].items():
        assert after["properties"][key] == value, key
    untouched = set(before["properties"]) - set(UPDATE["properties"]) - {"provisioningState"}
    assert {k: after["properties"][k] for k in untouched} == {k: before["properties"][k] for k in untouched}
    assert after["properties"]["provisioningState"] == "Succeeded"
    assert after["etag"] != before["etag"]
    # The SDK's answer is the stored account, and it sent only what the update set.
    returned = run.result("accounts.begin_update")
    assert (returned["etag"], returned["properties"]["publicNetworkAccess"]) == (after["etag"], "Disabled")
    patch = next(r for r in run.requests if r.method == "PATCH")
    assert patch.body == UPDATE
    others = [r for r in run.state["resources"] if r["id"] != after["id"]]
    assert others == [r for r in run.scenario["resources"] if r["id"] != after["id"]]


def test_the_patch_polls_only_when_async(run: Run) -> None:
    exchanges = run.exchanges("accounts.begin_update")
    steps = [(e["method"], _route(e["path"]), e["status"]) for e in exchanges]
    polls = [r for r in run.requests if r.kind == "operation-status"]
    monitor = "OperationStatus"
    accepted = exchanges[0]
    assert accepted["headers"]["Azure-AsyncOperation"].startswith("https://127.0.0.1:")
    statuses = [e["body"]["status"] for e in exchanges[1:-1]]
    assert len(polls) == len(statuses)
    assert steps[-1] == ("GET", "/accounts/{accountName}", 200)
    if run.lro == "sync":
        # As the upstream UpdateAccount example: a 200 that still names its (finished) operation.
        assert steps == [("PATCH", "/accounts/{accountName}", 200), ("GET", monitor, 200), steps[-1]]
        assert statuses == ["Succeeded"]
        assert accepted["body"]["properties"]["provisioningState"] == "Succeeded"
    else:
        # Done 50 ms after it was accepted, by the server's clock: InProgress until then, however often polled.
        assert steps[0] == ("PATCH", "/accounts/{accountName}", 202)
        assert all(step == ("GET", monitor, 200) for step in steps[1:-1])
        assert statuses[-1] == "Succeeded" and set(statuses[:-1]) <= {"InProgress"}
        assert accepted["body"]["properties"]["provisioningState"] == "Accepted"
    assert exchanges[-1]["body"]["properties"]["publicNetworkAccess"] == "Disabled"


def test_keys_list_and_rotate(run: Run) -> None:
    assert run.result("accounts.list_keys") == KEYS
    rotated = run.result("accounts.regenerate_key")
    assert rotated["key2"] == KEYS["key2"]
    assert rotated["key1"] not in ("", KEYS["key1"])
    assert run.state["accountKeys"][account_id(TARGET)] == rotated
    regenerate = next(r for r in run.requests if r.path.endswith("/regenerateKey"))
    assert regenerate.body == {"keyName": "Key1"}


def test_a_missing_account_is_an_arm_404(run: Run) -> None:
    outcome = run.calls["accounts.get (missing)"]
    assert "result" not in outcome
    raised = outcome["raised"]
    assert (raised["type"], raised["status"], raised["code"]) == ("ResourceNotFoundError", 404, "ResourceNotFound")
    [exchange] = outcome["exchanges"]
    error = exchange["body"]["error"]
    assert set(exchange["body"]) == {"error"}
    assert set(error) <= {"code", "message", "target", "details", "additionalInfo"}
    assert error["code"] == "ResourceNotFound"
    assert MISSING in error["message"]
