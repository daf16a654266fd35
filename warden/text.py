"""Text for a terminal: control and direction-changing characters made visible, so hostile input (a resource id
or event id with a newline, an escape sequence or a right-to-left override) cannot forge or hide output lines.
"""

from __future__ import annotations

import re

# C0 and DEL and C1; the Unicode line/paragraph separators (str.splitlines and many viewers break there);
# bidi embeddings, overrides, isolates and marks (they reorder what follows on the line); lone surrogates
# (not encodable: print() would raise on them).
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069\ud800-\udfff]")
_SHORT = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape(match: re.Match[str]) -> str:
    char = match[0]
    code = ord(char)
    return _SHORT.get(char) or (f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")


def printable(value: object) -> str:
    """`str(value)` with every control character escaped visibly: `\\n`, `\\r`, `\\t`, `\\x1b`, `\\x85`,
    `\\u2028`, `\\u202e`, `\\ud800`. Other text (accents, CJK, emoji) is kept as is."""
    return _UNSAFE.sub(_escape, str(value))
