"""DeploymentPort over azure-mgmt-cognitiveservices: lists deployments, reads and writes RAI policies, re-points a
deployment with a PUT of its own JSON. Raw JSON in and out (`cls=` hook, bytes bodies), not SDK models, so fields
this SDK does not know survive a read and a write back. SDK models and exceptions stop here."""

from __future__ import annotations

import copy
import json
import logging
from collections.abc import Mapping
from io import BytesIO
from typing import Any

from azure.mgmt.cognitiveservices import CognitiveServicesManagementClient
from azure.mgmt.cognitiveservices.models import Deployment as SdkDeployment

from warden.ai_model import Deployment, RaiPolicy
from warden.azure.arm_writes import begin_with_if_match, finish
from warden.azure.clients import ClientFactory
from warden.azure.errors import classified_errors
from warden.errors import AzureError, ConflictError, ResourceGoneError
from warden.ids import account_parts, check_arm_id, deployment_parts
from warden.model import Json

log = logging.getLogger(__name__)
ACCOUNT_TYPE = "Microsoft.CognitiveServices/accounts"

#: What a deployment PUT must not carry: the fields the 2025-09-01 swagger marks `readOnly` on `Deployment`
#: and the definitions it reaches (tests/fixtures/reference/cognitiveservices/2025-09-01/
#: cognitiveservices.slice.json; id, name and type are readOnly in ARM's common-types ProxyResource).
#: tests/test_deployments_adapter.py derives the same list from that file, so the two cannot drift.
DEPLOYMENT_READ_ONLY: tuple[tuple[str, ...], ...] = (
    ("id",),
    ("name",),
    ("type",),
    ("etag",),
    ("systemData",),
    ("properties", "provisioningState"),
    ("properties", "capabilities"),
    ("properties", "callRateLimit"),
    ("properties", "rateLimits"),
    ("properties", "dynamicThrottlingEnabled"),
    ("properties", "model", "callRateLimit"),
    ("properties", "scaleSettings", "activeCapacity"),
)
#: The `readOnly` fields of RaiPolicyProperties in the same swagger: `type` (UserManaged | SystemManaged) is
#: the service's to set, so a copy of a SystemManaged policy must not send it back.
RAI_POLICY_READ_ONLY_PROPERTIES = ("type",)


def _policy_id(account_id: str, name: str) -> str:
    """The id of the account's RAI policy `name`, checked by warden/ids.py's rules before any call."""
    return check_arm_id(f"{account_id.rstrip('/')}/raiPolicies/{name}")


def _raw_json(pipeline_response: Any, deserialized: Any, headers: Any) -> Any:
    """`cls=` hook: the response JSON exactly as ARM sent it, unknown fields included."""
    return pipeline_response.http_response.json()


def _without(body: Mapping[str, Any], paths: tuple[tuple[str, ...], ...]) -> dict[str, Any]:
    """A deep copy of `body` without the fields at `paths` (missing ones are no error)."""
    out = copy.deepcopy(dict(body))
    for path in paths:
        node: Any = out
        for key in path[:-1]:
            node = node.get(key) if isinstance(node, dict) else None
        if isinstance(node, dict):
            node.pop(path[-1], None)
    return out


def repoint_body(current: Mapping[str, Any], rai_policy_name: str) -> dict[str, Any]:
    """The PUT body of a re-point: the deployment JSON as read, read-only fields removed, everything else
    (unknown fields included) as it was, and only `properties.raiPolicyName` changed."""
    body = _without(current, DEPLOYMENT_READ_ONLY)
    properties = body.get("properties")
    body["properties"] = {**(properties if isinstance(properties, dict) else {}), "raiPolicyName": rai_policy_name}
    return body


def to_deployment(found: SdkDeployment) -> Deployment:
    """The SDK model as the engine's value (the one place that knows its attribute names)."""
    props = found.properties
    model = props.model if props else None
    return Deployment(
        resource_id=found.id or "",
        name=found.name or "",
        rai_policy_name=props.rai_policy_name if props else None,
        model_name=model.name if model else None,
        model_format=model.format if model else None,
        model_version=model.version if model else None,
        etag=found.etag,
        provisioning_state=props.provisioning_state if props else None,
    )


def to_rai_policy(raw: Mapping[str, Any], fallback_id: str, fallback_name: str) -> RaiPolicy:
    props = raw.get("properties")
    properties: dict[str, Json] = dict(props) if isinstance(props, Mapping) else {}
    kind = properties.get("type")
    tags = raw.get("tags")
    etag = raw.get("etag")
    return RaiPolicy(
        resource_id=str(raw.get("id") or fallback_id),
        name=str(raw.get("name") or fallback_name),
        type=kind if isinstance(kind, str) else None,
        properties=properties,
        tags={str(k): str(v) for k, v in tags.items()} if isinstance(tags, Mapping) else {},
        etag=etag if isinstance(etag, str) else None,
    )


class CognitiveDeployments:
    """The DeploymentPort for real: one paged list per account, one GET per policy read, a plain PUT per
    policy write (not long-running), and GET + PUT (long-running) per re-point."""

    def __init__(self, clients: ClientFactory, *, polling_interval: float = 5.0, lro_timeout: float = 300.0) -> None:
        self._factory = clients
        self._polling_interval = polling_interval
        self._lro_timeout = lro_timeout

    def _clients(self, subscription_id: str) -> CognitiveServicesManagementClient:
        return self._factory.arm(CognitiveServicesManagementClient, subscription_id)

    def list_deployments(self, account_id: str) -> list[Deployment]:
        sub, rg, name = account_parts(account_id)
        with classified_errors(f"list deployments of {account_id}"):
            # The pager follows nextLink lazily: iterating inside the block classifies a later page's failure too.
            return [to_deployment(d) for d in self._clients(sub).deployments.list(rg, name)]

    def read_rai_policy(self, account_id: str, name: str) -> RaiPolicy | None:
        sub, rg, account = account_parts(account_id)
        policy_id = _policy_id(account_id, name)
        try:
            with classified_errors(f"read {policy_id}"):
                raw: Any = self._clients(sub).rai_policies.get(rg, account, name, cls=_raw_json)
        except ResourceGoneError as exc:
            if exc.code == "ParentResourceNotFound":  # the account itself is gone: not "no such policy"
                raise
            return None
        if not isinstance(raw, Mapping):
            raise AzureError(f"read {policy_id}: the answer is not a JSON object")
        return to_rai_policy(raw, policy_id, name)

    def put_rai_policy(
        self, account_id: str, name: str, properties: Mapping[str, Json], tags: Mapping[str, str]
    ) -> str | None:
        sub, rg, account = account_parts(account_id)
        policy_id = _policy_id(account_id, name)
        # A SystemManaged policy (Microsoft.Default, Microsoft.DefaultV2) is the service's: ARM refuses its PUT
        # (docs/emulator.md). The engine only writes copies under names of its own; this read makes sure.
        existing = self.read_rai_policy(account_id, name)
        if existing is not None and existing.system_managed:
            raise AzureError(f"put {policy_id}: refused, the policy is SystemManaged", code="OperationNotAllowed")
        clean = {k: v for k, v in properties.items() if k not in RAI_POLICY_READ_ONLY_PROPERTIES}
        # Raw JSON: exactly these properties go out, including any the SDK's model does not declare.
        body = json.dumps({"properties": clean, "tags": dict(tags)}).encode()
        with classified_errors(f"put {policy_id}", write=True):
            # RaiPolicies_CreateOrUpdate is not long-running: the 200/201 carries the stored policy.
            written: Any = self._clients(sub).rai_policies.create_or_update(
                rg, account, name, BytesIO(body), content_type="application/json", cls=_raw_json
            )
        log.info("put RAI policy %s", policy_id)
        etag = written.get("etag") if isinstance(written, Mapping) else None
        return etag if isinstance(etag, str) else None

    def repoint_deployment(self, deployment_id: str, rai_policy_name: str, *, etag: str | None) -> str | None:
        sub, rg, account, _ = deployment_parts(deployment_id)  # both checked before any call
        _policy_id(f"/subscriptions/{sub}/resourceGroups/{rg}/providers/{ACCOUNT_TYPE}/{account}", rai_policy_name)
        current = self._read_raw(deployment_id)
        read_etag = current.get("etag") if isinstance(current.get("etag"), str) else None
        if etag and read_etag != etag:
            raise ConflictError(
                f"re-point {deployment_id}: the deployment changed since it was read",
                status=412,
                code="PreconditionFailed",
            )
        props = current.get("properties")
        if isinstance(props, Mapping) and props.get("raiPolicyName") == rai_policy_name:
            log.info("re-point %s: already uses %s", deployment_id, rai_policy_name)
            return read_etag
        body = json.dumps(repoint_body(current, rai_policy_name)).encode()
        # If-Match with the etag just read: a change landing between our GET and PUT must not be overwritten
        # with the old JSON; ARM answers 412 and the redelivered event re-reads.
        poller = begin_with_if_match(
            lambda match: self._begin_put(deployment_id, body, match),
            read_etag,
            lambda: self._read_raw(deployment_id).get("etag") == read_etag,
            f"re-point {deployment_id}",
        )
        # ARM accepted the change: from here on a failure leaves its outcome unknown, not "not applied".
        updated: Any = finish(poller, f"re-point {deployment_id}", self._lro_timeout)
        log.info("re-pointed %s at RAI policy %s", deployment_id, rai_policy_name)
        new_etag = updated.get("etag") if isinstance(updated, Mapping) else None
        return new_etag if isinstance(new_etag, str) else None

    def _read_raw(self, deployment_id: str) -> dict[str, Any]:
        sub, rg, account, name = deployment_parts(deployment_id)
        with classified_errors(f"read {deployment_id}"):
            raw: Any = self._clients(sub).deployments.get(rg, account, name, cls=_raw_json)
        if not isinstance(raw, dict):
            raise AzureError(f"read {deployment_id}: the answer is not a JSON object")
        return raw

    def _begin_put(self, deployment_id: str, body: bytes, etag: str | None) -> Any:
        """Send the PUT. A refusal (4xx) means nothing was changed; a server error or a lost answer after the
        SDK's retries may follow a PUT ARM carried out (ReplyLostError: only a re-read tells)."""
        sub, rg, account, name = deployment_parts(deployment_id)
        with classified_errors(f"re-point {deployment_id}", write=True):
            # Deployments_CreateOrUpdate: LRO, final-state-via azure-async-operation (the SDK's lro_options).
            return self._clients(sub).deployments.begin_create_or_update(
                rg,
                account,
                name,
                BytesIO(body),
                content_type="application/json",
                polling_interval=self._polling_interval,
                headers={"If-Match": etag} if etag else {},
                cls=_raw_json,
            )
