"""Properties of resource ids: any text is an ASCII id that meets ARM's naming rules or an IdRuleError; every
ASCII spelling of one account shares one canonical key; a look-alike letter anywhere never passes."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from tests.property.conftest import counted
from warden.ids import IdRuleError, account_id_of, account_parts, check_arm_id, normalize_id

HEX = "0123456789abcdefABCDEF"
GUIDS = st.tuples(*(st.text(HEX, min_size=n, max_size=n) for n in (8, 4, 4, 4, 12))).map("-".join)
GROUPS = st.from_regex(r"\A[-\w.()]{0,89}[-\w()]\Z", alphabet=st.characters(codec="ascii"))
NAMES = st.from_regex(r"\A[a-zA-Z0-9][a-zA-Z0-9_.-]{1,63}\Z", alphabet=st.characters(codec="ascii"))
# Letters that Unicode case rules or fonts equate with ASCII ones: long s, Kelvin sign, dotless i, dotted I,
# fullwidth letters, Cyrillic a and o.
LOOK_ALIKES = st.sampled_from(["\u017f", "\u212a", "\u0131", "\u0130", "\uff53", "\uff21", "\u0430", "\u043e"])


def account(sub: str, group: str, name: str) -> str:
    return f"/subscriptions/{sub}/resourceGroups/{group}/providers/Microsoft.CognitiveServices/accounts/{name}"


def flip_case(text: str, flips: list[bool]) -> str:
    return "".join(c.swapcase() if flip else c for c, flip in zip(text, flips + [False] * len(text), strict=False))


@given(st.text(st.characters(exclude_categories=()), max_size=200))
@counted
def test_any_text_is_a_valid_ascii_id_or_a_rule_error(text: str) -> None:
    try:
        checked = check_arm_id(text)
    except IdRuleError as exc:
        assert str(exc), "the error says which value and which rule"
    else:
        assert checked.isascii() and checked.lower().startswith("/subscriptions/")
    found = account_id_of(text)
    assert found is None or found.isascii()
    assert normalize_id(normalize_id(text)) == normalize_id(text)


@given(GUIDS, GROUPS, NAMES, st.lists(st.booleans(), max_size=200), st.booleans())
@counted
def test_every_ascii_spelling_of_an_account_has_one_key(
    sub: str, group: str, name: str, flips: list[bool], slash: bool
) -> None:
    real = account(sub, group, name)
    spelt = flip_case(real, flips) + ("/" if slash else "")
    assert check_arm_id(spelt)
    assert normalize_id(spelt) == normalize_id(real)
    assert account_id_of(spelt) is not None and normalize_id(account_id_of(spelt) or "") == normalize_id(real)
    assert [p.lower() for p in account_parts(spelt)] == [sub.lower(), group.lower(), name.lower()]
    assert account_id_of(spelt + "/deployments/gpt-4o") is not None


@given(GUIDS, GROUPS, NAMES, LOOK_ALIKES, st.integers(0, 300))
@counted
def test_a_look_alike_letter_anywhere_never_passes(sub: str, group: str, name: str, odd: str, at: int) -> None:
    real = account(sub, group, name)
    at %= len(real)
    for forged in (real[:at] + odd + real[at + 1 :], real[:at] + odd + real[at:]):
        try:
            check_arm_id(forged)
        except IdRuleError as exc:
            assert "not ASCII" in str(exc)
        else:
            raise AssertionError(f"{forged!r} passed")
        assert account_id_of(forged) is None
        assert normalize_id(forged) != normalize_id(real)


@given(GUIDS, GROUPS, NAMES, st.sampled_from([".", "..", "", "%2e%2e", "a\nb", "a b", "a/b"]), st.integers(0, 2))
@counted
def test_a_name_arm_forbids_never_passes(sub: str, group: str, name: str, bad: str, where: int) -> None:
    parts = [sub, group, name]
    parts[where] = bad
    forged = account(*parts)
    try:
        account_parts(forged)
    except IdRuleError:
        return
    raise AssertionError(f"{forged!r} passed")
