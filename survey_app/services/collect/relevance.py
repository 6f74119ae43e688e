"""Skip logic: a question's ``relevant`` condition (the XLSForm syntax), parsed without eval.

Grammar (``surveys/README.md``)::

    expr    := and ( "or" and )*
    and     := atom ( "and" atom )*
    atom    := "(" expr ")"
             | "selected" "(" ref "," literal ")"
             | ref op literal
    ref     := "${" key "}"
    op      := "=" | "!=" | ">=" | "<=" | ">" | "<"
    literal := 'text' | "text" | a number

A condition is read as XPath reads it in ODK: a question not answered (or itself not
asked) has the empty value; ``=``/``!=`` compare text, or numbers when the literal is a
number; ``>=``, ``<=``, ``>``, ``<`` compare numbers and are false when the answer is not
a number; ``selected(${q}, 'x')`` is true when option ``x`` is among the answers.

A parsed condition is a small tree of tuples, also written as JSON for the survey page's
script (``to_json``), which evaluates the very same tree.
"""
from __future__ import annotations


import json
import math
import re
from functools import lru_cache
from typing import Any, Mapping, Sequence, Union

from flask_babel import gettext as _

from .numbers import written

MAX_LENGTH = 500
COMPARISONS = ("=", "!=", ">=", "<=", ">", "<")

# ("or", a, b) | ("and", a, b) | ("cmp", op, key, literal) | ("selected", key, literal)
Node = tuple
Literal = Union[str, int, float]

_TOKEN = re.compile(r"""
    \s*(?:
      (?P<ref>\$\{(?P<key>[^}]*)\})
    | (?P<str>'[^']*'|"[^"]*")
    | (?P<num>-?\d+(?:\.\d+)?)
    | (?P<op>!=|>=|<=|=|>|<)
    | (?P<punct>[(),])
    | (?P<word>[A-Za-z_][A-Za-z0-9_-]*)
    )""", re.VERBOSE)


class RelevanceError(ValueError):
    """A condition that cannot be read; ``position`` is the 0-based character offset."""

    def __init__(self, message: str, position: int):
        super().__init__(f"{message} (at character {position + 1})")
        self.message = message
        self.position = position


def _tokens(text: str) -> list[tuple[str, Any, int]]:
    out: list[tuple[str, Any, int]] = []
    pos = 0
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        m = _TOKEN.match(text, pos)
        if not m or m.end() == pos:
            raise RelevanceError(f"unexpected {text[pos:].lstrip()[:10]!r}", pos)
        start = pos + len(text[pos:]) - len(text[pos:].lstrip())
        if m.group("ref"):
            out.append(("ref", m.group("key").strip(), start))
        elif m.group("str") is not None:
            out.append(("lit", m.group("str")[1:-1], start))
        elif m.group("num") is not None:
            raw = m.group("num")
            out.append(("lit", float(raw) if "." in raw else int(raw), start))
        elif m.group("op"):
            out.append(("op", m.group("op"), start))
        elif m.group("punct"):
            out.append((m.group("punct"), None, start))
        else:
            out.append(("word", m.group("word"), start))
        pos = m.end()
    out.append(("end", None, len(text)))
    return out


class _Parser:
    def __init__(self, text: str):
        self.tokens = _tokens(text)
        self.i = 0

    def peek(self) -> tuple[str, Any, int]:
        return self.tokens[self.i]

    def take(self, kind: str, value: Any = None, what: str | None = None) -> tuple[str, Any, int]:
        tok = self.peek()
        if tok[0] != kind or (value is not None and tok[1] != value):
            raise RelevanceError(f"expected {what or value or kind}", tok[2])
        self.i += 1
        return tok

    def expr(self) -> Node:
        node = self.conj()
        while self.peek()[:2] == ("word", "or"):
            self.i += 1
            node = ("or", node, self.conj())
        return node

    def conj(self) -> Node:
        node = self.atom()
        while self.peek()[:2] == ("word", "and"):
            self.i += 1
            node = ("and", node, self.atom())
        return node

    def atom(self) -> Node:
        kind, value, pos = self.peek()
        if kind == "(":
            self.i += 1
            node = self.expr()
            self.take(")", what="')'")
            return node
        if kind == "word" and value == "selected":
            self.i += 1
            self.take("(", what="'(' after selected")
            key = self.take("ref", what="${question}")[1]
            self.take(",", what="','")
            literal = self.take("lit", what="a value in quotes")[1]
            self.take(")", what="')'")
            return ("selected", key, str(literal))
        if kind == "ref":
            self.i += 1
            op = self.take("op", what="a comparison (=, !=, >=, <=, >, <)")[1]
            literal = self.take("lit", what="a value ('text' or a number)")[1]
            return ("cmp", op, value, literal)
        raise RelevanceError("expected ${question}, selected(…) or '('", pos)


@lru_cache(maxsize=512)
@lru_cache(maxsize=512)
def parse_cached(text: str) -> Node:
    """:func:`parse`, kept per process: an instrument's conditions are few and never change
    (a version is immutable), and every survey POST evaluates them."""
    return parse(text)


def parse(text: str) -> Node:
    """Parse a condition; raises :class:`RelevanceError` naming what is wrong and where."""
    if not isinstance(text, str) or not text.strip():
        raise RelevanceError("the condition is empty", 0)
    if len(text) > MAX_LENGTH:
        raise RelevanceError(f"longer than {MAX_LENGTH} characters", MAX_LENGTH)
    parser = _Parser(text)
    node = parser.expr()
    parser.take("end", what="'and', 'or' or the end of the condition")
    return node


def atoms(node: Node) -> list[Node]:
    """The comparisons and ``selected`` tests of a condition, in order."""
    if node[0] in ("and", "or"):
        return atoms(node[1]) + atoms(node[2])
    return [node]


def references(node: Node) -> list[str]:
    """The question keys a condition reads, in order of first use."""
    return list(dict.fromkeys(a[2] if a[0] == "cmp" else a[1] for a in atoms(node)))


def _number(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan


def evaluate(node: Node, values: Mapping[str, Sequence[str]]) -> bool:
    """Whether a condition holds, given each question's answers as text (``[]``: none)."""
    kind = node[0]
    if kind == "or":
        return evaluate(node[1], values) or evaluate(node[2], values)
    if kind == "and":
        return evaluate(node[1], values) and evaluate(node[2], values)
    if kind == "selected":
        return node[2] in list(values.get(node[1], ()))
    _cmp, op, key, literal = node
    given = " ".join(values.get(key, ()))
    numeric = not isinstance(literal, str) or op not in ("=", "!=")
    if numeric:
        a, b = _number(given) if given.strip() else math.nan, _number(literal)
        if op == "=":
            return a == b
        if op == "!=":
            return a != b  # NaN != b is true, as in XPath
        return {">=": a >= b, "<=": a <= b, ">": a > b, "<": a < b}[op]
    return given == literal if op == "=" else given != literal


def to_json(node: Node) -> str:
    """The tree as compact JSON for the page's script: ``["and", a, b]``,
    ``["cmp", op, key, literal]``, ``["selected", key, literal]``."""
    return json.dumps(node, ensure_ascii=False, separators=(",", ":"))


def _answer_label(definition: Mapping[str, Any], question: Mapping[str, Any], literal: Literal, lang: str) -> str:
    """The label a citizen saw for a value: an option's or a level's text, else the value."""
    if question.get("type") in ("single", "multi"):
        for o in question.get("options", []):
            if o["key"] == str(literal):
                return o.get(lang) or o["vi"]
    if question.get("type") == "scale":
        for lv in definition["scales"][question["scale"]]["levels"]:
            if str(lv["value"]) == str(literal):
                return lv.get(lang) or lv["vi"]
    if question.get("type") == "yesno" and str(literal) in ("0", "1"):
        return _("Yes") if str(literal) == "1" else _("No")
    if question.get("decimals") and not isinstance(literal, str):
        return written(literal, lang)  # 2,5 on a Vietnamese page
    return str(literal)


def describe(node: Node, definition: Mapping[str, Any], lang: str) -> str:
    """The condition in words for the page without script, e.g. "Only if question 3 is
    “Yes”." Questions are named by their number on the page (their place in the file)."""
    numbers = {q["key"]: i + 1 for i, q in enumerate(definition["questions"])}
    by_key = {q["key"]: q for q in definition["questions"]}

    def words(n: Node, parent: str | None = None) -> str:
        kind = n[0]
        if kind in ("and", "or"):
            joined = (_("%(left)s and %(right)s") if kind == "and" else _("%(left)s or %(right)s")) % {
                "left": words(n[1], kind), "right": words(n[2], kind)}
            return f"({joined})" if parent and parent != kind else joined
        if kind == "selected":
            key, literal = n[1], n[2]
            return _("“%(answer)s” is chosen in question %(num)d",
                     answer=_answer_label(definition, by_key.get(key, {}), literal, lang), num=numbers.get(key, 0))
        _cmp, op, key, literal = n
        answer = _answer_label(definition, by_key.get(key, {}), literal, lang)
        num = numbers.get(key, 0)
        if op == "=":
            return _("question %(num)d is “%(answer)s”", num=num, answer=answer)
        if op == "!=":
            return _("question %(num)d is not “%(answer)s”", num=num, answer=answer)
        if op == ">=":
            return _("question %(num)d is “%(answer)s” or more", num=num, answer=answer)
        if op == "<=":
            return _("question %(num)d is “%(answer)s” or less", num=num, answer=answer)
        if op == ">":
            return _("question %(num)d is more than “%(answer)s”", num=num, answer=answer)
        return _("question %(num)d is less than “%(answer)s”", num=num, answer=answer)

    return _("Only if %(condition)s.", condition=words(node))
