"""Defence-in-depth redaction for the audit log: secret-looking keys and inline secrets never reach a record.

Records should never carry a secret in the first place; this catches the mistake if one ever does.
"""

from __future__ import annotations

import dataclasses
import enum
import hashlib
import logging
import math
import re
from collections.abc import Mapping
from datetime import UTC, date, datetime

from warden.model import Json
from warden.text import printable

log = logging.getLogger(__name__)

REDACTED = "[redacted]"

# Keys compared lower-case with separators removed, so "connection_string", "ConnectionString" and
# "connection-string" all match; suffixes catch "storageAccountKey", "sasToken", "clientSecret" and the like.
_SECRET_KEYS = frozenset(
    {
        "key",
        "key1",
        "key2",
        "keys",
        "content",
        "contents",
        "password",
        "passwd",
        "pwd",
        "secret",
        "credential",
        "credentials",
        "sas",
        "sig",
        "signature",
        "passphrase",
        "primary",
        "secondary",
        "pat",
        "cookie",
        "cookies",
        "setcookie",
    }
)
# Header-like members that are secrets when they hold text (`authorization` is also ARM's {scope, action}).
_SECRET_TEXT_KEYS = frozenset({"authorization", "proxyauthorization", "xfunctionskey", "ocpapimsubscriptionkey"})
_SECRET_SUFFIXES = (
    "key",
    "keys",
    "token",
    "tokens",
    "password",
    "secret",
    "secrets",
    "connectionstring",
    "credential",
    "credentials",
    "passphrase",
)
# A "value" is a secret when it sits in a Key Vault secret bundle or an ARM key list ({keyName, value}).
# `properties` covers the Key Vault SDK's KeyVaultSecret shape ({name, value, properties}).
_SECRET_VALUE_SIBLINGS = frozenset({"contenttype", "attributes", "kid", "managed", "keyname", "properties"})
# Secrets embedded in otherwise harmless strings (error messages, URLs): replace only the secret part.
_INLINE_SECRETS = (
    (
        re.compile(
            r"(?i)(?<![a-z])(AccountKey|SharedAccessKey|SharedAccessSignature|AccessKey|Secret|sig|password|pwd|code"
            r"|client_secret|refresh_token|access_token)(=|%3D|\\u003d)[^;&\s\"'\\]+"
        ),
        r"\1\2" + REDACTED,
    ),
    (re.compile(r"(?i)\b(Basic\s+)[A-Za-z0-9+/=]{8,}"), r"\1" + REDACTED),
    (re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----.*?-----END [A-Z ]*PRIVATE KEY-----", re.S), REDACTED),
    # A secret-named JSON member quoted inside a message, e.g. an error body echoing {"key1": "..."}.
    (
        re.compile(
            r'(?i)("(?:key1|key2|primaryKey|secondaryKey|password|secret|clientSecret|accessToken)"\s*:\s*)"[^"]*"'
        ),
        r'\1"' + REDACTED + '"',
    ),
    (re.compile(r"(?i)\b(Bearer\s+)[A-Za-z0-9._~+/=-]{8,}"), r"\1" + REDACTED),
    (re.compile(r"\beyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*"), REDACTED),
    # Storage's Authorization header: "SharedKey account:signature" (and SharedKeyLite).
    (re.compile(r"(?i)\b(SharedKey(?:Lite)?\s+[^\s:]+:)[^\s\"',;]+"), r"\1" + REDACTED),
    # A Cookie or Set-Cookie header line: session cookies are bearer secrets.
    (re.compile(r"(?i)\b((?:set-)?cookie\s*:\s*)[^\r\n\"]+"), r"\1" + REDACTED),
    # "password: S" as config files and messages write it (the `=` forms are above).
    (
        re.compile(
            r"(?i)(?<![a-z])(password|passwd|pwd|passphrase|secret|client_secret|api[_-]?key)(\s*:\s*)"
            r"(?!\[redacted\])[^\s;,&\"'\\]+"
        ),
        r"\1\2" + REDACTED,
    ),
    # Credentials in a URL: https://user:S@host.
    (re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://[^\s/:@\"']+:)[^\s/@\"']+@"), r"\1" + REDACTED + "@"),
    # Well-known token shapes: OpenAI-style `sk-...` keys and GitHub tokens.
    (re.compile(r"\bsk-[A-Za-z0-9_-]{16,}"), REDACTED),
    (re.compile(r"\b(?:ghp|gho|ghu|ghs|ghr|github_pat)_[A-Za-z0-9_]{20,}"), REDACTED),
)


def is_secret_key(key: str, siblings: Mapping[str, Json]) -> bool:
    """Whether the member `key` of the mapping `siblings` holds a secret by its name (and its neighbours)."""
    norm = re.sub(r"[^a-z0-9]", "", key.lower())
    if norm in _SECRET_TEXT_KEYS:
        return isinstance(siblings.get(key), str)
    if norm in _SECRET_KEYS or norm.endswith(_SECRET_SUFFIXES):
        return True
    if norm.endswith(("secretvalue", "keyvalue")):
        return True
    if norm == "value":
        keys = {re.sub(r"[^a-z0-9]", "", str(k).lower()) for k in siblings}
        return bool(keys & _SECRET_VALUE_SIBLINGS) or "/secrets/" in str(siblings.get("id", "")).lower()
    return False


def _scoped(pattern: re.Pattern[str]) -> str:
    """A pattern's text with its flags scoped to itself, so that the patterns can be joined into one."""
    body, flags = pattern.pattern, ""
    if body.startswith("(?i)"):
        body, flags = body[4:], "i"
    flags += "s" if pattern.flags & re.S else ""
    return f"(?{flags}:{body})" if flags else f"(?:{body})"


#: Any of the inline secrets: one pass finds that a text holds none (most do), so the patterns run only on the
#: texts that may hold one (each record has a dozen texts: a sweep's audit spent most of its time here).
_ANY_INLINE_SECRET = re.compile("|".join(_scoped(p) for p, _ in _INLINE_SECRETS))


def scrub(text: str) -> str:
    """`text` with inline secrets (connection-string keys, SAS signatures, bearer tokens, JWTs) redacted."""
    if not text or not _ANY_INLINE_SECRET.search(text):
        return text
    for pattern, replacement in _INLINE_SECRETS:
        text = pattern.sub(replacement, text)
    return text


def for_log(text: object, limit: int = 2000) -> str:
    """`text` fit for a log line built from event content: secrets scrubbed, control characters and lone
    surrogates escaped (a newline would forge a log line; a surrogate cannot be encoded on its way out), and cut
    to `limit` characters."""
    shown = printable(scrub(str(text)))
    return shown if len(shown) <= limit else f"{shown[:limit]}... [{len(shown)} characters]"


def bounded_text(text: str, limit: int) -> str:
    """`text`, or its first `limit` characters and how long it was (messages and ids from hostile events)."""
    if len(text) <= limit:
        return text
    digest = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:16]
    return f"{text[:limit]}... [{len(text)} characters, sha256 {digest}]"


def clean(value: object, path: str) -> Json:
    """A JSON-safe copy of `value` with secret-looking keys redacted (defence in depth: records hold none)."""
    if value is None or isinstance(value, bool | int):
        return value
    if isinstance(value, enum.Enum):
        return clean(value.value, path)
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)  # canonical JSON has no NaN/Infinity
    if isinstance(value, str):
        return scrub(value)
    if isinstance(value, date):
        return _iso_utc(value) if isinstance(value, datetime) else value.isoformat()
    if isinstance(value, bytes | bytearray):
        return f"[{len(value)} bytes]"  # raw bytes are file contents or key material: never stored
    if isinstance(value, Mapping):
        out: dict[str, Json] = {}
        for key, item in value.items():
            # ARM's secret PUT nests it: {"properties": {"value": ...}}.
            in_properties = str(key).lower() == "value" and path.lower().endswith(".properties")
            if in_properties or is_secret_key(str(key), value):
                log.warning("audit: redacted the value under %s.%s", path, key)
                out[str(key)] = REDACTED
            else:
                out[str(key)] = clean(item, f"{path}.{key}")
        return out
    if isinstance(value, list | tuple | set | frozenset):
        items = sorted(value, key=repr) if isinstance(value, set | frozenset) else value  # sets: stable order
        return [clean(item, path) for item in items]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return clean(dataclasses.asdict(value), path)
    as_dict = getattr(value, "as_dict", None)  # SDK models (e.g. ApiKeys): by their fields, never by str()
    if callable(as_dict):
        return clean(as_dict(), path)
    return f"[{type(value).__name__}]"  # an unknown object's text could carry anything: only its type


def _iso_utc(value: datetime) -> str:
    value = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    return value.isoformat(timespec="microseconds").replace("+00:00", "Z")
