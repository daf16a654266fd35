"""check-baseline's promise that one run finds every problem: all of them, in file order, each with its line, key
path and a suggestion; none that only follows from another; at most MAX_PROBLEMS; fatal only when unreadable."""

from __future__ import annotations

from pathlib import Path

import pytest

from warden.baseline import load_baseline, parse_baseline
from warden.baseline_problems import MAX_PROBLEMS
from warden.errors import BaselineError

REPO = Path(__file__).resolve().parents[1]
SUB = "11111111-2222-3333-4444-555555555555"
ACCOUNT = f"/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.CognitiveServices/accounts/a"
LIST_IDS = '`az account list --query "[].id" -o tsv` lists yours'

THREE = f"""\
version: 1
mode: enforced
scope:
  subscriptions:
    - {SUB}
    - my-prod-sub
controls:
  network.public-acess:
    mode: enforce
  identity.local-auth:
    mode: dry-run
"""


def refused(text: str) -> BaselineError:
    with pytest.raises(BaselineError) as caught:
        parse_baseline(text, source="b.yaml")
    error = caught.value
    assert str(error) == "\n".join(error.problems)
    return error


def test_a_bad_mode_a_bad_subscription_and_a_misspelt_control_are_reported_at_once() -> None:
    error = refused(THREE)
    assert error.problems == (
        "b.yaml:2: mode: 'enforced' is not a mode (one of enforce, dry-run, off); did you mean 'enforce'?",
        f"b.yaml:6: scope.subscriptions[1]: 'my-prod-sub' is not a subscription id (a GUID, 8-4-4-4-12 hex "
        f"digits); {LIST_IDS}",
        "b.yaml:8: controls.network.public-acess: unknown control id; did you mean 'network.public-access'?",
    )
    assert (error.path, error.line) == ("b.yaml", 2)  # the first problem's
    assert isinstance(error.__cause__, ValueError)  # the first problem's cause: Mode('enforced')


def test_load_baseline_reports_every_problem_of_the_file(tmp_path: Path) -> None:
    path = tmp_path / "baseline.yaml"
    path.write_text(THREE, encoding="utf-8")
    with pytest.raises(BaselineError) as caught:
        load_baseline(path)
    assert [p.split(": ", 1)[0] for p in caught.value.problems] == [f"{path}:2", f"{path}:6", f"{path}:8"]


def test_problems_in_limits_exemptions_and_a_parameter_are_all_reported_in_file_order() -> None:
    text = f"""\
version: 1
scope:
  subscriptions: [{SUB}]
exemptions:
  - resource: {ACCOUNT}
    control: network.public
    reason: ''
    owner: alice@contoso.com
    expires: 2027-02-30
  - resource: legacy-*
    control: '*'
    reason: migration
    owner: 42
    expires: 2027-01-31
limits:
  max_actions_per_run: 0
  cooldown_seconds: 7200
  max_attempts: 3
controls:
  network.public-access:
    mode: dry_run
    approved_ip_ranges: [10.0.0.300]
  identity.local-auth:
    regenerate_keys: sometimes
"""
    error = refused(text)
    assert [p.split(": ", 2)[:2] for p in error.problems] == [
        ["b.yaml:6", "exemptions[0].control"],
        ["b.yaml:7", "exemptions[0].reason"],
        ["b.yaml:9", "exemptions[0].expires"],
        ["b.yaml:10", "exemptions[1].resource"],
        ["b.yaml:13", "exemptions[1].owner"],
        ["b.yaml:16", "limits.max_actions_per_run"],
        ["b.yaml:17", "limits.cooldown_seconds"],
        ["b.yaml:21", "controls.network.public-access.mode"],
        ["b.yaml:22", "controls.network.public-access.approved_ip_ranges[0]"],
        ["b.yaml:24", "controls.identity.local-auth.regenerate_keys"],
    ]
    by_line = {p.split(":", 2)[1]: p for p in error.problems}
    assert by_line["6"].endswith("unknown control id 'network.public'; did you mean 'network.public-access'?")
    assert by_line["16"].endswith("must be an integer >= 1, got 0 (allowed: 1 to 100000)")
    assert by_line["17"].endswith("must be at most 3600, got 7200 (allowed: 0 to 3600)")
    assert by_line["13"].endswith("expected a string, got an integer (quote it)")
    assert by_line["21"].endswith("'dry_run' is not a mode (one of enforce, dry-run, off); did you mean 'dry-run'?")


def test_every_duplicate_and_unknown_key_is_reported() -> None:
    text = f"""\
version: 1
scope:
  subscriptions: [{SUB}]
mode: enforce
mode: off
limts: {{}}
controls:
  identity.local-auth:
    mode: enforce
    mode: off
    regenerate_key: true
  identity.local-auth:
"""
    assert refused(text).problems == (
        "b.yaml:5: mode: duplicate key (first defined on line 4); keep one",
        "b.yaml:6: limts: unknown key; did you mean 'limits'?",
        "b.yaml:10: controls.identity.local-auth.mode: duplicate key (first defined on line 9); keep one",
        "b.yaml:11: controls.identity.local-auth.regenerate_key: unknown key; did you mean 'regenerate_keys'?",
        "b.yaml:12: controls.identity.local-auth: duplicate key (first defined on line 8); keep one",
    )


def test_a_missing_required_key_is_one_problem_and_the_rest_is_still_checked() -> None:
    text = f"""\
mode: sometimes
scope:
  subscriptions: [{SUB}, not-a-guid]
exemptions:
  - resource: {ACCOUNT}
    control: '*'
    reason: migration
    expires: 2027-01-31T10:00:00
"""
    assert refused(text).problems == (
        "b.yaml:1: version: required key is missing (add `version: 1`)",
        "b.yaml:1: mode: 'sometimes' is not a mode (one of enforce, dry-run, off)",
        f"b.yaml:3: scope.subscriptions[1]: 'not-a-guid' is not a subscription id (a GUID, 8-4-4-4-12 hex digits); "
        f"{LIST_IDS}",
        "b.yaml:5: exemptions[0].owner: required key is missing (who answers for it)",
        "b.yaml:8: exemptions[0].expires: '2027-01-31T10:00:00' has no time zone (add Z or +00:00, or give a date)",
    )


def test_no_follow_on_problems() -> None:
    # An unknown control's settings, a misspelt key's "missing" twin and the reach of an exemption whose
    # control is wrong would each be wrong only because of the first problem.
    text = f"""\
version: 1
scope:
  subscriptions: [{SUB}]
controls:
  network.public_access:
    mode: sometimes
    approved_ips: [nonsense]
exemptions:
  - resource: '*'
    control: network.public
    reason: migration
    owner: alice@contoso.com
    expiry: 2027-01-31
"""
    assert refused(text).problems == (
        "b.yaml:5: controls.network.public_access: unknown control id; did you mean 'network.public-access'?",
        "b.yaml:10: exemptions[0].control: unknown control id 'network.public'; did you mean 'network.public-access'?",
        "b.yaml:13: exemptions[0].expiry: unknown key; did you mean 'expires'?",
    )


def test_every_ambiguous_scalar_of_a_list_is_reported() -> None:
    text = f"version: 1\nscope:\n  subscriptions: [{SUB}]\ncontrols:\n  network.public-access:\n"
    error = refused(text + "    approved_ip_ranges:\n      - 010\n      - 0x10\n")
    assert [p.split(": ", 2)[:2] for p in error.problems] == [
        ["b.yaml:7", "controls.network.public-access.approved_ip_ranges[0]"],
        ["b.yaml:8", "controls.network.public-access.approved_ip_ranges[1]"],
    ]


def test_a_garbage_file_is_capped() -> None:
    bad = "".join(f"    - sub-{i}\n" for i in range(MAX_PROBLEMS + 12))
    error = refused("version: 1\nscope:\n  subscriptions:\n" + bad)
    assert len(error.problems) == MAX_PROBLEMS + 1
    assert error.problems[0].startswith("b.yaml:4: scope.subscriptions[0]: 'sub-0' is not a subscription id")
    assert error.problems[MAX_PROBLEMS - 1].startswith(f"b.yaml:{MAX_PROBLEMS + 3}: ")
    assert error.problems[-1] == "... and 12 more"


@pytest.mark.parametrize(
    ("text", "problems"),
    [
        ("", ("b.yaml:1: the baseline file is empty (it needs at least `version: 1` and `scope:`)",)),
        ("- version\n", ("b.yaml:1: expected a mapping, got a list",)),
        ("version: 1\nmode: [enforce\nlimits: 3\n", ("b.yaml:3: invalid YAML: while parsing a flow sequence",)),
        (
            "version: !!python/name:os.system 2\nmode: sometimes\nscope: !env SCOPE\n",
            (
                "b.yaml:1: version: YAML tags are not allowed ('tag:yaml.org,2002:python/name:",
                "b.yaml:3: scope: YAML tags are not allowed ('!env'); write the plain value",
            ),
        ),
        (
            "version: &v 1\nmode: sometimes\n",
            ("b.yaml:1: YAML anchors and aliases are not allowed; write the value out",),
        ),
    ],
)
def test_what_leaves_the_file_unreadable_stops_the_reading(text: str, problems: tuple[str, ...]) -> None:
    # The bad mode on line 2 is never reached: nothing after a fatal problem is read.
    got = refused(text).problems
    assert len(got) == len(problems)
    assert all(g.startswith(p) for g, p in zip(got, problems, strict=True)), got


def test_a_valid_file_still_loads() -> None:
    other = SUB.replace("1", "a")
    fixed = THREE.replace("enforced", "enforce").replace("my-prod-sub", other).replace("-acess", "-access")
    baseline = parse_baseline(fixed)
    assert set(baseline.controls) == {"network.public-access", "identity.local-auth"}
    assert baseline.subscriptions == {SUB, other}
    assert load_baseline(REPO / "baseline.yaml").version == 1


def test_an_error_raised_with_one_message_has_that_one_problem() -> None:
    error = BaselineError("b.yaml:3: mode: wrong", path="b.yaml", line=3)
    assert error.problems == ("b.yaml:3: mode: wrong",)
    assert str(error) == "b.yaml:3: mode: wrong"
