"""The sweep at tenant scale (docs/scale.md): one Resource Graph query finds the candidates, a candidate is read
again before any change, list pages stand in for controls a query cannot express, and the workers share
exact caps."""

from __future__ import annotations

from typing import Any

from emulator.builders import account, account_id
from tests.integration.conftest import OTHER_SUB, SUB, World, baseline_text
from warden.sweep import sweep

OPEN = {"publicNetworkAccess": "Enabled", "networkAcls": {"defaultAction": "Allow", "ipRules": []}}
CLOSED = {"publicNetworkAccess": "Disabled"}
#: Public access on, but only through an approved range: the query lets it through, the detector clears it.
BEHIND_RANGE = {
    "publicNetworkAccess": "Enabled",
    "networkAcls": {"defaultAction": "Deny", "ipRules": [{"value": "203.0.113.0/24"}]},
}
GRAPH = "/providers/microsoft.resourcegraph/resources"


def two_subscriptions(text: str) -> str:
    return text.replace(f"    - {SUB}\n", f"    - {SUB}\n    - {OTHER_SUB}\n", 1)


def in_other(resource: dict[str, Any]) -> dict[str, Any]:
    resource["id"] = account_id(resource["name"], sub=OTHER_SUB)
    return resource


def seen(world: World) -> list[tuple[str, str]]:
    """(method, path) of every request, operation-status polls and the query included."""
    return [(r.method, r.path.lower()) for r in world.requests()]


def path(name: str, sub: str = SUB) -> str:
    return account_id(name, sub=sub).lower()


def test_one_query_finds_the_drifted_accounts_and_only_they_are_read_and_changed(make_world) -> None:
    resources = [
        account("aoai-open", **OPEN),
        account("aoai-closed", **CLOSED),
        account("aoai-range", **BEHIND_RANGE),
        account("speech-open", kind="SpeechServices", **OPEN),
        in_other(account("aoai-far", **OPEN)),
    ]
    world = make_world(resources, two_subscriptions(baseline_text(approved=("203.0.113.0/24",))))
    report = sweep(world.runtime)
    requests = seen(world)
    assert requests[0] == ("POST", GRAPH) and [m for m, p in requests].count("POST") == 1
    # Then, per drifted account: the GET before acting, the PATCH (settled at once), the verifying GET.
    rest = requests[1:]
    for name, sub in (("aoai-open", SUB), ("aoai-far", OTHER_SUB)):
        mine = [(m, p) for m, p in rest if p == path(name, sub)]
        assert [m for m, _ in mine] == ["GET", "PATCH", "GET"]
    assert not [p for _, p in rest if "aoai-closed" in p or "aoai-range" in p or "speech-open" in p]
    assert [m for m, _ in rest].count("PATCH") == 2
    assert report.source == "resource-graph" and report.pages == 1 and report.accounts == 3
    records = {(e["resourceId"].rsplit("/", 1)[-1], e["outcome"]) for e in world.audit() if e["outcome"]}
    assert ("aoai-range", "compliant") in records  # judged in memory from the row, no request
    assert ("aoai-open", "remediated") in records and ("aoai-far", "remediated") in records
    assert not [r for r in records if r[0] in ("aoai-closed", "speech-open")]


def test_the_query_pushes_down_each_controls_condition(make_world) -> None:
    extra = "  identity.local-auth: {}\n  network.outbound: {}\n"
    compliant = {**CLOSED, "disableLocalAuth": True, "restrictOutboundNetworkAccess": True}
    world = make_world([account("aoai-ok", **compliant)], baseline_text(extra=extra))
    sweep(world.runtime)
    [query] = [r for r in world.requests() if r.method == "POST"]
    text = query.body["query"] if isinstance(query.body, dict) else str(query.body)
    for condition in ("publicNetworkAccess) !~ 'Disabled'", "disableLocalAuth) !~ 'true'", "allowedFqdnList) > 0"):
        assert condition in text
    assert len(world.requests()) == 1  # the compliant account is never returned, so never read


def test_a_candidate_fixed_since_the_graph_saw_it_is_read_and_left_alone(make_world) -> None:
    """Resource Graph lags writes: the GET before acting sees the fix someone made, and nothing is changed."""
    world = make_world([account("aoai-a", **OPEN)])
    world.emulator.freeze_graph()  # the graph still shows the account open
    world.runtime.ports.accounts.patch_account(account_id("aoai-a"), CLOSED)
    world.emulator.clear_requests()
    sweep(world.runtime)
    assert [m for m, _ in seen(world)] == ["POST", "GET"]
    [record] = [e for e in world.audit() if e["outcome"]]
    assert record["outcome"] == "compliant"


def test_a_dry_run_sweep_reports_from_the_rows_without_reading_the_accounts(make_world) -> None:
    world = make_world([account("aoai-a", **OPEN), account("aoai-b", **CLOSED)], baseline_text(mode="dry-run"))
    report = sweep(world.runtime)
    assert [m for m, _ in seen(world)] == ["POST"]
    assert report.outcomes == {"would-remediate": 1}


def test_controls_a_query_cannot_express_fall_back_to_list_pages_without_a_get_per_account(make_world) -> None:
    extra = "  logging.diagnostics:\n    workspace_id: " + (
        f"/subscriptions/{SUB}/resourceGroups/sec/providers/Microsoft.OperationalInsights/workspaces/law-contoso-sec\n"
    )
    world = make_world(
        [account("aoai-a", **OPEN), account("aoai-b", **CLOSED)], baseline_text(mode="dry-run", extra=extra)
    )
    report = sweep(world.runtime)
    assert report.source == "list pages" and report.pages == 1
    # The list page, then only each account's diagnostic settings: its body stood in for a GET of the account.
    lists = f"/subscriptions/{SUB}/providers/microsoft.cognitiveservices/accounts"
    settings = sorted(f"{path(n)}/providers/microsoft.insights/diagnosticsettings" for n in ("aoai-a", "aoai-b"))
    requests = seen(world)
    assert requests[0] == ("GET", lists) and sorted(p for _, p in requests[1:]) == settings
    # aoai-a: public access and diagnostics; aoai-b: diagnostics only.
    assert report.outcomes == {"would-remediate": 3, "compliant": 1}


def test_a_failing_query_falls_back_to_list_pages_and_says_so(make_world) -> None:
    world = make_world([account("aoai-a", **OPEN)])
    world.emulator.add_fault("POST", "/providers/Microsoft.ResourceGraph/resources", "server-error", count=100)
    report = sweep(world.runtime)
    assert report.source == "list pages" and report.outcomes == {"remediated": 1}
    [failed] = [e for e in world.audit() if e["kind"] == "event"]
    assert failed["outcome"] == "failed" and "Resource Graph" in failed["reason"]


def test_workers_share_an_exact_per_run_cap(make_world) -> None:
    names = [f"aoai-{n:02d}" for n in range(12)]
    world = make_world([account(n, **OPEN) for n in names], baseline_text(max_actions=5, max_per_hour=1000))
    world.runtime.sweep_workers = 8
    report = sweep(world.runtime)
    assert [m for m, _ in seen(world)].count("PATCH") == 5
    assert report.outcomes == {"remediated": 5, "blocked": 7}


def test_workers_share_an_exact_tenant_cap(make_world) -> None:
    names = [f"aoai-{n:02d}" for n in range(12)]
    world = make_world([account(n, **OPEN) for n in names], baseline_text(max_actions=100, max_per_hour=3))
    world.runtime.sweep_workers = 8
    report = sweep(world.runtime)
    assert [m for m, _ in seen(world)].count("PATCH") == 3
    assert report.outcomes == {"remediated": 3, "blocked": 9}


def _variants() -> list[dict[str, Any]]:
    """Every combination of the values the three account controls read, missing ones included."""
    access = [
        {},
        {"publicNetworkAccess": "Enabled"},
        {"publicNetworkAccess": "Disabled"},
        {"publicNetworkAccess": "disabled"},
    ]
    acls = [
        {},
        {"networkAcls": {"defaultAction": "Allow", "ipRules": []}},
        {"networkAcls": {"defaultAction": "Deny", "ipRules": [{"value": "203.0.113.0/24"}]}},
        {"networkAcls": {"defaultAction": "Deny", "ipRules": [{"value": "198.51.100.7"}]}},
    ]
    local = [{}, {"disableLocalAuth": True}, {"disableLocalAuth": False}]
    outbound = [
        {},
        {"restrictOutboundNetworkAccess": True},
        {"restrictOutboundNetworkAccess": False, "allowedFqdnList": ["api.contoso.com"]},
        {"restrictOutboundNetworkAccess": True, "allowedFqdnList": ["api.contoso.com"]},
        {"restrictOutboundNetworkAccess": True, "allowedFqdnList": ["evil.example"]},
    ]
    return [a | n | lo | o for a in access for n in acls for lo in local for o in outbound]


def test_each_controls_query_lets_through_every_account_its_detector_flags(make_world) -> None:
    """The pushed-down condition is a necessary one: an account the query keeps out is never read, so it must
    be one the detector would find compliant. Checked for every combination, control by control."""
    from detectors import CONTROLS
    from warden.facts import LazyFacts
    from warden.graph_query import candidate_query
    from warden.pipeline import detect_each, scope_of

    variants = _variants()
    names = [f"aoai-v{n:03d}" for n in range(len(variants))]
    extra = "  identity.local-auth: {}\n  network.outbound:\n    approved_fqdns:\n      - api.contoso.com\n"
    world = make_world(
        [account(n, **v) for n, v in zip(names, variants, strict=True)],
        baseline_text(approved=("203.0.113.0/24",), extra=extra),
    )
    rt = world.runtime
    assert rt.ports.graph is not None
    snapshots = [rt.ports.accounts.read_account(account_id(n)) for n in names]
    for control in [c for c in CONTROLS if c.queryable]:
        query = candidate_query([control], ["openai", "aiservices"])
        returned = {a.resource_id.lower() for page in rt.ports.graph.account_pages(query, [SUB]) for a in page}
        flagged = set()
        for snapshot in snapshots:
            facts = LazyFacts(snapshot.resource_id, rt.ports, scope_of(rt), account=snapshot)
            if detect_each([control], facts, rt.baseline)[0]:
                flagged.add(snapshot.resource_id.lower())
        assert flagged and flagged <= returned, control.id
        assert len(returned) < len(names), f"{control.id}: the condition lets every account through"
