"""AccountPort over azure-mgmt-cognitiveservices: reads accounts into AccountSnapshot, PATCHes properties,
regenerates keys (discarding the answer, which holds them).

SDK models and exceptions stop here: callers get warden types and the warden.errors tree.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator, Mapping
from io import BytesIO
from typing import Any

from azure.mgmt.cognitiveservices import CognitiveServicesManagementClient
from azure.mgmt.cognitiveservices.models import Account

from warden.azure.arm_writes import Answers, SettledPolling, begin_with_if_match, finish
from warden.azure.clients import ClientFactory
from warden.azure.errors import classified_errors
from warden.errors import AzureError
from warden.ids import account_parts
from warden.model import AccountIdentity, AccountSnapshot, Encryption, Json, NetworkAcls
from warden.vault_model import SecretText

log = logging.getLogger(__name__)


def parse_account_id(resource_id: str) -> tuple[str, str, str]:
    """(subscription, resource group, account name) of an account id; ValueError for anything else: a child,
    a look-alike spelling, a name ARM forbids (warden/ids.py), so no such id reaches an SDK call."""
    return account_parts(resource_id)


def to_snapshot(account: Account) -> AccountSnapshot:
    """The SDK model as the engine's frozen snapshot (the one place that knows SDK attribute names)."""
    props = account.properties
    acls = props.network_acls if props else None
    network_acls = None
    if acls is not None:
        network_acls = NetworkAcls(
            default_action=acls.default_action,
            bypass=acls.bypass,
            ip_rules=tuple(r.value for r in acls.ip_rules or ()),
            # Re-serialized to ARM names so a PATCH can send them back untouched.
            virtual_network_rules=tuple(r.serialize() for r in acls.virtual_network_rules or ()),
        )
    return AccountSnapshot(
        resource_id=account.id or "",
        etag=account.etag,
        name=account.name or "",
        kind=account.kind or "",
        location=account.location or "",
        provisioning_state=props.provisioning_state if props else None,
        public_network_access=props.public_network_access if props else None,
        network_acls=network_acls,
        disable_local_auth=props.disable_local_auth if props else None,
        restrict_outbound_network_access=props.restrict_outbound_network_access if props else None,
        allowed_fqdn_list=tuple(props.allowed_fqdn_list or ()) if props else (),
        tags=dict(account.tags or {}),
        encryption=_encryption(account),
        identity=_identity(account),
        endpoint=props.endpoint if props else None,
    )


def _encryption(account: Account) -> Encryption | None:
    found = account.properties.encryption if account.properties else None
    if found is None:
        return None
    vault = found.key_vault_properties
    return Encryption(
        key_source=found.key_source,
        key_vault_uri=vault.key_vault_uri if vault else None,
        key_name=vault.key_name if vault else None,
        key_version=vault.key_version if vault else None,
        identity_client_id=vault.identity_client_id if vault else None,
    )


def _identity(account: Account) -> AccountIdentity | None:
    found = account.identity
    if found is None:
        return None
    users = found.user_assigned_identities or {}
    # Keyed by client id: an account's encryption names its user-assigned identity by client id.
    by_client = {u.client_id: u.principal_id for u in users.values() if u.client_id and u.principal_id}
    return AccountIdentity(type=found.type, principal_id=found.principal_id, user_assigned=by_client)


class CognitiveAccounts:
    """The AccountPort for real: one GET per read, one PATCH (a long-running operation) per change."""

    def __init__(self, clients: ClientFactory, *, polling_interval: float = 5.0, lro_timeout: float = 300.0) -> None:
        self._factory = clients
        self._polling_interval = polling_interval
        self._lro_timeout = lro_timeout

    def _clients(self, subscription_id: str) -> CognitiveServicesManagementClient:
        return self._factory.arm(CognitiveServicesManagementClient, subscription_id)

    def read_account(self, resource_id: str) -> AccountSnapshot:
        sub, rg, name = parse_account_id(resource_id)
        with classified_errors(f"read {resource_id}"):
            account = self._clients(sub).accounts.get(rg, name)
        return to_snapshot(account)

    def patch_account(
        self, resource_id: str, properties: Mapping[str, Json], *, etag: str | None = None
    ) -> AccountSnapshot | str | None:
        # Sent as raw JSON so the body carries exactly these ARM properties and nothing the model adds.
        body = json.dumps({"properties": dict(properties)}).encode()
        answers = Answers("PATCH")
        # If-Match: a change made after our read must not be overwritten by a fix planned on the old state
        # (networkAcls is replaced whole); ARM answers 412 and the redelivered event re-reads and re-plans.
        poller = begin_with_if_match(
            lambda match: self._begin_update(resource_id, body, match, answers),
            etag,
            lambda: self.read_account(resource_id).etag == etag,
            f"patch {resource_id}",
        )
        # ARM accepted the change: from here on a failure leaves its outcome unknown, not "not applied".
        updated = finish(poller, f"patch {resource_id}", self._lro_timeout)
        log.info("patched %s: %s", resource_id, sorted(properties))
        if not isinstance(updated, Account):
            return None
        if answers.read_after_completion():
            # The poller GETs the account once ARM reported the operation finished: that read is handed on,
            # so the executor can verify from it instead of a second GET (docs/architecture.md).
            return to_snapshot(updated)
        # The account as the write's answer shows it: its etag is what a next change must send as If-Match.
        return updated.etag

    def regenerate_key(self, resource_id: str, key_name: str) -> None:
        sub, rg, name = parse_account_id(resource_id)
        with classified_errors(f"regenerate {key_name} of {resource_id}"):
            # The answer holds both keys. It is dropped here, unread, so no key value can travel further.
            self._clients(sub).accounts.regenerate_key(rg, name, key_name)
        log.info("regenerated %s of %s", key_name, resource_id)

    def regenerate_key_value(self, resource_id: str, key_name: str) -> SecretText:
        sub, rg, name = parse_account_id(resource_id)
        with classified_errors(f"regenerate {key_name} of {resource_id}", write=True):
            keys = self._clients(sub).accounts.regenerate_key(rg, name, key_name)
        value = keys.key1 if key_name == "Key1" else keys.key2
        if not value:
            raise AzureError(f"regenerate {key_name} of {resource_id}: the answer carried no {key_name}")
        log.info("regenerated %s of %s (its value goes to Key Vault only)", key_name, resource_id)
        # Only the named key is kept, hidden; the other one in the answer is dropped here with `keys`.
        return SecretText(value)

    def _begin_update(self, resource_id: str, body: bytes, etag: str | None, answers: Answers) -> Any:
        """Send the PATCH. A refusal (4xx) means nothing was changed; a server error or a lost answer after the
        SDK's retries may follow a PATCH ARM carried out (ReplyLostError: only a re-read tells)."""
        sub, rg, name = parse_account_id(resource_id)
        with classified_errors(f"patch {resource_id}", write=True):
            return self._clients(sub).accounts.begin_update(
                rg,
                name,
                BytesIO(body),
                content_type="application/json",
                # The SDK would build ARMPolling(polling_interval, **kwargs); this one also knows a settled 200.
                polling=SettledPolling(self._polling_interval, raw_response_hook=answers),
                headers={"If-Match": etag} if etag else {},
                raw_response_hook=answers,
            )

    def list_account_pages(self, subscription_id: str) -> Iterator[list[AccountSnapshot]]:
        what = f"list accounts of subscription {subscription_id}"
        with classified_errors(what):
            pages = self._clients(subscription_id).accounts.list().by_page()
        while True:
            with classified_errors(what):  # each page is a request of its own
                page = next(pages, None)
                snapshots = None if page is None else [to_snapshot(a) for a in page if a.id]
            if snapshots is None:
                return
            yield snapshots

    def list_accounts_in_group(self, subscription_id: str, resource_group: str) -> list[tuple[str, str]]:
        with classified_errors(f"list accounts of resource group {resource_group} in subscription {subscription_id}"):
            accounts = self._clients(subscription_id).accounts.list_by_resource_group(resource_group)
            return [(a.id, a.kind or "") for a in accounts if a.id]
