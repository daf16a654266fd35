"""A recursive-descent parser for the KQL subset (docs/emulator.md, "Resource Graph"): anything outside it is a
400 naming the part not understood and its position, never a silently different answer.

Column names are checked as the pipeline goes (a `project` or `summarize` changes which exist), so a typo in a
column is an error rather than a null that quietly fails every comparison.
"""

from __future__ import annotations

from typing import Any

from .errors import invalid_query
from .lexer import Token, tokenize
from .syntax import (
    SUMMARIZE_COUNT,
    Binary,
    Call,
    Column,
    Expr,
    InList,
    Limit,
    Literal,
    Member,
    Operator,
    OrderBy,
    Project,
    Query,
    Summarize,
    Where,
    implied_name,
)
from .versions import COLUMNS, TABLES

# name -> (fewest, most) arguments; None: any number. bag_pack/pack also need an even count.
FUNCTIONS: dict[str, tuple[int, int | None]] = {
    "tostring": (1, 1),
    "tobool": (1, 1),
    "tolower": (1, 1),
    "toupper": (1, 1),
    "isnull": (1, 1),
    "isnotnull": (1, 1),
    "isempty": (1, 1),
    "isnotempty": (1, 1),
    "array_length": (1, 1),
    "bag_pack": (0, None),
    "pack": (0, None),
    "coalesce": (1, None),
    "not": (1, 1),
}
COMPARISONS = ("==", "!=", "=~", "!~", "<", "<=", ">", ">=")
IN_OPERATORS = ("in", "in~", "!in", "!in~")
_AFTER_EXPR = ("and", "or", "asc", "desc", "by")


def _describe(token: Token) -> str:
    return "the end of the query" if token.kind == "end" else f"'{token.text}' at position {token.pos}"


class Parser:
    """One query's tokens and a cursor; `parse()` gives the Query or raises a 400 GraphError."""

    def __init__(self, text: str) -> None:
        self.tokens = tokenize(text)
        self.i = 0
        self.columns: tuple[str, ...] = COLUMNS

    # --- cursor -------------------------------------------------------------------------------------
    def peek(self) -> Token:
        return self.tokens[self.i]

    def advance(self) -> Token:
        token = self.tokens[self.i]
        self.i += 1
        return token

    def at(self, kind: str, *texts: str) -> bool:
        token = self.peek()
        return token.kind == kind and (not texts or token.text in texts)

    def expect(self, kind: str, text: str, wanted: str) -> Token:
        if not self.at(kind, text):
            raise invalid_query(f"expected {wanted} but found {_describe(self.peek())}")
        return self.advance()

    def expect_name(self, wanted: str) -> Token:
        if not self.at("name"):
            raise invalid_query(f"expected {wanted} but found {_describe(self.peek())}")
        return self.advance()

    # --- query and tabular operators ----------------------------------------------------------------
    def parse(self) -> Query:
        table = self.expect_name("a table name")
        if table.text not in TABLES:
            raise invalid_query(f"unknown table '{table.text}' at position {table.pos} (only Resources is supported)")
        ops: list[Operator] = []
        while self.at("op", "|"):
            self.advance()
            ops.append(self.operator())
        if not self.at("end"):
            raise invalid_query(f"unexpected {_describe(self.peek())}, expected '|' or the end of the query")
        return Query(table.text, tuple(ops))

    def operator(self) -> Operator:
        token = self.expect_name("a tabular operator")
        word = token.text
        if word == "where":
            return Where(self.expr())
        if word == "project":
            return self.project()
        if word in ("order", "sort"):
            self.expect("name", "by", f"'by' after '{word}'")
            return self.order_by()
        if word in ("limit", "take"):
            count = self.advance()
            if count.kind != "number" or not isinstance(count.value, int):
                raise invalid_query(f"'{word}' needs a whole number, found {_describe(count)}")
            return Limit(int(count.value))
        if word == "summarize":
            return self.summarize()
        raise invalid_query(f"unsupported tabular operator '{word}' at position {token.pos}")

    def named_list(self, what: str) -> tuple[tuple[str, Expr], ...]:
        """`[name =] expr, ...` with each name given or implied; a name used twice is an error."""
        out: list[tuple[str, Expr]] = []
        while True:
            start = self.peek()
            name: str | None = None
            if start.kind == "name" and self.tokens[self.i + 1].text == "=" and self.tokens[self.i + 1].kind == "op":
                name = self.advance().text
                self.advance()
            expr = self.expr()
            name = name or implied_name(expr) or f"Column{len(out) + 1}"
            if name in (n for n, _ in out):
                raise invalid_query(f"{what} column '{name}' at position {start.pos} is defined twice")
            out.append((name, expr))
            if not self.at("op", ","):
                return tuple(out)
            self.advance()

    def project(self) -> Project:
        columns = self.named_list("project")
        self.columns = tuple(name for name, _ in columns)
        return Project(columns)

    def order_by(self) -> OrderBy:
        keys: list[tuple[Expr, bool]] = []
        while True:
            expr = self.expr()
            descending = True  # Kusto's default
            if self.at("name", "asc", "desc"):
                descending = self.advance().text == "desc"
            keys.append((expr, descending))
            if not self.at("op", ","):
                return OrderBy(tuple(keys))
            self.advance()

    def summarize(self) -> Summarize:
        name = SUMMARIZE_COUNT
        if self.at("name") and self.tokens[self.i + 1].text == "=":
            name = self.advance().text
            self.advance()
        func = self.expect_name("count()")
        if func.text != "count":
            raise invalid_query(f"unsupported aggregation '{func.text}' at position {func.pos} (only count())")
        self.expect("op", "(", "'(' after count")
        self.expect("op", ")", "')' (count() takes no argument)")
        by: tuple[tuple[str, Expr], ...] = ()
        if self.at("name", "by"):
            self.advance()
            by = self.named_list("summarize")
        self.columns = (*(n for n, _ in by), name)
        return Summarize(name, by)

    # --- expressions --------------------------------------------------------------------------------
    def expr(self) -> Expr:
        left = self.conjunction()
        while self.at("name", "or"):
            self.advance()
            left = Binary("or", left, self.conjunction())
        return left

    def conjunction(self) -> Expr:
        left = self.comparison()
        while self.at("name", "and"):
            self.advance()
            left = Binary("and", left, self.comparison())
        return left

    def comparison(self) -> Expr:
        left = self.primary()
        token = self.peek()
        if token.kind == "op" and token.text in COMPARISONS:
            self.advance()
            return Binary(token.text, left, self.primary())
        if token.text in IN_OPERATORS and token.kind in ("op", "name"):
            self.advance()
            return InList(token.text, left, self.literal_list())
        if token.kind == "op" and token.text.startswith("!") and len(token.text) > 1:
            raise invalid_query(f"unsupported operator '{token.text}' at position {token.pos}")
        if token.kind == "op" and token.text == "=":
            raise invalid_query(f"unexpected '=' at position {token.pos} (compare with == or =~)")
        if token.kind == "name" and token.text not in _AFTER_EXPR:
            raise invalid_query(f"unsupported operator '{token.text}' at position {token.pos}")
        return left

    def literal_list(self) -> tuple[Any, ...]:
        self.expect("op", "(", "'(' and a list of literals")
        items: list[Any] = []
        while True:
            token = self.peek()
            found = self.primary()
            if not isinstance(found, Literal):
                raise invalid_query(f"only literals may follow 'in', found {_describe(token)}")
            items.append(found.value)
            if not self.at("op", ","):
                break
            self.advance()
        self.expect("op", ")", "')' closing the list")
        return tuple(items)

    def primary(self) -> Expr:
        token = self.advance()
        if token.kind in ("string", "number"):
            return Literal(token.value)
        if token.kind == "op" and token.text == "-" and self.at("number"):
            value = self.advance().value
            return Literal(-value if isinstance(value, int | float) else value)
        if token.kind == "op" and token.text == "(":
            inner = self.expr()
            self.expect("op", ")", "')'")
            return inner
        if token.kind != "name":
            raise invalid_query(f"expected a value, a column or a function but found {_describe(token)}")
        if token.text in ("true", "false"):
            return Literal(token.text == "true")
        if self.at("op", "("):
            return self.call(token)
        if token.text not in self.columns:
            known = ", ".join(self.columns)
            raise invalid_query(f"unknown column '{token.text}' at position {token.pos} (columns here: {known})")
        return self.members(Column(token.text, token.pos))

    def call(self, name: Token) -> Call:
        bounds = FUNCTIONS.get(name.text)
        if bounds is None:
            raise invalid_query(f"unsupported function '{name.text}' at position {name.pos}")
        self.advance()
        args: list[Expr] = []
        if not self.at("op", ")"):
            args.append(self.expr())
            while self.at("op", ","):
                self.advance()
                args.append(self.expr())
        self.expect("op", ")", f"')' closing {name.text}()")
        fewest, most = bounds
        odd = name.text in ("bag_pack", "pack") and len(args) % 2 == 1
        if len(args) < fewest or (most is not None and len(args) > most) or odd:
            raise invalid_query(f"wrong number of arguments ({len(args)}) to {name.text}() at position {name.pos}")
        return Call(name.text, tuple(args), name.pos)

    def members(self, base: Expr) -> Expr:
        while True:
            if self.at("op", "."):
                self.advance()
                base = Member(base, self.expect_name("a member name after '.'").text)
            elif self.at("op", "["):
                self.advance()
                key = self.advance()
                if key.kind not in ("string", "number") or not isinstance(key.value, str | int):
                    raise invalid_query(f"expected a quoted key or an index in [] but found {_describe(key)}")
                self.expect("op", "]", "']'")
                base = Member(base, key.value)
            else:
                return base


def parse(text: str) -> Query:
    """The query `text` parsed, or a 400 GraphError saying what is not understood and where."""
    return Parser(text).parse()
