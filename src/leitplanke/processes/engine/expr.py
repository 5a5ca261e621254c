"""The guard language: a small, safe expression language over case and customer fields.

    customer.segment == "business" and case.priority >= 3
    case.channel in ["email", "letter"] and not case.custom.disputed
    case.redress_amount > 100 or case.severity == "critical"

Grammar (lowest precedence first)::

    expr    := and ("or" and)*
    and     := not ("and" not)*
    not     := "not" not | compare
    compare := operand (("==" | "!=" | "<" | "<=" | ">" | ">=" | "in" | "not" "in") operand)?
    operand := literal | path | "(" expr ")" | "[" (operand ("," operand)*)? "]"
    path    := name ("." name)*
    literal := "string" | 'string' | number | true | false | null

It is tokenised and parsed here (never `eval`), compiled once into nested closures over a
flat context (``{"case.priority": 3, "customer.segment": "business"}``); a path that the
context lacks is ``null``. Comparisons never raise: ordering a ``null`` or values of
different types is false, so a guard over an empty field is simply not met.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

Evaluator = Callable[[Mapping[str, Any]], Any]

MAX_LENGTH = 2_000
MAX_DEPTH = 40

_TOKEN = re.compile(
    r"""
    (?P<space>\s+)
  | (?P<number>-?\d+(?:\.\d+)?)
  | (?P<string>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')
  | (?P<op>==|!=|<=|>=|<|>|\(|\)|\[|\]|,|\.)
  | (?P<name>[A-Za-z_][A-Za-z0-9_]*)
    """,
    re.VERBOSE,
)
KEYWORDS = {"and", "or", "not", "in", "true", "false", "null"}


class GuardSyntaxError(ValueError):
    """A guard that does not parse; `position` is the 0-based character offset."""

    def __init__(self, message: str, position: int):
        super().__init__(f"{message} (at character {position + 1})")
        self.message = message
        self.position = position


@dataclass(frozen=True)
class Token:
    kind: str  # number, string, op, name, keyword, end
    value: str
    position: int


def tokenize(text: str) -> list[Token]:
    if len(text) > MAX_LENGTH:
        raise GuardSyntaxError(f"the guard is longer than {MAX_LENGTH} characters", MAX_LENGTH)
    tokens: list[Token] = []
    position = 0
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None:
            raise GuardSyntaxError(f"unexpected character {text[position]!r}", position)
        kind = match.lastgroup or ""
        value = match.group()
        if kind != "space":
            if kind == "name" and value in KEYWORDS:
                kind = "keyword"
            tokens.append(Token(kind, value, position))
        position = match.end()
    tokens.append(Token("end", "", len(text)))
    return tokens


def _unquote(raw: str) -> str:
    body = raw[1:-1]
    return re.sub(r"\\(.)", lambda m: {"n": "\n", "t": "\t"}.get(m.group(1), m.group(1)), body)


def _number(raw: str) -> int | Decimal:
    if "." in raw:
        try:
            return Decimal(raw)
        except InvalidOperation:  # pragma: no cover - the pattern admits only valid numbers
            raise GuardSyntaxError(f"not a number: {raw}", 0) from None
    return int(raw)


def _comparable(left: Any, right: Any) -> bool:
    numeric = (int, float, Decimal)
    if isinstance(left, bool) or isinstance(right, bool):
        return isinstance(left, bool) and isinstance(right, bool)
    if isinstance(left, numeric) and isinstance(right, numeric):
        return True
    return type(left) is type(right) and isinstance(left, str)


def _normal(value: Any) -> Any:
    # Amounts arrive as {"amount": "12.50", "currency": "EUR"} or as strings of digits.
    if isinstance(value, dict) and "amount" in value:
        value = value.get("amount")
        try:
            return Decimal(str(value))
        except (InvalidOperation, ValueError):
            return None
    if isinstance(value, float):
        return Decimal(str(value))
    return value


def _equal(left: Any, right: Any) -> bool:
    left, right = _normal(left), _normal(right)
    if left is None or right is None:
        return left is None and right is None
    if _comparable(left, right):
        return bool(left == right)
    return False


def _order(op: str) -> Callable[[Any, Any], bool]:
    def compare(left: Any, right: Any) -> bool:
        left, right = _normal(left), _normal(right)
        if left is None or right is None or isinstance(left, bool) or not _comparable(left, right):
            return False
        if op == "<":
            return bool(left < right)
        if op == "<=":
            return bool(left <= right)
        if op == ">":
            return bool(left > right)
        return bool(left >= right)

    return compare


def _contains(left: Any, right: Any) -> bool:
    if isinstance(right, (list, tuple)):
        return any(_equal(left, item) for item in right)
    if isinstance(right, str) and isinstance(left, str):
        return left in right
    return False


def truthy(value: Any) -> bool:
    value = _normal(value)
    if value is None:
        return False
    if isinstance(value, (str, list, tuple, dict)):
        return len(value) > 0
    return bool(value)


@dataclass(frozen=True)
class Guard:
    """A compiled guard: call `evaluate(context)`; `fields` are the paths it reads."""

    source: str
    evaluate: Evaluator
    fields: tuple[str, ...]

    def __call__(self, context: Mapping[str, Any]) -> bool:
        return truthy(self.evaluate(context))


class _Parser:
    def __init__(self, text: str):
        self.tokens = tokenize(text)
        self.index = 0
        self.fields: list[str] = []
        self.depth = 0

    @property
    def token(self) -> Token:
        return self.tokens[self.index]

    def take(self) -> Token:
        token = self.tokens[self.index]
        self.index += 1
        return token

    def accept(self, kind: str, value: str) -> bool:
        if self.token.kind == kind and self.token.value == value:
            self.index += 1
            return True
        return False

    def expect(self, kind: str, value: str) -> None:
        if not self.accept(kind, value):
            raise GuardSyntaxError(f"expected {value!r}, found {self.token.value or 'the end'!r}", self.token.position)

    def nested(self) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise GuardSyntaxError("the guard nests too deeply", self.token.position)

    def parse(self) -> Evaluator:
        if self.token.kind == "end":
            raise GuardSyntaxError("the guard is empty", 0)
        evaluator = self.parse_or()
        if self.token.kind != "end":
            raise GuardSyntaxError(f"unexpected {self.token.value!r}", self.token.position)
        return evaluator

    def parse_or(self) -> Evaluator:
        parts = [self.parse_and()]
        while self.accept("keyword", "or"):
            parts.append(self.parse_and())
        if len(parts) == 1:
            return parts[0]
        return lambda ctx: any(truthy(part(ctx)) for part in parts)

    def parse_and(self) -> Evaluator:
        parts = [self.parse_not()]
        while self.accept("keyword", "and"):
            parts.append(self.parse_not())
        if len(parts) == 1:
            return parts[0]
        return lambda ctx: all(truthy(part(ctx)) for part in parts)

    def parse_not(self) -> Evaluator:
        if self.token.kind == "keyword" and self.token.value == "not":
            following = self.tokens[self.index + 1]
            if not (following.kind == "keyword" and following.value == "in"):
                self.take()
                self.nested()
                inner = self.parse_not()
                self.depth -= 1
                return lambda ctx: not truthy(inner(ctx))
        return self.parse_compare()

    def parse_compare(self) -> Evaluator:
        left = self.parse_operand()
        token = self.token
        op: str | None = None
        if token.kind == "op" and token.value in ("==", "!=", "<", "<=", ">", ">="):
            op = self.take().value
        elif self.accept("keyword", "in"):
            op = "in"
        elif token.kind == "keyword" and token.value == "not":
            self.take()
            self.expect("keyword", "in")
            op = "not in"
        if op is None:
            return left
        right = self.parse_operand()
        if op == "==":
            return lambda ctx: _equal(left(ctx), right(ctx))
        if op == "!=":
            return lambda ctx: not _equal(left(ctx), right(ctx))
        if op == "in":
            return lambda ctx: _contains(left(ctx), right(ctx))
        if op == "not in":
            return lambda ctx: not _contains(left(ctx), right(ctx))
        compare = _order(op)
        return lambda ctx: compare(left(ctx), right(ctx))

    def parse_operand(self) -> Evaluator:
        token = self.take()
        if token.kind == "number":
            number = _number(token.value)
            return lambda ctx: number
        if token.kind == "string":
            text = _unquote(token.value)
            return lambda ctx: text
        if token.kind == "keyword" and token.value in ("true", "false", "null"):
            constant = {"true": True, "false": False, "null": None}[token.value]
            return lambda ctx: constant
        if token.kind == "op" and token.value == "(":
            self.nested()
            inner = self.parse_or()
            self.depth -= 1
            self.expect("op", ")")
            return inner
        if token.kind == "op" and token.value == "[":
            items: list[Evaluator] = []
            if not self.accept("op", "]"):
                items.append(self.parse_operand())
                while self.accept("op", ","):
                    items.append(self.parse_operand())
                self.expect("op", "]")
            return lambda ctx: [item(ctx) for item in items]
        if token.kind == "name":
            parts = [token.value]
            while self.accept("op", "."):
                name = self.take()
                if name.kind not in ("name", "keyword"):
                    raise GuardSyntaxError("expected a field name after '.'", name.position)
                parts.append(name.value)
            path = ".".join(parts)
            self.fields.append(path)
            return lambda ctx: ctx.get(path)
        found = token.value or "the end"
        raise GuardSyntaxError(f"expected a value or a field, found {found!r}", token.position)


def compile_guard(text: str) -> Guard:
    """Parses a guard; raises GuardSyntaxError naming the position of the first mistake."""
    parser = _Parser(str(text))
    evaluator = parser.parse()
    return Guard(source=str(text), evaluate=evaluator, fields=tuple(dict.fromkeys(parser.fields)))


def _path_at(tokens: list[Token], index: int) -> tuple[str, int]:
    """The dotted path starting at tokens[index] (a name) and the index after it."""
    parts = [tokens[index].value]
    index += 1
    while (
        index + 1 < len(tokens)
        and tokens[index].kind == "op"
        and tokens[index].value == "."
        and tokens[index + 1].kind in ("name", "keyword")
    ):
        parts.append(tokens[index + 1].value)
        index += 2
    return ".".join(parts), index


def rename_value(text: str, path: str, old: str, new: str) -> str:
    """The guard with the string `old` replaced by `new` where it is compared with the field
    `path` (``case.status == "old"``, ``"old" != case.status``, ``case.status in ["a", "old"]``,
    ``not in``), written in the same quotes; everything else (spacing, other strings) stays
    as written. A guard that does not parse is returned unchanged (the problem list names it).
    `new` must need no escaping (a key: letters, digits, "_", "-")."""
    try:
        compile_guard(text)
        tokens = tokenize(str(text))
    except GuardSyntaxError:
        return text
    found: list[Token] = []

    def take(token: Token) -> None:
        if token.kind == "string" and _unquote(token.value) == old:
            found.append(token)

    index = 0
    while index < len(tokens):
        token = tokens[index]
        if token.kind != "name" or (index > 0 and tokens[index - 1].kind == "op" and tokens[index - 1].value == "."):
            index += 1
            continue
        name, after = _path_at(tokens, index)
        if name == path:
            # "old" == path, "old" != path
            if index >= 2 and tokens[index - 1].kind == "op" and tokens[index - 1].value in ("==", "!="):
                take(tokens[index - 2])
            op = tokens[after]
            if op.kind == "op" and op.value in ("==", "!="):
                take(tokens[after + 1])
            else:
                start = after + 1 if op.kind == "keyword" and op.value == "in" else None
                if op.kind == "keyword" and op.value == "not" and tokens[after + 1].value == "in":
                    start = after + 2
                if start is not None and tokens[start].kind == "op" and tokens[start].value == "[":
                    cursor = start + 1
                    while tokens[cursor].kind in ("string", "number", "keyword", "op") and tokens[cursor].value != "]":
                        if tokens[cursor].kind == "op" and tokens[cursor].value not in (",",):
                            break  # a nested expression: not a plain list of values
                        take(tokens[cursor])
                        cursor += 1
        index = after
    for token in sorted(found, key=lambda t: t.position, reverse=True):
        quote = token.value[0]
        text = text[: token.position] + quote + new + quote + text[token.position + len(token.value) :]
    return text
