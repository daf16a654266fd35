"""The deployment's security promises that checkov does not check (or not in Bicep): storage by identity only, an
immutable audit container that still takes appends, a Flex Consumption Python 3.11 app with a user-assigned
identity only, and role assignments never wider than warden's own resources or the subscriptions in scope."""

from __future__ import annotations

from tree_sitter import Node

from tests.infra.bicep import bicep_files, fields, find_properties, parse, resources, string_value


def _one(type_prefix: str) -> Node:
    found = [
        body
        for path in bicep_files()
        for _, body in resources(parse(path), type_prefix)
        if not any(c.type == "existing" for c in body.children)
    ]
    assert len(found) == 1, f"{type_prefix}: {len(found)} declarations"
    return found[0]


def _value(body: Node, name: str) -> str:
    values = find_properties(body, name)
    assert len(values) == 1, f"{name}: {len(values)} values"
    return values[0].text.decode()


def test_storage_is_reached_by_identity_only_and_never_anonymously() -> None:
    account = _one("Microsoft.Storage/storageAccounts@")
    assert _value(account, "allowSharedKeyAccess") == "false"
    assert _value(account, "allowBlobPublicAccess") == "false"
    assert _value(account, "defaultToOAuthAuthentication") == "true"
    assert string_value(find_properties(account, "minimumTlsVersion")[0]) == "TLS1_2"


def test_the_audit_container_is_immutable_and_takes_protected_appends() -> None:
    policy = _one("Microsoft.Storage/storageAccounts/blobServices/containers/immutabilityPolicies@")
    assert _value(policy, "allowProtectedAppendWrites") == "true"  # warden's append blobs (docs/audit.md)
    assert _value(policy, "immutabilityPeriodSinceCreationInDays") == "auditRetentionDays"
    assert _value(policy, "parent") == "auditContainer"


def test_the_function_app_is_flex_consumption_python_311_with_its_own_identity() -> None:
    plan = _one("Microsoft.Web/serverfarms@")
    (sku,) = find_properties(plan, "sku")
    assert {name: string_value(value) for name, value in fields(sku).items()} == {
        "name": "FC1",
        "tier": "FlexConsumption",
    }
    app = _one("Microsoft.Web/sites@")
    (identity,) = find_properties(app, "identity")
    assert string_value(fields(identity)["type"]) == "UserAssigned"
    (runtime,) = find_properties(app, "runtime")
    assert {name: string_value(value) for name, value in fields(runtime).items()} == {
        "name": "python",
        "version": "3.11",
    }
    assert _value(app, "httpsOnly") == "true" and string_value(find_properties(app, "ftpsState")[0]) == "Disabled"
    (deployment,) = find_properties(app, "authentication")
    assert string_value(fields(deployment)["type"]) == "UserAssignedIdentity"


def test_role_assignments_stay_on_wardens_resources_or_the_subscriptions_in_scope() -> None:
    scopes = []
    for path in bicep_files():
        for _, body in resources(parse(path), "Microsoft.Authorization/roleAssignments@"):
            given = fields(_object_of(body)).get("scope")
            scopes.append((path.name, given.text.decode() if given else "(the module's scope)"))
    assert sorted(scopes) == [
        ("notify-topic.bicep", "topic"),  # the optional notification topic (docs/notifications.md)
        ("role-assignment.bicep", "(the module's scope)"),  # a subscription in scope (infra/main.bicep)
        ("roles.bicep", "appInsights"),
        ("roles.bicep", "deadLetter"),
        ("roles.bicep", "storage"),
    ]


def _object_of(resource: Node) -> Node:
    """The body object of a resource declaration, through a `[for ...: {...}]` loop."""
    for node in resource.children:
        if node.type == "object":
            return node
        if node.type == "for_statement":
            return next(c for c in node.children if c.type == "object")
    raise AssertionError(f"no body in {resource.text.decode()[:80]}")
