"""infra/hooks/scope.py run as azd runs it, against stand-ins for `az` and `azd` that record their argv: the
subscriptions it resolves, the baseline text it leaves (a copy of the repository's), idempotence, every error."""

from __future__ import annotations

import json

import pytest

from tests.infra.hooks_rig import (
    ENV_SET,
    MG_LIST,
    PLACEHOLDER,
    PLACEHOLDER_LINE,
    SCOPE,
    SCOPE_LINE,
    SUB_A,
    SUB_B,
    SUB_C,
    WORKSPACE,
    WORKSPACE_LINE,
    Rig,
    assert_failed,
    filled,
    original,
)


def test_the_deployment_subscription_fills_the_baseline_and_the_environment_once(rig: Rig) -> None:
    first = rig.ok()
    assert first.calls == [
        [*ENV_SET, "WARDEN_SUBSCRIPTION_IDS", SUB_A, "--environment", "dev"],
        [*ENV_SET, "WARDEN_SUBSCRIPTION_IDS_FROM", f"AZURE_SUBSCRIPTION_ID {SUB_A}", "--environment", "dev"],
    ]
    assert rig.baseline.read_text() == filled(SUB_A)
    workspace_line = original().splitlines().index(WORKSPACE_LINE.rstrip("\n")) + 1
    assert f"baseline.yaml:{SCOPE_LINE + 1}: scope.subscriptions set to {SUB_A}" in first.out
    assert f"baseline.yaml:{workspace_line}: logging.diagnostics workspace_id set to {WORKSPACE}" in first.out

    rig.env.update(rig.stored())
    before = rig.baseline.read_bytes()
    second = rig.run(SCOPE)  # the default --baseline: ./baseline.yaml
    assert (second.code, second.calls) == (0, [])
    assert rig.baseline.read_bytes() == before
    assert "is up to date" in second.out


def test_an_explicit_list_is_normalised_and_kept_as_the_admins(rig: Rig) -> None:
    rig.env["WARDEN_SUBSCRIPTION_IDS"] = f" {SUB_B.upper()} , {SUB_A},{SUB_B} "
    first = rig.ok()
    assert first.calls == [[*ENV_SET, "WARDEN_SUBSCRIPTION_IDS", f"{SUB_B},{SUB_A}", "--environment", "dev"]]
    assert rig.baseline.read_text() == filled(SUB_B, SUB_A)

    rig.env.update(rig.stored())
    second = rig.scope()
    assert (second.code, second.calls) == (0, [])
    assert rig.baseline.read_text() == filled(SUB_B, SUB_A)


def test_a_management_group_is_resolved_by_az_and_stays_resolvable(rig: Rig) -> None:
    # `az account management-group show --expand --recurse`: the group's tree, subscriptions in child groups too.
    listing = [
        {"name": SUB_B, "type": "/subscriptions", "id": f"/subscriptions/{SUB_B}"},
        {
            "name": "mg-prod-eu",
            "type": "Microsoft.Management/managementGroups",
            "children": [
                {"name": "Contoso", "type": "/subscriptions", "id": f"/subscriptions/{SUB_C}", "children": None}
            ],
        },
        {"name": SUB_B.upper(), "type": "/subscriptions"},
    ]

    def tree(children: list[dict[str, object]]) -> str:
        return json.dumps({"name": "mg-prod", "type": "Microsoft.Management/managementGroups", "children": children})

    rig.env.update(WARDEN_MANAGEMENT_GROUP="mg-prod", FAKE_AZ_STDOUT=tree(listing))
    first = rig.ok()
    assert first.calls == [
        ["az", *MG_LIST[1:], "--output", "json"],
        [*ENV_SET, "WARDEN_SUBSCRIPTION_IDS", f"{SUB_B},{SUB_C}", "--environment", "dev"],
        [*ENV_SET, "WARDEN_SUBSCRIPTION_IDS_FROM", f"management-group:mg-prod {SUB_B},{SUB_C}", "--environment", "dev"],
    ]
    assert rig.baseline.read_text() == filled(SUB_B, SUB_C)

    # The list the hook stored is not the admin's: the next run (preprovision after prepackage) resolves again.
    rig.env.update(rig.stored())
    second = rig.ok()
    assert second.calls == [["az", *MG_LIST[1:], "--output", "json"]]
    assert rig.baseline.read_text() == filled(SUB_B, SUB_C)

    # A subscription added to the group later: the hook's own baseline list follows it.
    rig.env["FAKE_AZ_STDOUT"] = tree([*listing, {"name": SUB_A, "type": "/subscriptions"}])
    third = rig.ok()
    added = f"{SUB_B},{SUB_C},{SUB_A}"
    assert [call[4] for call in third.calls[1:]] == [added, f"management-group:mg-prod {added}"]
    assert rig.baseline.read_text() == filled(SUB_B, SUB_C, SUB_A)


@pytest.mark.parametrize(
    ("before", "after"),
    [
        (f"  subscriptions: [{PLACEHOLDER}]  # fill me\n", f"  subscriptions: [{SUB_A}, {SUB_B}]  # fill me\n"),
        (f'  subscriptions: ["{PLACEHOLDER}"]\n', f'  subscriptions: ["{SUB_A}", "{SUB_B}"]\n'),
        ("  subscriptions: []\n", f"  subscriptions: [{SUB_A}, {SUB_B}]\n"),
        (f"  subscriptions: [{SUB_B}, {SUB_A.upper()}]\n", f"  subscriptions: [{SUB_B}, {SUB_A.upper()}]\n"),
        (f"  subscriptions:\n  - '{PLACEHOLDER}'  # x\n", f"  subscriptions:\n  - '{SUB_A}'  # x\n  - '{SUB_B}'\n"),
        (f"  subscriptions:\n    - {SUB_B.upper()}  # x\n    - {SUB_A}\n",) * 2,
    ],
    ids=["flow", "flow-quoted", "flow-empty", "flow-equal", "block-at-key-indent-quoted", "block-equal"],
)
def test_other_list_layouts(rig: Rig, before: str, after: str) -> None:
    rig.env["WARDEN_SUBSCRIPTION_IDS"] = f"{SUB_A},{SUB_B}"
    block = f"  subscriptions:\n{PLACEHOLDER_LINE}"
    assert original().count(block) == 1
    rig.baseline.write_text(original().replace(block, before))
    rig.ok()
    assert rig.baseline.read_text() == filled(text=original().replace(block, after))


@pytest.mark.parametrize(
    ("block", "message"),
    [
        ("  subscriptions: [\n    a]\n", "a flow list over several lines is not handled"),
        (f"  subscriptions: {PLACEHOLDER}\n", "scope.subscriptions is not a list"),
        ("  subscriptions:\n", "scope.subscriptions lists nothing"),
        (f"  subscriptions:\n    - - {PLACEHOLDER}\n", "is not a `- <subscription id>` item"),
        (f"  subscriptions:\n    - {PLACEHOLDER}\n      - {SUB_A}\n", "line 19 is not a `- <subscription id>` item"),
        ("  other: 1\n", "`scope:` has no `subscriptions:` list"),
        (  # the admin's own list, not the deployment's: the line of `subscriptions:`, and both sets (sorted)
            f"  subscriptions:\n    - {SUB_C}\n    - {SUB_B}\n",
            f"baseline.yaml:{SCOPE_LINE}: the baseline watches {SUB_C}, {SUB_B} but the deployment subscribes and "
            f"grants {SUB_A}: make them equal",
        ),
    ],
)
def test_a_layout_the_hook_does_not_handle_fails_clearly(rig: Rig, block: str, message: str) -> None:
    text = original().replace(f"  subscriptions:\n{PLACEHOLDER_LINE}", block)
    rig.baseline.write_text(text)
    result = rig.scope()
    assert_failed(result, message)
    assert result.calls == []
    assert rig.baseline.read_text() == text


def test_windows_line_endings_are_kept(rig: Rig) -> None:
    rig.baseline.write_bytes(original().replace("\n", "\r\n").encode())
    rig.ok()
    assert rig.baseline.read_bytes() == filled(SUB_A).replace("\n", "\r\n").encode()


@pytest.mark.parametrize(
    ("line", "after"),
    [
        ('    workspace_id: "/subscriptions/x/rg"\n', '    workspace_id: "/subscriptions/x/rg"\n'),
        ("    workspace_id: ''   # the default\n", f"    workspace_id: '{WORKSPACE}'   # the default\n"),
        ("    workspace_id:\n", f'    workspace_id: "{WORKSPACE}"\n'),
        ("    setting: 1\n", "    setting: 1\n"),
    ],
    ids=["set-is-kept", "single-quoted-with-comment", "null", "no-workspace-line"],
)
def test_the_workspace_is_filled_only_when_empty(rig: Rig, line: str, after: str) -> None:
    rig.baseline.write_text(original().replace(WORKSPACE_LINE, line))
    rig.ok()
    expected = original().replace(PLACEHOLDER_LINE, f"    - {SUB_A}\n").replace(WORKSPACE_LINE, after)
    assert rig.baseline.read_text() == expected


def test_only_logging_diagnostics_workspace_id_is_filled(rig: Rig) -> None:
    other = '  network.outbound:\n    workspace_id: ""\n'
    rig.baseline.write_text(original().replace("  network.outbound:\n", other))
    rig.ok()
    assert rig.baseline.read_text() == filled(SUB_A).replace("  network.outbound:\n", other)

    text = original()
    without = text[: text.index("  logging.diagnostics:\n")] + text[text.index("  # A control not listed here") :]
    rig.baseline.write_text(without)
    assert "workspace_id" not in rig.ok().out
    assert rig.baseline.read_text() == without.replace(PLACEHOLDER_LINE, f"    - {SUB_A}\n")


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"WARDEN_SUBSCRIPTION_IDS": f"{SUB_A},no"}, "WARDEN_SUBSCRIPTION_IDS: 'no' is not a subscription id"),
        ({"AZURE_SUBSCRIPTION_ID": "nope"}, "AZURE_SUBSCRIPTION_ID: 'nope' is not a subscription id (a GUID)"),
        ({"AZURE_SUBSCRIPTION_ID": ""}, "no subscription to watch: set WARDEN_MANAGEMENT_GROUP or WARDEN_SUBS"),
        (
            {"WARDEN_MANAGEMENT_GROUP": "mg-prod", "WARDEN_SUBSCRIPTION_IDS": SUB_A},
            f"both WARDEN_MANAGEMENT_GROUP (mg-prod) and WARDEN_SUBSCRIPTION_IDS ({SUB_A}) are set",
        ),
        ({"WARDEN_SUBSCRIPTION_IDS": SUB_B, "AZURE_SUBSCRIPTION_ID": ""}, "workspace without AZURE_SUBSCRIPTION_ID"),
        ({"FAKE_AZD_RC": "1", "FAKE_AZD_STDERR": "ERROR: x\n"}, "env set WARDEN_SUBSCRIPTION_IDS` failed (ERROR: x)"),
        ({"WARDEN_MANAGEMENT_GROUP": "mg", "PATH": "/nonexistent"}, "`az` is not on PATH: install the Azure CLI"),
    ],
    ids=["bad-item", "bad-subscription", "nothing", "group-and-list", "no-workspace-sub", "azd-fails", "no-az"],
)
def test_scope_errors(rig: Rig, env: dict[str, str], message: str) -> None:
    rig.env.update(env)
    result = rig.scope()
    assert_failed(result, message)
    assert all(call[0] == "azd" for call in result.calls)
    assert rig.baseline.read_text() == original()


@pytest.mark.parametrize(
    ("stdout", "stderr", "rc", "message"),
    [
        ("", "ERROR: denied\n", 2, "subscriptions under management group 'mg-prod' (ERROR: denied): check WARDEN"),
        ('{"name": "mg-prod", "children": null}', "", 0, "'mg-prod' has no subscription under it (nor under its"),
        ("not json", "", 0, "did not print a JSON object"),
        ('[{"name": "x"}]', "", 0, "did not print a JSON object"),
        (
            '{"children": [{"name": "Contoso", "type": "/subscriptions", "id": "/x"}]}',
            "",
            0,
            "a subscription with no id",
        ),
    ],
    ids=["az-fails", "empty-group", "not-json", "not-a-list", "entry-without-id"],
)
def test_management_group_errors(rig: Rig, stdout: str, stderr: str, rc: int, message: str) -> None:
    rig.env.update(WARDEN_MANAGEMENT_GROUP="mg-prod", FAKE_AZ_STDOUT=stdout, FAKE_AZ_STDERR=stderr, FAKE_AZ_RC=str(rc))
    result = rig.scope()
    assert_failed(result, message)
    assert result.calls == [["az", *MG_LIST[1:], "--output", "json"]]
    assert rig.baseline.read_text() == original()


def test_a_missing_baseline_is_named(rig: Rig) -> None:
    rig.baseline.unlink()
    result = rig.scope()
    assert_failed(result, f"cannot read the baseline {rig.baseline}")
    assert result.calls == []
