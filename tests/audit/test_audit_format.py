"""The stored record format, secret redaction, the hash chain's canonical form, and filter_entries."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone

from tests.audit.helpers import T0, record
from warden.audit import GENESIS_HASH, chain, entry_hash, parse_lines, record_to_json
from warden.audit_review import filter_entries, verify
from warden.model import AuditRecord, Decision, Mode, Outcome
from warden.redact import REDACTED

FIELDS = [
    "v",
    "time",
    "kind",
    "eventId",
    "correlationId",
    "caller",
    "resourceId",
    "controlId",
    "mode",
    "decision",
    "outcome",
    "observed",
    "expected",
    "change",
    "steps",
    "reason",
    "error",
    "durationMs",
    "trigger",
    "appVersion",
]


def test_record_to_json_has_every_field_in_a_fixed_order() -> None:
    out = record_to_json(record(1))
    assert list(out) == FIELDS
    assert out["v"] == 2
    assert out["time"] == "2024-05-01T10:01:00.000000Z"
    assert out["caller"] == {"objectId": "11111111-aaaa", "appId": "22222222-bbbb"}
    assert out["change"] == {"publicNetworkAccess": {"before": "Enabled", "after": "Disabled"}}
    assert out["durationMs"] == 12.5


def test_empty_fields_stay_present_so_the_shape_is_stable() -> None:
    out = record_to_json(AuditRecord(time=T0, kind="event"))
    assert list(out) == FIELDS
    assert out["caller"] is None and out["durationMs"] is None
    assert out["observed"] == {} and out["error"] == "" and out["controlId"] == ""


def test_times_become_utc_and_enums_their_values() -> None:
    cet = timezone(timedelta(hours=2))
    out = record_to_json(
        AuditRecord(
            time=datetime(2024, 5, 1, 12, 30, 0, 250, tzinfo=cet),
            kind="decision",
            mode=Mode.DRY_RUN,
            decision=Decision.NO_REMEDIATOR,  # type: ignore[arg-type]
            outcome=Outcome.WOULD_REMEDIATE,  # type: ignore[arg-type]
            observed={
                "when": datetime(2024, 1, 1),
                "mode": Mode.OFF,
                "ips": ("1.2.3.4",),
                "tags": frozenset({"b", "a"}),
            },
        )
    )
    assert out["time"] == "2024-05-01T10:30:00.000250Z"
    assert (out["mode"], out["decision"], out["outcome"]) == ("dry-run", "no-remediator", "would-remediate")
    assert out["observed"] == {
        "when": "2024-01-01T00:00:00.000000Z",
        "mode": "off",
        "ips": ["1.2.3.4"],
        "tags": ["a", "b"],
    }
    naive = record_to_json(AuditRecord(time=datetime(2024, 5, 1, 8, 0), kind="x"))
    assert naive["time"] == "2024-05-01T08:00:00.000000Z"  # naive datetimes are taken as UTC


def test_secret_looking_keys_are_redacted_anywhere() -> None:
    rec = AuditRecord(
        time=T0,
        kind="result",
        observed={
            "key1": "S3CR3T-1",
            "key2": "S3CR3T-2",
            "nested": {
                "primaryKey": "S3CR3T-3",
                "secondary_key": "S3CR3T-4",
                "keyName": "Key1",
                "keySource": "Microsoft.KeyVault",
            },
        },
        expected={
            "list": [
                {"apiKey": "S3CR3T-5", "accessToken": "S3CR3T-6"},
                {"Password": "S3CR3T-7", "client-secret": "S3CR3T-8"},
            ],
            "connectionString": "DefaultEndpointsProtocol=https;AccountKey=S3CR3T-9",
            "token": "S3CR3T-10",
        },
        change={
            "key": {"before": "S3CR3T-11", "after": "S3CR3T-12"},
            "vaultEntry": {
                "id": "https://kv.vault.azure.net/secrets/aoai-key1/abc",
                "value": "S3CR3T-13",
                "attributes": {"enabled": True},
            },
            "file": {"filename": "train.jsonl", "content": "S3CR3T-14"},
            "armKeyList": [{"keyName": "key1", "value": "S3CR3T-15", "permissions": "Full"}],
            "publicNetworkAccess": {"before": "Enabled", "after": "Disabled"},
            "raw": b"S3CR3T-16",
        },
    )
    out = record_to_json(rec)
    assert "S3CR3T" not in json.dumps(out)
    assert out["observed"]["key1"] == REDACTED and out["observed"]["nested"]["primaryKey"] == REDACTED
    assert out["observed"]["nested"]["keyName"] == "Key1"  # names and sources of keys are not secrets
    assert out["observed"]["nested"]["keySource"] == "Microsoft.KeyVault"
    assert out["expected"]["list"][1] == {"Password": REDACTED, "client-secret": REDACTED}
    assert out["change"]["key"] == REDACTED
    assert out["change"]["vaultEntry"] == {
        "id": "https://kv.vault.azure.net/secrets/aoai-key1/abc",
        "value": REDACTED,
        "attributes": {"enabled": True},
    }
    assert out["change"]["file"] == {"filename": "train.jsonl", "content": REDACTED}
    assert out["change"]["armKeyList"] == [{"keyName": "key1", "value": REDACTED, "permissions": "Full"}]
    assert out["change"]["publicNetworkAccess"] == {"before": "Enabled", "after": "Disabled"}
    assert out["change"]["raw"] == "[9 bytes]"


def test_a_plain_value_key_is_not_a_secret() -> None:
    out = record_to_json(
        AuditRecord(time=T0, kind="x", observed={"value": [1, 2], "nextLink": None, "rule": {"value": "10.0.0.0/24"}})
    )
    assert out["observed"] == {"value": [1, 2], "nextLink": None, "rule": {"value": "10.0.0.0/24"}}


def test_secrets_inside_strings_are_cut_out() -> None:
    jwt = "eyJhbGciOiJSUzI1NiJ9.eyJvaWQiOiIxMjMifQ.c2lnbmF0dXJl"
    out = record_to_json(
        AuditRecord(
            time=T0,
            kind="result",
            error="PUT: DefaultEndpointsProtocol=https;AccountName=st;AccountKey=c2VjcmV0;EndpointSuffix=x",
            reason=f"Authorization: Bearer {jwt}",
            observed={"url": "https://st.blob.core.windows.net/c/b?sv=2022&sig=abc%2Fdef&se=2024"},
        )
    )
    assert out["error"] == ("PUT: DefaultEndpointsProtocol=https;AccountName=st;AccountKey=[redacted];EndpointSuffix=x")
    assert jwt not in out["reason"] and "Bearer [redacted]" in out["reason"]
    assert out["observed"]["url"] == "https://st.blob.core.windows.net/c/b?sv=2022&sig=[redacted]&se=2024"


def test_chain_links_entries_and_hashes_the_canonical_form() -> None:
    data, seq, last = chain([record(1), record(2)], 0, GENESIS_HASH)
    lines = [json.loads(line) for line in data.decode().splitlines()]
    assert [e["seq"] for e in lines] == [1, 2] and seq == 2
    assert lines[0]["prev_hash"] == GENESIS_HASH
    assert lines[1]["prev_hash"] == lines[0]["hash"] == entry_hash(lines[0])
    assert last == lines[1]["hash"]
    body = {k: v for k, v in lines[1].items() if k != "hash"}
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    import hashlib

    assert lines[1]["hash"] == hashlib.sha256(canonical.encode()).hexdigest()
    # Key order in the stored line does not matter: the hash is over the sorted form.
    assert entry_hash(dict(reversed(list(lines[1].items())))) == lines[1]["hash"]


def test_non_ascii_text_is_stored_as_is_and_verifies() -> None:
    data, _, _ = chain([record(1, reason="Zugriff über öffentliches Netz — 公开")], 0, GENESIS_HASH)
    assert "über öffentliches Netz — 公开".encode() in data
    assert verify(parse_lines(data, "x")).ok


def _entries() -> list[dict[str, object]]:
    records = [
        record(1, name="aoai-prod", control_id="network.public-access", outcome="remediated"),
        record(2, day=1, name="aoai-dev", control_id="network.outbound", outcome="would-remediate"),
        record(3, day=2, name="AOAI-Prod-EU", control_id="identity.local-auth", outcome="failed"),
        record(4, day=3, name="other", control_id="data.training-files", outcome="remediated"),
    ]
    data, _, _ = chain(records, 0, GENESIS_HASH)
    return list(parse_lines(data, "t"))


def _seqs(entries: object) -> list[object]:
    return [e["seq"] for e in entries]  # type: ignore[attr-defined]


def test_filter_by_resource_substring_or_glob_case_insensitive() -> None:
    entries = _entries()
    assert _seqs(filter_entries(entries, resource="aoai-prod")) == [1, 3]
    assert _seqs(filter_entries(entries, resource="ACCOUNTS/AOAI-DEV")) == [2]
    assert _seqs(filter_entries(entries, resource="*/accounts/aoai-*")) == [1, 2, 3]
    assert _seqs(filter_entries(entries, resource="*/accounts/aoai-prod")) == [1]  # globs match the whole id
    assert _seqs(filter_entries(entries, resource="nothing")) == []


def test_filter_by_control_exact_or_glob_outcome_exact_and_since() -> None:
    entries = _entries()
    assert _seqs(filter_entries(entries, control="network.outbound")) == [2]
    assert _seqs(filter_entries(entries, control="network")) == []  # exact, not a substring
    assert _seqs(filter_entries(entries, control="network.*")) == [1, 2]
    assert _seqs(filter_entries(entries, outcome="remediated")) == [1, 4]
    assert _seqs(filter_entries(entries, outcome="remediate")) == []
    assert _seqs(filter_entries(entries, since=T0 + timedelta(days=2))) == [3, 4]
    since_cet = datetime(2024, 5, 3, 12, 0, tzinfo=timezone(timedelta(hours=2)))  # = 10:00 UTC
    assert _seqs(filter_entries(entries, since=since_cet)) == [3, 4]
    assert _seqs(filter_entries(entries, since=datetime(2024, 5, 3, 10, 4))) == [4]  # naive = UTC
    combined = filter_entries(entries, since=T0 + timedelta(days=1), control="*.*", outcome="remediated")
    assert _seqs(combined) == [4]


def test_filter_skips_unreadable_lines() -> None:
    data, _, _ = chain([record(1)], 0, GENESIS_HASH)
    entries = list(parse_lines(data + b'{"seq": 2, "trunc', "f"))
    assert len(entries) == 2 and entries[1].problem
    assert _seqs(filter_entries(entries)) == [1]
    assert datetime.now(UTC) > T0  # the fixture times are in the past, so `since` filters are meaningful
