"""A small, safe expression language for mappings: parsed with ``ast``, never ``eval``.

Allowed: column names (any identifier, Chinese included, or ``col("name with spaces")``),
string and integer literals, and these functions, all vectorized with Arrow:
``coalesce(a, b, ...)``, ``concat(a, b, ...)``, ``upper(a)``, ``lower(a)``, ``trim(a)``,
``substr(a, start, length)`` (0-based), ``left(a, n)``, ``right(a, n)``,
``replace(a, "old", "new")``. Everything else is refused with the offending piece named.
"""

from __future__ import annotations

import ast
from collections.abc import Callable
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.compute as pc


class ExpressionError(ValueError):
    """The expression uses something outside the allowed set."""


def _text(value: pa.Array) -> pa.Array:
    return value if pa.types.is_string(value.type) else pc.cast(value, pa.string())


def _coalesce(*args: pa.Array) -> pa.Array:
    return pc.coalesce(*[_text(a) for a in args])


def _concat(*args: pa.Array) -> pa.Array:
    return pc.binary_join_element_wise(*[_text(a) for a in args], "")


def _substr(value: pa.Array, start: int, length: int) -> pa.Array:
    return pc.utf8_slice_codeunits(_text(value), start=start, stop=start + length)


def _right(value: pa.Array, count: int) -> pa.Array:
    text = _text(value)
    reversed_text = pc.utf8_reverse(text)
    return pc.utf8_reverse(pc.utf8_slice_codeunits(reversed_text, start=0, stop=count))


FUNCTIONS: dict[str, tuple[Callable[..., pa.Array], str]] = {
    "coalesce": (_coalesce, "arrays"),
    "concat": (_concat, "arrays"),
    "upper": (lambda a: pc.utf8_upper(_text(a)), "array"),
    "lower": (lambda a: pc.utf8_lower(_text(a)), "array"),
    "trim": (lambda a: pc.utf8_trim_whitespace(_text(a)), "array"),
    "substr": (_substr, "array,int,int"),
    "left": (lambda a, n: pc.utf8_slice_codeunits(_text(a), start=0, stop=n), "array,int"),
    "right": (_right, "array,int"),
    "replace": (
        lambda a, old, new: pc.replace_substring(_text(a), pattern=old, replacement=new),
        "array,str,str",
    ),
}


@dataclass(frozen=True)
class Expression:
    """A parsed mapping expression."""

    text: str
    tree: ast.expr
    columns: tuple[str, ...]

    def evaluate(self, batch: pa.RecordBatch) -> pa.Array:
        """Evaluate over a batch (every referenced column must exist)."""
        return _evaluate(self.tree, batch, batch.num_rows)


def parse_expression(text: str) -> Expression:
    """Parse and check an expression.

    Raises:
        ExpressionError: naming the construct that is not allowed.
    """
    try:
        tree = ast.parse(text, mode="eval").body
    except SyntaxError as exc:
        raise ExpressionError(f"not a valid expression: {exc.msg}") from None
    columns: list[str] = []
    _check(tree, columns)
    return Expression(text, tree, tuple(dict.fromkeys(columns)))


def _check(node: ast.expr, columns: list[str]) -> None:
    if isinstance(node, ast.Name):
        columns.append(node.id)
    elif isinstance(node, ast.Constant) and isinstance(node.value, str | int):
        return
    elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and not node.keywords:
        name = node.func.id
        if name == "col":
            if len(node.args) != 1 or not isinstance(node.args[0], ast.Constant):
                raise ExpressionError('col() takes one quoted column name: col("登记 日期")')
            columns.append(str(node.args[0].value))
            return
        if name not in FUNCTIONS:
            raise ExpressionError(
                f"function '{name}' is not allowed; use one of {', '.join(sorted(FUNCTIONS))}"
            )
        for arg in node.args:
            _check(arg, columns)
    else:
        raise ExpressionError(f"'{ast.unparse(node)}' is not allowed in a mapping expression")


def _evaluate(node: ast.expr, batch: pa.RecordBatch, length: int):
    if isinstance(node, ast.Name):
        return batch.column(node.id)
    if isinstance(node, ast.Constant):
        return node.value
    assert isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
    if node.func.id == "col":
        return batch.column(str(node.args[0].value))  # type: ignore[union-attr]
    function, _ = FUNCTIONS[node.func.id]
    args = [_evaluate(arg, batch, length) for arg in node.args]
    if node.func.id in {"coalesce", "concat"}:
        args = [a if isinstance(a, pa.Array) else pa.array([str(a)] * length) for a in args]
    return function(*args)
