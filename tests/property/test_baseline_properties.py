"""Properties of the baseline reader: any text gives a Baseline or a BaselineError that names the file, and
whatever it accepts keeps the guarantees docs/baseline.md promises (scope, modes, bounded exemptions)."""

from __future__ import annotations

from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.property.conftest import EXAMPLES, counted
from warden.baseline import Baseline, parse_baseline
from warden.errors import BaselineError

REPO = Path(__file__).resolve().parents[2]
VALID = (
    (REPO / "baseline.yaml")
    .read_text()
    .replace("00000000-0000-0000-0000-000000000000", "8f3b2c1d-4e5a-4b6c-9d7e-0f1a2b3c4d5e")
)
LINES = VALID.splitlines()
SOURCE = "fuzz/baseline.yaml"

# Pieces a hostile or careless edit is made of: YAML syntax, YAML 1.1 traps, the file's own words.
_WORDS = [
    ":",
    "[",
    "]",
    "{",
    "}",
    "'",
    '"',
    "*a",
    "?",
    "|",
    ">",
    "#",
    "010",
    "0o10",
    "0x1F",
    "1:00",
    "1_000",
    "yes",
    "no",
    "on",
    "off",
    "~",
    "null",
    ".inf",
    "-1",
    "1e309",
    "9999-12-31",
    "2026-13-45",
    "*",
    "**",
    "0.0.0.0/0",
    "10.0.0.0/8",
    "::/0",
    "enforce",
    "dry-run",
    "mode",
    "scope",
    "subscriptions",
    "controls",
    "exemptions",
    "limits",
    "resource",
    "control",
    "expires",
    "approved_ip_ranges",
    "network.public-access",
    "!!python/object:os.system",
]
# Whitespace, control and look-alike characters: a tab, a newline, a lone surrogate, a bidi override, NUL,
# LATIN SMALL LETTER LONG S and FULLWIDTH S.
_ODD = ["- ", "&a ", "\t", "  ", "\n", "\ud800", "\u202e", "\x00", "\u017f", "\uff33"]
TOKENS = st.sampled_from(_WORDS + _ODD)
LINE = st.lists(TOKENS | st.text(max_size=8), max_size=8).map("".join)


def _accepts_or_locates(text: str) -> Baseline | None:
    """The reader's contract on any input: a Baseline, or a BaselineError naming the file."""
    try:
        return parse_baseline(text, source=SOURCE)
    except BaselineError as exc:
        assert SOURCE in str(exc), f"the error does not name the file: {exc}"
        assert exc.line is None or 1 <= exc.line <= text.count("\n") + 2, exc.line
        return None


def _keeps_promises(baseline: Baseline) -> None:
    """What an accepted baseline guarantees, however it was written (docs/baseline.md)."""
    assert baseline.subscriptions, "an accepted baseline always names its scope"
    for sub in baseline.subscriptions:
        assert sub.isascii() and len(sub) == 36, sub
    for exemption in baseline.exemptions:
        assert exemption.reason and exemption.owner


@given(st.text(st.characters(exclude_categories=()), max_size=300))
@counted
def test_any_text_is_read_or_refused_with_the_file_named(text: str) -> None:
    baseline = _accepts_or_locates(text)
    if baseline is not None:
        _keeps_promises(baseline)


@given(
    st.lists(
        st.tuples(st.sampled_from(["replace", "insert", "delete", "append"]), st.integers(0, len(LINES) - 1), LINE),
        min_size=1,
        max_size=4,
    )
)
@counted
def test_edits_of_the_shipped_baseline_are_read_or_refused_with_a_line(edits: list[tuple[str, int, str]]) -> None:
    lines = list(LINES)
    for op, wanted, text in edits:
        at = min(wanted, len(lines) - 1)
        if op == "replace" and lines:
            lines[at] = text
        elif op == "insert":
            lines.insert(at, text)
        elif op == "delete" and lines:
            del lines[at]
        elif op == "append" and lines:
            lines[at] += text
    baseline = _accepts_or_locates("\n".join(lines) + "\n")
    if baseline is not None:
        _keeps_promises(baseline)


# Each deep example reads a large file: fewer of them, drawn over the whole range of depths.
@settings(max_examples=max(10, EXAMPLES // 5))
@given(st.integers(1, 5_000), st.sampled_from(["[", "{a: "]))
@counted
def test_any_nesting_depth_is_read_or_refused_with_a_line(depth: int, opener: str) -> None:
    closer = "]" if opener == "[" else "}"
    text = VALID.replace("approved_fqdns: []", "approved_fqdns: " + opener * depth + closer * depth)
    _accepts_or_locates(text)
