"""The real openai client (dev-only, requirements-dev.txt) against the emulator's Azure OpenAI data plane:
openai.AzureOpenAI on the dated shape with an Entra token provider or a key, and openai.OpenAI on the v1
shape, whose auto-pagination follows `after` to the end."""

from __future__ import annotations

import ssl
from collections.abc import Iterable, Iterator
from itertools import islice
from typing import Any

import httpx2
import openai
import pytest

from emulator import Emulator
from tests.emulator.test_openai_data import DATED, FILES, KEYS, NEWEST_FIRST, ONE, job, scenario

OPENED: list[httpx2.Client] = []


def every(items: Iterable[Any]) -> list[Any]:
    """What the client's auto-pagination yields, bounded: a plane that ignored `after` would page forever."""
    got = list(islice(items, 50))
    assert len(got) < 50, "auto-pagination did not end"
    return got


def _http(emu: Emulator) -> httpx2.Client:
    """An HTTP client that trusts the emulator's CA (closed when the test's emulator stops)."""
    client = httpx2.Client(verify=ssl.create_default_context(cafile=emu.ca_path))
    OPENED.append(client)
    return client


def azure(emu: Emulator, sub: str = "aoai-one", **auth: Any) -> openai.AzureOpenAI:
    """AzureOpenAI as warden builds it: Entra token provider unless `auth` says otherwise; no retries, so a
    refusal is seen once (the client retries a 409 by default)."""
    options: dict[str, Any] = auth or {"azure_ad_token_provider": lambda: "token"}
    return openai.AzureOpenAI(
        azure_endpoint=emu.openai_url(sub), api_version=DATED, http_client=_http(emu), max_retries=0, **options
    )


def plain(emu: Emulator, sub: str = "aoai-one") -> openai.OpenAI:
    return openai.OpenAI(
        base_url=f"{emu.openai_url(sub)}/openai/v1/", api_key=KEYS["key1"], http_client=_http(emu), max_retries=0
    )


@pytest.fixture
def emu() -> Iterator[Emulator]:
    running = job("running", training_file=FILES[0]["id"])
    with Emulator(scenario(jobs=[running], openaiOptions={"maxPageSize": 2})) as emu:
        yield emu
        while OPENED:
            OPENED.pop().close()


def test_azure_client_lists_files_and_jobs_and_deletes_a_file(emu: Emulator) -> None:
    client = azure(emu)
    assert [f.id for f in every(client.files.list())] == NEWEST_FIRST  # 2 + 2 + 1, then an empty page
    listed = [r for r in emu.requests if r.path == "/aoai-one/openai/files"]
    assert [r.query.get("after") for r in listed] == [None, NEWEST_FIRST[1], NEWEST_FIRST[3], NEWEST_FIRST[4]]
    assert all(r.query["api-version"] == DATED for r in listed)
    assert [f.purpose for f in every(client.files.list(purpose="fine-tune"))] == ["fine-tune"] * 5
    jobs = every(client.fine_tuning.jobs.list())
    assert [(j.status, j.training_file) for j in jobs] == [("running", FILES[0]["id"])]
    assert client.fine_tuning.jobs.retrieve(jobs[0].id).id == jobs[0].id
    assert client.files.retrieve(FILES[1]["id"]).filename == FILES[1]["filename"]
    deleted = client.files.delete(FILES[1]["id"])
    assert (deleted.id, deleted.deleted, deleted.object) == (FILES[1]["id"], True, "file")
    with pytest.raises(openai.NotFoundError):
        client.files.retrieve(FILES[1]["id"])
    with pytest.raises(openai.ConflictError, match="running"):
        client.files.delete(FILES[0]["id"])


def test_azure_client_with_keys(emu: Emulator) -> None:
    assert len(every(azure(emu, api_key=KEYS["key2"]).files.list())) == 5
    with pytest.raises(openai.AuthenticationError):
        azure(emu, api_key="wrong").files.list()
    with pytest.raises(openai.AuthenticationError, match="disabled"):
        azure(emu, "aoai-two", api_key=KEYS["key1"]).files.list()
    assert every(azure(emu, "aoai-two").files.list()) == []  # Entra passes


def test_v1_client_pages_files_with_after(emu: Emulator) -> None:
    emu.clear_requests()
    page = plain(emu).files.list()
    assert (len(page.data), page.has_more) == (2, True)
    assert [f.id for f in every(page)] == NEWEST_FIRST  # auto-pagination over three pages
    listed = [r for r in emu.requests if r.path == "/aoai-one/openai/v1/files"]
    assert [r.query for r in listed] == [{}, {"after": NEWEST_FIRST[1]}, {"after": NEWEST_FIRST[3]}]
    assert [f.id for f in every(plain(emu).files.list(order="asc", limit=1))] == NEWEST_FIRST[::-1]
    assert [j.status for j in every(plain(emu).fine_tuning.jobs.list())] == ["running"]


def test_the_client_sees_a_job_finish_by_the_clock(emu: Emulator) -> None:
    client = azure(emu)
    made = client.fine_tuning.jobs.create(model="gpt-4o-mini", training_file=FILES[2]["id"])
    assert made.status == "pending"
    emu.set_job_status(ONE, made.id, "succeeded")
    assert client.fine_tuning.jobs.retrieve(made.id).status == "succeeded"
    assert client.files.delete(FILES[2]["id"]).deleted is True
