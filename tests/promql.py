"""Just enough PromQL reading for the tests: the series selectors (metric name + label matchers) and the grouping
labels (`by (...)`) of an expression, so every name a query uses can be checked against a live scrape."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_TOKEN = re.compile(
    r"""
    (?P<space>\s+)
  | (?P<string>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`)
  | (?P<range>\[[^\]]*\])
  | (?P<number>(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)
  | (?P<ident>[A-Za-z_:][A-Za-z0-9_:]*)
  | (?P<op>=~|!~|!=|==|>=|<=|[-+*/%^<>=,(){}])
    """,
    re.VERBOSE,
)
_GROUPING = {"by", "without", "on", "ignoring", "group_left", "group_right"}
_KEYWORDS = {"and", "or", "unless", "bool", "offset", "atan2", "inf", "nan"}
_AGGREGATORS = {"sum", "min", "max", "avg", "count", "stddev", "stdvar", "topk", "bottomk", "quantile", "group"}


@dataclass(frozen=True)
class Matcher:
    label: str
    op: str
    value: str

    def matches(self, actual: str | None) -> bool:
        text = actual or ""
        if self.op == "=":
            return text == self.value
        if self.op == "!=":
            return text != self.value
        found = re.fullmatch(self.value, text) is not None
        return found if self.op == "=~" else not found


@dataclass
class Selector:
    metric: str
    matchers: list[Matcher] = field(default_factory=list)


@dataclass
class Query:
    selectors: list[Selector]
    grouping_labels: set[str]


def _unquote(token: str) -> str:
    if token.startswith("`"):
        return token[1:-1]
    return bytes(token[1:-1], "utf-8").decode("unicode_escape")


def _tokens(expr: str) -> list[tuple[str, str]]:
    out, position = [], 0
    while position < len(expr):
        match = _TOKEN.match(expr, position)
        if match is None:
            raise ValueError(f"cannot read PromQL at {expr[position:]!r}")
        if match.lastgroup != "space":
            out.append((match.lastgroup or "", match.group()))
        position = match.end()
    return out


def parse(expr: str) -> Query:
    tokens = _tokens(expr)
    selectors: list[Selector] = []
    grouping: set[str] = set()
    index = 0

    def peek(offset: int = 0) -> tuple[str, str]:
        at = index + offset
        return tokens[at] if at < len(tokens) else ("", "")

    while index < len(tokens):
        kind, text = tokens[index]
        if kind == "ident" and text in _GROUPING:
            if peek(1)[1] != "(":
                raise ValueError(f"{text} without a label list in {expr!r}")
            index += 2
            while peek()[1] != ")":
                if peek()[0] == "ident":
                    grouping.add(peek()[1])
                index += 1
            index += 1
            continue
        if kind == "ident" and text not in _KEYWORDS and peek(1)[1] != "(" and text not in _AGGREGATORS:
            selector = Selector(text)
            index += 1
            if peek()[1] == "{":
                index += 1
                while peek()[1] != "}":
                    label, op, value = tokens[index][1], tokens[index + 1][1], tokens[index + 2]
                    if value[0] != "string":
                        raise ValueError(f"label matcher {label}{op} without a string in {expr!r}")
                    selector.matchers.append(Matcher(label, op, _unquote(value[1])))
                    index += 3
                    if peek()[1] == ",":
                        index += 1
                index += 1
            selectors.append(selector)
            continue
        index += 1
    return Query(selectors, grouping)
