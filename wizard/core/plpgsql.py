"""The SQL inside PL/pgSQL: the statements of a DO block or of a ``LANGUAGE plpgsql`` function body.

A body is a string to the SQL parser. PL/pgSQL's own parser (pglast's ``parse_plpgsql_json``, the
server's ``pl_gram.y``) reads it into statements, each with the line of the body it starts on; the
SQL each one runs (``PLpgSQL_expr`` query texts) is parsed again with the SQL parser, so that
``objects`` can work out what it creates, drops and uses, as it does for a top-level statement.

What is read, and how far:

- static SQL statements, ``PERFORM``, ``RETURN QUERY``, ``FOR ... IN SELECT``, cursor queries, and
  the expressions of ``IF``/``WHILE``/``CASE``/assignments/``RAISE`` (their subqueries and calls);
- ``EXECUTE`` of a string literal (or of literals joined with ``||``), and ``EXECUTE format(...)``
  with a literal template: the template's ``%I``/``%s``/``%L`` placeholders cannot be known, so
  what they name is left out (``format('ALTER TABLE %I ...', t)`` uses an unknown table: no guess),
  while the statement's kind and its literal parts are read;
- any other ``EXECUTE`` (a variable, a concatenation with variables) is not read: its line is
  reported as dynamic SQL that pre-flight did not check.

Conditional code counts as if it ran: a ``CREATE TABLE`` inside ``IF NOT EXISTS (...) THEN`` creates
the table, an ``INSERT`` in an ``ELSE`` branch uses its table. Two guards are honoured, because
they are how careful migrations say "only if it is there": uses inside an ``IF`` whose condition
(not a negated one) names the object in a string literal (``IF to_regclass('public.legacy') IS
NOT NULL THEN ...``, a lookup in ``pg_tables``/``information_schema``), and uses inside a
``BEGIN ... EXCEPTION WHEN ... END`` block whose handler catches a missing object (``others``,
``undefined_table``...; not one that catches ``duplicate_object`` only, the usual companion of
``CREATE POLICY``). The PL/pgSQL parser resolves variables and types, not tables: types of
schemas other than public are read as public's (or as text) so that it goes on; a body it still
refuses (an assignment to a field of a ``%ROWTYPE`` variable can stop it) is not read at all.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any, TypeAlias

# A node of pglast's JSON parse trees (of SQL and of PL/pgSQL): a JSON object, read as decoded.
Node: TypeAlias = dict[str, Any]

# What a placeholder of a format() template becomes: an identifier no real object has, so that
# whatever the placeholder names can be recognised and left out.
MARKER = "wizard_dynamic_placeholder"

_DOLLAR_QUOTE = re.compile(r"\$([A-Za-z_\x80-\uffff][A-Za-z_0-9\x80-\uffff]*)?\$")
_ASSIGNMENT = re.compile(r'\s*(?:"[^"]*"|[\w$]+)(?:\s*\.\s*(?:"[^"]*"|[\w$]+)|\s*\[[^\]]*\])*\s*(?::=|=)')
_FORMAT_SPEC = re.compile(r"%(?:(\d+)\$)?-?(?:\d+|\*(?:\d+\$)?)?([sIL%])")
_LITERAL = re.compile(r"'((?:[^']|'')*)'")
# PL/pgSQL statements whose query is a string built at run time (field holding it).
_DYNAMIC = {
    "PLpgSQL_stmt_dynexecute": "query",
    "PLpgSQL_stmt_dynfors": "query",
    "PLpgSQL_stmt_open": "dynquery",
    "PLpgSQL_stmt_return_query": "dynquery",
}
_PREFIX = "SELECT "


@dataclass
class Inner:
    """One SQL statement run by the body."""

    kind: str
    node: Node
    text: str  # the SQL the node's locations (bytes) refer to
    line: int  # 0-based line of the statement's text (the top-level one) where ``text`` starts
    guarded: frozenset[str] = frozenset()  # names a surrounding IF checks the existence of, or {"*"}: failures are caught
    dynamic: bool = False  # read from EXECUTE: names holding MARKER stand for unknown ones
    source: str | None = None  # the top-level statement's text, where ``text`` (after ``skip``) was read from
    skip: int = 0  # characters put before the query to parse it ("SELECT ")

    def line_at(self, location: int) -> int:
        """The 0-based line (of the top-level statement's text) of a location in ``text``."""
        if location <= 0:
            return self.line
        chars = len(self.text.encode("utf-8")[:location].decode("utf-8", errors="ignore"))
        if self.source is not None:
            found = _align(self.text, self.skip, self.source, self.line, chars)
            if found is not None:
                return self.source.count("\n", 0, found)
        return self.line + self.text.count("\n", 0, chars)


@dataclass
class Body:
    quote: int  # character offset, in the statement's text, of the body's opening delimiter
    statements: list[Inner] = field(default_factory=list)
    dynamic: list[int] = field(default_factory=list)  # 0-based lines of EXECUTEs that were not read


def language(kind: str, node: Node) -> str | None:
    """The language of a DO block (default plpgsql) or of a function."""
    options = node.get("args" if kind == "DoStmt" else "options", [])
    for option in options:
        item = option.get("DefElem", {})
        if item.get("defname") == "language":
            sval: str = item.get("arg", {}).get("String", {}).get("sval", "")
            return sval.lower()
    return "plpgsql" if kind == "DoStmt" else None


def body_option(kind: str, node: Node) -> tuple[str, int] | None:
    """The body string and its location (bytes, in what was parsed: the opening delimiter)."""
    options = node.get("args" if kind == "DoStmt" else "options", [])
    for option in options:
        item = option.get("DefElem", {})
        if item.get("defname") != "as":
            continue
        arg = item.get("arg", {})
        if "List" in arg:
            items = arg["List"].get("items", [])
            arg = items[0] if len(items) == 1 else {}
        body = arg.get("String", {}).get("sval")
        if body is not None:
            return body, item.get("arg_location", item.get("location", -1))
    return None


def find_quote(text: str, body: str) -> tuple[int, int] | None:
    """Where the body starts in a statement's text: (offset of the opening delimiter, offset of
    the body's first character)."""
    for match in _DOLLAR_QUOTE.finditer(text):
        end = match.end()
        if text.startswith(body, end) and text.startswith(match.group(), end + len(body)):
            return match.start(), end
    for match in re.finditer(r"(?i)(?:\bas|^do|\blanguage\s+\w+)\s+(e?')", text):
        return match.start(1), match.end(1)
    return None


def body_line(text: str, body: str) -> int | None:
    """The 0-based line of a statement's text where its body's line 1 is (PL/pgSQL numbers the
    body's lines from the one its opening delimiter is on)."""
    found = find_quote(text, body)
    return None if found is None else text.count("\n", 0, found[1])


def read(kind: str, node: Node, text: str) -> Body | None:
    """The SQL statements a DO block or a PL/pgSQL function runs, or None when the statement has
    no PL/pgSQL body or its body cannot be read."""
    if language(kind, node) != "plpgsql":
        return None
    option = body_option(kind, node)
    if option is None:
        return None
    found = find_quote(text, option[0])
    if found is None:
        return None
    from pglast import parser

    try:
        functions = json.loads(parser.parse_plpgsql_json(text))
    except Exception as exc:  # the parser refuses what it cannot resolve: the body is left unread
        if "LookupExplicitNamespace" not in str(exc) or not text.startswith("$", found[0]):
            return None
        functions = None
        for as_text in (False, True):  # types of other schemas: read as public's, else as text
            try:
                functions = json.loads(parser.parse_plpgsql_json(
                    _public_types(text, found[0], found[1], option[0], as_text)))
                break
            except Exception:
                continue
        if functions is None:
            return None
    function = next((f.get("PLpgSQL_function", {}) for f in functions
                     if f.get("PLpgSQL_function", {}).get("action")), None)
    if function is None:
        return None
    out = Body(found[0])
    first = text.count("\n", 0, found[1])
    _Walker(out, first, text).walk([function.get("datums", []), function.get("action")], 1, frozenset())
    return out


_QUALIFIED = re.compile(r'(?<![\w$."])(?!pg_catalog\b|public\b)("[^"]+"|[A-Za-z_][\w$]*)(\s*\.\s*)(?=["A-Za-z_])')
_DECLARATION = re.compile(
    r'((?:^|;|\bdeclare)\s*(?:"[^"]+"|[A-Za-z_][\w$]*)\s+(?:constant\s+)?)'
    r'(?!pg_catalog\b|public\b)("[^"]+"|[A-Za-z_][\w$]*)(\s*\.)', re.IGNORECASE)
_DECLARATION_TYPE = re.compile(
    r'((?:^|;|\bdeclare)\s*(?:"[^"]+"|[A-Za-z_][\w$]*)\s+(?:constant\s+)?)'
    r'(?!pg_catalog\b|public\b)(?:"[^"]+"|[A-Za-z_][\w$]*)\s*\.\s*(?:"[^"]+"|[A-Za-z_][\w$]*)', re.IGNORECASE)
_SECTION = re.compile(r"\bdeclare\b(.*?)\bbegin\b", re.IGNORECASE | re.DOTALL)


def _public_types(text: str, quote: int, start: int, body: str, as_text: bool = False) -> str:
    """The statement with the types of its header and of its declarations moved to public (or, for
    declarations, made text): the PL/pgSQL parser resolves only pg_catalog's and public's types.
    Lines and queries stay as they are."""
    header = _QUALIFIED.sub(r"public\2", text[:quote])
    declared = _DECLARATION_TYPE if as_text else _DECLARATION
    replacement = r"\1text" if as_text else r"\1public\3"

    def declarations(match: re.Match[str]) -> str:
        return match.group(0).replace(match.group(1), declared.sub(replacement, match.group(1)))

    return header + text[quote:start] + _SECTION.sub(declarations, body) + text[start + len(body):]


class _Walker:
    def __init__(self, out: Body, first: int, source: str) -> None:
        self.out = out
        self.source = source
        self.first = first  # 0-based line of the statement's text that is the body's line 1

    def walk(self, node: object, lineno: int, guarded: frozenset[str]) -> None:
        if type(node) is list:
            for item in node:
                self.walk(item, lineno, guarded)
            return
        if type(node) is not dict:
            return
        for key, value in node.items():
            if key == "PLpgSQL_expr":
                self.expression(value, lineno, guarded)
            elif type(value) is dict and key.startswith("PLpgSQL_"):
                self.statement(key, value, lineno, guarded)
            elif type(value) in (dict, list):
                self.walk(value, lineno, guarded)

    def statement(self, key: str, value: Node, lineno: int, guarded: frozenset[str]) -> None:
        lineno = value.get("lineno") or lineno
        if key == "PLpgSQL_stmt_block" and _catches_missing(value.get("exceptions")):
            self.walk(value.get("body"), lineno, guarded | {"*"})
            self.walk(value.get("exceptions"), lineno, guarded)
            return
        if key == "PLpgSQL_stmt_if":
            guarded = guarded | _names_in_conditions(value)
        dynamic = _DYNAMIC.get(key)
        for name, item in value.items():
            if name == dynamic:
                self.dynamic(item, lineno, guarded)
            elif type(item) in (dict, list):
                self.walk(item, lineno, guarded)

    def line(self, lineno: int) -> int:
        return self.first + max(lineno, 1) - 1

    def expression(self, expr: Node, lineno: int, guarded: frozenset[str]) -> None:
        query, mode = expr.get("query") or "", expr.get("parseMode", 0)
        line = self.line(lineno)
        if mode == 0:
            sql = query
        elif mode in (2, 3, 4, 5):
            if mode != 2:
                match = _ASSIGNMENT.match(query)
                if not match:
                    return
                line += query.count("\n", 0, match.end())
                query = query[match.end():]
            if "(" not in query and "::" not in query:
                return  # a variable, a constant, an operator: no table, call or type
            sql = _PREFIX + query
        else:
            return
        self.parse(sql, line, guarded, dynamic=False, skip=len(sql) - len(query))

    def parse(self, sql: str, line: int, guarded: frozenset[str], dynamic: bool, skip: int = 0) -> bool:
        from pglast import parser

        try:
            tree = json.loads(parser.parse_sql_json(sql))
        except Exception:
            return False
        source = None if dynamic else self.source
        for raw in tree.get("stmts", []):
            ((kind, node),) = raw["stmt"].items()
            self.out.statements.append(Inner(kind, node, sql, line, guarded, dynamic, source, skip))
        return True

    def dynamic(self, item: object, lineno: int, guarded: frozenset[str]) -> None:
        expr = item.get("PLpgSQL_expr") if type(item) is dict else None
        if expr is None:
            return
        line = self.line(lineno)
        sql = _constant_sql(expr.get("query") or "")
        if sql is None or not self.parse(sql, line, guarded, dynamic=True):
            self.out.dynamic.append(line)


def _align(text: str, skip: int, source: str, line: int, wanted: int) -> int | None:
    """Where, in the source, a character of a query PL/pgSQL read from it is. The query is the
    source's text with its INTO clause blanked (newlines included) and PERFORM made SELECT: walk
    both, skipping whitespace and what the query left out."""
    if wanted < skip:
        return None
    start = 0
    for _ in range(line):
        start = source.find("\n", start) + 1
        if start == 0:
            return None
    i, j = skip, start
    first = text[skip:].lstrip()
    while j < len(source) and source[j].isspace():
        j += 1
    if first.startswith("SELECT ") and source[j:j + 8].upper() == "PERFORM ":
        i, j = text.index("SELECT ", skip) + 7, j + 8
    end, size = len(source), len(text)
    while i < wanted:
        if j >= end:
            return None
        if i < size and text[i] == source[j]:
            i, j = i + 1, j + 1
        elif i < size and text[i].isspace():
            i += 1
        else:
            j += 1
    return j


# Conditions of an EXCEPTION handler that catch a missing object (condition names and SQLSTATEs).
_MISSING = {"others", "undefined_table", "undefined_function", "undefined_object", "undefined_column",
            "invalid_schema_name", "syntax_error_or_access_rule_violation",
            "42P01", "42883", "42704", "42703", "3F000", "42000"}


def _catches_missing(exceptions: Node | None) -> bool:
    """Whether a block's handlers catch the failure of a statement using a missing object (a
    handler for duplicate_object only, the usual companion of CREATE POLICY or CREATE TYPE, does
    not)."""
    if not exceptions:
        return False
    for handler in exceptions.get("PLpgSQL_exception_block", {}).get("exc_list", []):
        for condition in handler.get("PLpgSQL_exception", {}).get("conditions", []):
            if condition.get("PLpgSQL_condition", {}).get("condname", "").lower() in {c.lower() for c in _MISSING}:
                return True
    return False


def _names_in_conditions(node: Node) -> frozenset[str]:
    """The names an IF's conditions hold in string literals ('public.legacy' gives both
    'public.legacy' and 'legacy')."""
    texts = [node.get("cond", {}).get("PLpgSQL_expr", {}).get("query", "")]
    for branch in node.get("elsif_list", []):
        texts.append(branch.get("PLpgSQL_if_elsif", {}).get("cond", {}).get("PLpgSQL_expr", {}).get("query", ""))
    names = set()
    for text in texts:
        if re.match(r"(?i)\s*\(?\s*not\b", text or ""):
            continue  # IF NOT EXISTS (...): the branch runs when the object is absent (to create it)
        for literal in _LITERAL.findall(text or ""):
            literal = literal.replace("''", "'").strip().strip('"')
            if literal:
                names.add(literal)
                names.add(literal.rsplit(".", 1)[-1].strip('"'))
    return frozenset(names)


def _constant_sql(query: str) -> str | None:
    """The SQL an EXECUTE runs, when the expression is made of literals: a string, strings joined
    with ``||``, or ``format()`` of a literal template (placeholders become MARKER)."""
    from pglast import parser

    try:
        tree = json.loads(parser.parse_sql_json(_PREFIX + query))
        (raw,) = tree["stmts"]
        (target,) = raw["stmt"]["SelectStmt"]["targetList"]
        value = target["ResTarget"]["val"]
    except Exception:
        return None
    return _constant(value)


def _constant(value: Node) -> str | None:
    if "A_Const" in value:
        sval: str | None = value["A_Const"].get("sval", {}).get("sval")
        return sval
    if "TypeCast" in value:  # 'text'::text
        return _constant(value["TypeCast"].get("arg", {}))
    expr = value.get("A_Expr")
    if expr and expr.get("kind") == "AEXPR_OP":
        names = [n.get("String", {}).get("sval") for n in expr.get("name", [])]
        if names[-1:] == ["||"]:
            left, right = _constant(expr.get("lexpr", {})), _constant(expr.get("rexpr", {}))
            return None if left is None or right is None else left + right
        return None
    call = value.get("FuncCall")
    if call:
        names = [n.get("String", {}).get("sval") for n in call.get("funcname", [])]
        args = call.get("args", [])
        if names[-1:] == ["format"] and args:
            template = _constant(args[0])
            if template is not None:
                return _fill(template)
    return None


def _fill(template: str) -> str:
    def replace(match: re.Match[str]) -> str:
        kind = match.group(2)
        if kind == "%":
            return "%"
        if kind == "L":
            return "'" + MARKER + "'"
        return MARKER

    return _FORMAT_SPEC.sub(replace, template)
