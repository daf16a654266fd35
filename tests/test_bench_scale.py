"""The tenant-scale benchmark's counting (bench/scale.py): requests by route kind, and the checks that fail the
run when warden's enforce sweep sends anything beyond its Resource Graph pages and GET + PATCH + GET per drifted
account; and the list-every-page scanner (bench/scanner.py) run for real against the emulator process."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bench import scale

ACCT = "/subscriptions/s1/resourceGroups/rg/providers/Microsoft.CognitiveServices/accounts/a1"


def test_request_kinds() -> None:
    assert scale.request_kind("POST", "/providers/Microsoft.ResourceGraph/resources") == "graph POST"
    assert scale.request_kind("GET", "/subscriptions/s1/providers/Microsoft.CognitiveServices/accounts") == "list GET"
    assert (
        scale.request_kind("GET", "/subscriptions/s1/resourceGroups/rg/providers/Microsoft.CognitiveServices/accounts/")
        == "list GET"
    )
    assert scale.request_kind("GET", ACCT) == "account GET"
    assert scale.request_kind("PATCH", ACCT) == "account PATCH"
    assert scale.request_kind("POST", ACCT + "/regenerateKey") == "regenerateKey POST"
    status = "/subscriptions/s1/providers/Microsoft.CognitiveServices/locations/x/operationStatuses/op1"
    assert scale.request_kind("GET", status) == "poll GET"
    assert scale.request_kind("GET", "/subscriptions/s1") == "other GET"


def _enforce(n: int, kinds: dict[str, int]) -> dict[str, Any]:
    drifted = scale.drifted_count(n)
    return {
        "case": "warden-enforce",
        "accounts_in_tenant": n,
        "latency_ms": 0.0,
        "requests_by_kind": kinds,
        "outcomes": {"remediated": drifted, "compliant": 3 * n - drifted},
    }


def _failed(case: dict[str, Any]) -> list[str]:
    return [c["name"] for c in scale.checks({"cases": [case]}) if not c["ok"]]


def test_enforce_check_passes_only_the_ideal_breakdown() -> None:
    n = 1000  # 100 drifted: one Resource Graph page (up to 1,000 rows)
    ideal = {"graph POST": 1, "account GET": 200, "account PATCH": 100}
    assert _failed(_enforce(n, ideal)) == []
    extras = ({"list GET": 1}, {"account GET": 201}, {"poll GET": 100}, {"other GET": 1}, {"graph POST": 0})
    for extra in (*extras, {"graph POST": 2}):
        assert _failed(_enforce(n, {**ideal, **extra})) == [
            "scale: warden-enforce 1000 @ 0 ms: requests by kind (pages + 3 x drifted)"
        ], extra
    # Listing pages instead of querying: the same total budget cannot hide it.
    assert _failed(_enforce(n, {"list GET": 1, "account GET": 200, "account PATCH": 100}))


def test_enforce_check_wants_one_graph_page_per_thousand_candidates() -> None:
    n = 50_000  # 5,000 drifted: five pages of 1,000 rows, not fewer, not more
    assert _failed(_enforce(n, {"graph POST": 5, "account GET": 10_000, "account PATCH": 5_000})) == []
    for pages in (4, 6, 50):
        assert _failed(_enforce(n, {"graph POST": pages, "account GET": 10_000, "account PATCH": 5_000})), pages


def test_tenant_shape() -> None:
    tenant = scale.scenario(120)
    subs = {r["id"].split("/")[2] for r in tenant["resources"]}
    assert len(subs) == 50
    drifted = [r for r in tenant["resources"] if r["properties"]["publicNetworkAccess"] == "Enabled"]
    assert len(drifted) == scale.drifted_count(120) == 12
    assert all(
        r["properties"]["disableLocalAuth"] and r["properties"]["restrictOutboundNetworkAccess"]
        for r in tenant["resources"]
    )
    assert scale.list_pages(120) == 50 and scale.list_pages(12_000) == 150  # 240 a subscription: 3 pages


def test_scanner_against_the_emulator_process(tmp_path: Path) -> None:
    n = 160
    detect = scale.run_case("scanner-detect", n, 0, tmp_path / "detect")
    assert detect["requests_by_kind"] == {"list GET": scale.list_pages(n)}
    assert detect["drifted"] == scale.drifted_count(n) and detect["accounts"] == n
    enforce = scale.run_case("scanner-enforce", n, 1, tmp_path / "enforce")
    assert enforce["requests_by_kind"] == {"list GET": scale.list_pages(n), "account PATCH": scale.drifted_count(n)}
    assert [c for c in scale.checks({"cases": [detect, enforce]}) if not c["ok"]] == []
