"""Every audit event the code records, read from the source (``record``, ``record_on``,
``record_if`` calls), and every data key those calls name.

An event passed through a helper's parameter (``_audit(event, …)``) is followed to the
helper's callers, so ``_audit("banking.transfer.completed", …)`` counts too. A call whose
event cannot be followed to a string is reported, so a new way of naming events cannot
slip past the label check.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import netbank

SRC = Path(netbank.__file__).resolve().parent
_RECORDERS = {"record": 0, "record_on": 1, "record_if": 2}
# The record's own columns, not data.
_COLUMNS = {"customer_id", "operator_id", "ip"}
_CODE = re.compile(r"^[a-z][a-z0-9_]*$")


@dataclass
class Scan:
    events: set[str] = field(default_factory=set)
    data_keys: set[str] = field(default_factory=set)
    unresolved: list[str] = field(default_factory=list)
    # Coded reasons the code passes on (``reason="lost_phone"``, ``self.reason = "…"``).
    reason_codes: set[str] = field(default_factory=set)


def _name(call: ast.Call) -> str | None:
    if isinstance(call.func, ast.Attribute):
        return call.func.attr
    if isinstance(call.func, ast.Name):
        return call.func.id
    return None


def _argument(call: ast.Call, position: int | None, keyword: str) -> ast.expr | None:
    for kw in call.keywords:
        if kw.arg == keyword:
            return kw.value
    if position is None or len(call.args) <= position:
        return None
    return call.args[position]


def _strings(node: ast.expr) -> list[str] | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.IfExp):
        a, b = _strings(node.body), _strings(node.orelse)
        return None if a is None or b is None else a + b
    return None


def _parents(tree: ast.AST) -> dict[ast.AST, ast.AST]:
    return {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}


def _enclosing_function(node: ast.AST, parents: dict[ast.AST, ast.AST]) -> ast.FunctionDef | None:
    while node in parents:
        node = parents[node]
        if isinstance(node, ast.FunctionDef):
            return node
    return None


def _as_parameter(
    event: ast.expr, call: ast.Call, parents: dict[ast.AST, ast.AST]
) -> tuple[str, int | None, str] | None:
    """(function, position or None if keyword-only, name) when ``event`` is a parameter of
    the function the call is in."""
    function = _enclosing_function(call, parents)
    if function is None or not isinstance(event, ast.Name):
        return None
    params = [a.arg for a in function.args.posonlyargs + function.args.args]
    if event.id in params:
        position = params.index(event.id) - (1 if params[:1] == ["self"] else 0)
        return function.name, position, event.id
    if event.id in [a.arg for a in function.args.kwonlyargs]:
        return function.name, None, event.id
    return None


def scan() -> Scan:
    result = Scan()
    trees = {
        p: ast.parse(p.read_text(encoding="utf-8"))
        for p in sorted(SRC.rglob("*.py"))
        if "migrations" not in p.parts and "token_app" not in p.parts
    }
    parents = {p: _parents(tree) for p, tree in trees.items()}
    calls = [(p, n) for p, tree in trees.items() for n in ast.walk(tree) if isinstance(n, ast.Call)]

    def follow(path: Path, call: ast.Call, event: ast.expr | None, todo: list[Any]) -> None:
        if event is None:
            result.unresolved.append(f"{path.relative_to(SRC)}:{call.lineno}")
            return
        strings = _strings(event)
        if strings is not None:
            result.events.update(strings)
            return
        helper = _as_parameter(event, call, parents[path])
        if helper is None:
            result.unresolved.append(f"{path.relative_to(SRC)}:{call.lineno}")
        else:
            todo.append((path, *helper))

    # Helpers that pass their own parameter on as the event, followed to their callers
    # in the same module (they are private helpers).
    todo: list[Any] = []
    for path, call in calls:
        name = _name(call)
        if name not in _RECORDERS:
            continue
        result.data_keys.update(
            kw.arg for kw in call.keywords if kw.arg is not None and kw.arg not in _COLUMNS
        )
        event = _argument(call, _RECORDERS[name], "event")
        if event is not None:
            follow(path, call, event, todo)
    for tree in trees.values():
        for node in ast.walk(tree):
            values: list[ast.expr] = []
            if isinstance(node, ast.Call):
                values = [kw.value for kw in node.keywords if kw.arg in ("reason", "why")]
            elif isinstance(node, ast.Assign) and any(
                isinstance(t, ast.Attribute) and t.attr == "reason" for t in node.targets
            ):
                values = [node.value]
            for value in values:
                result.reason_codes.update(c for c in _strings(value) or [] if _CODE.match(c))
    seen: set[tuple[Any, ...]] = set()
    while todo:
        item = todo.pop()
        if item in seen:
            continue
        seen.add(item)
        module, helper, position, keyword = item
        for path, call in calls:
            if path == module and _name(call) == helper:
                follow(path, call, _argument(call, position, keyword), todo)
    return result
