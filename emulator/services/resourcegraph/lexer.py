"""Tokens of the KQL subset the Resource Graph emulator reads (docs/emulator.md, "Resource Graph"): names,
quoted strings, numbers and operators, each with its position, so an error can say where it is."""

from __future__ import annotations

from dataclasses import dataclass

from .errors import invalid_query

# Longest first. `!name` (`!in`, `!contains`) and `in~` are read as one operator token each, below.
_OPERATORS = ("==", "!=", "=~", "!~", "<=", ">=", "|", "(", ")", "[", "]", ",", ".")
_SINGLE = ("=", "<", ">", "-")
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "\\": "\\", "'": "'", '"': '"'}


@dataclass(frozen=True)
class Token:
    """`kind` is `name`, `string`, `number`, `op` or `end`; `pos` the 0-based offset in the query text."""

    kind: str
    text: str
    pos: int
    value: str | int | float | None = None


def _name_char(ch: str) -> bool:
    return ch.isalnum() or ch == "_"


def _operator_at(text: str, i: int) -> str | None:
    if text[i] == "!" and i + 1 < len(text) and text[i + 1].isalpha():
        end = i + 1
        while end < len(text) and _name_char(text[end]):
            end += 1
        return text[i:end] + ("~" if text.startswith("~", end) else "")
    for op in _OPERATORS:
        if text.startswith(op, i):
            return op
    return text[i] if text[i] in _SINGLE else None


def _string(text: str, i: int) -> tuple[Token, int]:
    quote, start = text[i], i
    out: list[str] = []
    i += 1
    while i < len(text):
        ch = text[i]
        if ch == quote:
            return Token("string", text[start : i + 1], start, "".join(out)), i + 1
        if ch == "\\" and i + 1 < len(text):
            out.append(_ESCAPES.get(text[i + 1], text[i + 1]))
            i += 2
            continue
        out.append(ch)
        i += 1
    raise invalid_query(f"unterminated string literal starting at position {start}")


def _number(text: str, i: int) -> tuple[Token, int]:
    start = i
    while i < len(text) and text[i].isdigit():
        i += 1
    fraction = i + 1 < len(text) and text[i] == "." and text[i + 1].isdigit()
    if fraction:
        i += 1
        while i < len(text) and text[i].isdigit():
            i += 1
    if i < len(text) and _name_char(text[i]):
        raise invalid_query(f"malformed number '{text[start : i + 1]}' at position {start}")
    raw = text[start:i]
    return Token("number", raw, start, float(raw) if fraction else int(raw)), i


def tokenize(text: str) -> list[Token]:
    """The tokens of `text`, ending with an `end` token; 400 for a character the subset does not know."""
    tokens: list[Token] = []
    i = 0
    while i < len(text):
        ch = text[i]
        if ch.isspace():
            i += 1
        elif ch in "'\"":
            token, i = _string(text, i)
            tokens.append(token)
        elif ch.isdigit():
            token, i = _number(text, i)
            tokens.append(token)
        elif (op := _operator_at(text, i)) is not None:
            tokens.append(Token("op", op, i))
            i += len(op)
        elif ch.isalpha() or ch == "_":
            start = i
            while i < len(text) and _name_char(text[i]):
                i += 1
            if text[start:i] == "in" and text.startswith("~", i):
                tokens.append(Token("op", "in~", start))
                i += 1
            else:
                tokens.append(Token("name", text[start:i], start))
        else:
            raise invalid_query(f"unexpected character '{ch}' at position {i}")
    tokens.append(Token("end", "", len(text)))
    return tokens
