"""Every subcommand's --help ends with its examples, and every example is a command line the parser accepts."""

from __future__ import annotations

import argparse
import shlex

import pytest

from warden.cli import build_parser
from warden.cli_help import EXAMPLES
from warden.exit_codes import ExitCode


def subcommands() -> dict[str, argparse.ArgumentParser]:
    parser = build_parser()
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return dict(action.choices)


def test_every_subcommand_has_two_or_three_examples() -> None:
    assert set(EXAMPLES) == set(subcommands())
    assert all(2 <= len(examples) <= 3 for examples in EXAMPLES.values())


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_help_ends_with_the_examples(name: str) -> None:
    text = subcommands()[name].format_help().rstrip()
    tail = text[text.rindex("examples:") :].splitlines()[1:]
    assert [line.strip() for line in tail[1::2]] == [line for line, _ in EXAMPLES[name]]
    assert all(line.strip().startswith("# ") for line in tail[::2])


@pytest.mark.parametrize("name, line", [(name, line) for name, ex in EXAMPLES.items() for line, _ in ex])
def test_each_example_parses(name: str, line: str) -> None:
    words = shlex.split(line)
    while "=" in words[0]:  # an environment assignment before the command
        words.pop(0)
    assert words[:2] == ["warden", name]
    args = build_parser().parse_args(words[1:])
    assert args.command == name


def test_top_level_help_documents_every_exit_code() -> None:
    text = build_parser().format_help()
    codes = text[text.index("exit codes:") :]
    for code in ExitCode:
        assert f"\n  {code.value}  " in codes


def test_a_bad_example_would_fail_to_parse() -> None:
    # The twin of test_each_example_parses: an option the parser does not know is refused.
    with pytest.raises(SystemExit):
        build_parser().parse_args(["report", "--weeks", "2"])
