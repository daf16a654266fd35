"""The `openaiData` and `openaiOptions` scenario sections: loaded with checks that name the place at fault, and
dumped back in the same form (docs/emulator.md "Azure OpenAI data plane").
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from emulator.arm import ids
from emulator.services.cognitiveservices.keys import ACCOUNT_TYPE

from .state import AccountData, OpenAIData
from .versions import DATA_SECTION, DEFAULT_MAX_PAGE_SIZE, FILE_STATES, JOB_STATES, OPTIONS_SECTION

# "openaiData": {"<account ARM id>": {"files": [File, ...], "jobs": [FineTuningJob, ...]}}
# "openaiOptions": {"maxPageSize": 100}
# Objects are in their REST form (an upstream example body drops in) and kept as given. Only the fields the
# plane reads are checked; an id used twice in one account's files (or jobs) is refused, since every route
# addresses objects by id.

_ACCOUNT_KEYS = ("files", "jobs")
_OPTION_KEYS = ("maxPageSize",)
_TIMES = {"files": ("created_at", "expires_at"), "jobs": ("created_at", "finished_at", "estimated_finish")}
_REQUIRED = {"files": ("filename", "purpose"), "jobs": ("model", "training_file", "status")}


def load(data: OpenAIData, scenario: Mapping[str, Any]) -> None:
    """Replace the state with the scenario's sections (absent: no data, the default page-size cap)."""
    accounts: dict[str, AccountData] = {}
    raw = scenario.get(DATA_SECTION)
    if raw is not None and not isinstance(raw, Mapping):
        raise ValueError(f'{DATA_SECTION}: expected {{"<account id>": {{"files": [...], "jobs": [...]}}}}')
    for account_id, sections in dict(raw or {}).items():
        account = _load_account(str(account_id), sections)
        if ids.key(account.account_id) in accounts:
            raise ValueError(f"{DATA_SECTION}.{account_id}: named twice (ids compare case-insensitively)")
        accounts[ids.key(account.account_id)] = account
    size = _max_page_size(scenario.get(OPTIONS_SECTION))
    with data.lock:
        data.accounts, data.max_page_size = accounts, size


def dump(data: OpenAIData) -> dict[str, Any]:
    with data.lock:
        accounts = {a.account_id: {"files": a.files.dump(), "jobs": a.jobs.dump()} for a in data.accounts.values()}
        return {DATA_SECTION: accounts, OPTIONS_SECTION: {"maxPageSize": data.max_page_size}}


def _load_account(account_id: str, sections: Any) -> AccountData:
    where = f"{DATA_SECTION}.{account_id}"
    try:
        implied = ids.type_from_id(account_id)
    except ValueError:
        implied = ""
    if not ids.same_type(implied, ACCOUNT_TYPE):
        raise ValueError(f"{where}: expected the ARM id of a {ACCOUNT_TYPE} resource")
    if not isinstance(sections, Mapping):
        raise ValueError(f'{where}: expected {{"files": [...], "jobs": [...]}}')
    unknown = sorted(set(sections) - set(_ACCOUNT_KEYS))
    if unknown:
        raise ValueError(f"{where}: unknown keys {unknown}; known keys: {list(_ACCOUNT_KEYS)}")
    account = AccountData(account_id)
    for kind in _ACCOUNT_KEYS:
        raw = sections.get(kind, [])
        if not isinstance(raw, list):
            raise ValueError(f"{where}.{kind}: expected a list")
        collection = account.files if kind == "files" else account.jobs
        for index, body in enumerate(raw):
            at = f"{where}.{kind}[{index}]"
            _check(body, kind, at)
            if collection.get(str(body["id"])) is not None:
                raise ValueError(f"{at}: id {body['id']!r} appears twice (every route addresses objects by id)")
            collection.add(copy.deepcopy(dict(body)))
    return account


def _check(body: Any, kind: str, at: str) -> None:
    if not isinstance(body, Mapping):
        raise ValueError(f"{at}: expected an object")
    if not isinstance(body.get("id"), str) or not body["id"]:
        raise ValueError(f"{at}: needs a string 'id'")
    for name in _REQUIRED[kind]:
        if not isinstance(body.get(name), str):
            raise ValueError(f"{at}: needs a string '{name}'")
    if not isinstance(body.get("created_at"), int) or isinstance(body["created_at"], bool):
        raise ValueError(f"{at}.created_at: expected unix seconds (an integer)")
    for name in _TIMES[kind]:
        value = body.get(name)
        if value is not None and (not isinstance(value, int) or isinstance(value, bool)):
            raise ValueError(f"{at}.{name}: expected unix seconds (an integer), got {value!r}")
    if kind == "files" and body.get("status") is not None and body["status"] not in FILE_STATES:
        raise ValueError(f"{at}.status: {body['status']!r} is not one of {list(FILE_STATES)}")
    if kind == "jobs":
        if body["status"] not in JOB_STATES:
            raise ValueError(f"{at}.status: {body['status']!r} is not one of {list(JOB_STATES)}")
        results = body.get("result_files", [])
        if not isinstance(results, list) or not all(isinstance(r, str) for r in results):
            raise ValueError(f"{at}.result_files: expected a list of file ids")
        if body.get("validation_file") is not None and not isinstance(body["validation_file"], str):
            raise ValueError(f"{at}.validation_file: expected a file id")


def _max_page_size(raw: Any) -> int:
    if raw is None:
        return DEFAULT_MAX_PAGE_SIZE
    if not isinstance(raw, Mapping):
        raise ValueError(f'{OPTIONS_SECTION}: expected {{"maxPageSize": N}}')
    unknown = sorted(set(raw) - set(_OPTION_KEYS))
    if unknown:
        raise ValueError(f"{OPTIONS_SECTION}: unknown keys {unknown}; known keys: {list(_OPTION_KEYS)}")
    size = raw.get("maxPageSize", DEFAULT_MAX_PAGE_SIZE)
    if not isinstance(size, int) or isinstance(size, bool) or size < 1:
        raise ValueError(f"{OPTIONS_SECTION}.maxPageSize: expected an integer >= 1, got {size!r}")
    return size
