"""Readers of the Azure OpenAI controls' parameters: retention windows, training-file exemptions and RAI policy
names. Pure; a ParamError says what is wrong.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime, time, timedelta

from warden.control import ParamError
from warden.ids import RULES
from warden.model import Exemption
from warden.params_vault import whole_days

#: The longest RAI policy name a baseline may give (ARM's rule, warden/ids.py RULES, sets no length).
MAX_POLICY_NAME = 64
_FILE_EXEMPTION_KEYS = frozenset({"file", "filename", "reason", "owner", "expires"})


def days_or_zero(value: object) -> int:
    """A whole number of days, 0 (as soon as the job ends) to MAX_DAYS."""
    return whole_days(value, 0)


def policy_name(value: object) -> str:
    """A RAI policy name, as ARM's naming rule has it (warden/ids.py), of at most MAX_POLICY_NAME characters."""
    pattern, rule = RULES["RAI policy"]
    if not isinstance(value, str) or len(value) > MAX_POLICY_NAME or not pattern.fullmatch(value):
        raise ParamError(f"{value!r} is not a RAI policy name ({rule}; 1-{MAX_POLICY_NAME} characters)")
    return value


def file_exemptions(value: object) -> tuple[Exemption, ...]:
    """`- {file: file-abc, reason, owner, expires}` or `{filename: golden-*.jsonl, ...}`: training files kept
    although leftover, until `expires` (a date means the end of that day UTC), as resource exemptions are."""
    if not isinstance(value, list):
        raise ParamError(f"expected a list of file exemptions, got {value!r}")
    return tuple(_file_exemption(item, i) for i, item in enumerate(value))


def _file_exemption(item: object, index: int) -> Exemption:
    if not isinstance(item, Mapping):
        raise ParamError(f"expected a mapping (file or filename, reason, owner, expires), got {item!r}", item=index)
    unknown = sorted(str(k) for k in item if k not in _FILE_EXEMPTION_KEYS)
    if unknown:
        raise ParamError(f"unknown keys {unknown}; expected file or filename, reason, owner, expires", item=index)
    names = [k for k in ("file", "filename") if k in item]
    if len(names) != 1:
        raise ParamError("give exactly one of file (a file id) and filename (a glob)", item=index)
    for key in (names[0], "reason", "owner"):
        if not isinstance(item.get(key), str) or not str(item[key]).strip():
            raise ParamError(f"{key} must be a non-empty string", item=index)
    pattern = f"{names[0]}:{str(item[names[0]]).strip()}"
    return Exemption(
        pattern,
        "data.training-files",
        str(item["reason"]).strip(),
        str(item["owner"]).strip(),
        _expiry(item.get("expires"), index),
    )


def _expiry(value: object, index: int) -> datetime:
    """A date (the end of that day UTC) or an aware datetime."""
    if isinstance(value, str):
        text = value.strip()
        try:
            value = date.fromisoformat(text) if len(text) == 10 else datetime.fromisoformat(text)
        except ValueError:
            raise ParamError(f"expires: {text!r} is not a date (YYYY-MM-DD) or an ISO datetime", item=index) from None
    if isinstance(value, datetime):
        if value.tzinfo is None or value.utcoffset() is None:
            raise ParamError("expires has no time zone (add Z or +00:00, or give a date)", item=index)
        return value.astimezone(UTC)
    if isinstance(value, date):
        if value == date.max:
            return datetime.max.replace(tzinfo=UTC)
        return datetime.combine(value + timedelta(days=1), time(0), tzinfo=UTC)
    raise ParamError(f"expires must be a date or an ISO datetime, got {value!r}", item=index)
