"""baseline.yaml loading and validation: the shipped file, defaults, every refusal with its line and key."""

from __future__ import annotations

import dataclasses
import textwrap
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from detectors import CONTROLS
from warden.baseline import END_OF_TIME, KNOWN_CONTROLS, Baseline, load_baseline, parse_baseline
from warden.errors import BaselineError
from warden.model import Limits, Mode

REPO = Path(__file__).resolve().parents[1]
SUB = "11111111-2222-3333-4444-555555555555"
ACCOUNTS = "Microsoft.CognitiveServices/accounts"
PUBLIC = "controls:\n  network.public-access:\n"

HEAD = f"""\
version: 1
scope:
  subscriptions:
    - {SUB}
"""  # lines 1-4; cases below append from line 5


def parse(text: str) -> Baseline:
    return parse_baseline(textwrap.dedent(text), source="baseline.yaml")


def exemption(**override: str) -> str:
    fields = {
        "resource": f"/subscriptions/{SUB}/resourceGroups/rg/providers/{ACCOUNTS}/a",
        "control": "network.public-access",
        "reason": "vendor integration",
        "owner": "alice@contoso.com",
        "expires": "2027-01-31",
    }
    fields.update(override)
    lines = [f"    {k}: {v}" for k, v in fields.items() if v != "<omit>"]
    return "exemptions:\n  - " + "\n".join(lines)[4:] + "\n"  # first key on the "- " line (line 6)


# -- the shipped file and valid input ------------------------------------------------------------------------


def test_shipped_baseline_loads() -> None:
    baseline = load_baseline(REPO / "baseline.yaml")
    assert baseline.version == 1
    assert baseline.subscriptions
    assert set(baseline.controls) == set(KNOWN_CONTROLS)  # the shipped file shows every control to admins
    assert baseline.limits.max_actions_per_hour == 30
    assert baseline.source.endswith("baseline.yaml")


def test_demo_baseline_loads() -> None:
    baseline = load_baseline(REPO / "scenarios" / "demo" / "baseline.yaml")
    assert baseline.limits.max_actions_per_hour == 30
    assert baseline.params("network.public-access").approved_ip_ranges == ("203.0.113.0/24",)


def test_defaults_when_optional_sections_are_absent() -> None:
    baseline = parse(HEAD)
    assert baseline.mode is Mode.DRY_RUN
    assert baseline.limits == Limits()
    assert baseline.limits.max_actions_per_hour == 30
    assert baseline.controls == {}
    assert baseline.exemptions == ()
    assert baseline.params("network.public-access").approved_ip_ranges == ()
    assert baseline.params("identity.local-auth").regenerate_keys is True  # the declared default


def test_control_mode_falls_back_to_top_level_mode() -> None:
    baseline = parse(
        HEAD + "mode: enforce\ncontrols:\n  identity.local-auth:\n    mode: dry-run\n  network.public-access:\n"
    )
    assert baseline.control_mode("identity.local-auth") is Mode.DRY_RUN
    assert baseline.control_mode("network.public-access") is Mode.ENFORCE  # listed without a mode


def test_removing_access_stays_in_dry_run_until_its_own_mode_says_enforce() -> None:
    # identity.role-assignments deletes role assignments: a top-level `enforce` alone never turns that on.
    listed = parse(HEAD + "mode: enforce\ncontrols:\n  identity.role-assignments:\n  logging.diagnostics:\n")
    assert listed.control_mode("identity.role-assignments") is Mode.DRY_RUN
    assert listed.control_mode("logging.diagnostics") is Mode.ENFORCE
    own = parse(HEAD + "mode: dry-run\ncontrols:\n  identity.role-assignments:\n    mode: enforce\n")
    assert own.control_mode("identity.role-assignments") is Mode.ENFORCE
    off = parse(HEAD + "mode: off\ncontrols:\n  identity.role-assignments:\n")
    assert off.control_mode("identity.role-assignments") is Mode.OFF  # the ceiling never raises a mode


def test_a_control_not_listed_is_off() -> None:
    # A new warden version must never start enforcing a control (regenerating keys, say) nobody chose.
    baseline = parse(HEAD + "mode: enforce\ncontrols:\n  network.public-access:\n")
    assert baseline.control_mode("identity.local-auth") is Mode.OFF


def test_bare_off_is_the_mode_not_a_boolean() -> None:
    # YAML 1.1 reads an unquoted `off` as false; admins mean the mode.
    baseline = parse(HEAD + "mode: off\ncontrols:\n  identity.local-auth:\n    mode: off\n")
    assert baseline.mode is Mode.OFF
    assert baseline.control_mode("identity.local-auth") is Mode.OFF


def test_unknown_control_id_in_lookups_raises() -> None:
    with pytest.raises(KeyError):
        parse(HEAD).control_mode("network.public_access")
    with pytest.raises(KeyError):
        parse(HEAD).params("nope")


def test_params_are_validated_and_normalised() -> None:
    baseline = parse(HEAD + PUBLIC + "    approved_ip_ranges: [203.0.113.7, 10.0.0.0/9, 192.168.1.0/24]\n")
    assert baseline.params("network.public-access").approved_ip_ranges == (
        "203.0.113.7",
        "10.0.0.0/9",
        "192.168.1.0/24",
    )


@pytest.mark.parametrize(
    "ranges",
    [
        ("10.0.0.0/8",),
        ("10.0.0.0/9", "11.0.0.0/9"),  # exactly a /8's worth in all
        ("10.0.0.0/8", "10.1.0.0/16", "10.2.3.4"),  # inside the /8: overlaps are counted once
    ],
)
def test_approved_ranges_up_to_a_slash_8_in_all_are_accepted(ranges: tuple[str, ...]) -> None:
    baseline = parse(HEAD + PUBLIC + f"    approved_ip_ranges: [{', '.join(ranges)}]\n")
    assert baseline.params("network.public-access").approved_ip_ranges == ranges


def test_subscriptions_are_lower_cased() -> None:
    baseline = parse(HEAD.replace(SUB, "AAAAAAAA-2222-3333-4444-555555555555"))
    assert baseline.subscriptions == frozenset({"aaaaaaaa-2222-3333-4444-555555555555"})


def test_limits_are_read() -> None:
    text = (
        HEAD
        + "limits:\n  max_actions_per_run: 3\n  max_actions_per_hour: 7\n  cooldown_seconds: 0\n"
        + "  max_attempts: 2\n  attempt_window_hours: 6\n"
    )
    assert parse(text).limits == Limits(
        max_actions_per_run=3,
        max_actions_per_hour=7,
        cooldown=timedelta(0),
        max_attempts=2,
        attempt_window=timedelta(hours=6),
    )


def test_missing_limits_keep_their_defaults() -> None:
    limits = parse(HEAD + "limits:\n  max_actions_per_hour: 5\n").limits
    assert limits == Limits(max_actions_per_hour=5)


@pytest.mark.parametrize(
    ("expires", "instant"),
    [
        ("2027-01-31", datetime(2027, 2, 1, tzinfo=UTC)),  # a date: in force through the end of that day, UTC
        ("'2027-01-31'", datetime(2027, 2, 1, tzinfo=UTC)),  # quoted, same meaning
        ("2027-01-31T12:00:00Z", datetime(2027, 1, 31, 12, tzinfo=UTC)),
        ("2027-01-31T12:00:00+02:00", datetime(2027, 1, 31, 10, tzinfo=UTC)),
        ("'2027-01-31T12:00:00+02:00'", datetime(2027, 1, 31, 10, tzinfo=UTC)),
        # "never expires": the end of 9999-12-31 is past the last instant a datetime holds, so it is capped there
        ("9999-12-31", END_OF_TIME),
        ("'9999-12-31'", END_OF_TIME),
        ("9999-12-31T23:00:00-05:00", END_OF_TIME),  # past the end of 9999 in UTC
        ("9999-12-31T12:00:00Z", datetime(9999, 12, 31, 12, tzinfo=UTC)),
        ("9999-12-30", datetime(9999, 12, 31, tzinfo=UTC)),
    ],
)
def test_exemption_expiry_forms(expires: str, instant: datetime) -> None:
    (ex,) = parse(HEAD + exemption(expires=expires)).exemptions
    assert ex.expires == instant
    assert ex.expires.tzinfo is not None
    assert ex.owner == "alice@contoso.com"
    assert ex.control_id == "network.public-access"


def test_exemption_control_may_be_star() -> None:
    (ex,) = parse(HEAD + exemption(control='"*"')).exemptions
    assert ex.control_id == "*"


def test_baseline_is_frozen() -> None:
    baseline = parse(HEAD)
    with pytest.raises(dataclasses.FrozenInstanceError):
        baseline.mode = Mode.ENFORCE  # type: ignore[misc]
    with pytest.raises(TypeError):
        baseline.controls["identity.local-auth"] = None  # type: ignore[index]


# -- refusals: (text, line, fragments the message must contain) -------------------------------------------

INVALID = {
    "yaml syntax": (HEAD + "mode: [enforce\n", 6, ["invalid YAML"]),
    "not a mapping": ("- version\n", 1, ["expected a mapping, got a list"]),
    "empty file": ("", 1, ["empty"]),
    "unknown top key": (
        HEAD + "limts:\n  max_attempts: 1\n",
        5,
        ["limts: unknown key", "did you mean 'limits'"],
    ),
    "unknown limit key": (
        HEAD + "limits:\n  max_action_per_run: 3\n",
        6,
        ["limits.max_action_per_run: unknown key", "'max_actions_per_run'"],
    ),
    "unknown control param": (
        HEAD + "controls:\n  network.public-access:\n    approved_ips: []\n",
        7,
        ["controls.network.public-access.approved_ips: unknown key", "'approved_ip_ranges'"],
    ),
    "param of another control": (
        HEAD + "controls:\n  identity.local-auth:\n    approved_ip_ranges: []\n",
        7,
        ["controls.identity.local-auth.approved_ip_ranges: unknown key", "regenerate_keys"],
    ),
    "boolean param not a boolean": (
        HEAD + "controls:\n  identity.local-auth:\n    regenerate_keys: sometimes\n",
        7,
        ["controls.identity.local-auth.regenerate_keys: expected true or false, got 'sometimes'"],
    ),
    "unknown control id": (
        HEAD + "controls:\n  network.public_access:\n    mode: off\n",
        6,
        ["controls.network.public_access: unknown control id", "'network.public-access'"],
    ),
    "unknown exemption key": (
        HEAD + exemption(expires="<omit>") + "    expiry: 2027-01-31\n",
        10,
        ["exemptions[0].expiry: unknown key", "'expires'"],
    ),
    "duplicate top key": (HEAD + "mode: enforce\nmode: off\n", 6, ["mode: duplicate key", "line 5"]),
    "duplicate control": (
        HEAD + "controls:\n  identity.local-auth:\n  identity.local-auth:\n",
        7,
        ["controls.identity.local-auth: duplicate key"],
    ),
    "invalid mode": (
        HEAD + "mode: enforced\n",
        5,
        ["mode: 'enforced' is not a mode", "did you mean 'enforce'"],
    ),
    "boolean mode": (HEAD + "mode: yes\n", 5, ["mode: 'yes' is not a mode"]),
    "invalid control mode": (
        HEAD + "controls:\n  identity.local-auth:\n    mode: dry_run\n",
        7,
        ["controls.identity.local-auth.mode: 'dry_run' is not a mode", "'dry-run'"],
    ),
    "missing version": (HEAD.replace("version: 1\n", ""), 1, ["version: required key is missing"]),
    "unsupported version": (HEAD.replace("version: 1", "version: 2"), 1, ["version: unsupported version 2"]),
    "version not int": (HEAD.replace("version: 1", "version: '1'"), 1, ["version: expected an integer"]),
    "missing scope": ("version: 1\nmode: enforce\n", 1, ["scope: required key is missing"]),
    "missing subscriptions": ("version: 1\nscope:\n  subs: []\n", 3, ["scope.subs: unknown key"]),
    "empty scope": ("version: 1\nscope: {}\n", 2, ["scope.subscriptions: required key is missing"]),
    "empty subscriptions": (
        "version: 1\nscope:\n  subscriptions: []\n",
        3,
        ["scope.subscriptions: must list"],
    ),
    "subscriptions not a list": (f"version: 1\nscope:\n  subscriptions: {SUB}\n", 3, ["expected a list"]),
    "non-guid subscription": (
        "version: 1\nscope:\n  subscriptions:\n    - " + SUB + "\n    - my-sub\n",
        5,
        ["scope.subscriptions[1]: 'my-sub' is not a subscription id"],
    ),
    "zero cap": (HEAD + "limits:\n  max_actions_per_run: 0\n", 6, ["limits.max_actions_per_run: must be"]),
    "zero hourly cap": (
        HEAD + "limits:\n  max_actions_per_hour: 0\n",
        6,
        ["limits.max_actions_per_hour: must be an integer >= 1, got 0"],
    ),
    "string hourly cap": (
        HEAD + "limits:\n  max_actions_per_hour: '30'\n",
        6,
        ["limits.max_actions_per_hour: expected an integer, got a string"],
    ),
    "negative cooldown": (
        HEAD + "limits:\n  cooldown_seconds: -1\n",
        6,
        ["limits.cooldown_seconds: must be"],
    ),
    "boolean attempts": (
        HEAD + "limits:\n  max_attempts: true\n",
        6,
        ["limits.max_attempts: expected an integer"],
    ),
    "float window": (
        HEAD + "limits:\n  attempt_window_hours: 1.5\n",
        6,
        ["attempt_window_hours: expected an integer"],
    ),
    "string cap": (HEAD + "limits:\n  max_actions_per_run: '10'\n", 6, ["expected an integer, got a string"]),
    "bad ip": (
        HEAD + PUBLIC + "    approved_ip_ranges:\n      - 10.0.0.0/8\n      - 10.0.0.300\n",
        9,
        ["controls.network.public-access.approved_ip_ranges[1]: '10.0.0.300' is not an IPv4 address or CIDR range"],
    ),
    "host bits": (
        HEAD + "controls:\n  network.public-access:\n    approved_ip_ranges: [10.0.0.5/24]\n",
        7,
        ["approved_ip_ranges[0]: '10.0.0.5/24' has host bits set", "'10.0.0.0/24'"],
    ),
    "whole internet": (
        HEAD + PUBLIC + "    approved_ip_ranges: [0.0.0.0/0]\n",
        7,
        ["approved_ip_ranges[0]: '0.0.0.0/0' approves 4294967296 addresses; the widest allowed range is a /8"],
    ),
    "half the internet": (
        HEAD + PUBLIC + "    approved_ip_ranges:\n      - 10.0.0.0/8\n      - 128.0.0.0/1\n",
        9,
        ["approved_ip_ranges[1]: '128.0.0.0/1' approves 2147483648 addresses; the widest allowed range is a /8"],
    ),
    "wider than a /8": (
        HEAD + PUBLIC + "    approved_ip_ranges: [10.0.0.0/7]\n",
        7,
        ["approved_ip_ranges[0]: '10.0.0.0/7' approves 33554432 addresses; the widest allowed range is a /8"],
    ),
    "too wide with host bits": (
        HEAD + PUBLIC + "    approved_ip_ranges: [0.0.0.5/0]\n",
        7,
        ["'0.0.0.5/0' approves 4294967296 addresses"],
    ),
    "ipv6": (
        HEAD + "controls:\n  network.public-access:\n    approved_ip_ranges: ['2001:db8::/32']\n",
        7,
        ["approved_ip_ranges[0]: '2001:db8::/32' is not an IPv4"],
    ),
    "ip ranges not a list": (
        HEAD + "controls:\n  network.public-access:\n    approved_ip_ranges: 10.0.0.0/8\n",
        7,
        ["approved_ip_ranges: expected a list of IPv4 ranges, got a string"],
    ),
    "exemptions not a list": (HEAD + "exemptions:\n  resource: x\n", 6, ["exemptions: expected a list"]),
    "exemption bad control": (
        HEAD + exemption(control="network.public"),
        7,
        ["exemptions[0].control: unknown"],
    ),
    "exemption bad resource": (
        HEAD + exemption(resource="legacy-*"),
        6,
        ["exemptions[0].resource: 'legacy-*'"],
    ),
    "exemption empty reason": (HEAD + exemption(reason="''"), 8, ["exemptions[0].reason: must not be empty"]),
    "exemption numeric owner": (HEAD + exemption(owner="42"), 9, ["exemptions[0].owner: expected a string"]),
    "invalid date": (HEAD + exemption(expires="2027-02-30"), 10, ["exemptions[0].expires: invalid value"]),
    "invalid date string": (
        HEAD + exemption(expires="next week"),
        10,
        ["exemptions[0].expires: 'next week'"],
    ),
    "naive datetime": (HEAD + exemption(expires="2027-01-31T10:00:00"), 10, ["has no time zone"]),
    "integer date": (HEAD + exemption(expires="20270131"), 10, ["exemptions[0].expires: expected a date"]),
    "datetime before year 1 in UTC": (
        HEAD + exemption(expires="0001-01-01T00:00:00+01:00"),
        10,
        ["exemptions[0].expires: '0001-01-01T00:00:00+01:00' is out of range"],
    ),
    "python tag": (HEAD + "mode: !!python/name:os.system enforce\n", 5, ["mode: YAML tags are not allowed"]),
    "custom tag": (
        HEAD + "controls:\n  network.public-access:\n    approved_ip_ranges: [!env IPS]\n",
        7,
        ["controls.network.public-access.approved_ip_ranges[0]: YAML tags are not allowed ('!env')"],
    ),
    "alias": (
        HEAD + "mode: &m enforce\ncontrols:\n  identity.local-auth:\n    mode: *m\n",
        5,
        ["anchors and aliases"],
    ),
    "non-string key": (HEAD + "1: x\n", 5, ["expected a string, got an integer"]),
}
for field in ("reason", "owner", "expires", "resource", "control"):
    INVALID[f"exemption without {field}"] = (
        HEAD + exemption(**{field: "<omit>"}),
        6,
        [f"exemptions[0].{field}: required key is missing"],
    )


@pytest.mark.parametrize(("text", "line", "fragments"), INVALID.values(), ids=INVALID.keys())
def test_invalid_baseline_names_line_and_key(text: str, line: int, fragments: list[str]) -> None:
    with pytest.raises(BaselineError) as caught:
        parse_baseline(text, source="baseline.yaml")
    message = str(caught.value)
    assert message.startswith(f"baseline.yaml:{line}: "), message
    for fragment in fragments:
        assert fragment in message, message
    assert caught.value.line == line
    assert caught.value.path == "baseline.yaml"


@pytest.mark.parametrize(
    ("text", "cause"),
    [
        (HEAD + "mode: enforced\n", ValueError),
        (HEAD + PUBLIC + "    approved_ip_ranges: [10.0.0.300]\n", ValueError),
        (HEAD + exemption(expires="next week"), ValueError),
        (HEAD + exemption(expires="2027-02-30"), ValueError),
        (HEAD + exemption(expires="0001-01-01T00:00:00+01:00"), OverflowError),
        (HEAD + "mode: [enforce\n", Exception),
    ],
)
def test_refusals_are_chained_to_their_cause(text: str, cause: type[Exception]) -> None:
    with pytest.raises(BaselineError) as caught:
        parse_baseline(text, source="baseline.yaml")
    assert isinstance(caught.value.__cause__, cause)


def test_load_baseline_reports_the_file(tmp_path: Path) -> None:
    path = tmp_path / "baseline.yaml"
    path.write_text(HEAD + "mode: sometimes\n", encoding="utf-8")
    with pytest.raises(BaselineError, match=rf"^{path}:5: mode: "):
        load_baseline(path)
    with pytest.raises(BaselineError, match="cannot read"):
        load_baseline(tmp_path / "missing.yaml")


def test_docs_describe_every_key() -> None:
    docs = (REPO / "docs" / "baseline.md").read_text(encoding="utf-8")
    keys = [
        "version", "mode", "scope", "subscriptions", "limits", "max_actions_per_run", "max_actions_per_hour",
        "cooldown_seconds", "max_attempts", "attempt_window_hours", "controls", "exemptions",
        "resource", "control", "reason", "owner", "expires", "acknowledge_broad", *KNOWN_CONTROLS,
    ]  # fmt: skip
    keys += [name for control in CONTROLS for name in control.parameters()]  # every declared parameter
    assert [k for k in keys if f"`{k}`" not in docs] == []


def test_docs_example_is_a_valid_baseline() -> None:
    docs = (REPO / "docs" / "baseline.md").read_text(encoding="utf-8")
    example = docs.split("```yaml\n", 1)[1].split("```", 1)[0]
    baseline = parse_baseline(example, source="docs/baseline.md")
    ranges = baseline.params("network.public-access").approved_ip_ranges
    assert ranges == ("203.0.113.0/24", "198.51.100.7")
    assert baseline.exemptions[0].expires == datetime(2027, 2, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    ("key", "value", "maximum"),
    [("cooldown_seconds", 10**16, 3600), ("attempt_window_hours", 1_000_000_000, 168), ("max_attempts", 1001, 1000)],
)
def test_limits_have_upper_bounds(key: str, value: int, maximum: int) -> None:
    text = f"version: 1\nmode: enforce\nscope:\n  subscriptions: [{SUB}]\nlimits:\n  {key}: {value}\n"
    with pytest.raises(BaselineError, match=rf"baseline.yaml:6: limits.{key}: must be at most {maximum}"):
        parse_baseline(text, "baseline.yaml")
