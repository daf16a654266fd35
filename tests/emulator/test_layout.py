"""The emulator's layering (docs/emulator.md): the kernel knows no service, the ARM core names no provider,
and a new service plugs in without touching either, as the toy data plane below does."""

from __future__ import annotations

import ast
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
import requests

import emulator.facade
from emulator import Emulator
from emulator.kernel.http import Reply, Request
from emulator.kernel.service import ServiceError
from emulator.kernel.world import World
from tests.emulator.conftest import openai_account, raw

PACKAGE = Path(emulator.__file__).parent


def _imports(folder: Path) -> Iterator[tuple[str, str]]:
    for path in folder.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom):
                module = node.module or ""
                if node.level:  # relative: resolve against the module's package
                    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts[: -node.level]
                    module = ".".join([*parts, module] if module else parts)
                yield str(path.relative_to(PACKAGE.parent)), module
            elif isinstance(node, ast.Import):
                yield from ((str(path.relative_to(PACKAGE.parent)), a.name) for a in node.names)


@pytest.mark.parametrize(
    ("layer", "forbidden"),
    [
        ("kernel", ("emulator.arm", "emulator.services", "emulator.facade", "warden")),
        ("arm", ("emulator.services", "emulator.facade", "warden")),
        ("services", ("emulator.facade", "warden")),
    ],
)
def test_layers_import_only_downwards(layer: str, forbidden: tuple[str, ...]) -> None:
    offenders = [f"{path}: {module}" for path, module in _imports(PACKAGE / layer) if module.startswith(forbidden)]
    assert offenders == []


def test_the_arm_core_names_no_provider() -> None:
    text = "".join(p.read_text() for p in (PACKAGE / "arm").rglob("*.py"))
    for namespace in (
        "Microsoft.CognitiveServices",
        "cognitiveservices",
        "Microsoft.KeyVault",
        "Microsoft.Authorization",
    ):
        assert namespace not in text, namespace


class Teapot(ServiceError):
    def reply(self) -> Reply:
        return Reply(418, {"message": "a teapot"})


class ToyDataPlane:
    """A data plane of the kind Key Vault or Azure OpenAI will add: its own routes, errors and scenario section."""

    name = "toy"
    sections = ("toyItems",)

    def __init__(self, world: World) -> None:
        self.world = world
        self.items: list[str] = []
        self.ticks = 0

    def claims(self, req: Request) -> bool:
        return req.path.startswith("/toy/")

    def handle(self, req: Request) -> Reply:
        if req.path == "/toy/teapot":
            raise Teapot()
        return Reply(200, {"items": self.items, "now": self.world.clock.now().isoformat()})

    def error_reply(self, status: int, code: str, message: str, headers: Mapping[str, str]) -> Reply:
        return Reply(status, {"toyError": code}, dict(headers))

    def tick(self) -> None:
        self.ticks += 1

    def load(self, scenario: Mapping[str, Any]) -> None:
        self.items = list(scenario.get("toyItems") or [])

    def dump(self) -> dict[str, Any]:
        return {"toyItems": list(self.items)}

    def decorate(self, req: Request, reply: Reply) -> None:
        reply.headers["x-toy"] = "1"


def test_a_new_service_plugs_in_with_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    """Registering a service is the one line in emulator/services/__init__.py (monkeypatched here): it gets its
    requests, its own error shape for faults and errors, its scenario section and the clock, and ARM keeps
    the rest."""
    monkeypatch.setattr(emulator.facade, "SERVICES", (ToyDataPlane,))
    scenario = {"resources": [openai_account("aoai-one")], "toyItems": ["a"], "clock": {"now": "2030-01-01T00:00:00Z"}}
    with Emulator(scenario) as emu:
        get = requests.get(f"{emu.endpoint}/toy/items", verify=emu.ca_path, timeout=10)  # no ARM auth, no api-version
        assert (get.status_code, get.json()["items"], get.headers["x-toy"]) == (200, ["a"], "1")
        assert get.json()["now"].startswith("2030-01-01T00:00")
        assert requests.get(f"{emu.endpoint}/toy/teapot", verify=emu.ca_path, timeout=10).status_code == 418
        emu.add_fault("GET", "^/toy/", "throttle")
        throttled = requests.get(f"{emu.endpoint}/toy/items", verify=emu.ca_path, timeout=10)
        assert (throttled.status_code, throttled.json()) == (429, {"toyError": "TooManyRequests"})
        assert raw(emu, "GET", openai_account("aoai-one")["id"]).status_code == 200  # ARM as before
        assert emu.dump_state()["toyItems"] == ["a"]
    with pytest.raises(ValueError, match="toyItems"):
        monkeypatch.setattr(emulator.facade, "SERVICES", ())
        Emulator({"toyItems": []})  # without the service, its section is unknown
