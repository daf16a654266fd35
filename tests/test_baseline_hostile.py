"""The baseline never switches a control off without a word: broad exemptions, approved ranges that add up to
the internet, YAML 1.1 readings and nesting deep enough to crash the reader (docs/baseline.md)."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from warden.baseline import parse_baseline
from warden.baseline_exemptions import describe, reach
from warden.errors import BaselineError

REPO = Path(__file__).resolve().parents[1]
SUB = "11111111-2222-3333-4444-555555555555"
ACCOUNT = f"/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.CognitiveServices/accounts/a"
NOW = datetime(2026, 3, 1, 12, tzinfo=UTC)
HEAD = f"version: 1\nmode: enforce\nscope:\n  subscriptions: [{SUB}]\n"  # lines 1-4
PUBLIC = "controls:\n  network.public-access:\n"  # lines 5-6


def exemption(resource: str, control: str = "'*'", expires: str = "9999-12-31", extra: str = "") -> str:
    """An exemptions section from line 5: resource on 6, control 7, reason 8, owner 9, expires 10, extra 11."""
    return (
        f"exemptions:\n  - resource: '{resource}'\n    control: {control}\n    reason: migration\n"
        f"    owner: alice@contoso.com\n    expires: {expires}\n{extra}"
    )


def refused(text: str) -> BaselineError:
    with pytest.raises(BaselineError) as caught:
        parse_baseline(text, source="baseline.yaml", now=NOW)
    assert str(caught.value).startswith(f"baseline.yaml:{caught.value.line}: "), caught.value
    return caught.value


def warden(*args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "warden", *args]
    return subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=120, check=False)


# -- exemptions that reach past one resource group --------------------------------------------------------


def test_an_exemption_of_everything_from_everything_forever_is_refused() -> None:
    error = refused(HEAD + exemption("*"))
    assert error.line == 6
    assert "exemptions[0].resource: '*' exempts every resource from every control" in str(error)
    assert "acknowledge_broad: true" in str(error)


@pytest.mark.parametrize(
    ("pattern", "reaches"),
    [
        ("*", "every resource"),
        ("**", "every resource"),
        ("*/*", "every resource"),
        ("/subscriptions/*", "every resource"),
        ("/subscriptions/*/resourceGroups/*", "every resource"),
        ("/subscriptions/[0-9a-f]*", "every resource"),
        ("/subscriptions//*", "every resource"),
        ("*/accounts/legacy-*", "resources in every subscription"),
        (f"/subscriptions/{SUB}/*", f"every resource of subscription {SUB}"),
        (f"/SUBSCRIPTIONS/{SUB}/resourcegroups/*", f"every resource of subscription {SUB}"),
        (f"/subscriptions/{SUB}/resourceGroups/rg*/x", f"resources in every resource group of {SUB}"),
        (f"/subscriptions/{SUB}/resourceGroups/r?", f"resources in every resource group of {SUB}"),
    ],
)
def test_a_pattern_not_naming_a_resource_group_needs_an_acknowledgement(pattern: str, reaches: str) -> None:
    error = refused(HEAD + exemption(pattern, control="network.public-access", expires="2026-04-01"))
    assert error.line == 6
    assert f"exempts {reaches} from network.public-access" in str(error)
    assert reach(pattern) == reaches


@pytest.mark.parametrize(
    "pattern",
    [
        ACCOUNT,
        f"/subscriptions/{SUB}/resourceGroups/rg",
        f"/subscriptions/{SUB}",  # no wildcard: the one resource it names (here the subscription itself)
        f"/subscriptions/{SUB}/resourceGroups/rg/*",
        f"/subscriptions/{SUB}//resourcegroups/rg/providers/*/accounts/legacy-*",
    ],
)
def test_a_pattern_naming_a_resource_group_is_narrow_and_may_run_forever(pattern: str) -> None:
    assert reach(pattern) is None
    (ex,) = parse_baseline(HEAD + exemption(pattern), now=NOW).exemptions
    assert describe(ex) == (
        f"exempts {pattern} from EVERY control until 9999-12-31 (end of day UTC; never expires); "
        "owner alice@contoso.com"
    )


def test_an_acknowledged_broad_exemption_is_accepted_and_said_in_capitals() -> None:
    text = HEAD + exemption("*", expires="2027-03-01", extra="    acknowledge_broad: true\n")
    (ex,) = parse_baseline(text, now=NOW).exemptions  # 2027-03-01 is 365 days after NOW's day
    assert describe(ex) == (
        "exempts EVERY RESOURCE ('*', acknowledged as broad) from EVERY control until 2027-03-01 (end of day UTC); "
        "owner alice@contoso.com"
    )


@pytest.mark.parametrize("expires", ["9999-12-31", "2027-03-02", "2027-03-02T00:00:01Z"])
def test_an_acknowledged_broad_exemption_must_expire_within_a_year(expires: str) -> None:
    error = refused(HEAD + exemption("*", expires=expires, extra="    acknowledge_broad: true\n"))
    assert error.line == 10
    assert "exemptions[0].expires: exempts every resource from every control, so it must expire" in str(error)
    assert "within 365 days (by 2027-03-01)" in str(error)


def test_an_acknowledgement_on_a_narrow_exemption_is_refused() -> None:
    # Put on every entry out of habit, it would mean nothing on the one that needs it.
    error = refused(HEAD + exemption(ACCOUNT, extra="    acknowledge_broad: true\n"))
    assert error.line == 11
    assert "exemptions[0].acknowledge_broad: not needed: the exemption stays within one resource group" in str(error)


def test_a_false_acknowledgement_acknowledges_nothing() -> None:
    error = refused(HEAD + exemption("*", expires="2026-04-01", extra="    acknowledge_broad: false\n"))
    assert error.line == 6 and "exempts every resource" in str(error)


def test_check_baseline_says_what_each_exemption_switches_off(tmp_path: Path) -> None:
    broad = tmp_path / "broad.yaml"
    broad.write_text(HEAD + exemption("*"), encoding="utf-8")
    done = warden("check-baseline", str(broad))
    assert done.returncode == 2, done.stdout
    assert f"{broad}:6: exemptions[0].resource: '*' exempts every resource from every control" in done.stderr

    soon = (date.today() + timedelta(days=30)).isoformat()  # the CLI reads the file with the clock's date
    text = HEAD + exemption("*", expires=soon, extra="    acknowledge_broad: true\n")
    meant = tmp_path / "meant.yaml"
    meant.write_text(text + exemption(ACCOUNT, control="network.public-access").split("\n", 1)[1], encoding="utf-8")
    done = warden("check-baseline", str(meant))
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[1:] == [
        f"  exemptions[0]: exempts EVERY RESOURCE ('*', acknowledged as broad) from EVERY control until {soon} "
        "(end of day UTC); owner alice@contoso.com",
        f"  exemptions[1]: exempts {ACCOUNT} from network.public-access until 9999-12-31 (end of day UTC; "
        "never expires); owner alice@contoso.com",
    ]


# -- approved IP ranges that add up ------------------------------------------------------------------------


def test_many_slash_8s_do_not_add_up_to_the_internet() -> None:
    ranges = "".join(f"      - {first}.0.0.0/8\n" for first in range(1, 225))
    error = refused(HEAD + PUBLIC + "    approved_ip_ranges:\n" + ranges)
    assert error.line == 8  # the list (its first entry)
    assert (
        "controls.network.public-access.approved_ip_ranges: the ranges approve 3758096384 addresses in all "
        "(overlaps merged); at most 16777216 (as many as one /8) may be approved"
    ) in str(error)


def test_two_slash_8s_are_more_than_one() -> None:
    error = refused(HEAD + PUBLIC + "    approved_ip_ranges: [10.0.0.0/8, 198.51.100.7, 11.0.0.0/9]\n")
    assert error.line == 7 and "approve 25165825 addresses in all" in str(error)


# -- YAML 1.1 readings -------------------------------------------------------------------------------------

AMBIGUOUS = {
    "octal": ("limits:\n  max_attempts: 010\n", 6, "max_attempts: '010' is ambiguous: YAML 1.1 reads it as 8 (octal)"),
    "base 60": ("limits:\n  cooldown_seconds: 1:00\n", 6, "'1:00' is ambiguous: YAML 1.1 reads it as 60 (base 60)"),
    "hex": ("limits:\n  max_actions_per_run: 0x10\n", 6, "'0x10' is ambiguous: YAML 1.1 reads it as 16 (hexadecimal)"),
    "binary": ("limits:\n  max_actions_per_run: 0b11\n", 6, "'0b11' is ambiguous: YAML 1.1 reads it as 3 (binary)"),
    "grouped": ("limits:\n  max_actions_per_hour: 1_000\n", 6, "'1_000' is ambiguous: YAML 1.1 reads it as 1000"),
    "yes": (
        "controls:\n  identity.local-auth:\n    regenerate_keys: yes\n",
        7,
        "regenerate_keys: 'yes' is ambiguous: YAML 1.1 reads it as true, YAML 1.2 as the string 'yes'",
    ),
    "on": ("controls:\n  identity.local-auth:\n    regenerate_keys: on\n", 7, "'on' is ambiguous"),
    "No": ("controls:\n  identity.local-auth:\n    regenerate_keys: No\n", 7, "YAML 1.1 reads it as false"),
    "in a list": (PUBLIC + "    approved_ip_ranges: [010]\n", 7, "approved_ip_ranges[0]: '010' is ambiguous"),
    "acknowledgement": (
        exemption("*", expires="2026-04-01", extra="    acknowledge_broad: yes\n"),
        11,
        "exemptions[0].acknowledge_broad: 'yes' is ambiguous",
    ),
}


@pytest.mark.parametrize(("text", "line", "fragment"), AMBIGUOUS.values(), ids=AMBIGUOUS.keys())
def test_a_scalar_yaml_versions_read_differently_is_refused(text: str, line: int, fragment: str) -> None:
    error = refused(HEAD + text)
    assert error.line == line
    assert fragment in str(error)
    assert "(or quote it: '" in str(error)


def test_the_octal_reading_names_the_number_to_write() -> None:
    assert "write 8 (or quote it: '010')" in str(refused(HEAD + "limits:\n  max_attempts: 010\n"))


@pytest.mark.parametrize(
    "line", ["limits:\n  max_attempts: 10\n", "limits:\n  cooldown_seconds: 0\n", "limits:\n  max_attempts: +7\n"]
)
def test_plain_decimal_numbers_are_read(line: str) -> None:
    parse_baseline(HEAD + line, now=NOW)


@pytest.mark.parametrize(("flag", "value"), [("true", True), ("false", False), ("True", True), ("FALSE", False)])
def test_true_and_false_are_read(flag: str, value: bool) -> None:
    baseline = parse_baseline(HEAD + f"controls:\n  identity.local-auth:\n    regenerate_keys: {flag}\n", now=NOW)
    assert baseline.params("identity.local-auth").regenerate_keys is value


# -- nesting -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("opener", "closer"), [("[", "]"), ("{a: ", "}")])
def test_a_flow_list_nested_thousands_deep_gives_the_line(opener: str, closer: str) -> None:
    error = refused(HEAD + PUBLIC + "    approved_ip_ranges: " + opener * 3000 + closer * 3000 + "\n")
    assert error.line == 7
    assert "lists and mappings nest deeper than 16 levels" in str(error)


def test_block_nesting_gives_the_line_where_it_goes_too_deep() -> None:
    block = "".join(f"{'  ' * level}k{level}:\n" for level in range(20))  # k0 on line 5, k<n> on line 5 + n
    error = refused(HEAD + block + "  " * 20 + "leaf\n")
    assert error.line == 21  # the root mapping is level 1, so the one holding k16 (line 21) is level 17
    assert str(error) == "baseline.yaml:21: lists and mappings nest deeper than 16 levels"


def test_nesting_the_baseline_needs_is_read() -> None:
    parse_baseline(HEAD + PUBLIC + "    approved_ip_ranges: [203.0.113.0/24]\n", now=NOW)


def test_check_baseline_reports_deep_nesting_without_a_traceback(tmp_path: Path) -> None:
    deep = tmp_path / "deep.yaml"
    deep.write_text(HEAD + "controls: " + "[" * 3000 + "]" * 3000 + "\n", encoding="utf-8")
    done = warden("check-baseline", str(deep))
    assert done.returncode == 2
    assert done.stderr == f"error: {deep}:5: lists and mappings nest deeper than 16 levels\n{deep}: 1 problem(s)\n"
