"""Drive the emulator with whichever azure-mgmt-cognitiveservices is importable, and print what it got as JSON.

test_sdk_versions.py runs this script as a subprocess, once per SDK version, with
`PYTHONPATH=<sdk dir>:<repo root>` for an older major installed outside the venv (`make old-sdk`), or
`PYTHONPATH=<repo root>` for the venv's pinned one. `azure` and `azure.mgmt` are PEP 420 namespace
packages (no `__init__.py` in the venv nor in the wheel), and a namespace package's portions are searched
in sys.path order, so the first PYTHONPATH directory holding `azure/mgmt/cognitiveservices` wins while
`azure.core` and `azure.mgmt.core` still come from the venv. The script checks the version and the
directory of the package it imported against the ones it was asked for, and refuses to run otherwise.

stdin, one JSON object:
    endpoint, ca_path, subscription: the emulator and the subscription to call
    resource_group, account: an account to read, PATCH and rotate keys of
    deployment, rai_policy: a child of `account` of each kind to read
    missing_account: a name that does not exist in `resource_group`
    update: the account PATCH body, in REST (camelCase) form; the SDK model deserializes it
    expect_version: the azure-mgmt-cognitiveservices version that must be imported
    expect_dir: (optional) a directory the imported package must live under

stdout, one JSON object:
    sdk: {version, file, apiVersion}: what was imported, and the client's default api-version
    calls: {name: {exchanges, result} | {exchanges, raised}} in call order, where `exchanges` is every HTTP
        response the SDK received during the call ({method, path, query, status, headers, body}, `body` the
        parsed JSON or null) and `result` is what the SDK returned, serialized back to REST form.
        `raised` is {type, status, code, message} when the call raised.

The report holds the account keys the emulator was seeded with (fake, test-made): it is for the test that
started this script only.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

import azure.mgmt.cognitiveservices as cognitiveservices
from azure.core.exceptions import HttpResponseError, ResponseNotReadError
from azure.core.pipeline import PipelineResponse
from azure.mgmt.cognitiveservices import CognitiveServicesManagementClient
from azure.mgmt.cognitiveservices._version import VERSION
from azure.mgmt.cognitiveservices.models import Account

from warden.azure.credentials import StaticTokenCredential

# Response headers the LRO and paging logic reads; the rest are not reported.
REPORTED_HEADERS = ("Azure-AsyncOperation", "Location", "Retry-After", "retry-after-ms", "Content-Type")


def _check_import(expect_version: str, expect_dir: str | None) -> dict[str, str]:
    version = VERSION
    where = Path(cognitiveservices.__file__ or "").resolve()
    if version != expect_version:
        raise SystemExit(f"imported azure-mgmt-cognitiveservices {version} from {where}, expected {expect_version}")
    if expect_dir is not None and not where.is_relative_to(Path(expect_dir).resolve()):
        raise SystemExit(f"imported azure-mgmt-cognitiveservices from {where}, expected it under {expect_dir}")
    return {"version": version, "file": str(where)}


class Recorder:
    """A raw_response_hook that keeps every response the SDK receives (each retry and LRO poll included).

    An LRO's first reply arrives as a stream that the SDK reads itself later in the call (reading it here
    would leave the SDK a consumed stream), so bodies are decoded in `take()`, once the call is over.
    """

    def __init__(self) -> None:
        self.responses: list[Any] = []

    def __call__(self, pipeline_response: PipelineResponse[Any, Any]) -> None:
        self.responses.append(pipeline_response.http_response)

    def take(self) -> list[dict[str, Any]]:
        taken, self.responses = self.responses, []
        return [_exchange(http) for http in taken]


def _exchange(http: Any) -> dict[str, Any]:
    url = urlsplit(http.request.url)
    try:
        text = http.text()
    except ResponseNotReadError:
        body: Any = {"__unread__": True}  # the SDK never read it: no swagger definition can match this
    else:
        try:
            body = json.loads(text) if text else None
        except ValueError:
            body = {"__not_json__": text[:200]}
    return {
        "method": http.request.method,
        "path": unquote(url.path),
        "query": dict(parse_qsl(url.query)),
        "status": http.status_code,
        "headers": {k: http.headers[k] for k in REPORTED_HEADERS if k in http.headers},
        "body": body,
    }


def _serialized(model: Any) -> Any:
    """An SDK model back in REST (camelCase) form, read-only fields included: what the SDK understood."""
    return model.serialize(keep_readonly=True)


def _pages(pager: Any) -> list[list[str | None]]:
    """The names the SDK yields, page by page."""
    return [[item.name for item in page] for page in pager.by_page()]


def run(spec: dict[str, Any]) -> dict[str, Any]:
    sdk = _check_import(spec["expect_version"], spec.get("expect_dir"))
    recorder = Recorder()
    client = CognitiveServicesManagementClient(
        StaticTokenCredential(),
        spec["subscription"],
        base_url=spec["endpoint"],
        connection_verify=spec["ca_path"],
        raw_response_hook=recorder,
        retry_total=0,  # a fidelity run: a failure should show as it is, not be retried away
    )
    sdk["apiVersion"] = client._config.api_version
    rg, name = spec["resource_group"], spec["account"]
    update = Account.deserialize(spec["update"])

    calls: list[tuple[str, Callable[[], Any]]] = [
        ("accounts.get", lambda: _serialized(client.accounts.get(rg, name))),
        ("accounts.list", lambda: _pages(client.accounts.list())),
        ("accounts.list_by_resource_group", lambda: _pages(client.accounts.list_by_resource_group(rg))),
        ("accounts.begin_update", lambda: _serialized(client.accounts.begin_update(rg, name, update).result())),
        ("accounts.list_keys", lambda: _serialized(client.accounts.list_keys(rg, name))),
        ("accounts.regenerate_key", lambda: _serialized(client.accounts.regenerate_key(rg, name, "Key1"))),
        ("deployments.list", lambda: _pages(client.deployments.list(rg, name))),
        ("deployments.get", lambda: _serialized(client.deployments.get(rg, name, spec["deployment"]))),
        ("rai_policies.list", lambda: _pages(client.rai_policies.list(rg, name))),
        ("rai_policies.get", lambda: _serialized(client.rai_policies.get(rg, name, spec["rai_policy"]))),
        ("accounts.get (missing)", lambda: _serialized(client.accounts.get(rg, spec["missing_account"]))),
    ]
    report: dict[str, Any] = {}
    with client:
        for call, perform in calls:
            try:
                outcome: dict[str, Any] = {"result": perform()}
            except HttpResponseError as exc:
                error = exc.error
                outcome = {
                    "raised": {
                        "type": type(exc).__name__,
                        "status": exc.status_code,
                        "code": error.code if error is not None else None,
                        "message": exc.message,
                    }
                }
            report[call] = {"exchanges": recorder.take(), **outcome}
    return {"sdk": sdk, "calls": report}


def main() -> None:
    spec = json.load(sys.stdin)
    json.dump(run(spec), sys.stdout)


if __name__ == "__main__":
    main()
